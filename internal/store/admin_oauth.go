package store

import (
	"context"
	"crypto/sha256"
	"time"

	"github.com/jackc/pgx/v5"
	"golang.org/x/oauth2"
)

// purposeOAuthVerifier binds sealed PKCE verifiers to their column.
const purposeOAuthVerifier = "oauth_states.verifier"

// OAuthState is an authorization-code flow in progress.
type OAuthState struct {
	ConnectionID int64
	Verifier     string
	RedirectURL  string
}

func stateHash(state string) []byte {
	sum := sha256.Sum256([]byte(state))
	return sum[:]
}

// CreateOAuthState remembers a flow started by a session until ttl passes.
// Only the state's SHA-256 is stored, and the PKCE verifier is sealed.
func (s *Store) CreateOAuthState(ctx context.Context, state string, st OAuthState, sessionHash []byte, ttl time.Duration) error {
	_, err := s.pool.Exec(ctx, `
		WITH gone AS (DELETE FROM oauth_states WHERE expires_at < now())
		INSERT INTO oauth_states (state_hash, connection_id, session_hash, verifier, redirect_url, expires_at)
		VALUES ($1, $2, $3, $4, $5, now() + $6::interval)`,
		stateHash(state), st.ConnectionID, sessionHash, s.keys.SealString(st.Verifier, purposeOAuthVerifier), st.RedirectURL, ttl)
	return err
}

// TakeOAuthState consumes a flow's state: it works once, before it expires,
// and only for the session that started it. It returns ErrNotFound
// otherwise.
func (s *Store) TakeOAuthState(ctx context.Context, state string, sessionHash []byte) (OAuthState, error) {
	var st OAuthState
	var sealed []byte
	var valid bool
	err := s.pool.QueryRow(ctx, `DELETE FROM oauth_states WHERE state_hash = $1
		RETURNING connection_id, verifier, redirect_url, session_hash = $2 AND expires_at > now()`,
		stateHash(state), sessionHash).Scan(&st.ConnectionID, &sealed, &st.RedirectURL, &valid)
	if err != nil {
		return OAuthState{}, notFound(err)
	}
	if !valid {
		return OAuthState{}, ErrNotFound
	}
	if st.Verifier, err = s.keys.OpenString(sealed, purposeOAuthVerifier); err != nil {
		return OAuthState{}, err
	}
	return st, nil
}

// ConnectOAuth stores the token an authorization-code flow obtained
// (sealed) and records who connected the helpdesk. Connections managed by the
// file may be connected too: the file cannot hold an OAuth2 token.
func (s *Store) ConnectOAuth(ctx context.Context, id int64, tok *oauth2.Token, who Actor) error {
	return s.InTx(ctx, func(tx pgx.Tx) error {
		var name string
		if err := tx.QueryRow(ctx, `SELECT name FROM helpdesk_connections WHERE id = $1 FOR UPDATE`, id).Scan(&name); err != nil {
			return notFound(err)
		}
		if err := s.SetOAuthToken(ctx, tx, id, tok); err != nil {
			return err
		}
		return s.recordAudit(ctx, tx, who, audit{Action: "helpdesk.oauth_connect", TargetType: "helpdesk", TargetID: id,
			TargetName: name, Detail: map[string]any{"refresh_token": tok.RefreshToken != ""}})
	})
}
