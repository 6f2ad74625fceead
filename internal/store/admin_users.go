package store

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"net/mail"
	"strings"
	"time"

	"github.com/relaydesk/relaydesk/internal/password"
)

// Admin is an admin account.
type Admin struct {
	ID          AdminID
	Email       string
	LastLoginAt *time.Time
	CreatedAt   time.Time
}

// Admin errors, shown to people as they are.
var (
	// ErrBadCredentials: unknown email or wrong password (deliberately the same).
	ErrBadCredentials = refusal("email or password is incorrect")
	// ErrAdminExists: an admin with this email already exists.
	ErrAdminExists = refusal("an admin with this email already exists")
	// ErrBadEmail: the email is not a plain address.
	ErrBadEmail = refusal("enter an email address such as admin@example.com")
	// ErrSetupClosed: an admin exists, so the one-time setup is over.
	ErrSetupClosed = refusal("setup is closed: an admin account exists")
	// ErrBadSetupToken: the setup token is wrong or expired.
	ErrBadSetupToken = refusal("the setup link is wrong or has expired; restart relaydesk for a new one")
)

// NormalizeEmail lower-cases and checks an admin email.
func NormalizeEmail(email string) (string, error) {
	e := strings.ToLower(strings.TrimSpace(email))
	a, err := mail.ParseAddress(e)
	if err != nil || a.Address != e || len(e) > 254 {
		return "", ErrBadEmail
	}
	return e, nil
}

// AdminCount returns how many admin accounts exist.
func (q *Queries) AdminCount(ctx context.Context) (int, error) {
	n, err := q.count(ctx, `SELECT count(*) FROM admin_users`)
	return int(n), wrap(err, "count admins")
}

// CreateAdmin adds an admin account; the password must pass password.Check
// and only its argon2id hash is stored.
func (q *Queries) CreateAdmin(ctx context.Context, email, pw string, who Actor) (Admin, error) {
	var a Admin
	err := q.inTx(ctx, func(tx *Queries) error {
		var err error
		a, err = tx.createAdmin(ctx, email, pw, who)
		return err
	})
	return a, wrap(err, "create admin")
}

func (q *Queries) createAdmin(ctx context.Context, email, pw string, who Actor) (Admin, error) {
	var a Admin
	email, err := NormalizeEmail(email)
	if err != nil {
		return a, err
	}
	if err := password.Check(pw); err != nil {
		return a, err
	}
	err = q.db.QueryRow(ctx, `INSERT INTO admin_users (email, password_hash) VALUES ($1, $2)
		RETURNING id, email, last_login_at, created_at`, email, password.Hash(pw)).
		Scan(&a.ID, &a.Email, &a.LastLoginAt, &a.CreatedAt)
	if isUniqueViolation(err) {
		return a, ErrAdminExists
	}
	if err != nil {
		return a, err
	}
	return a, q.recordAudit(ctx, who, audit{Action: "admin.create", TargetType: "admin", TargetID: int64(a.ID), TargetName: a.Email})
}

// SetAdminPassword replaces an admin's password (which must pass
// password.Check) and ends their sessions.
func (q *Queries) SetAdminPassword(ctx context.Context, email, pw string, who Actor) error {
	email, err := NormalizeEmail(email)
	if err != nil {
		return err
	}
	if err := password.Check(pw); err != nil {
		return err
	}
	err = q.inTx(ctx, func(tx *Queries) error {
		var id AdminID
		err := tx.db.QueryRow(ctx, `UPDATE admin_users SET password_hash = $2, updated_at = now() WHERE email = $1 RETURNING id`,
			email, password.Hash(pw)).Scan(&id)
		if err != nil {
			return err
		}
		if _, err := tx.db.Exec(ctx, `DELETE FROM admin_sessions WHERE admin_id = $1`, id); err != nil {
			return err
		}
		return tx.recordAudit(ctx, who, audit{Action: "admin.password", TargetType: "admin", TargetID: int64(id), TargetName: email})
	})
	return wrap(err, "set password of admin %s", email)
}

