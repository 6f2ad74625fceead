package store

import (
	"context"
	"crypto/sha256"
	"time"
)

// purposeOAuthVerifier binds sealed PKCE verifiers to their column.
const purposeOAuthVerifier = "oauth_states.verifier"

// OAuthState is an authorization-code flow in progress.
type OAuthState struct {
	ConnectionID ConnectionID
	Verifier     string
	RedirectURL  string
}

func stateHash(state string) []byte {
	sum := sha256.Sum256([]byte(state))
	return sum[:]
}

// CreateOAuthState remembers a flow started by a session until ttl passes.
// Only the state's SHA-256 is stored, and the PKCE verifier is sealed.
func (q *Queries) CreateOAuthState(ctx context.Context, state string, st OAuthState, sessionHash []byte, ttl time.Duration) error {
	_, err := q.db.Exec(ctx, `
		WITH gone AS (DELETE FROM oauth_states WHERE expires_at < now())
		INSERT INTO oauth_states (state_hash, connection_id, session_hash, verifier, redirect_url, expires_at)
		VALUES ($1, $2, $3, $4, $5, now() + $6::interval)`,
		stateHash(state), st.ConnectionID, sessionHash, q.keys.SealString(st.Verifier, purposeOAuthVerifier), st.RedirectURL, ttl)
	return wrap(err, "create oauth state for connection %d", st.ConnectionID)
}

// TakeOAuthState consumes a flow's state: it works once, before it expires,
// and only for the session that started it. It returns ErrNotFound
// otherwise.
func (q *Queries) TakeOAuthState(ctx context.Context, state string, sessionHash []byte) (OAuthState, error) {
	var st OAuthState
	var sealed []byte
	var valid bool
	err := q.db.QueryRow(ctx, `DELETE FROM oauth_states WHERE state_hash = $1
		RETURNING connection_id, verifier, redirect_url, session_hash = $2 AND expires_at > now()`,
		stateHash(state), sessionHash).Scan(&st.ConnectionID, &sealed, &st.RedirectURL, &valid)
	if err == nil && !valid {
		err = ErrNotFound
	}
	if err != nil {
		return OAuthState{}, wrap(err, "take oauth state")
	}
	if st.Verifier, err = q.keys.OpenString(sealed, purposeOAuthVerifier); err != nil {
		return OAuthState{}, wrap(err, "take oauth state: open verifier")
	}
	return st, nil
}
