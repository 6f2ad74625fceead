package app

import (
	"fmt"
	"net/http"

	"github.com/relaydesk/relaydesk/connectors"
	_ "github.com/relaydesk/relaydesk/connectors/all" // every connector registers itself
	"github.com/relaydesk/relaydesk/internal/store"
)

// CheckKind validates a helpdesk entry of the declarative file against the
// connector registry.
func CheckKind(kind string, settings map[string]any, credentials map[string]string) error {
	reg, ok := connectors.Lookup(kind)
	if !ok {
		return fmt.Errorf("no connector is registered for kind %q (known: %v)", kind, connectors.Kinds())
	}
	return reg.Description.Validate(settings, credentials)
}

// NewConnector builds a connection's connector through the registry.
func NewConnector(c store.Connection, credentials map[string]string, hc *http.Client) (connectors.Connector, error) {
	return connectors.New(c.Kind, connectors.Config{
		Name: c.Name, BaseURL: c.BaseURL, Settings: c.Settings, Credentials: credentials, HTTPClient: hc,
	})
}
