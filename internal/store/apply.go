package store

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"maps"

	"github.com/jackc/pgx/v5"

	"github.com/relaydesk/relaydesk/internal/config"
)

// ApplyResult counts what ApplyFile changed.
type ApplyResult struct {
	Created, Updated, Unchanged int
}

func (r *ApplyResult) count(tag string) {
	switch tag {
	case "created":
		r.Created++
	case "updated":
		r.Updated++
	default:
		r.Unchanged++
	}
}

// ApplyFile upserts every entry of the declarative file by name, in one
// transaction, marking them as managed by the file. Entries that are not in
// the file are left alone. Applying the same file twice changes nothing the
// second time: unchanged secrets keep their sealed bytes, and rows whose
// values did not change are not written.
func (s *Store) ApplyFile(ctx context.Context, f *config.File) (ApplyResult, error) {
	var res ApplyResult
	err := s.InTx(ctx, func(tx pgx.Tx) error {
		accounts := map[string]int64{}
		for _, a := range f.WhatsApp {
			id, tag, err := s.applyAccount(ctx, tx, a)
			if err != nil {
				return fmt.Errorf("%s:%d: whatsapp %q: %w", f.Path, a.Line, a.Name, err)
			}
			accounts[a.Name] = id
			res.count(tag)
		}
		connections := map[string]int64{}
		for _, h := range f.Helpdesks {
			id, tag, err := s.applyConnection(ctx, tx, h)
			if err != nil {
				return fmt.Errorf("%s:%d: helpdesk %q: %w", f.Path, h.Line, h.Name, err)
			}
			connections[h.Name] = id
			res.count(tag)
		}
		for i, r := range f.Routes {
			tag, err := s.applyRoute(ctx, tx, i, r, accounts, connections)
			if err != nil {
				return fmt.Errorf("%s:%d: route %s -> %s: %w", f.Path, r.Line, r.WhatsApp, r.Helpdesk, err)
			}
			res.count(tag)
		}
		return nil
	})
	return res, err
}

// keep returns the stored sealed value when it opens to plaintext, so that an
// unchanged secret is not re-sealed (which would change its bytes).
func (s *Store) keep(stored []byte, plaintext []byte, purpose string) []byte {
	if stored != nil {
		if old, err := s.keys.Open(stored, purpose); err == nil && bytes.Equal(old, plaintext) && !s.keys.NeedsReseal(stored) {
			return stored
		}
	}
	return s.keys.Seal(plaintext, purpose)
}

const upsertTag = `CASE WHEN xmax = 0 THEN 'created' ELSE 'updated' END`

func (s *Store) applyAccount(ctx context.Context, tx pgx.Tx, a config.WhatsAppEntry) (int64, string, error) {
	var id int64
	var tok, app, ver []byte
	err := tx.QueryRow(ctx, `SELECT id, access_token, app_secret, verify_token FROM whatsapp_accounts WHERE name = $1 FOR UPDATE`,
		a.Name).Scan(&id, &tok, &app, &ver)
	if err != nil && err != pgx.ErrNoRows {
		return 0, "", err
	}
	tok = s.keep(tok, []byte(a.AccessToken), purposeAccessToken)
	app = s.keep(app, []byte(a.AppSecret), purposeAppSecret)
	ver = s.keep(ver, []byte(a.VerifyToken), purposeVerifyToken)

	var tag string
	err = tx.QueryRow(ctx, `
		INSERT INTO whatsapp_accounts AS w (name, phone_number_id, waba_id, display_phone_number, graph_url, graph_version,
			send_rate, access_token, app_secret, verify_token, managed_by_file)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, true)
		ON CONFLICT (name) DO UPDATE SET phone_number_id = excluded.phone_number_id, waba_id = excluded.waba_id,
			display_phone_number = excluded.display_phone_number, graph_url = excluded.graph_url,
			graph_version = excluded.graph_version, send_rate = excluded.send_rate,
			access_token = excluded.access_token, app_secret = excluded.app_secret,
			verify_token = excluded.verify_token, managed_by_file = true, updated_at = now()
		WHERE (w.phone_number_id, w.waba_id, w.display_phone_number, w.graph_url, w.graph_version, w.send_rate,
			w.access_token, w.app_secret, w.verify_token, w.managed_by_file)
			IS DISTINCT FROM (excluded.phone_number_id, excluded.waba_id, excluded.display_phone_number,
			excluded.graph_url, excluded.graph_version, excluded.send_rate, excluded.access_token,
			excluded.app_secret, excluded.verify_token, true)
		RETURNING id, `+upsertTag,
		a.Name, a.PhoneNumberID, a.WABAID, a.DisplayPhoneNumber, a.GraphURL, a.GraphVersion, a.SendRate,
		tok, app, ver).Scan(&id, &tag)
	if err == pgx.ErrNoRows {
		return id, "unchanged", nil
	}
	return id, tag, err
}

