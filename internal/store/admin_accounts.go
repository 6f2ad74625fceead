package store

import (
	"context"
	"errors"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
)

// ErrManagedByFile is returned when a change targets an entry that
// RELAYDESK_CONFIG manages: the file is its source of truth.
var ErrManagedByFile = errors.New("this entry is managed by the configuration file (RELAYDESK_CONFIG) and is read-only here")

// ConflictError is a unique constraint a change ran into, named by the form
// field it concerns.
type ConflictError struct {
	Field   string
	Message string
}

func (e *ConflictError) Error() string { return e.Field + ": " + e.Message }

// uniqueFields maps unique constraints to the field and message to show.
var uniqueFields = map[string]ConflictError{
	"whatsapp_accounts_name_key":            {"name", "another number already has this name"},
	"whatsapp_accounts_phone_number_id_key": {"phone_number_id", "another number already uses this phone number id"},
	"helpdesk_connections_name_key":         {"name", "another helpdesk connection already has this name"},
	"routes_account_id_connection_id_key":   {"connection_id", "a route already joins this number and this helpdesk"},
}

// conflict turns a unique violation into a *ConflictError.
func conflict(err error) error {
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) && pgErr.Code == "23505" {
		if c, ok := uniqueFields[pgErr.ConstraintName]; ok {
			return &c
		}
	}
	return err
}

// HasSecrets reports which of the account's secrets are stored, without
// opening them.
func (a Account) HasSecrets() (accessToken, appSecret, verifyToken bool) {
	return len(a.accessToken) > 0, len(a.appSecret) > 0, len(a.verifyToken) > 0
}

// CreateAccount adds a WhatsApp number made in the admin page.
func (s *Store) CreateAccount(ctx context.Context, n NewAccount, who Actor) (Account, error) {
	var a Account
	err := s.InTx(ctx, func(tx pgx.Tx) error {
		var err error
		a, err = scanAccount(tx.QueryRow(ctx, `
			INSERT INTO whatsapp_accounts (name, phone_number_id, waba_id, display_phone_number, graph_url, graph_version,
				send_rate, access_token, app_secret, verify_token)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)
			RETURNING `+accountColumns,
			n.Name, n.PhoneNumberID, n.WABAID, n.DisplayPhoneNumber, n.GraphURL, n.GraphVersion, n.SendRate,
			s.keys.SealString(n.AccessToken, purposeAccessToken), s.keys.SealString(n.AppSecret, purposeAppSecret),
			s.keys.SealString(n.VerifyToken, purposeVerifyToken)))
		if err != nil {
			return conflict(err)
		}
		return s.recordAudit(ctx, tx, who, audit{Action: "whatsapp.create", TargetType: "whatsapp", TargetID: a.ID, TargetName: a.Name})
	})
	return a, err
}

// UpdateAccount changes a number made in the admin page. Empty secrets keep
// the stored ones. The audit entry names the changed fields, never values.
func (s *Store) UpdateAccount(ctx context.Context, id int64, n NewAccount, who Actor) error {
	return s.InTx(ctx, func(tx pgx.Tx) error {
		old, err := scanAccount(tx.QueryRow(ctx, `SELECT `+accountColumns+` FROM whatsapp_accounts WHERE id = $1 FOR UPDATE`, id))
		if err != nil {
			return notFound(err)
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
		tok, app, ver := old.accessToken, old.appSecret, old.verifyToken
		if n.AccessToken != "" {
			tok = s.keys.SealString(n.AccessToken, purposeAccessToken)
			changed = append(changed, "access_token (replaced)")
		}
		if n.AppSecret != "" {
			app = s.keys.SealString(n.AppSecret, purposeAppSecret)
			changed = append(changed, "app_secret (replaced)")
		}
		if n.VerifyToken != "" {
			ver = s.keys.SealString(n.VerifyToken, purposeVerifyToken)
			changed = append(changed, "verify_token (replaced)")
		}
		if len(changed) == 0 {
			return nil
		}
		_, err = tx.Exec(ctx, `UPDATE whatsapp_accounts SET name = $2, phone_number_id = $3, waba_id = $4,
			display_phone_number = $5, graph_url = $6, graph_version = $7, send_rate = $8,
			access_token = $9, app_secret = $10, verify_token = $11, updated_at = now()
			WHERE id = $1 AND NOT managed_by_file`,
			id, n.Name, n.PhoneNumberID, n.WABAID, n.DisplayPhoneNumber, n.GraphURL, n.GraphVersion, n.SendRate, tok, app, ver)
		if err != nil {
			return conflict(err)
		}
		return s.recordAudit(ctx, tx, who, audit{Action: "whatsapp.update", TargetType: "whatsapp", TargetID: id,
			TargetName: n.Name, Detail: map[string]any{"changed": changed}})
	})
}

// SetAccountEnabled enables or disables a number made in the admin page.
func (s *Store) SetAccountEnabled(ctx context.Context, id int64, enabled bool, who Actor) error {
	return s.InTx(ctx, func(tx pgx.Tx) error {
		var name string
		var managed bool
		if err := tx.QueryRow(ctx, `SELECT name, managed_by_file FROM whatsapp_accounts WHERE id = $1 FOR UPDATE`, id).Scan(&name, &managed); err != nil {
			return notFound(err)
		}
		if managed {
			return ErrManagedByFile
		}
		if _, err := tx.Exec(ctx, `UPDATE whatsapp_accounts SET enabled = $2, updated_at = now() WHERE id = $1`, id, enabled); err != nil {
			return err
		}
		action := "whatsapp.disable"
		if enabled {
			action = "whatsapp.enable"
		}
		return s.recordAudit(ctx, tx, who, audit{Action: action, TargetType: "whatsapp", TargetID: id, TargetName: name})
	})
}

// LastSignedDeliveries returns, per account, when the newest WhatsApp
// delivery that passed its signature check arrived, leaving out the admin
// page's test events (their payloads carry marker).
func (s *Store) LastSignedDeliveries(ctx context.Context, marker string) (map[int64]time.Time, error) {
	rows, err := s.pool.Query(ctx, `
		SELECT a.id, e.received_at FROM whatsapp_accounts a
		CROSS JOIN LATERAL (
			SELECT received_at FROM webhook_events
			WHERE account_id = a.id AND source = 'whatsapp' AND position($1::bytea IN body) = 0
			ORDER BY received_at DESC LIMIT 1) e`, []byte(marker))
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := map[int64]time.Time{}
	for rows.Next() {
		var id int64
		var at time.Time
		if err := rows.Scan(&id, &at); err != nil {
			return nil, err
		}
		out[id] = at
	}
	return out, rows.Err()
}
