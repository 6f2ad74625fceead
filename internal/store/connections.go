package store

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"time"

	"golang.org/x/oauth2"
)

const (
	purposeCredentials   = "helpdesk_connections.credentials"
	purposeOAuthToken    = "helpdesk_connections.oauth_token"
	purposeWebhookSecret = "helpdesk_connections.webhook_secret"
)

// Connection is a connected helpdesk.
type Connection struct {
	ID            ConnectionID
	Name          string
	Kind          string
	PublicID      string // names the connection in its webhook URL
	BaseURL       string
	Settings      map[string]any
	PollCursor    string
	Enabled       bool
	ManagedByFile bool
	Health        string
	HealthDetail  string
	HealthAt      *time.Time
	LastWebhookAt *time.Time
	Webhook       WebhookStatus

	credentials, oauthToken, webhookSecret []byte
	// settingsDigest identifies the kind, base URL, settings and
	// credentials read (see migration 006).
	settingsDigest string
}

// BuildKey names what a connector is built from: the name, kind, base
// URL, settings and sealed credentials and OAuth token. Two rows with the
// same key build the same connector, so a connector can be kept until its
// row changes (a refreshed OAuth token changes the key).
func (c Connection) BuildKey() string {
	h := sha256.New()
	settings, _ := json.Marshal(c.Settings) // maps marshal with sorted keys
	for _, part := range [][]byte{[]byte(c.Name), []byte(c.Kind), []byte(c.BaseURL), settings, []byte(c.settingsDigest), c.credentials, c.oauthToken} {
		var n [8]byte
		binary.BigEndian.PutUint64(n[:], uint64(len(part)))
		h.Write(n[:])
		h.Write(part)
	}
	return hex.EncodeToString(h.Sum(nil))
}

const connectionColumns = `id, name, kind, public_id, base_url, settings, poll_cursor, enabled, managed_by_file,
	health, health_detail, health_at, last_webhook_at, credentials, oauth_token, webhook_secret,
	webhook_source, webhook_state, webhook_installed_at, webhook_error, webhook_endpoint,
	webhook_digest = settings_digest, settings_digest`

// fields are the scan destinations of connectionColumns.
func (c *Connection) fields() []any {
	w := &c.Webhook
	return []any{&c.ID, &c.Name, &c.Kind, &c.PublicID, &c.BaseURL, &c.Settings, &c.PollCursor, &c.Enabled,
		&c.ManagedByFile, &c.Health, &c.HealthDetail, &c.HealthAt, &c.LastWebhookAt,
		&c.credentials, &c.oauthToken, &c.webhookSecret,
		&w.Source, &w.State, &w.InstalledAt, &w.Error, &w.Endpoint, &w.SettingsUnchanged, &c.settingsDigest}
}

func scanConnection(row scanner) (Connection, error) {
	var c Connection
	err := row.Scan(c.fields()...)
	return c, err
}

// HasWebhookSecret reports whether a webhook secret is stored.
func (c Connection) HasWebhookSecret() bool { return len(c.webhookSecret) > 0 }

// HasOAuthToken reports whether the connection was connected with OAuth2.
func (c Connection) HasOAuthToken() bool { return len(c.oauthToken) > 0 }

// Credentials opens a connection's credentials.
func (q *Queries) Credentials(c Connection) (map[string]string, error) {
	out := map[string]string{}
	if len(c.credentials) == 0 {
		return out, nil
	}
	b, err := q.keys.Open(c.credentials, purposeCredentials)
	if err != nil {
		return nil, fmt.Errorf("connection %s credentials: %w", c.Name, err)
	}
	if err := json.Unmarshal(b, &out); err != nil {
		return nil, fmt.Errorf("connection %s credentials: %w", c.Name, err)
	}
	return out, nil
}

// WebhookSecret opens a connection's webhook secret (nil when none is set).
func (q *Queries) WebhookSecret(c Connection) ([]byte, error) {
	if len(c.webhookSecret) == 0 {
		return nil, nil
	}
	b, err := q.keys.Open(c.webhookSecret, purposeWebhookSecret)
	if err != nil {
		return nil, fmt.Errorf("connection %s webhook secret: %w", c.Name, err)
	}
	return b, nil
}

// OAuthToken opens a connection's OAuth2 token (nil when it has none).
func (q *Queries) OAuthToken(c Connection) (*oauth2.Token, error) {
	return q.openToken(c.oauthToken, c.Name)
}

