package app

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"

	"github.com/relaydesk/relaydesk/connectors"
	_ "github.com/relaydesk/relaydesk/connectors/all" // every connector registers itself
	"github.com/relaydesk/relaydesk/internal/bridge"
	"github.com/relaydesk/relaydesk/internal/config"
	"github.com/relaydesk/relaydesk/internal/oauth"
	"github.com/relaydesk/relaydesk/internal/store"
)

// OAuthCallbackPath is where helpdesks send admins back after "Connect".
const OAuthCallbackPath = "/admin/oauth/callback"

// CheckKind validates a helpdesk entry of the declarative file against the
// connector registry: its settings and credentials, with the entry's
// base_url standing for the connector's address setting. Each problem is a
// [config.KeyError] naming the entry's key ("settings.subdomain").
func CheckKind(h config.HelpdeskEntry) error {
	reg, ok := connectors.Lookup(h.Kind)
	if !ok {
		return config.KeyError{Key: "kind", Msg: fmt.Sprintf("no connector is registered for kind %q (known: %s)", h.Kind, strings.Join(connectors.Kinds(), ", "))}
	}
	var errs []error
	for _, err := range []error{reg.Description.ValidateConnection(h.BaseURL, h.Settings, h.Credentials), reg.Description.CheckAddress(h.BaseURL, h.Settings)} {
		var verr connectors.ValidationError
		if !errors.As(err, &verr) {
			errs = append(errs, err)
			continue
		}
		for _, fe := range verr {
			errs = append(errs, config.KeyError{Key: string(fe.Group) + "." + fe.Key, Msg: fe.Message})
		}
	}
	return errors.Join(errs...)
}

// NewConnector builds a connection's connector through the registry, with
// API-token credentials only. The connection's base URL stands for the
// connector's address setting (see [connectors.Description.ValidateConnection]).
func NewConnector(c store.Connection, credentials map[string]string, hc *http.Client) (connectors.Connector, error) {
	return newConnector(c.Kind, connectorConfig(c, credentials, hc))
}

// newConnector is connectors.New with the base URL standing for the address
// setting.
func newConnector(kind string, cfg connectors.Config) (connectors.Connector, error) {
	reg, ok := connectors.Lookup(kind)
	if !ok {
		return nil, fmt.Errorf("connectors: unknown kind %q", kind)
	}
	if err := reg.Description.ValidateConnection(cfg.BaseURL, cfg.Settings, cfg.Credentials); err != nil {
		return nil, fmt.Errorf("connectors: %s: %w", kind, err)
	}
	return reg.Factory(cfg)
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
		return newConnector(c.Kind, cfg)
	}
}
