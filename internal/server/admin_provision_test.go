package server_test

import (
	"context"
	"fmt"
	"net/url"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/relaydesk/relaydesk/connectors/connectortest"
	"github.com/relaydesk/relaydesk/connectors/zendesk/zendesktest"
	"github.com/relaydesk/relaydesk/internal/config"
	"github.com/relaydesk/relaydesk/internal/store"
)

// fileZendesk declares a Zendesk connection "zendesk-file" in the file
// (with webhookSecret, when set) and returns it and its admin page's path.
func fileZendesk(t *testing.T, b *adminBundle, zd *zendesktest.Fake, webhookSecret string) (store.Connection, string) {
	t.Helper()
	cfg := zd.Config()
	applyFile(t, b.store, &config.File{Path: "relaydesk.yaml", Helpdesks: []config.HelpdeskEntry{{
		Name: "zendesk-file", Kind: "zendesk", BaseURL: cfg.BaseURL, Settings: cfg.Settings, Credentials: cfg.Credentials,
		WebhookSecret: webhookSecret,
	}}})
	conn, err := b.store.ConnectionByName(context.Background(), "zendesk-file")
	require.NoError(t, err)
	return conn, "/admin/helpdesks/" + fmt.Sprint(conn.ID)
}

// The file owns a connection's settings, not its webhook: without a
// webhook_secret in the file, the admin page installs, reinstalls and
// rotates the webhook, and shows a refusal in plain words.
func TestHelpdeskFromTheFileWebhookButtons(t *testing.T) {
	t.Parallel()
	b, a := setupLoggedIn(t)
	zd := zendesktest.New(t)
	conn, path := fileZendesk(t, b, zd, "")
	endpoint := "http://relaydesk.test/webhooks/helpdesk/" + conn.PublicID

	page := a.get(path)
	require.Contains(t, page.body, "Managed by the configuration file.")
	require.Contains(t, page.body, `id="webhook-install"`)
	require.Contains(t, page.body, "not installed")

	t.Run("a refusal is shown in plain words and nothing is installed", func(t *testing.T) {
		zd.FailNext(1, connectortest.FailUnauthorized)
		requireRedirect(t, a.post(path+"/webhook", url.Values{"mode": {"install"}}), path)
		page := a.get(path)
		require.Contains(t, page.body, "The webhook could not be installed.")
		require.Contains(t, page.body, `<span class="badge bad">failed</span>`)
		require.Contains(t, page.body, "Zendesk refused the credentials: they are wrong, were revoked, or lack admin rights.")
		got := b.connection(t, conn.ID)
		require.Equal(t, store.WebhookStateFailed, got.Webhook.State)
		require.False(t, got.HasWebhookSecret())
		require.Empty(t, zd.Webhooks())
	})
	t.Run("install", func(t *testing.T) {
		requireRedirect(t, a.post(path+"/webhook", url.Values{"mode": {"install"}}), path)
		page := a.get(path)
		require.Contains(t, page.body, "relaydesk installed its webhook in Zendesk.")
		require.Contains(t, page.body, `<span class="badge ok">installed</span>`)
		require.Contains(t, page.body, endpoint)
		require.Contains(t, page.body, `id="webhook-rotate"`)
		got := b.connection(t, conn.ID)
		require.Equal(t, store.WebhookSourceInstalled, got.Webhook.Source)
		require.True(t, got.Webhook.Current(endpoint))
		require.Empty(t, got.Webhook.Error, "the earlier refusal is cleared")
		secret, err := b.store.WebhookSecret(got)
		require.NoError(t, err)
		require.Equal(t, zd.WebhookSecret(), secret)
		require.Len(t, zd.Webhooks(), 1)
	})
	t.Run("reinstall adopts the webhook", func(t *testing.T) {
		id := zd.Webhooks()[0].ID
		requireRedirect(t, a.post(path+"/webhook", url.Values{"mode": {"install"}}), path)
		require.Len(t, zd.Webhooks(), 1)
		require.Equal(t, id, zd.Webhooks()[0].ID)
	})
	t.Run("rotate", func(t *testing.T) {
		id := zd.Webhooks()[0].ID
		requireRedirect(t, a.post(path+"/webhook", url.Values{"mode": {"rotate"}}), path)
		require.Contains(t, a.get(path).body, "Webhook secret rotated.")
		require.Len(t, zd.Webhooks(), 1)
		require.NotEqual(t, id, zd.Webhooks()[0].ID, "the webhook was replaced")
		require.Equal(t, 1, b.count(t, `SELECT count(*) FROM audit_log WHERE action = 'helpdesk.webhook_secret'
			AND detail->>'how' = 'rotated' AND target_id = $1`, conn.ID))
	})
	t.Run("the settings stay read-only", func(t *testing.T) {
		require.Equal(t, 403, a.post(path, zendeskForm(zd, "renamed")).code)
		require.Equal(t, "zendesk-file", b.connection(t, conn.ID).Name)
	})
}
