package store

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"

	"github.com/jackc/pgx/v5"
)

// NewConnection is what creating or updating a helpdesk connection takes.
// Credentials are the complete set to store (the caller merges the kept
// secrets in); Kind is ignored on update.
type NewConnection struct {
	Name, Kind, BaseURL string
	Settings            map[string]any
	Credentials         map[string]string
}

// HasCredentials reports whether credentials are stored.
func (c Connection) HasCredentials() bool { return len(c.credentials) > 0 }

// CreateConnection adds a helpdesk connection made in the admin page.
func (s *Store) CreateConnection(ctx context.Context, n NewConnection, who Actor) (Connection, error) {
	var c Connection
	creds, err := json.Marshal(n.Credentials)
	if err != nil {
		return c, err
	}
	settings := n.Settings
	if settings == nil {
		settings = map[string]any{}
	}
	err = s.InTx(ctx, func(tx pgx.Tx) error {
		var err error
		c, err = scanConnection(tx.QueryRow(ctx, `
			INSERT INTO helpdesk_connections (name, kind, public_id, base_url, settings, credentials)
			VALUES ($1, $2, $3, $4, $5, $6) RETURNING `+connectionColumns,
			n.Name, n.Kind, newPublicID(), n.BaseURL, settings, s.keys.Seal(creds, purposeCredentials)))
		if err != nil {
			return conflict(err)
		}
		return s.recordAudit(ctx, tx, who, audit{Action: "helpdesk.create", TargetType: "helpdesk", TargetID: c.ID,
			TargetName: c.Name, Detail: map[string]any{"kind": c.Kind}})
	})
	return c, err
}

// UpdateConnection changes a connection made in the admin page. The audit
// entry names the settings and credentials that changed, never their values.
func (s *Store) UpdateConnection(ctx context.Context, id int64, n NewConnection, who Actor) error {
	return s.InTx(ctx, func(tx pgx.Tx) error {
		old, err := scanConnection(tx.QueryRow(ctx, `SELECT `+connectionColumns+` FROM helpdesk_connections WHERE id = $1 FOR UPDATE`, id))
		if err != nil {
			return notFound(err)
		}
		if old.ManagedByFile {
			return ErrManagedByFile
		}
		oldCreds, err := s.Credentials(old)
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
		if len(changed) == 0 {
			return nil
		}
		creds, err := json.Marshal(n.Credentials)
		if err != nil {
			return err
		}
		settings := n.Settings
		if settings == nil {
			settings = map[string]any{}
		}
		_, err = tx.Exec(ctx, `UPDATE helpdesk_connections SET name = $2, base_url = $3, settings = $4, credentials = $5,
			updated_at = now() WHERE id = $1 AND NOT managed_by_file`,
			id, n.Name, n.BaseURL, settings, s.keys.Seal(creds, purposeCredentials))
		if err != nil {
			return conflict(err)
		}
		return s.recordAudit(ctx, tx, who, audit{Action: "helpdesk.update", TargetType: "helpdesk", TargetID: id,
			TargetName: n.Name, Detail: map[string]any{"changed": changed}})
	})
}

func unionKeys[V any](a, b map[string]V) []string {
	var keys []string
	for k := range a {
		keys = append(keys, k)
	}
	for k := range b {
		if _, ok := a[k]; !ok {
			keys = append(keys, k)
		}
	}
	slices.Sort(keys)
	return keys
}

// SetConnectionEnabled enables or disables a connection made in the page.
func (s *Store) SetConnectionEnabled(ctx context.Context, id int64, enabled bool, who Actor) error {
	return s.InTx(ctx, func(tx pgx.Tx) error {
		var name string
		var managed bool
		if err := tx.QueryRow(ctx, `SELECT name, managed_by_file FROM helpdesk_connections WHERE id = $1 FOR UPDATE`, id).Scan(&name, &managed); err != nil {
			return notFound(err)
		}
		if managed {
			return ErrManagedByFile
		}
		if _, err := tx.Exec(ctx, `UPDATE helpdesk_connections SET enabled = $2, updated_at = now() WHERE id = $1`, id, enabled); err != nil {
			return err
		}
		action := "helpdesk.disable"
		if enabled {
			action = "helpdesk.enable"
		}
		return s.recordAudit(ctx, tx, who, audit{Action: action, TargetType: "helpdesk", TargetID: id, TargetName: name})
	})
}

// ReplaceWebhookSecret stores (sealed) a connection's new webhook secret and
// records how it was obtained ("installed", "rotated", "entered",
// "generated"). A connection managed by the file only takes a secret its
// connector installed while it had none (the file may leave the secret to
// the connector); anything else is refused with ErrManagedByFile.
func (s *Store) ReplaceWebhookSecret(ctx context.Context, id int64, secret []byte, how string, who Actor) error {
	return s.InTx(ctx, func(tx pgx.Tx) error {
		var name string
		var managed, has bool
		if err := tx.QueryRow(ctx, `SELECT name, managed_by_file, webhook_secret IS NOT NULL FROM helpdesk_connections
			WHERE id = $1 FOR UPDATE`, id).Scan(&name, &managed, &has); err != nil {
			return notFound(err)
		}
		if managed && (how != "installed" || has) {
			return ErrManagedByFile
		}
		if _, err := tx.Exec(ctx, `UPDATE helpdesk_connections SET webhook_secret = $2, updated_at = now() WHERE id = $1`,
			id, s.keys.Seal(secret, purposeWebhookSecret)); err != nil {
			return err
		}
		return s.recordAudit(ctx, tx, who, audit{Action: "helpdesk.webhook_secret", TargetType: "helpdesk", TargetID: id,
			TargetName: name, Detail: map[string]any{"how": how}})
	})
}
