package store

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"net/mail"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
)

// Admin is an admin account.
type Admin struct {
	ID          int64
	Email       string
	LastLoginAt *time.Time
	CreatedAt   time.Time
}

// Admin errors.
var (
	// ErrBadCredentials: unknown email or wrong password (deliberately the same).
	ErrBadCredentials = errors.New("email or password is incorrect")
	// ErrAdminExists: an admin with this email already exists.
	ErrAdminExists = errors.New("an admin with this email already exists")
	// ErrBadEmail: the email is not a plain address.
	ErrBadEmail = errors.New("enter an email address such as admin@example.com")
	// ErrSetupClosed: an admin exists, so the one-time setup is over.
	ErrSetupClosed = errors.New("setup is closed: an admin account exists")
	// ErrBadSetupToken: the setup token is wrong or expired.
	ErrBadSetupToken = errors.New("the setup link is wrong or has expired; restart relaydesk for a new one")
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
func (s *Store) AdminCount(ctx context.Context) (int, error) {
	var n int
	err := s.pool.QueryRow(ctx, `SELECT count(*) FROM admin_users`).Scan(&n)
	return n, err
}

// CreateAdmin adds an admin account with an argon2id hash of password.
func (s *Store) CreateAdmin(ctx context.Context, email, password string, who Actor) (Admin, error) {
	var a Admin
	err := s.InTx(ctx, func(tx pgx.Tx) error {
		var err error
		a, err = s.createAdmin(ctx, tx, email, password, who)
		return err
	})
	return a, err
}

func (s *Store) createAdmin(ctx context.Context, tx pgx.Tx, email, password string, who Actor) (Admin, error) {
	var a Admin
	email, err := NormalizeEmail(email)
	if err != nil {
		return a, err
	}
	if err := CheckPasswordRules(password); err != nil {
		return a, err
	}
	err = tx.QueryRow(ctx, `INSERT INTO admin_users (email, password_hash) VALUES ($1, $2)
		RETURNING id, email, last_login_at, created_at`, email, hashPassword(password)).
		Scan(&a.ID, &a.Email, &a.LastLoginAt, &a.CreatedAt)
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) && pgErr.Code == "23505" {
		return a, ErrAdminExists
	}
	if err != nil {
		return a, err
	}
	return a, s.recordAudit(ctx, tx, who, audit{Action: "admin.create", TargetType: "admin", TargetID: a.ID, TargetName: a.Email})
}

// SetAdminPassword replaces an admin's password and ends their sessions.
func (s *Store) SetAdminPassword(ctx context.Context, email, password string, who Actor) error {
	email, err := NormalizeEmail(email)
	if err != nil {
		return err
	}
	if err := CheckPasswordRules(password); err != nil {
		return err
	}
	return s.InTx(ctx, func(tx pgx.Tx) error {
		var id int64
		err := tx.QueryRow(ctx, `UPDATE admin_users SET password_hash = $2, updated_at = now() WHERE email = $1 RETURNING id`,
			email, hashPassword(password)).Scan(&id)
		if err != nil {
			return notFound(err)
		}
		if _, err := tx.Exec(ctx, `DELETE FROM admin_sessions WHERE admin_id = $1`, id); err != nil {
			return err
		}
		return s.recordAudit(ctx, tx, who, audit{Action: "admin.password", TargetType: "admin", TargetID: id, TargetName: email})
	})
}

// Authenticate checks an email and password. Unknown emails cost the same
// hash as known ones and give the same ErrBadCredentials.
func (s *Store) Authenticate(ctx context.Context, email, password string) (Admin, error) {
	var a Admin
	var hash string
	email = strings.ToLower(strings.TrimSpace(email))
	err := s.pool.QueryRow(ctx, `SELECT id, email, last_login_at, created_at, password_hash FROM admin_users WHERE email = $1`, email).
		Scan(&a.ID, &a.Email, &a.LastLoginAt, &a.CreatedAt, &hash)
	if isNoRows(err) || len(password) > MaxPasswordLength {
		_, _ = checkPassword(dummyHash(), password)
		return Admin{}, ErrBadCredentials
	}
	if err != nil {
		return Admin{}, err
	}
	ok, err := checkPassword(hash, password)
	if err != nil {
		return Admin{}, err
	}
	if !ok {
		return Admin{}, ErrBadCredentials
	}
	_, err = s.pool.Exec(ctx, `UPDATE admin_users SET last_login_at = now() WHERE id = $1`, a.ID)
	return a, err
}

// NewSetupToken creates a one-time setup token valid for ttl when no admin
// exists, and returns "" otherwise. Only its SHA-256 is stored.
func (s *Store) NewSetupToken(ctx context.Context, ttl time.Duration) (string, error) {
	raw := make([]byte, 32)
	_, _ = rand.Read(raw)
	tok := base64.RawURLEncoding.EncodeToString(raw)
	sum := sha256.Sum256([]byte(tok))
	tag, err := s.pool.Exec(ctx, `
		WITH gone AS (DELETE FROM admin_setup_tokens WHERE expires_at < now())
		INSERT INTO admin_setup_tokens (token_hash, expires_at)
		SELECT $1, now() + $2::interval WHERE NOT EXISTS (SELECT 1 FROM admin_users)`, sum[:], ttl)
	if err != nil || tag.RowsAffected() == 0 {
		return "", err
	}
	return tok, nil
}

// SetupOpen reports whether the one-time setup page may be used: no admin
// exists and a setup token is live.
func (s *Store) SetupOpen(ctx context.Context) (bool, error) {
	var open bool
	err := s.pool.QueryRow(ctx, `SELECT NOT EXISTS (SELECT 1 FROM admin_users)
		AND EXISTS (SELECT 1 FROM admin_setup_tokens WHERE expires_at > now())`).Scan(&open)
	return open, err
}

// CheckSetupToken reports whether tok is a live setup token, comparing its
// hash with every live one in constant time.
func (s *Store) CheckSetupToken(ctx context.Context, tok string) (bool, error) {
	return s.checkSetupToken(ctx, s.pool, tok)
}

func (s *Store) checkSetupToken(ctx context.Context, db DBTX, tok string) (bool, error) {
	rows, err := db.Query(ctx, `SELECT token_hash FROM admin_setup_tokens WHERE expires_at > now()`)
	if err != nil {
		return false, err
	}
	hashes, err := pgx.CollectRows(rows, pgx.RowTo[[]byte])
	if err != nil {
		return false, err
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
func (s *Store) CreateFirstAdmin(ctx context.Context, tok, email, password, ip string) (Admin, error) {
	var a Admin
	err := s.InTx(ctx, func(tx pgx.Tx) error {
		// Serialise concurrent setups: the second waits, then sees the admin.
		if _, err := tx.Exec(ctx, `LOCK TABLE admin_setup_tokens IN EXCLUSIVE MODE`); err != nil {
			return err
		}
		var exists bool
		if err := tx.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM admin_users)`).Scan(&exists); err != nil {
			return err
		}
		if exists {
			return ErrSetupClosed
		}
		ok, err := s.checkSetupToken(ctx, tx, tok)
		if err != nil {
			return err
		}
		if !ok {
			return ErrBadSetupToken
		}
		if a, err = s.createAdmin(ctx, tx, email, password, Actor{Name: "setup", IP: ip}); err != nil {
			return err
		}
		_, err = tx.Exec(ctx, `DELETE FROM admin_setup_tokens`)
		return err
	})
	return a, err
}
