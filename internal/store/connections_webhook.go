package store

import (
	"context"
	"time"

	"github.com/relaydesk/relaydesk/internal/metrics"
)

// WebhookSource says where a connection's webhook secret came from.
type WebhookSource string

// The sources of a webhook secret.
const (
	WebhookSourceNone      WebhookSource = ""
	WebhookSourceFile      WebhookSource = "file"      // webhook_secret in the configuration file
	WebhookSourceInstalled WebhookSource = "installed" // relaydesk installed the webhook
	WebhookSourceManual    WebhookSource = "manual"    // entered or generated in the admin page
)

// WebhookState is where relaydesk's installation of a connection's webhook
// stands.
type WebhookState string

// The states of a webhook installation ("" when relaydesk installs nothing).
const (
	WebhookStateNone      WebhookState = ""
	WebhookStatePending   WebhookState = "pending"
	WebhookStateInstalled WebhookState = "installed"
	WebhookStateFailed    WebhookState = "failed"
)

// WebhookStatus is what relaydesk knows about a connection's helpdesk-side
// webhook.
type WebhookStatus struct {
	Source      WebhookSource
	State       WebhookState
	InstalledAt *time.Time
	// Error is the helpdesk's last refusal, in plain words.
	Error string
	// Endpoint is the callback URL the webhook was installed at.
	Endpoint string
	// SettingsUnchanged reports that the connection's kind, base URL,
	// settings and credentials are those the webhook was installed with.
	SettingsUnchanged bool
}

// Current reports whether relaydesk's webhook is installed at endpoint with
// the connection's current settings.
func (w WebhookStatus) Current(endpoint string) bool {
	return w.State == WebhookStateInstalled && w.Endpoint == endpoint && w.SettingsUnchanged
}

// ErrWebhookFromFile refuses to install a webhook for a connection whose
// configuration file entry gives the webhook secret.
var ErrWebhookFromFile = refusal("the configuration file gives this connection's webhook_secret: relaydesk installs no webhook for it")

// SetWebhookState records a step of the webhook's installation (pending,
// failed, or none when there is nothing to install) and the helpdesk's
// error in plain words. A connection whose secret the file gives is left
// alone.
func (q *Queries) SetWebhookState(ctx context.Context, id ConnectionID, state WebhookState, detail string) error {
	_, err := q.db.Exec(ctx, `UPDATE helpdesk_connections SET webhook_state = $2, webhook_error = $3
		WHERE id = $1 AND webhook_source <> 'file'`, id, state, detail)
	return wrap(err, "set connection %d webhook state", id)
}

// ClaimWebhookProvision marks a connection's webhook pending unless it
// already is (or the file gives its secret), and reports whether it did:
// the caller that claims it enqueues the provisioning job in the same
// transaction.
func (q *Queries) ClaimWebhookProvision(ctx context.Context, id ConnectionID) (bool, error) {
	tag, err := q.db.Exec(ctx, `UPDATE helpdesk_connections SET webhook_state = 'pending'
		WHERE id = $1 AND webhook_source <> 'file' AND webhook_state <> 'pending'`, id)
	if err != nil {
		return false, wrap(err, "claim connection %d webhook", id)
	}
	return tag.RowsAffected() == 1, nil
}

// RecordWebhookInstalled stores (sealed) the secret of the webhook relaydesk
// installed at endpoint for connection c as it was read (a change of its
// settings since leaves the webhook to be installed again), marks it
// installed and records how ("installed", "rotated") in the audit log. It
// returns ErrWebhookFromFile when the file gives the secret.
func (q *Queries) RecordWebhookInstalled(ctx context.Context, c Connection, secret []byte, endpoint, how string, who Actor) error {
	id := c.ID
	err := q.inTx(ctx, func(tx *Queries) error {
		var name string
		var source WebhookSource
		var old []byte
		if err := tx.db.QueryRow(ctx, `SELECT name, webhook_source, webhook_secret FROM helpdesk_connections
			WHERE id = $1 FOR UPDATE`, id).Scan(&name, &source, &old); err != nil {
			return err
		}
		if source == WebhookSourceFile {
			return ErrWebhookFromFile
		}
		if _, err := tx.db.Exec(ctx, `UPDATE helpdesk_connections SET webhook_secret = $2, webhook_source = 'installed',
			webhook_state = 'installed', webhook_installed_at = now(), webhook_error = '', webhook_endpoint = $3,
			webhook_digest = $4, updated_at = now() WHERE id = $1`,
			id, q.keep(old, secret, purposeWebhookSecret), endpoint, c.settingsDigest); err != nil {
			return err
		}
		return tx.recordAudit(ctx, who, audit{Action: "helpdesk.webhook_secret", TargetType: "helpdesk", TargetID: int64(id),
			TargetName: name, Detail: map[string]any{"how": how, "endpoint": endpoint}})
	})
	return wrap(err, "record connection %d webhook", id)
}

// WebhookGauges lists the connections whose webhook relaydesk provisions
// (installed, pending or failed), by name; it is a metrics.WebhookLister.
func (q *Queries) WebhookGauges(ctx context.Context) ([]metrics.WebhookGauge, error) {
	out, err := list(ctx, q.db, func(r scanner) (metrics.WebhookGauge, error) {
		var g metrics.WebhookGauge
		return g, r.Scan(&g.Connection, &g.Kind, &g.Installed)
	}, `SELECT name, kind, webhook_state = 'installed' FROM helpdesk_connections
		WHERE webhook_source <> 'file' AND (webhook_state <> '' OR webhook_source = 'installed') ORDER BY name`)
	return out, wrap(err, "list webhook gauges")
}