func (q *Queries) openToken(sealed []byte, name string) (*oauth2.Token, error) {
	if len(sealed) == 0 {
		return nil, nil
	}
	b, err := q.keys.Open(sealed, purposeOAuthToken)
	if err != nil {
		return nil, fmt.Errorf("connection %s oauth token: %w", name, err)
	}
	var t oauth2.Token
	if err := json.Unmarshal(b, &t); err != nil {
		return nil, fmt.Errorf("connection %s oauth token: %w", name, err)
	}
	return &t, nil
}

// Connections lists every connection by name.
func (q *Queries) Connections(ctx context.Context) ([]Connection, error) {
	out, err := list(ctx, q.db, scanConnection, `SELECT `+connectionColumns+` FROM helpdesk_connections ORDER BY name`)
	return out, wrap(err, "list connections")
}

func (q *Queries) connectionWhere(ctx context.Context, where string, arg any) (Connection, error) {
	return scanConnection(q.db.QueryRow(ctx, `SELECT `+connectionColumns+` FROM helpdesk_connections WHERE `+where, arg))
}

// ConnectionByID finds a connection.
func (q *Queries) ConnectionByID(ctx context.Context, id ConnectionID) (Connection, error) {
	c, err := q.connectionWhere(ctx, `id = $1`, id)
	return c, wrap(err, "connection %d", id)
}

// ConnectionByPublicID finds a connection by the id in its webhook URL.
func (q *Queries) ConnectionByPublicID(ctx context.Context, publicID string) (Connection, error) {
	c, err := q.connectionWhere(ctx, `public_id = $1`, publicID)
	return c, wrap(err, "connection with public id %s", publicID)
}

// ConnectionByName finds a connection.
func (q *Queries) ConnectionByName(ctx context.Context, name string) (Connection, error) {
	c, err := q.connectionWhere(ctx, `name = $1`, name)
	return c, wrap(err, "connection %q", name)
}

// SetConnectionHealth records what was last learnt about a connection.
func (q *Queries) SetConnectionHealth(ctx context.Context, id ConnectionID, health, detail string) error {
	_, err := q.db.Exec(ctx, `UPDATE helpdesk_connections SET health = $2, health_detail = $3, health_at = now()
		WHERE id = $1 AND (health, health_detail) IS DISTINCT FROM ($2, $3)`, id, health, detail)
	return wrap(err, "set connection %d health", id)
}

func newPublicID() string {
	b := make([]byte, 12)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// TouchWebhook records that a connection's webhook delivered. The time is
// for people (the admin page's "last delivery"): it is written at most
// every five seconds, since every webhook writing the connection's one row
// made all of them queue on its lock until each commit (9 ms a call under
// load in the bench).
func (q *Queries) TouchWebhook(ctx context.Context, id ConnectionID) error {
	_, err := q.db.Exec(ctx, `UPDATE helpdesk_connections SET last_webhook_at = now()
		WHERE id = $1 AND (last_webhook_at IS NULL OR last_webhook_at < now() - interval '5 seconds')`, id)
	return wrap(err, "touch connection %d webhook", id)
}

// SetPollCursor stores where a connection's next poll starts.
func (q *Queries) SetPollCursor(ctx context.Context, id ConnectionID, cursor string) error {
	_, err := q.db.Exec(ctx, `UPDATE helpdesk_connections SET poll_cursor = $2, updated_at = now() WHERE id = $1`, id, cursor)
	return wrap(err, "set connection %d poll cursor", id)
}

// SetOAuthToken stores (sealed) a connection's OAuth2 token.
func (q *Queries) SetOAuthToken(ctx context.Context, id ConnectionID, t *oauth2.Token) error {
	b, err := json.Marshal(t)
	if err != nil {
		return fmt.Errorf("set connection %d oauth token: %w", id, err)
	}
	_, err = q.db.Exec(ctx, `UPDATE helpdesk_connections SET oauth_token = $2, updated_at = now() WHERE id = $1`,
		id, q.keys.Seal(b, purposeOAuthToken))
	return wrap(err, "set connection %d oauth token", id)
}

// LockOAuthToken reads a connection's token with its row locked until the
// transaction ends (call it on a Tx), so that one replica at a time
// refreshes it (refresh tokens rotate: two refreshes at once would
// invalidate each other).
func (q *Queries) LockOAuthToken(ctx context.Context, id ConnectionID) (*oauth2.Token, error) {
	var sealed []byte
	var name string
	if err := q.db.QueryRow(ctx, `SELECT oauth_token, name FROM helpdesk_connections WHERE id = $1 FOR UPDATE`, id).
		Scan(&sealed, &name); err != nil {
		return nil, wrap(err, "lock connection %d oauth token", id)
	}
	return q.openToken(sealed, name)
}
