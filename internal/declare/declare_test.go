package declare_test

import (
	"bytes"
	"context"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/relaydesk/relaydesk/internal/config"
	"github.com/relaydesk/relaydesk/internal/declare"
	"github.com/relaydesk/relaydesk/internal/store"
	"github.com/relaydesk/relaydesk/internal/testdb"
)

const fileYAML = `whatsapp:
  - name: support-us
    phone_number_id: "106540352242922"
    waba_id: "102290129340398"
    display_phone_number: "15550783881"
    access_token: ${WA_TOKEN}
    app_secret: ${WA_APP_SECRET}
    verify_token: ${WA_VERIFY_TOKEN}
    graph_url: https://graph.facebook.com
    graph_version: v23.0
helpdesks:
  - name: zendesk-main
    kind: zendesk
    base_url: https://acme.zendesk.com
    settings: {}
    credentials: {email: agent@acme.test, api_token: ${ZD_TOKEN}}
    webhook_secret: ${ZD_WEBHOOK_SECRET}
routes:
  - whatsapp: support-us
    helpdesk: zendesk-main
    reopen_window: 72h
    tags: [whatsapp]
    reengagement_template: {name: hello_world, language: en_US}
`

func parse(t *testing.T, yaml string, env map[string]string) *config.File {
	t.Helper()
	f, err := config.ParseFile("relaydesk.yaml", []byte(yaml), func(k string) string { return env[k] }, nil)
	require.NoError(t, err)
	return f
}

var secrets = map[string]string{
	"WA_TOKEN": "EAAG-plaintext-token", "WA_APP_SECRET": "app-secret-plain", "WA_VERIFY_TOKEN": "verify-plain",
	"ZD_TOKEN": "zd-token-plain", "ZD_WEBHOOK_SECRET": "zd-hook-plain",
}