func (s *Store) applyConnection(ctx context.Context, tx pgx.Tx, h config.HelpdeskEntry) (int64, string, error) {
	var id int64
	var creds, hook []byte
	err := tx.QueryRow(ctx, `SELECT id, credentials, webhook_secret FROM helpdesk_connections WHERE name = $1 FOR UPDATE`,
		h.Name).Scan(&id, &creds, &hook)
	if err != nil && err != pgx.ErrNoRows {
		return 0, "", err
	}
	// Credentials are compared as maps, so key order does not matter.
	var sealedCreds []byte
	if creds != nil {
		if b, err := s.keys.Open(creds, purposeCredentials); err == nil {
			var old map[string]string
			if json.Unmarshal(b, &old) == nil && maps.Equal(old, h.Credentials) && !s.keys.NeedsReseal(creds) {
				sealedCreds = creds
			}
		}
	}
	if sealedCreds == nil {
		b, err := json.Marshal(h.Credentials)
		if err != nil {
			return 0, "", err
		}
		sealedCreds = s.keys.Seal(b, purposeCredentials)
	}
	// A webhook secret left out of the file keeps whatever the connector
	// generated when it installed its webhook.
	if h.WebhookSecret != "" {
		hook = s.keep(hook, []byte(h.WebhookSecret), purposeWebhookSecret)
	}
	settings, err := json.Marshal(h.Settings)
	if err != nil {
		return 0, "", err
	}

	var tag string
	err = tx.QueryRow(ctx, `
		INSERT INTO helpdesk_connections AS c (name, kind, public_id, base_url, settings, credentials, webhook_secret, managed_by_file)
		VALUES ($1, $2, $3, $4, $5, $6, $7, true)
		ON CONFLICT (name) DO UPDATE SET kind = excluded.kind, base_url = excluded.base_url,
			settings = excluded.settings, credentials = excluded.credentials,
			webhook_secret = excluded.webhook_secret, managed_by_file = true, updated_at = now()
		WHERE (c.kind, c.base_url, c.settings, c.credentials, c.webhook_secret, c.managed_by_file)
			IS DISTINCT FROM (excluded.kind, excluded.base_url, excluded.settings, excluded.credentials,
			excluded.webhook_secret, true)
		RETURNING id, `+upsertTag,
		h.Name, h.Kind, newPublicID(), h.BaseURL, settings, sealedCreds, hook).Scan(&id, &tag)
	if err == pgx.ErrNoRows {
		return id, "unchanged", nil
	}
	return id, tag, err
}

func (s *Store) applyRoute(ctx context.Context, tx pgx.Tx, pos int, r config.RouteEntry, accounts, connections map[string]int64) (string, error) {
	match := RouteMatch{Kind: "default"}
	if r.Match != nil {
		match = RouteMatch{Kind: r.Match.Kind, Value: r.Match.Value}
	}
	var tpl *Template
	if r.ReengagementTemplate != nil {
		tpl = &Template{Name: r.ReengagementTemplate.Name, Language: r.ReengagementTemplate.Language}
	}
	tags := r.Tags
	if tags == nil {
		tags = []string{}
	}
	var tag string
	err := tx.QueryRow(ctx, `
		INSERT INTO routes AS r (account_id, connection_id, position, match, reopen_window, tags, reengagement_template, managed_by_file)
		VALUES ($1, $2, $3, $4, $5, $6, $7, true)
		ON CONFLICT (account_id, connection_id) DO UPDATE SET position = excluded.position, match = excluded.match,
			reopen_window = excluded.reopen_window, tags = excluded.tags,
			reengagement_template = excluded.reengagement_template, managed_by_file = true, updated_at = now()
		WHERE (r.position, r.match, r.reopen_window, r.tags, r.reengagement_template, r.managed_by_file)
			IS DISTINCT FROM (excluded.position, excluded.match, excluded.reopen_window, excluded.tags,
			excluded.reengagement_template, true)
		RETURNING `+upsertTag,
		accounts[r.WhatsApp], connections[r.Helpdesk], pos, match, r.Reopen, tags, tpl).Scan(&tag)
	if err == pgx.ErrNoRows {
		return "unchanged", nil
	}
	return tag, err
}
