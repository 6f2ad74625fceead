package zendesk_test

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/relaydesk/relaydesk/connectors"
	"github.com/relaydesk/relaydesk/connectors/zendesk"
)

func TestNewTakesBaseURLOrSubdomain(t *testing.T) {
	t.Parallel()
	creds := map[string]string{zendesk.CredentialEmail: "a@acme.example", zendesk.CredentialAPIToken: "t"}
	_, err := zendesk.New(connectors.Config{BaseURL: "https://acme.zendesk.com", Credentials: creds})
	require.NoError(t, err, "base_url alone")
	_, err = zendesk.New(connectors.Config{Settings: map[string]any{zendesk.SettingSubdomain: "acme"}, Credentials: creds})
	require.NoError(t, err, "the subdomain alone")
	_, err = zendesk.New(connectors.Config{Credentials: creds})
	require.ErrorContains(t, err, "zendesk: settings.subdomain: is required (or give the connection's base_url)")
}
