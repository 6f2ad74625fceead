package store

import (
	"context"
	"fmt"
)

// CreateAccount adds a WhatsApp number made in the admin page.
func (q *Queries) CreateAccount(ctx context.Context, n NewAccount, who Actor) (Account, error) {
	var a Account
	err := q.inTx(ctx, func(tx *Queries) error {
		var err error
		a, err = scanAccount(tx.db.QueryRow(ctx, `
			INSERT INTO whatsapp_accounts (name, phone_number_id, waba_id, display_phone_number, graph_url, graph_version,
				send_rate, access_token, app_secret, verify_token, coexistence, read_policy)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)
			RETURNING `+accountColumns,
			n.Name, n.PhoneNumberID, n.WABAID, n.DisplayPhoneNumber, n.GraphURL, n.GraphVersion, n.SendRate,
			q.keys.SealString(n.AccessToken, purposeAccessToken), q.keys.SealString(n.AppSecret, purposeAppSecret),
			q.keys.SealString(n.VerifyToken, purposeVerifyToken), n.Coexistence, readPolicyOrOff(n.ReadPolicy)))
		if err != nil {
			return conflict(err)
		}
		return tx.recordAudit(ctx, who, audit{Action: "whatsapp.create", TargetType: "whatsapp", TargetID: int64(a.ID), TargetName: a.Name})
	})
	return a, wrap(err, "create account %q", n.Name)
}

// UpdateAccount changes a number made in the admin page. Empty secrets keep
// the stored ones. The audit entry names the changed fields, never values.
func (q *Queries) UpdateAccount(ctx context.Context, id AccountID, n NewAccount, who Actor) error {
	err := q.inTx(ctx, func(tx *Queries) error {
		old, err := scanAccount(tx.db.QueryRow(ctx, `SELECT `+accountColumns+` FROM whatsapp_accounts WHERE id = $1 FOR UPDATE`, id))
		if err != nil {
			return err
		}
		if old.ManagedByFile {
			return ErrManagedByFile
		}
		var changed []string
		note := func(field string, differs bool) {
			if differs {
				changed = append(changed, field)
			}
		}
		note("name", old.Name != n.Name)
		note("phone_number_id", old.PhoneNumberID != n.PhoneNumberID)
		note("waba_id", old.WABAID != n.WABAID)
		note("display_phone_number", old.DisplayPhoneNumber != n.DisplayPhoneNumber)
		note("graph_url", old.GraphURL != n.GraphURL)
		note("graph_version", old.GraphVersion != n.GraphVersion)
		note("send_rate", old.SendRate != n.SendRate)
		note("coexistence", old.Coexistence != n.Coexistence)
		note("read_policy", old.ReadPolicy != readPolicyOrOff(n.ReadPolicy))
		replace := func(field string, plain string, sealed *[]byte, purpose string) {
			if plain != "" {
				*sealed = q.keys.SealString(plain, purpose)
				changed = append(changed, field+" (replaced)")
			}
		}
		tok, app, ver := old.accessToken, old.appSecret, old.verifyToken
		replace("access_token", n.AccessToken, &tok, purposeAccessToken)
		replace("app_secret", n.AppSecret, &app, purposeAppSecret)
		replace("verify_token", n.VerifyToken, &ver, purposeVerifyToken)
		if len(changed) == 0 {
			return nil
		}
		_, err = tx.db.Exec(ctx, `UPDATE whatsapp_accounts SET name = $2, phone_number_id = $3, waba_id = $4,
			display_phone_number = $5, graph_url = $6, graph_version = $7, send_rate = $8,
			access_token = $9, app_secret = $10, verify_token = $11, coexistence = $12, read_policy = $13, updated_at = now()
			WHERE id = $1 AND NOT managed_by_file`,
			id, n.Name, n.PhoneNumberID, n.WABAID, n.DisplayPhoneNumber, n.GraphURL, n.GraphVersion, n.SendRate, tok, app, ver,
			n.Coexistence, readPolicyOrOff(n.ReadPolicy))
		if err != nil {
			return conflict(err)
		}
		return tx.recordAudit(ctx, who, audit{Action: "whatsapp.update", TargetType: "whatsapp", TargetID: int64(id),
			TargetName: n.Name, Detail: map[string]any{"changed": changed}})
	})
	return wrap(err, "update account %d", id)
}

// SetAccountEnabled enables or disables a number made in the admin page.
func (q *Queries) SetAccountEnabled(ctx context.Context, id AccountID, enabled bool, who Actor) error {
	return wrap(q.setEnabled(ctx, "whatsapp_accounts", "whatsapp", int64(id), enabled, who), "set account %d enabled", id)
}

