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
	ID                 AccountID
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
	// Coexistence is set for a number also used in the WhatsApp Business
	// app: Meta fixes its throughput at 20 messages per second, so sends
	// are paced at most that fast whatever SendRate says.
	Coexistence bool
	// ReadPolicy is ReadPolicyOff or ReadPolicyOnReply.
	ReadPolicy string

	accessToken, appSecret, verifyToken []byte
}

// AccountSecrets are an account's opened secrets.
type AccountSecrets struct {
	AccessToken, AppSecret, VerifyToken string
}

// NewAccount is what creating, updating or declaring an account takes.
// Empty secrets keep the stored value on update.
type NewAccount struct {
	Name, PhoneNumberID, WABAID, DisplayPhoneNumber, GraphURL, GraphVersion string
	SendRate                                                                int
	AccessToken, AppSecret, VerifyToken                                     string
	// Coexistence and ReadPolicy are set by the admin form; the zero
	// values (not coexistence, policy "" = off) are the defaults.
	Coexistence bool
	ReadPolicy  string
}

// Read receipt policies of a number (whatsapp_accounts.read_policy).
const (
	// ReadPolicyOff never marks customer messages read.
	ReadPolicyOff = "off"
	// ReadPolicyOnReply marks the customer's last message read, with the
	// typing indicator, when an agent's reply is about to be sent.
	ReadPolicyOnReply = "on_reply"
)

// CoexistenceSendRate is the fixed throughput of a coexistence number
// (messages per second; Meta's coexistence documentation).
const CoexistenceSendRate = 20

// EffectiveSendRate is how many messages per second relaydesk sends from
// the number: SendRate, capped at CoexistenceSendRate for a coexistence
// number.
func (a Account) EffectiveSendRate() int {
	if a.Coexistence && (a.SendRate <= 0 || a.SendRate > CoexistenceSendRate) {
		return CoexistenceSendRate
	}
	return a.SendRate
}

func readPolicyOrOff(p string) string {
	if p == "" {
		return ReadPolicyOff
	}
	return p
}

const accountColumns = `id, name, phone_number_id, waba_id, display_phone_number, graph_url, graph_version,
	send_rate, enabled, managed_by_file, health, health_detail, health_at, verified_at,
	last_inbound_at, last_outbound_at, coexistence, read_policy, access_token, app_secret, verify_token`

// fields are the scan destinations of accountColumns.
func (a *Account) fields() []any {
	return []any{&a.ID, &a.Name, &a.PhoneNumberID, &a.WABAID, &a.DisplayPhoneNumber, &a.GraphURL, &a.GraphVersion,
		&a.SendRate, &a.Enabled, &a.ManagedByFile, &a.Health, &a.HealthDetail, &a.HealthAt, &a.VerifiedAt,
		&a.LastInboundAt, &a.LastOutboundAt, &a.Coexistence, &a.ReadPolicy, &a.accessToken, &a.appSecret, &a.verifyToken}
}

func scanAccount(row scanner) (Account, error) {
	var a Account
	err := row.Scan(a.fields()...)
	return a, err
}

// HasSecrets reports which of the account's secrets are stored, without
// opening them.
func (a Account) HasSecrets() (accessToken, appSecret, verifyToken bool) {
	return len(a.accessToken) > 0, len(a.appSecret) > 0, len(a.verifyToken) > 0
}

// Secrets opens the account's sealed secrets.
func (q *Queries) Secrets(a Account) (AccountSecrets, error) {
	var out AccountSecrets
	var err error
	if out.AccessToken, err = q.keys.OpenString(a.accessToken, purposeAccessToken); err != nil {
		return out, fmt.Errorf("account %s access_token: %w", a.Name, err)
	}
	if out.AppSecret, err = q.keys.OpenString(a.appSecret, purposeAppSecret); err != nil {
		return out, fmt.Errorf("account %s app_secret: %w", a.Name, err)
	}
	if out.VerifyToken, err = q.keys.OpenString(a.verifyToken, purposeVerifyToken); err != nil {
		return out, fmt.Errorf("account %s verify_token: %w", a.Name, err)
	}
	return out, nil
}