func TestApply(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	b := struct{ store *store.Store }{store: testdb.NewStore(t)}
	f := parse(t, fileYAML, secrets)

	res, err := declare.Apply(ctx, b.store, f)
	require.NoError(t, err)
	require.Equal(t, declare.Result{Created: 3}, res)

	a, err := b.store.AccountByPhoneNumberID(ctx, "106540352242922")
	require.NoError(t, err)
	require.Equal(t, "support-us", a.Name)
	require.True(t, a.ManagedByFile)
	sec, err := b.store.Secrets(a)
	require.NoError(t, err)
	require.Equal(t, store.AccountSecrets{AccessToken: "EAAG-plaintext-token", AppSecret: "app-secret-plain", VerifyToken: "verify-plain"}, sec)

	c, err := b.store.ConnectionByName(ctx, "zendesk-main")
	require.NoError(t, err)
	creds, err := b.store.Credentials(c)
	require.NoError(t, err)
	require.Equal(t, map[string]string{"email": "agent@acme.test", "api_token": "zd-token-plain"}, creds)
	hook, err := b.store.WebhookSecret(c)
	require.NoError(t, err)
	require.Equal(t, "zd-hook-plain", string(hook))
	require.Len(t, c.PublicID, 24)

	routes, err := b.store.RoutesForAccount(ctx, a.ID)
	require.NoError(t, err)
	require.Len(t, routes, 1)
	require.Equal(t, c.ID, routes[0].ConnectionID)
	require.Equal(t, 72*time.Hour, routes[0].ReopenWindow)
	require.Equal(t, []string{"whatsapp"}, routes[0].Tags)
	require.Equal(t, &store.Template{Name: "hello_world", Language: "en_US"}, routes[0].ReengagementTemplate)
	require.Equal(t, store.RouteMatch{Kind: "default"}, routes[0].Match)

	t.Run("secrets are encrypted at rest", func(t *testing.T) {
		rows, err := b.store.Pool().Query(ctx, `
			SELECT access_token FROM whatsapp_accounts UNION ALL SELECT app_secret FROM whatsapp_accounts
			UNION ALL SELECT verify_token FROM whatsapp_accounts UNION ALL SELECT credentials FROM helpdesk_connections
			UNION ALL SELECT webhook_secret FROM helpdesk_connections`)
		require.NoError(t, err)
		n := 0
		for rows.Next() {
			var raw []byte
			require.NoError(t, rows.Scan(&raw))
			for _, plain := range secrets {
				require.False(t, bytes.Contains(raw, []byte(plain)), "plaintext %q found in a sealed column", plain)
			}
			n++
		}
		require.NoError(t, rows.Err())
		require.Equal(t, 5, n)
	})

	t.Run("applying again changes nothing", func(t *testing.T) {
		var before, after string
		snapshot := `SELECT string_agg(t::text, '|' ORDER BY t::text) FROM (
			SELECT w::text AS t FROM whatsapp_accounts w UNION ALL SELECT c::text FROM helpdesk_connections c
			UNION ALL SELECT r::text FROM routes r) x`
		require.NoError(t, b.store.Pool().QueryRow(ctx, snapshot).Scan(&before))
		res, err := declare.Apply(ctx, b.store, parse(t, fileYAML, secrets))
		require.NoError(t, err)
		require.Equal(t, declare.Result{Unchanged: 3}, res)
		require.NoError(t, b.store.Pool().QueryRow(ctx, snapshot).Scan(&after))
		require.Equal(t, before, after, "rows, sealed bytes and timestamps are untouched")
	})

	t.Run("a changed secret is re-sealed", func(t *testing.T) {
		env := map[string]string{}
		for k, v := range secrets {
			env[k] = v
		}
		env["WA_TOKEN"] = "EAAG-rotated"
		res, err := declare.Apply(ctx, b.store, parse(t, fileYAML, env))
		require.NoError(t, err)
		require.Equal(t, declare.Result{Updated: 1, Unchanged: 2}, res)
		a, err := b.store.AccountByName(ctx, "support-us")
		require.NoError(t, err)
		sec, err := b.store.Secrets(a)
		require.NoError(t, err)
		require.Equal(t, "EAAG-rotated", sec.AccessToken)
	})

	t.Run("an entry removed from the file is left alone", func(t *testing.T) {
		res, err := declare.Apply(ctx, b.store, parse(t, "whatsapp: []\n", nil))
		require.NoError(t, err)
		require.Zero(t, res.Created+res.Updated)
		accounts, err := b.store.Accounts(ctx)
		require.NoError(t, err)
		require.Len(t, accounts, 1)
		conns, err := b.store.Connections(ctx)
		require.NoError(t, err)
		require.Len(t, conns, 1)
	})

	t.Run("an error names the entry's file and line and rolls everything back", func(t *testing.T) {
		_, err := declare.Apply(ctx, b.store, &config.File{Path: "bad.yaml", WhatsApp: []config.WhatsAppEntry{
			{Name: "fine", PhoneNumberID: "2", WABAID: "3", SendRate: 10, Line: 2},
			{Name: "broken", PhoneNumberID: "4", WABAID: "5", SendRate: 0, Line: 9}, // violates send_rate > 0
		}})
		require.Error(t, err)
		require.True(t, strings.HasPrefix(err.Error(), `bad.yaml:9: whatsapp "broken": `), err.Error())
		_, err = b.store.AccountByName(ctx, "fine")
		require.ErrorIs(t, err, store.ErrNotFound)
	})
}

// TestApplyPlatformSettings: the file's coexistence flag and read policy
// reach the number, and changing them is an update.
func TestApplyPlatformSettings(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	st := testdb.NewStore(t)
	with := strings.Replace(fileYAML, "    graph_version: v23.0\n", "    graph_version: v23.0\n    coexistence: true\n    read_policy: on_reply\n", 1)
	_, err := declare.Apply(ctx, st, parse(t, with, secrets))
	require.NoError(t, err)
	acc, err := st.AccountByName(ctx, "support-us")
	require.NoError(t, err)
	require.True(t, acc.Coexistence)
	require.Equal(t, store.ReadPolicyOnReply, acc.ReadPolicy)

	_, err = declare.Apply(ctx, st, parse(t, fileYAML, secrets)) // both removed: back to the defaults
	require.NoError(t, err)
	acc, err = st.AccountByName(ctx, "support-us")
	require.NoError(t, err)
	require.False(t, acc.Coexistence)
	require.Equal(t, store.ReadPolicyOff, acc.ReadPolicy)
}
