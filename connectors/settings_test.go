package connectors_test

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/relaydesk/relaydesk/connectors"
)

var addressed = connectors.Description{
	Kind: "x", AuthMethods: []connectors.AuthMethod{connectors.AuthAPIToken},
	Fields: []connectors.Field{
		{Key: "subdomain", Type: connectors.FieldString, Group: connectors.GroupSettings, Required: true, BaseURLFormat: "https://%s.x.example"},
		{Key: "token", Type: connectors.FieldSecret, Group: connectors.GroupCredentials, Required: true, Secret: true},
	},
}

func TestValidateConnectionBaseURLStandsForTheAddress(t *testing.T) {
	t.Parallel()
	creds := map[string]string{"token": "t"}
	none := map[string]any{}

	require.NoError(t, addressed.ValidateConnection("https://proxy.example", none, creds))
	require.EqualError(t, addressed.ValidateConnection("", none, creds), "settings.subdomain: is required (or give the connection's base_url)")
	require.EqualError(t, addressed.ValidateConnection("ftp://x", none, creds), "settings.subdomain: is required (or give the connection's base_url)",
		"an unusable base URL stands for nothing")
	require.EqualError(t, addressed.Validate(none, creds), "settings.subdomain: is required", "Validate alone knows no base URL")
	require.EqualError(t, addressed.ValidateConnection("https://proxy.example", map[string]any{"subdomain": "acme"}, nil), "credentials.token: is required")

	require.Equal(t, "https://proxy.example", addressed.BaseURL("https://proxy.example", map[string]any{"subdomain": "acme"}))
	require.Equal(t, "https://acme.x.example", addressed.BaseURL("", map[string]any{"subdomain": "acme"}))
	require.Empty(t, addressed.BaseURL("", none))

	require.NoError(t, addressed.CheckAddress("https://acme.x.example/", map[string]any{"subdomain": "acme"}))
	require.NoError(t, addressed.CheckAddress("https://proxy.example", none))
	require.EqualError(t, addressed.CheckAddress("https://proxy.example", map[string]any{"subdomain": "acme"}),
		"settings.subdomain: names https://acme.x.example but base_url is https://proxy.example: give the address once")
}
