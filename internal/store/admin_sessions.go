package store

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"time"
)

// Session is a logged-in admin's session.
type Session struct {
	// Hash is the SHA-256 of the cookie token: the row's key.
	Hash       []byte
	AdminID    AdminID
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

func (s *Session) fields() []any {
	return []any{&s.Hash, &s.AdminID, &s.Email, &s.CSRFToken, &s.HasFlash, &s.CreatedAt, &s.LastSeenAt, &s.ExpiresAt}
}

// CreateSession starts a session for an admin that ends after absolute at the
// latest, and returns the token for the cookie (32 random bytes). Expired
// sessions of every admin are deleted on the way.
func (q *Queries) CreateSession(ctx context.Context, adminID AdminID, absolute time.Duration, ip, userAgent string) (string, Session, error) {
	tok := randomToken()
	var sess Session
	if len(userAgent) > 256 {
		userAgent = userAgent[:256]
	}
	err := q.db.QueryRow(ctx, `
		WITH gone AS (DELETE FROM admin_sessions WHERE expires_at < now())
		INSERT INTO admin_sessions (id_hash, admin_id, csrf_token, remote_ip, user_agent, expires_at)
		VALUES ($1, $2, $3, $4, $5, now() + $6::interval)
		RETURNING id_hash, admin_id, (SELECT email FROM admin_users WHERE id = $2), csrf_token, false, created_at, last_seen_at, expires_at`,
		SessionHash(tok), adminID, randomToken(), ip, userAgent, absolute).Scan(sess.fields()...)
	return tok, sess, wrap(err, "create session for admin %d", adminID)
}

// SessionByToken returns the live session named by a cookie token and marks
// it seen. A session is live until its absolute expiry and while it was seen
// within idle. It returns ErrNotFound otherwise.
func (q *Queries) SessionByToken(ctx context.Context, token string, idle time.Duration) (Session, error) {
	var sess Session
	err := q.db.QueryRow(ctx, `
		UPDATE admin_sessions s SET last_seen_at = now()
		FROM admin_users u
		WHERE s.id_hash = $1 AND u.id = s.admin_id AND s.expires_at > now() AND s.last_seen_at > now() - $2::interval
		RETURNING s.id_hash, s.admin_id, u.email, s.csrf_token, s.flash IS NOT NULL, s.created_at, s.last_seen_at, s.expires_at`,
		SessionHash(token), idle).Scan(sess.fields()...)
	return sess, wrap(err, "session by token")
}

// DeleteSession ends a session (logout, or rotation at login).
func (q *Queries) DeleteSession(ctx context.Context, token string) error {
	_, err := q.db.Exec(ctx, `DELETE FROM admin_sessions WHERE id_hash = $1`, SessionHash(token))
	return wrap(err, "delete session")
}

// SetFlash keeps a message for the session's next page.
func (q *Queries) SetFlash(ctx context.Context, sessionHash []byte, f Flash) error {
	_, err := q.db.Exec(ctx, `UPDATE admin_sessions SET flash = $2 WHERE id_hash = $1`, sessionHash, f)
	return wrap(err, "set flash")
}

// TakeFlash returns the session's message, if any, and clears it.
func (q *Queries) TakeFlash(ctx context.Context, sessionHash []byte) (*Flash, error) {
	var f *Flash
	err := q.db.QueryRow(ctx, `UPDATE admin_sessions s SET flash = NULL FROM (
			SELECT id_hash, flash FROM admin_sessions WHERE id_hash = $1 FOR UPDATE) old
		WHERE s.id_hash = old.id_hash RETURNING old.flash`, sessionHash).Scan(&f)
	if isNoRows(err) {
		return nil, nil
	}
	return f, wrap(err, "take flash")
}