// setEnabled enables or disables a row of table that the admin page made,
// recording "<kind>.enable" or "<kind>.disable". table is a constant of the
// callers, never input.
func (q *Queries) setEnabled(ctx context.Context, table, kind string, id int64, enabled bool, who Actor) error {
	return q.inTx(ctx, func(tx *Queries) error {
		var name string
		var managed bool
		if err := tx.db.QueryRow(ctx, `SELECT name, managed_by_file FROM `+table+` WHERE id = $1 FOR UPDATE`, id).
			Scan(&name, &managed); err != nil {
			return err
		}
		if managed {
			return ErrManagedByFile
		}
		if _, err := tx.db.Exec(ctx, `UPDATE `+table+` SET enabled = $2, updated_at = now() WHERE id = $1`, id, enabled); err != nil {
			return err
		}
		return tx.recordAudit(ctx, who, audit{Action: kind + "." + enableVerb(enabled), TargetType: kind, TargetID: id, TargetName: name})
	})
}

func enableVerb(enabled bool) string {
	if enabled {
		return "enable"
	}
	return "disable"
}

// Declared says what a declaring upsert (the configuration file) did.
type Declared string

// The outcomes of a declaring upsert.
const (
	DeclaredCreated   Declared = "created"
	DeclaredUpdated   Declared = "updated"
	DeclaredUnchanged Declared = "unchanged"
)

const upsertTag = `CASE WHEN xmax = 0 THEN 'created' ELSE 'updated' END`

// declaredTag reads an upsert's outcome: no row back means nothing changed.
func declaredTag(err error, tag string) (Declared, error) {
	if isNoRows(err) {
		return DeclaredUnchanged, nil
	}
	return Declared(tag), err
}

// keep returns the stored sealed value when it opens to plaintext, so that an
// unchanged secret is not re-sealed (which would change its bytes).
func (q *Queries) keep(stored []byte, plaintext []byte, purpose string) []byte {
	if stored != nil {
		if old, err := q.keys.Open(stored, purpose); err == nil && string(old) == string(plaintext) && !q.keys.NeedsReseal(stored) {
			return stored
		}
	}
	return q.keys.Seal(plaintext, purpose)
}

// DeclareAccount upserts an account by name as managed by the file. An
// unchanged secret keeps its sealed bytes and an unchanged row is not
// written. Run it in a transaction (it locks the row first).
func (q *Queries) DeclareAccount(ctx context.Context, n NewAccount) (AccountID, Declared, error) {
	var id AccountID
	var tok, app, ver []byte
	err := q.db.QueryRow(ctx, `SELECT id, access_token, app_secret, verify_token FROM whatsapp_accounts WHERE name = $1 FOR UPDATE`,
		n.Name).Scan(&id, &tok, &app, &ver)
	if err != nil && !isNoRows(err) {
		return 0, "", wrap(err, "lock account %q", n.Name)
	}
	tok = q.keep(tok, []byte(n.AccessToken), purposeAccessToken)
	app = q.keep(app, []byte(n.AppSecret), purposeAppSecret)
	ver = q.keep(ver, []byte(n.VerifyToken), purposeVerifyToken)

	var tag string
	err = q.db.QueryRow(ctx, `
		INSERT INTO whatsapp_accounts AS w (name, phone_number_id, waba_id, display_phone_number, graph_url, graph_version,
			send_rate, access_token, app_secret, verify_token, managed_by_file, coexistence, read_policy)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, true, $11, $12)
		ON CONFLICT (name) DO UPDATE SET phone_number_id = excluded.phone_number_id, waba_id = excluded.waba_id,
			display_phone_number = excluded.display_phone_number, graph_url = excluded.graph_url,
			graph_version = excluded.graph_version, send_rate = excluded.send_rate,
			access_token = excluded.access_token, app_secret = excluded.app_secret,
			verify_token = excluded.verify_token, managed_by_file = true,
			coexistence = excluded.coexistence, read_policy = excluded.read_policy, updated_at = now()
		WHERE (w.phone_number_id, w.waba_id, w.display_phone_number, w.graph_url, w.graph_version, w.send_rate,
			w.access_token, w.app_secret, w.verify_token, w.managed_by_file, w.coexistence, w.read_policy)
			IS DISTINCT FROM (excluded.phone_number_id, excluded.waba_id, excluded.display_phone_number,
			excluded.graph_url, excluded.graph_version, excluded.send_rate, excluded.access_token,
			excluded.app_secret, excluded.verify_token, true, excluded.coexistence, excluded.read_policy)
		RETURNING id, `+upsertTag,
		n.Name, n.PhoneNumberID, n.WABAID, n.DisplayPhoneNumber, n.GraphURL, n.GraphVersion, n.SendRate,
		tok, app, ver, n.Coexistence, readPolicyOrOff(n.ReadPolicy)).Scan(&id, &tag)
	d, err := declaredTag(err, tag)
	if err != nil {
		return 0, "", fmt.Errorf("declare account %q: %w", n.Name, err)
	}
	return id, d, nil
}