// Authenticate checks an email and password against the stored hash.
// Unknown emails cost the same hash as known ones and give the same
// ErrBadCredentials.
func (q *Queries) Authenticate(ctx context.Context, email, pw string) (Admin, error) {
	var a Admin
	var hash string
	email = strings.ToLower(strings.TrimSpace(email))
	err := q.db.QueryRow(ctx, `SELECT id, email, last_login_at, created_at, password_hash FROM admin_users WHERE email = $1`, email).
		Scan(&a.ID, &a.Email, &a.LastLoginAt, &a.CreatedAt, &hash)
	if isNoRows(err) || len(pw) > password.MaxLength {
		password.Waste(pw)
		return Admin{}, ErrBadCredentials
	}
	if err != nil {
		return Admin{}, wrap(err, "authenticate")
	}
	ok, err := password.Verify(hash, pw)
	if err != nil {
		return Admin{}, wrap(err, "authenticate admin %d", a.ID)
	}
	if !ok {
		return Admin{}, ErrBadCredentials
	}
	_, err = q.db.Exec(ctx, `UPDATE admin_users SET last_login_at = now() WHERE id = $1`, a.ID)
	return a, wrap(err, "record login of admin %d", a.ID)
}

// NewSetupToken creates a one-time setup token valid for ttl when no admin
// exists, and returns "" otherwise. Only its SHA-256 is stored.
func (q *Queries) NewSetupToken(ctx context.Context, ttl time.Duration) (string, error) {
	raw := make([]byte, 32)
	_, _ = rand.Read(raw)
	tok := base64.RawURLEncoding.EncodeToString(raw)
	sum := sha256.Sum256([]byte(tok))
	n, err := q.exec(ctx, `
		WITH gone AS (DELETE FROM admin_setup_tokens WHERE expires_at < now())
		INSERT INTO admin_setup_tokens (token_hash, expires_at)
		SELECT $1, now() + $2::interval WHERE NOT EXISTS (SELECT 1 FROM admin_users)`, sum[:], ttl)
	if err != nil || n == 0 {
		return "", wrap(err, "create setup token")
	}
	return tok, nil
}

// CheckSetupToken reports whether tok is a live setup token, comparing its
// hash with every live one in constant time.
func (q *Queries) CheckSetupToken(ctx context.Context, tok string) (bool, error) {
	hashes, err := column[[]byte](ctx, q.db, `SELECT token_hash FROM admin_setup_tokens WHERE expires_at > now()`)
	if err != nil {
		return false, wrap(err, "check setup token")
	}
	sum := sha256.Sum256([]byte(tok))
	match := 0
	for _, h := range hashes {
		match |= subtle.ConstantTimeCompare(h, sum[:])
	}
	return match == 1 && tok != "", nil
}

// CreateFirstAdmin creates the first admin with a setup token and closes the
// setup: every setup token is deleted. It fails with ErrSetupClosed when an
// admin exists (also when two browsers race) and ErrBadSetupToken when tok
// is not live.
func (q *Queries) CreateFirstAdmin(ctx context.Context, tok, email, pw, ip string) (Admin, error) {
	var a Admin
	err := q.inTx(ctx, func(tx *Queries) error {
		// Serialise concurrent setups: the second waits, then sees the admin.
		if _, err := tx.db.Exec(ctx, `LOCK TABLE admin_setup_tokens IN EXCLUSIVE MODE`); err != nil {
			return err
		}
		var exists bool
		if err := tx.db.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM admin_users)`).Scan(&exists); err != nil {
			return err
		}
		if exists {
			return ErrSetupClosed
		}
		ok, err := tx.CheckSetupToken(ctx, tok)
		if err != nil {
			return err
		}
		if !ok {
			return ErrBadSetupToken
		}
		if a, err = tx.createAdmin(ctx, email, pw, Actor{Name: "setup", IP: ip}); err != nil {
			return err
		}
		_, err = tx.db.Exec(ctx, `DELETE FROM admin_setup_tokens`)
		return err
	})
	return a, wrap(err, "create first admin")
}