// Accounts lists every account by name.
func (q *Queries) Accounts(ctx context.Context) ([]Account, error) {
	out, err := list(ctx, q.db, scanAccount, `SELECT `+accountColumns+` FROM whatsapp_accounts ORDER BY name`)
	return out, wrap(err, "list accounts")
}

// AccountsByPhoneNumberIDs returns the accounts named by a delivery.
func (q *Queries) AccountsByPhoneNumberIDs(ctx context.Context, ids []string) ([]Account, error) {
	out, err := list(ctx, q.db, scanAccount, `SELECT `+accountColumns+` FROM whatsapp_accounts WHERE phone_number_id = ANY($1)`, ids)
	return out, wrap(err, "accounts by phone number ids")
}

// AccountsByWABAIDs returns the accounts of the given business accounts.
func (q *Queries) AccountsByWABAIDs(ctx context.Context, ids []string) ([]Account, error) {
	out, err := list(ctx, q.db, scanAccount, `SELECT `+accountColumns+` FROM whatsapp_accounts WHERE waba_id = ANY($1)`, ids)
	return out, wrap(err, "accounts by waba ids")
}

func (q *Queries) accountWhere(ctx context.Context, where string, arg any) (Account, error) {
	return scanAccount(q.db.QueryRow(ctx, `SELECT `+accountColumns+` FROM whatsapp_accounts WHERE `+where, arg))
}

// AccountByPhoneNumberID finds an enabled or disabled account by Meta's id.
func (q *Queries) AccountByPhoneNumberID(ctx context.Context, phoneNumberID string) (Account, error) {
	a, err := q.accountWhere(ctx, `phone_number_id = $1`, phoneNumberID)
	return a, wrap(err, "account with phone number id %s", phoneNumberID)
}

// AccountByID finds an account.
func (q *Queries) AccountByID(ctx context.Context, id AccountID) (Account, error) {
	a, err := q.accountWhere(ctx, `id = $1`, id)
	return a, wrap(err, "account %d", id)
}

// AccountByName finds an account.
func (q *Queries) AccountByName(ctx context.Context, name string) (Account, error) {
	a, err := q.accountWhere(ctx, `name = $1`, name)
	return a, wrap(err, "account %q", name)
}

// SetAccountHealth records what was last learnt about an account's health,
// e.g. "healthy", "token_expired", "rate_limited".
func (q *Queries) SetAccountHealth(ctx context.Context, id AccountID, health, detail string) error {
	_, err := q.db.Exec(ctx, `UPDATE whatsapp_accounts SET health = $2, health_detail = $3, health_at = now()
		WHERE id = $1 AND (health, health_detail) IS DISTINCT FROM ($2, $3)`, id, health, detail)
	return wrap(err, "set account %d health", id)
}

// MarkAccountVerified records a successful webhook verification handshake.
func (q *Queries) MarkAccountVerified(ctx context.Context, id AccountID) error {
	_, err := q.db.Exec(ctx, `UPDATE whatsapp_accounts SET verified_at = now() WHERE id = $1`, id)
	return wrap(err, "mark account %d verified", id)
}

// LastSignedDeliveries returns, per account, when the newest WhatsApp
// delivery that passed its signature check arrived, leaving out the admin
// page's test events (their payloads carry marker).
func (q *Queries) LastSignedDeliveries(ctx context.Context, marker string) (map[AccountID]time.Time, error) {
	rows, err := pairs[AccountID, time.Time](ctx, q.db, `
		SELECT a.id, e.received_at FROM whatsapp_accounts a
		CROSS JOIN LATERAL (
			SELECT received_at FROM webhook_events
			WHERE account_id = a.id AND source = 'whatsapp' AND position($1::bytea IN body) = 0
			ORDER BY received_at DESC LIMIT 1) e`, []byte(marker))
	if err != nil {
		return nil, wrap(err, "last signed deliveries")
	}
	out := make(map[AccountID]time.Time, len(rows))
	for _, l := range rows {
		out[l.key] = l.val
	}
	return out, nil
}
