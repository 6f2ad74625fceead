package store

import (
	"context"
	"crypto/rand"
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
	ID            int64
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

	credentials, oauthToken, webhookSecret []byte
}

const connectionColumns = `id, name, kind, public_id, base_url, settings, poll_cursor, enabled, managed_by_file,
	health, health_detail, health_at, last_webhook_at, credentials, oauth_token, webhook_secret`

func scanConnection(row interface{ Scan(...any) error }) (Connection, error) {
	var c Connection
	err := row.Scan(&c.ID, &c.Name, &c.Kind, &c.PublicID, &c.BaseURL, &c.Settings, &c.PollCursor, &c.Enabled,
		&c.ManagedByFile, &c.Health, &c.HealthDetail, &c.HealthAt, &c.LastWebhookAt,
		&c.credentials, &c.oauthToken, &c.webhookSecret)
	return c, err
}

// HasWebhookSecret reports whether a webhook secret is stored.
func (c Connection) HasWebhookSecret() bool { return len(c.webhookSecret) > 0 }

// Credentials opens a connection's credentials.
func (s *Store) Credentials(c Connection) (map[string]string, error) {
	out := map[string]string{}
	if len(c.credentials) == 0 {
		return out, nil
	}
	b, err := s.keys.Open(c.credentials, purposeCredentials)
	if err != nil {
		return nil, fmt.Errorf("connection %s credentials: %w", c.Name, err)
	}
	return out, json.Unmarshal(b, &out)
}

// WebhookSecret opens a connection's webhook secret (nil when none is set).
func (s *Store) WebhookSecret(c Connection) ([]byte, error) {
	if len(c.webhookSecret) == 0 {
		return nil, nil
	}
	b, err := s.keys.Open(c.webhookSecret, purposeWebhookSecret)
	if err != nil {
		return nil, fmt.Errorf("connection %s webhook secret: %w", c.Name, err)
	}
	return b, nil
}

// Connections lists every connection by name.
func (s *Store) Connections(ctx context.Context) ([]Connection, error) {
	rows, err := s.pool.Query(ctx, `SELECT `+connectionColumns+` FROM helpdesk_connections ORDER BY name`)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []Connection
	for rows.Next() {
		c, err := scanConnection(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, c)
	}
	return out, rows.Err()
}

// ConnectionByID finds a connection.
func (s *Store) ConnectionByID(ctx context.Context, db DBTX, id int64) (Connection, error) {
	c, err := scanConnection(db.QueryRow(ctx, `SELECT `+connectionColumns+` FROM helpdesk_connections WHERE id = $1`, id))
	return c, notFound(err)
}

// ConnectionByPublicID finds a connection by the id in its webhook URL.
func (s *Store) ConnectionByPublicID(ctx context.Context, db DBTX, publicID string) (Connection, error) {
	c, err := scanConnection(db.QueryRow(ctx, `SELECT `+connectionColumns+` FROM helpdesk_connections WHERE public_id = $1`, publicID))
	return c, notFound(err)
}

// ConnectionByName finds a connection.
func (s *Store) ConnectionByName(ctx context.Context, db DBTX, name string) (Connection, error) {
	c, err := scanConnection(db.QueryRow(ctx, `SELECT `+connectionColumns+` FROM helpdesk_connections WHERE name = $1`, name))
	return c, notFound(err)
}

// SetWebhookSecret stores (sealed) a connection's webhook secret.
func (s *Store) SetWebhookSecret(ctx context.Context, id int64, secret []byte) error {
	_, err := s.pool.Exec(ctx, `UPDATE helpdesk_connections SET webhook_secret = $2, updated_at = now() WHERE id = $1`,
		id, s.keys.Seal(secret, purposeWebhookSecret))
	return err
}

// SetConnectionHealth records what was last learnt about a connection.
func (s *Store) SetConnectionHealth(ctx context.Context, db DBTX, id int64, health, detail string) error {
	_, err := db.Exec(ctx, `UPDATE helpdesk_connections SET health = $2, health_detail = $3, health_at = now()
		WHERE id = $1 AND (health, health_detail) IS DISTINCT FROM ($2, $3)`, id, health, detail)
	return err
}

func newPublicID() string {
	b := make([]byte, 12)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// TouchWebhook records that a connection's webhook delivered.
func (s *Store) TouchWebhook(ctx context.Context, db DBTX, id int64) error {
	_, err := db.Exec(ctx, `UPDATE helpdesk_connections SET last_webhook_at = now() WHERE id = $1`, id)
	return err
}

// SetPollCursor stores where a connection's next poll starts.
func (s *Store) SetPollCursor(ctx context.Context, db DBTX, id int64, cursor string) error {
	_, err := db.Exec(ctx, `UPDATE helpdesk_connections SET poll_cursor = $2, updated_at = now() WHERE id = $1`, id, cursor)
	return err
}

// HasOAuthToken reports whether the connection was connected with OAuth2.
func (c Connection) HasOAuthToken() bool { return len(c.oauthToken) > 0 }

// OAuthToken opens a connection's OAuth2 token (nil when it has none).
func (s *Store) OAuthToken(c Connection) (*oauth2.Token, error) {
	return s.openToken(c.oauthToken, c.Name)
}

func (s *Store) openToken(sealed []byte, name string) (*oauth2.Token, error) {
	if len(sealed) == 0 {
		return nil, nil
	}
	b, err := s.keys.Open(sealed, purposeOAuthToken)
	if err != nil {
		return nil, fmt.Errorf("connection %s oauth token: %w", name, err)
	}
	var t oauth2.Token
	return &t, json.Unmarshal(b, &t)
}

// SetOAuthToken stores (sealed) a connection's OAuth2 token.
func (s *Store) SetOAuthToken(ctx context.Context, db DBTX, id int64, t *oauth2.Token) error {
	b, err := json.Marshal(t)
	if err != nil {
		return err
	}
	_, err = db.Exec(ctx, `UPDATE helpdesk_connections SET oauth_token = $2, updated_at = now() WHERE id = $1`,
		id, s.keys.Seal(b, purposeOAuthToken))
	return err
}

// LockOAuthToken reads a connection's token with its row locked until tx
// ends, so that one replica at a time refreshes it (refresh tokens rotate:
// two refreshes at once would invalidate each other).
func (s *Store) LockOAuthToken(ctx context.Context, tx DBTX, id int64) (*oauth2.Token, error) {
	var sealed []byte
	var name string
	if err := tx.QueryRow(ctx, `SELECT oauth_token, name FROM helpdesk_connections WHERE id = $1 FOR UPDATE`, id).
		Scan(&sealed, &name); err != nil {
		return nil, notFound(err)
	}
	return s.openToken(sealed, name)
}
