package app

import (
	"context"
	"fmt"
	"net/http"
	"strings"

	"github.com/relaydesk/relaydesk/connectors"
	_ "github.com/relaydesk/relaydesk/connectors/all" // every connector registers itself
	"github.com/relaydesk/relaydesk/internal/bridge"
	"github.com/relaydesk/relaydesk/internal/oauth"
	"github.com/relaydesk/relaydesk/internal/store"
)

// OAuthCallbackPath is where helpdesks send admins back after "Connect".
const OAuthCallbackPath = "/admin/oauth/callback"

// CheckKind validates a helpdesk entry of the declarative file against the
// connector registry.
func CheckKind(kind string, settings map[string]any, credentials map[string]string) error {
	reg, ok := connectors.Lookup(kind)
	if !ok {
		return fmt.Errorf("no connector is registered for kind %q (known: %s)", kind, strings.Join(connectors.Kinds(), ", "))
	}
	return reg.Description.Validate(settings, credentials)
}

// NewConnector builds a connection's connector through the registry, with
// API-token credentials only.
func NewConnector(c store.Connection, credentials map[string]string, hc *http.Client) (connectors.Connector, error) {
	return connectors.New(c.Kind, connectorConfig(c, credentials, hc))
}

func connectorConfig(c store.Connection, credentials map[string]string, hc *http.Client) connectors.Config {
	return connectors.Config{
		Name: c.Name, BaseURL: c.BaseURL, Settings: c.Settings, Credentials: credentials, HTTPClient: hc,
	}
}

// ConnectorFactory builds connectors for the bridge. A connection connected
// with OAuth2 gets a token source that refreshes under a row lock and
// persists rotated tokens (see package oauth).
func ConnectorFactory(st *store.Store, baseURL string) bridge.ConnectorFactory {
	return func(c store.Connection, credentials map[string]string, hc *http.Client) (connectors.Connector, error) {
		conn, err := NewConnector(c, credentials, hc)
		if err != nil || !c.HasOAuthToken() {
			return conn, err
		}
		oc, ok := conn.(connectors.OAuth2Connector)
		if !ok {
			return conn, nil
		}
		tok, err := st.OAuthToken(c)
		if err != nil {
			return nil, err
		}
		cfg := connectorConfig(c, credentials, hc)
		cfg.TokenSource = oauth.TokenSource(context.Background(), st, c.ID, oc.OAuth2Config(baseURL+OAuthCallbackPath), tok)
		return connectors.New(c.Kind, cfg)
	}
}
