package store

import (
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"slices"

	"golang.org/x/oauth2"
)

// NewConnection is what creating, updating or declaring a helpdesk
// connection takes. Credentials are the complete set to store (the caller
// merges the kept secrets in); Kind is ignored on update.
type NewConnection struct {
	Name, Kind, BaseURL string
	Settings            map[string]any
	Credentials         map[string]string
	// ForgetOAuth drops the stored OAuth token (UpdateConnection): the
	// connection's address moved, and the token must not follow it.
	ForgetOAuth bool
}

// sealCredentials seals a connection's credentials as JSON.
func (q *Queries) sealCredentials(creds map[string]string) ([]byte, error) {
	b, err := json.Marshal(creds)
	if err != nil {
		return nil, fmt.Errorf("encode credentials: %w", err)
	}
	return q.keys.Seal(b, purposeCredentials), nil
}

func settingsOrEmpty(s map[string]any) map[string]any {
	if s == nil {
		return map[string]any{}
	}
	return s
}

// CreateConnection adds a helpdesk connection made in the admin page.
func (q *Queries) CreateConnection(ctx context.Context, n NewConnection, who Actor) (Connection, error) {
	var c Connection
	creds, err := q.sealCredentials(n.Credentials)
	if err != nil {
		return c, fmt.Errorf("create connection %q: %w", n.Name, err)
	}
	err = q.inTx(ctx, func(tx *Queries) error {
		var err error
		c, err = scanConnection(tx.db.QueryRow(ctx, `
			INSERT INTO helpdesk_connections (name, kind, public_id, base_url, settings, credentials)
			VALUES ($1, $2, $3, $4, $5, $6) RETURNING `+connectionColumns,
			n.Name, n.Kind, newPublicID(), n.BaseURL, settingsOrEmpty(n.Settings), creds))
		if err != nil {
			return conflict(err)
		}
		return tx.recordAudit(ctx, who, audit{Action: "helpdesk.create", TargetType: "helpdesk", TargetID: int64(c.ID),
			TargetName: c.Name, Detail: map[string]any{"kind": c.Kind}})
	})
	return c, wrap(err, "create connection %q", n.Name)
}

// UpdateConnection changes a connection made in the admin page. The audit
// entry names the settings and credentials that changed, never their values.
func (q *Queries) UpdateConnection(ctx context.Context, id ConnectionID, n NewConnection, who Actor) error {
	err := q.inTx(ctx, func(tx *Queries) error {
		old, err := scanConnection(tx.db.QueryRow(ctx, `SELECT `+connectionColumns+` FROM helpdesk_connections WHERE id = $1 FOR UPDATE`, id))
		if err != nil {
			return err
		}
		if old.ManagedByFile {
			return ErrManagedByFile
		}
		oldCreds, err := q.Credentials(old)
		if err != nil {
			return err
		}
		var changed []string
		if old.Name != n.Name {
			changed = append(changed, "name")
		}
		if old.BaseURL != n.BaseURL {
			changed = append(changed, "base_url")
		}
		for _, k := range unionKeys(old.Settings, n.Settings) {
			if fmt.Sprint(old.Settings[k]) != fmt.Sprint(n.Settings[k]) {
				changed = append(changed, "settings."+k)
			}
		}
		for _, k := range unionKeys(oldCreds, n.Credentials) {
			if oldCreds[k] != n.Credentials[k] {
				changed = append(changed, "credentials."+k+" (replaced)")
			}
		}
		if n.ForgetOAuth && old.HasOAuthToken() {
			changed = append(changed, "oauth_token (forgotten)")
		}
		if len(changed) == 0 {
			return nil
		}
		creds, err := q.sealCredentials(n.Credentials)
		if err != nil {
			return err
		}
		_, err = tx.db.Exec(ctx, `UPDATE helpdesk_connections SET name = $2, base_url = $3, settings = $4, credentials = $5,
			oauth_token = CASE WHEN $6 THEN NULL ELSE oauth_token END,
			updated_at = now() WHERE id = $1 AND NOT managed_by_file`, id, n.Name, n.BaseURL, settingsOrEmpty(n.Settings), creds, n.ForgetOAuth)
		if err != nil {
			return conflict(err)
		}
		return tx.recordAudit(ctx, who, audit{Action: "helpdesk.update", TargetType: "helpdesk", TargetID: int64(id),
			TargetName: n.Name, Detail: map[string]any{"changed": changed}})
	})
	return wrap(err, "update connection %d", id)
}

func unionKeys[V any](a, b map[string]V) []string {
	keys := slices.Collect(maps.Keys(a))
	for k := range b {
		if _, ok := a[k]; !ok {
			keys = append(keys, k)
		}
	}
	slices.Sort(keys)
	return keys
}

// SetConnectionEnabled enables or disables a connection made in the page.
func (q *Queries) SetConnectionEnabled(ctx context.Context, id ConnectionID, enabled bool, who Actor) error {
	return wrap(q.setEnabled(ctx, "helpdesk_connections", "helpdesk", int64(id), enabled, who), "set connection %d enabled", id)
}

