package store

import (
	"context"
	"fmt"
	"time"
)

// Purposes bind each sealed column to its place (see package secret).
const (
	purposeAccessToken = "whatsapp_accounts.access_token"
	purposeAppSecret   = "whatsapp_accounts.app_secret"
	purposeVerifyToken = "whatsapp_accounts.verify_token"
)

// Account is a WhatsApp business phone number. Its secrets stay sealed until
// asked for with Secrets.
type Account struct {
	ID                 int64
	Name               string
	PhoneNumberID      string
	WABAID             string
	DisplayPhoneNumber string
	GraphURL           string
	GraphVersion       string
	SendRate           int
	Enabled            bool
	ManagedByFile      bool
	Health             string
	HealthDetail       string
	HealthAt           *time.Time
	VerifiedAt         *time.Time
	LastInboundAt      *time.Time
	LastOutboundAt     *time.Time

	accessToken, appSecret, verifyToken []byte
}

// AccountSecrets are an account's opened secrets.
type AccountSecrets struct {
	AccessToken, AppSecret, VerifyToken string
}

// NewAccount is what creating or updating an account takes. Empty secrets
// keep the stored value on update.
type NewAccount struct {
	Name, PhoneNumberID, WABAID, DisplayPhoneNumber, GraphURL, GraphVersion string
	SendRate                                                                int
	AccessToken, AppSecret, VerifyToken                                     string
}

const accountColumns = `id, name, phone_number_id, waba_id, display_phone_number, graph_url, graph_version,
	send_rate, enabled, managed_by_file, health, health_detail, health_at, verified_at,
	last_inbound_at, last_outbound_at, access_token, app_secret, verify_token`

func scanAccount(row interface{ Scan(...any) error }) (Account, error) {
	var a Account
	err := row.Scan(&a.ID, &a.Name, &a.PhoneNumberID, &a.WABAID, &a.DisplayPhoneNumber, &a.GraphURL, &a.GraphVersion,
		&a.SendRate, &a.Enabled, &a.ManagedByFile, &a.Health, &a.HealthDetail, &a.HealthAt, &a.VerifiedAt,
		&a.LastInboundAt, &a.LastOutboundAt, &a.accessToken, &a.appSecret, &a.verifyToken)
	return a, err
}

// Secrets opens the account's sealed secrets.
func (s *Store) Secrets(a Account) (AccountSecrets, error) {
	var out AccountSecrets
	var err error
	if out.AccessToken, err = s.keys.OpenString(a.accessToken, purposeAccessToken); err != nil {
		return out, fmt.Errorf("account %s access_token: %w", a.Name, err)
	}
	if out.AppSecret, err = s.keys.OpenString(a.appSecret, purposeAppSecret); err != nil {
		return out, fmt.Errorf("account %s app_secret: %w", a.Name, err)
	}
	if out.VerifyToken, err = s.keys.OpenString(a.verifyToken, purposeVerifyToken); err != nil {
		return out, fmt.Errorf("account %s verify_token: %w", a.Name, err)
	}
	return out, nil
}

// Accounts lists every account by name.
func (s *Store) Accounts(ctx context.Context) ([]Account, error) {
	return s.queryAccounts(ctx, `SELECT `+accountColumns+` FROM whatsapp_accounts ORDER BY name`)
}

// AccountByPhoneNumberID finds an enabled or disabled account by Meta's id.
func (s *Store) AccountByPhoneNumberID(ctx context.Context, db DBTX, phoneNumberID string) (Account, error) {
	a, err := scanAccount(db.QueryRow(ctx, `SELECT `+accountColumns+` FROM whatsapp_accounts WHERE phone_number_id = $1`, phoneNumberID))
	return a, notFound(err)
}

// AccountByID finds an account.
func (s *Store) AccountByID(ctx context.Context, db DBTX, id int64) (Account, error) {
	a, err := scanAccount(db.QueryRow(ctx, `SELECT `+accountColumns+` FROM whatsapp_accounts WHERE id = $1`, id))
	return a, notFound(err)
}

// AccountByName finds an account.
func (s *Store) AccountByName(ctx context.Context, db DBTX, name string) (Account, error) {
	a, err := scanAccount(db.QueryRow(ctx, `SELECT `+accountColumns+` FROM whatsapp_accounts WHERE name = $1`, name))
	return a, notFound(err)
}

// SetAccountHealth records what was last learnt about an account's health,
// e.g. "healthy", "token_expired", "rate_limited".
func (s *Store) SetAccountHealth(ctx context.Context, db DBTX, id int64, health, detail string) error {
	_, err := db.Exec(ctx, `UPDATE whatsapp_accounts SET health = $2, health_detail = $3, health_at = now()
		WHERE id = $1 AND (health, health_detail) IS DISTINCT FROM ($2, $3)`, id, health, detail)
	return err
}

// MarkAccountVerified records a successful webhook verification handshake.
func (s *Store) MarkAccountVerified(ctx context.Context, id int64) error {
	_, err := s.pool.Exec(ctx, `UPDATE whatsapp_accounts SET verified_at = now() WHERE id = $1`, id)
	return err
}
