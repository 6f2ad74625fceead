package app_test

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/relaydesk/relaydesk/internal/app"
	"github.com/relaydesk/relaydesk/internal/config"
)

func TestCheckKindNamesTheKeyAndLine(t *testing.T) {
	t.Parallel()
	env := func(string) string { return "x" }
	parse := func(entry string) error {
		_, err := config.ParseFile("relaydesk.yaml", []byte("helpdesks:\n"+entry), env, app.CheckKind)
		return err
	}

	require.NoError(t, parse("  - name: z\n    kind: zendesk\n    base_url: https://acme.zendesk.com\n    credentials: {email: a@acme.example, api_token: t}\n"),
		"Zendesk takes base_url alone")
	require.NoError(t, parse("  - name: z\n    kind: zendesk\n    settings: {subdomain: acme}\n    credentials: {email: a@acme.example, api_token: t}\n"),
		"or the subdomain alone")
	require.NoError(t, parse("  - name: z\n    kind: zendesk\n    base_url: https://acme.zendesk.com\n    settings: {subdomain: acme}\n    credentials: {email: a@acme.example, api_token: t}\n"),
		"both, when they agree")

	err := parse("  - name: z\n    kind: zendesk\n    settings:\n      auth_method: api_token\n    credentials: {email: a@acme.example}\n")
	require.ErrorContains(t, err, "relaydesk.yaml:4: helpdesks[0].settings.subdomain: is required (or give the connection's base_url)")
	require.ErrorContains(t, err, "relaydesk.yaml:6: helpdesks[0].credentials.api_token: is required")
	require.NotContains(t, err.Error(), "helpdesks[0].kind")

	err = parse("  - name: z\n    kind: zendesk\n    base_url: http://127.0.0.1:9\n    settings:\n      subdomain: acme\n    credentials: {email: a@acme.example, api_token: t}\n")
	require.ErrorContains(t, err, "relaydesk.yaml:6: helpdesks[0].settings.subdomain: names https://acme.zendesk.com but base_url is http://127.0.0.1:9: give the address once")

	err = parse("  - name: z\n    kind: nope\n")
	require.ErrorContains(t, err, `relaydesk.yaml:3: helpdesks[0].kind: no connector is registered for kind "nope"`)
}

// TestEveryHelpdeskTakesBaseURLAlone: the connection's base_url stands for
// each connector's address setting, so the file names the address once.
func TestEveryHelpdeskTakesBaseURLAlone(t *testing.T) {
	t.Parallel()
	env := func(string) string { return "x" }
	tests := []struct {
		kind, rest, addressKey string
	}{
		{"zendesk", "credentials: {email: a@acme.example, api_token: t}", "subdomain"},
		{"chatwoot", "settings: {account_id: 1, inbox_id: 2}\n    credentials: {api_access_token: t}", "base_url"},
		{"zammad", "settings: {group: Users}\n    credentials: {api_token: t}", "base_url"},
		{"freshdesk", "credentials: {api_key: t}", "domain"},
		{"rt", "settings: {queue: General}\n    credentials: {token: t}", "url"},
	}
	for _, tt := range tests {
		t.Run(tt.kind, func(t *testing.T) {
			entry := "helpdesks:\n  - name: h\n    kind: " + tt.kind + "\n    base_url: https://help.example.com\n    " + tt.rest + "\n"
			_, err := config.ParseFile("relaydesk.yaml", []byte(entry), env, app.CheckKind)
			require.NoError(t, err)

			without := "helpdesks:\n  - name: h\n    kind: " + tt.kind + "\n    " + tt.rest + "\n"
			_, err = config.ParseFile("relaydesk.yaml", []byte(without), env, app.CheckKind)
			require.ErrorContains(t, err, "helpdesks[0].settings."+tt.addressKey+": is required (or give the connection's base_url)")
		})
	}
}
