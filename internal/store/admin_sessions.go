package store

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"time"
)

// Session is a logged-in admin's session.
type Session struct {
	// Hash is the SHA-256 of the cookie token: the row's key.
	Hash       []byte
	AdminID    int64
	Email      string
	CSRFToken  string
	HasFlash   bool
	CreatedAt  time.Time
	LastSeenAt time.Time
	ExpiresAt  time.Time
}

// Flash is a one-time message shown on the next page.
type Flash struct {
	// Kind is "success", "error", "warning" or "info".
	Kind    string `json:"kind"`
	Message string `json:"message"`
	// Detail is an optional second line.
	Detail string `json:"detail,omitempty"`
}

// SessionHash returns the stored form of a session token.
func SessionHash(token string) []byte {
	sum := sha256.Sum256([]byte(token))
	return sum[:]
}

func randomToken() string {
	b := make([]byte, 32)
	_, _ = rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)
}

// CreateSession starts a session for an admin that ends after absolute at the
// latest, and returns the token for the cookie (32 random bytes). Expired
// sessions of every admin are deleted on the way.
func (s *Store) CreateSession(ctx context.Context, adminID int64, absolute time.Duration, ip, userAgent string) (string, Session, error) {
	tok := randomToken()
	var sess Session
	if len(userAgent) > 256 {
		userAgent = userAgent[:256]
	}
	err := s.pool.QueryRow(ctx, `
		WITH gone AS (DELETE FROM admin_sessions WHERE expires_at < now())
		INSERT INTO admin_sessions (id_hash, admin_id, csrf_token, remote_ip, user_agent, expires_at)
		VALUES ($1, $2, $3, $4, $5, now() + $6::interval)
		RETURNING id_hash, admin_id, (SELECT email FROM admin_users WHERE id = $2), csrf_token, false, created_at, last_seen_at, expires_at`,
		SessionHash(tok), adminID, randomToken(), ip, userAgent, absolute).
		Scan(&sess.Hash, &sess.AdminID, &sess.Email, &sess.CSRFToken, &sess.HasFlash, &sess.CreatedAt, &sess.LastSeenAt, &sess.ExpiresAt)
	return tok, sess, err
}

// SessionByToken returns the live session named by a cookie token and marks
// it seen. A session is live until its absolute expiry and while it was seen
// within idle. It returns ErrNotFound otherwise.
func (s *Store) SessionByToken(ctx context.Context, token string, idle time.Duration) (Session, error) {
	var sess Session
	err := s.pool.QueryRow(ctx, `
		UPDATE admin_sessions s SET last_seen_at = now()
		FROM admin_users u
		WHERE s.id_hash = $1 AND u.id = s.admin_id AND s.expires_at > now() AND s.last_seen_at > now() - $2::interval
		RETURNING s.id_hash, s.admin_id, u.email, s.csrf_token, s.flash IS NOT NULL, s.created_at, s.last_seen_at, s.expires_at`,
		SessionHash(token), idle).
		Scan(&sess.Hash, &sess.AdminID, &sess.Email, &sess.CSRFToken, &sess.HasFlash, &sess.CreatedAt, &sess.LastSeenAt, &sess.ExpiresAt)
	return sess, notFound(err)
}

// DeleteSession ends a session (logout, or rotation at login).
func (s *Store) DeleteSession(ctx context.Context, token string) error {
	_, err := s.pool.Exec(ctx, `DELETE FROM admin_sessions WHERE id_hash = $1`, SessionHash(token))
	return err
}

// SetFlash keeps a message for the session's next page.
func (s *Store) SetFlash(ctx context.Context, sessionHash []byte, f Flash) error {
	b, err := json.Marshal(f)
	if err != nil {
		return err
	}
	_, err = s.pool.Exec(ctx, `UPDATE admin_sessions SET flash = $2 WHERE id_hash = $1`, sessionHash, b)
	return err
}

// TakeFlash returns the session's message, if any, and clears it.
func (s *Store) TakeFlash(ctx context.Context, sessionHash []byte) (*Flash, error) {
	var b []byte
	err := s.pool.QueryRow(ctx, `UPDATE admin_sessions s SET flash = NULL FROM (
			SELECT id_hash, flash FROM admin_sessions WHERE id_hash = $1 FOR UPDATE) old
		WHERE s.id_hash = old.id_hash RETURNING old.flash`, sessionHash).Scan(&b)
	if isNoRows(err) || (err == nil && len(b) == 0) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	var f Flash
	if err := json.Unmarshal(b, &f); err != nil {
		return nil, err
	}
	return &f, nil
}

// ResetRateBucket forgets a bucket, refilling it (a successful login clears
// the account's failures).
func (s *Store) ResetRateBucket(ctx context.Context, key string) error {
	_, err := s.pool.Exec(ctx, `DELETE FROM rate_buckets WHERE key = $1`, key)
	return err
}