// ReplaceWebhookSecret stores (sealed) a webhook secret entered or
// generated in the admin page and records how ("entered", "generated"). A
// connection managed by the file is refused with ErrManagedByFile: its
// secret comes from the file or from the webhook relaydesk installs
// (RecordWebhookInstalled).
func (q *Queries) ReplaceWebhookSecret(ctx context.Context, id ConnectionID, secret []byte, how string, who Actor) error {
	err := q.inTx(ctx, func(tx *Queries) error {
		var name string
		var managed bool
		if err := tx.db.QueryRow(ctx, `SELECT name, managed_by_file FROM helpdesk_connections
			WHERE id = $1 FOR UPDATE`, id).Scan(&name, &managed); err != nil {
			return err
		}
		if managed {
			return ErrManagedByFile
		}
		if _, err := tx.db.Exec(ctx, `UPDATE helpdesk_connections SET webhook_secret = $2, webhook_source = 'manual',
			webhook_state = '', webhook_error = '', updated_at = now() WHERE id = $1`,
			id, q.keys.Seal(secret, purposeWebhookSecret)); err != nil {
			return err
		}
		return tx.recordAudit(ctx, who, audit{Action: "helpdesk.webhook_secret", TargetType: "helpdesk", TargetID: int64(id),
			TargetName: name, Detail: map[string]any{"how": how}})
	})
	return wrap(err, "replace connection %d webhook secret", id)
}

// ConnectOAuth stores the token an authorization-code flow obtained
// (sealed) and records who connected the helpdesk. Connections managed by the
// file may be connected too: the file cannot hold an OAuth2 token.
func (q *Queries) ConnectOAuth(ctx context.Context, id ConnectionID, tok *oauth2.Token, who Actor) error {
	err := q.inTx(ctx, func(tx *Queries) error {
		var name string
		if err := tx.db.QueryRow(ctx, `SELECT name FROM helpdesk_connections WHERE id = $1 FOR UPDATE`, id).Scan(&name); err != nil {
			return err
		}
		if err := tx.SetOAuthToken(ctx, id, tok); err != nil {
			return err
		}
		return tx.recordAudit(ctx, who, audit{Action: "helpdesk.oauth_connect", TargetType: "helpdesk", TargetID: int64(id),
			TargetName: name, Detail: map[string]any{"refresh_token": tok.RefreshToken != ""}})
	})
	return wrap(err, "connect connection %d with oauth", id)
}

// DeclareConnection upserts a connection by name as managed by the file.
// Credentials are compared as maps (key order does not matter) and, like an
// unchanged webhook secret, keep their sealed bytes when unchanged. A
// webhookSecret marks the secret as the file's (relaydesk installs nothing);
// an empty one keeps the webhook relaydesk installed, and drops a secret
// the file gave before, so that relaydesk installs the webhook instead. An
// unchanged row is not written. Run it in a transaction (it locks the row
// first).
func (q *Queries) DeclareConnection(ctx context.Context, n NewConnection, webhookSecret string) (ConnectionID, Declared, error) {
	var id ConnectionID
	var creds, hook []byte
	var source WebhookSource
	err := q.db.QueryRow(ctx, `SELECT id, credentials, webhook_secret, webhook_source FROM helpdesk_connections
		WHERE name = $1 FOR UPDATE`, n.Name).Scan(&id, &creds, &hook, &source)
	if err != nil && !isNoRows(err) {
		return 0, "", wrap(err, "lock connection %q", n.Name)
	}
	if old, err := q.Credentials(Connection{Name: n.Name, credentials: creds}); err != nil || creds == nil ||
		!maps.Equal(old, n.Credentials) || q.keys.NeedsReseal(creds) {
		if creds, err = q.sealCredentials(n.Credentials); err != nil {
			return 0, "", fmt.Errorf("declare connection %q: %w", n.Name, err)
		}
	}
	switch {
	case webhookSecret != "":
		hook, source = q.keep(hook, []byte(webhookSecret), purposeWebhookSecret), WebhookSourceFile
	case source == WebhookSourceFile:
		hook, source = nil, WebhookSourceNone
	}
	settings, err := json.Marshal(n.Settings)
	if err != nil {
		return 0, "", fmt.Errorf("declare connection %q: encode settings: %w", n.Name, err)
	}
	var tag string
	err = q.db.QueryRow(ctx, `
		INSERT INTO helpdesk_connections AS c (name, kind, public_id, base_url, settings, credentials, webhook_secret,
			webhook_source, managed_by_file)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, true)
		ON CONFLICT (name) DO UPDATE SET kind = excluded.kind, base_url = excluded.base_url,
			settings = excluded.settings, credentials = excluded.credentials,
			webhook_secret = excluded.webhook_secret, webhook_source = excluded.webhook_source,
			webhook_state = CASE WHEN excluded.webhook_source = c.webhook_source THEN c.webhook_state ELSE '' END,
			webhook_error = CASE WHEN excluded.webhook_source = c.webhook_source THEN c.webhook_error ELSE '' END,
			managed_by_file = true, updated_at = now()
		WHERE (c.kind, c.base_url, c.settings, c.credentials, c.webhook_secret, c.webhook_source, c.managed_by_file)
			IS DISTINCT FROM (excluded.kind, excluded.base_url, excluded.settings, excluded.credentials,
			excluded.webhook_secret, excluded.webhook_source, true)
		RETURNING id, `+upsertTag,
		n.Name, n.Kind, newPublicID(), n.BaseURL, settings, creds, hook, source).Scan(&id, &tag)
	d, err := declaredTag(err, tag)
	if err != nil {
		return 0, "", fmt.Errorf("declare connection %q: %w", n.Name, err)
	}
	return id, d, nil
}
