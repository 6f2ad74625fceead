package store

import (
	"context"
	"errors"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/relaydesk/relaydesk/internal/apiauth"
)

// Token errors. The token endpoint answers each with invalid_grant.
var (
	// ErrGrantInvalid: the code or refresh token is unknown, expired,
	// revoked or was issued to another client.
	ErrGrantInvalid = errors.New("the grant is invalid, expired or revoked")
	// ErrCodeReused: an authorization code was presented a second time; the
	// tokens issued from its first use are revoked.
	ErrCodeReused = errors.New("the authorization code was already used; the tokens issued from it are revoked")
	// ErrRefreshReused: a rotated refresh token was presented again; its
	// whole family is revoked.
	ErrRefreshReused = errors.New("the refresh token was already used; every token of this grant is revoked")
	// ErrScopeExceeds: a refresh asked for more than the grant holds.
	ErrScopeExceeds = errors.New("the requested scope exceeds the scope granted")
)

// IssuedTokens is a token response's content.
type IssuedTokens struct {
	AccessToken  string
	RefreshToken string // "" when none is issued (client credentials)
	ExpiresIn    time.Duration
	Scopes       []string
	GrantID      int64
}

// NewAuthCode is an approved authorization request.
type NewAuthCode struct {
	ClientID      int64 // api_clients.id
	AdminID       int64
	RedirectURI   string
	RedirectGiven bool
	Scopes        []string
	Challenge     string // S256 code_challenge
}

// AuthCode is a stored authorization code, as the token endpoint checks it.
type AuthCode struct {
	ClientID      int64
	AdminID       int64
	RedirectURI   string
	RedirectGiven bool
	Scopes        []string
	Challenge     string
	ExpiresAt     time.Time
}

// CreateAuthCode stores an approved request and returns its single-use code,
// valid for apiauth.CodeLifetime.
func (s *Store) CreateAuthCode(ctx context.Context, n NewAuthCode) (string, error) {
	code, hash := apiauth.NewSecret(apiauth.PrefixCode)
	_, err := s.pool.Exec(ctx, `
		WITH gone AS (DELETE FROM api_auth_codes WHERE expires_at < now() - interval '1 day')
		INSERT INTO api_auth_codes (code_hash, client_id, admin_id, redirect_uri, redirect_given, scopes, code_challenge, expires_at)
		VALUES ($1, $2, $3, $4, $5, $6, $7, now() + $8::interval)`,
		hash, n.ClientID, n.AdminID, n.RedirectURI, n.RedirectGiven, n.Scopes, n.Challenge, apiauth.CodeLifetime)
	return code, err
}

// ExchangeAuthCode redeems an authorization code for tokens: check is given
// the stored code (client, redirect URI, PKCE) and its error is returned as
// is. A code is redeemed once: a second use returns ErrCodeReused and
// revokes every token issued from the first (RFC 6749 §4.1.2). An unknown or
// expired code is ErrGrantInvalid.
func (s *Store) ExchangeAuthCode(ctx context.Context, code string, check func(AuthCode) error) (IssuedTokens, error) {
	var out IssuedTokens
	var reused bool
	err := s.InTx(ctx, func(tx pgx.Tx) error {
		var c AuthCode
		var grantID *int64
		var used *time.Time
		err := tx.QueryRow(ctx, `SELECT client_id, admin_id, redirect_uri, redirect_given, scopes, code_challenge, expires_at,
				grant_id, used_at
			FROM api_auth_codes WHERE code_hash = $1 FOR UPDATE`, apiauth.Hash(code)).
			Scan(&c.ClientID, &c.AdminID, &c.RedirectURI, &c.RedirectGiven, &c.Scopes, &c.Challenge, &c.ExpiresAt, &grantID, &used)
		if isNoRows(err) {
			return ErrGrantInvalid
		}
		if err != nil {
			return err
		}
		if used != nil {
			reused = true
			if grantID != nil {
				return s.revokeGrant(ctx, tx, *grantID, "authorization code used twice")
			}
			return nil
		}
		if !c.ExpiresAt.After(time.Now()) {
			return ErrGrantInvalid
		}
		if err := check(c); err != nil {
			return err
		}
		var gid int64
		if err := tx.QueryRow(ctx, `INSERT INTO api_grants (client_id, admin_id, grant_type, scopes)
			VALUES ($1, $2, $3, $4) RETURNING id`, c.ClientID, c.AdminID, apiauth.GrantAuthorizationCode, c.Scopes).Scan(&gid); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `UPDATE api_auth_codes SET used_at = now(), grant_id = $2 WHERE code_hash = $1`,
			apiauth.Hash(code), gid); err != nil {
			return err
		}
		out, err = issueTokens(ctx, tx, gid, c.Scopes, c.Scopes, true)
		return err
	})
	if err == nil && reused {
		return IssuedTokens{}, ErrCodeReused
	}
	return out, err
}

// issueTokens stores a new access token (and refresh token) of a grant.
func issueTokens(ctx context.Context, tx pgx.Tx, grantID int64, accessScopes, refreshScopes []string, refresh bool) (IssuedTokens, error) {
	out := IssuedTokens{ExpiresIn: apiauth.AccessTokenLifetime, Scopes: accessScopes, GrantID: grantID}
	var accessHash, refreshHash []byte
	out.AccessToken, accessHash = apiauth.NewSecret(apiauth.PrefixAccessToken)
	b := &pgx.Batch{}
	b.Queue(`INSERT INTO api_tokens (token_hash, grant_id, kind, scopes, expires_at) VALUES ($1, $2, 'access', $3, now() + $4::interval)`,
		accessHash, grantID, accessScopes, apiauth.AccessTokenLifetime)
	if refresh {
		out.RefreshToken, refreshHash = apiauth.NewSecret(apiauth.PrefixRefreshToken)
		b.Queue(`INSERT INTO api_tokens (token_hash, grant_id, kind, scopes, expires_at) VALUES ($1, $2, 'refresh', $3, now() + $4::interval)`,
			refreshHash, grantID, refreshScopes, apiauth.RefreshTokenLifetime)
	}
	b.Queue(`UPDATE api_grants SET last_used_at = now() WHERE id = $1`, grantID)
	return out, tx.SendBatch(ctx, b).Close()
}

// IssueClientCredentials issues an access token (no refresh token, RFC 6749
// §4.4.3) to an application for scopes. The application's tokens share one
// client-credentials grant, so revoking it in the admin page revokes them
// all; the next request then starts a new grant.
func (s *Store) IssueClientCredentials(ctx context.Context, client APIClient, scopes []string) (IssuedTokens, error) {
	var out IssuedTokens
	err := s.InTx(ctx, func(tx pgx.Tx) error {
		// Serialise token requests of one client so they share one grant.
		if _, err := tx.Exec(ctx, `SELECT 1 FROM api_clients WHERE id = $1 FOR UPDATE`, client.ID); err != nil {
			return err
		}
		var gid int64
		err := tx.QueryRow(ctx, `SELECT id FROM api_grants WHERE client_id = $1 AND grant_type = $2 AND revoked_at IS NULL
			ORDER BY id DESC LIMIT 1`, client.ID, apiauth.GrantClientCredentials).Scan(&gid)
		if isNoRows(err) {
			err = tx.QueryRow(ctx, `INSERT INTO api_grants (client_id, grant_type, scopes) VALUES ($1, $2, $3) RETURNING id`,
				client.ID, apiauth.GrantClientCredentials, client.Scopes).Scan(&gid)
		}
		if err != nil {
			return err
		}
		out, err = issueTokens(ctx, tx, gid, scopes, nil, false)
		return err
	})
	return out, err
}

// RefreshTokens rotates a refresh token: the presented one is spent, and a
// new access token (for scopes, or the refresh token's own scope when nil)
// and a new refresh token are issued in the same grant. A spent refresh
// token presented again revokes the grant (ErrRefreshReused).
func (s *Store) RefreshTokens(ctx context.Context, refreshToken string, clientID int64, scopes []string) (IssuedTokens, error) {
	var out IssuedTokens
	var reused bool
	err := s.InTx(ctx, func(tx pgx.Tx) error {
		var grantID, owner int64
		var have []string
		var expires time.Time
		var used, revoked, grantRevoked *time.Time
		err := tx.QueryRow(ctx, `SELECT t.grant_id, g.client_id, t.scopes, t.expires_at, t.used_at, t.revoked_at, g.revoked_at
			FROM api_tokens t JOIN api_grants g ON g.id = t.grant_id
			WHERE t.token_hash = $1 AND t.kind = 'refresh' FOR UPDATE OF t, g`, apiauth.Hash(refreshToken)).
			Scan(&grantID, &owner, &have, &expires, &used, &revoked, &grantRevoked)
		switch {
		case isNoRows(err):
			return ErrGrantInvalid
		case err != nil:
			return err
		case owner != clientID, revoked != nil, grantRevoked != nil, !expires.After(time.Now()):
			return ErrGrantInvalid
		case used != nil:
			reused = true
			return s.revokeGrant(ctx, tx, grantID, "refresh token reused")
		}
		if scopes == nil {
			scopes = have
		}
		if !apiauth.Subset(scopes, have) {
			return ErrScopeExceeds
		}
		if _, err := tx.Exec(ctx, `UPDATE api_tokens SET used_at = now() WHERE token_hash = $1`, apiauth.Hash(refreshToken)); err != nil {
			return err
		}
		out, err = issueTokens(ctx, tx, grantID, scopes, have, true)
		return err
	})
	if err == nil && reused {
		return IssuedTokens{}, ErrRefreshReused
	}
	return out, err
}

func (s *Store) revokeGrant(ctx context.Context, db DBTX, grantID int64, why string) error {
	b := &pgx.Batch{}
	b.Queue(`UPDATE api_grants SET revoked_at = coalesce(revoked_at, now()),
		revoked_why = CASE WHEN revoked_at IS NULL THEN $2 ELSE revoked_why END WHERE id = $1`, grantID, why)
	b.Queue(`UPDATE api_tokens SET revoked_at = now() WHERE grant_id = $1 AND revoked_at IS NULL`, grantID)
	return db.SendBatch(ctx, b).Close()
}

// APIAccess is what an access token grants.
type APIAccess struct {
	Client    APIClient
	GrantID   int64
	Scopes    []string
	ExpiresAt time.Time
}

// AccessByToken returns what a live access token grants: not expired, not
// revoked, its grant not revoked and its application enabled. Anything else
// is ErrNotFound, so a revocation takes effect on the next request.
func (s *Store) AccessByToken(ctx context.Context, token string) (APIAccess, error) {
	var a APIAccess
	var clientID int64
	err := s.pool.QueryRow(ctx, `SELECT t.grant_id, t.scopes, t.expires_at, g.client_id
		FROM api_tokens t JOIN api_grants g ON g.id = t.grant_id
		WHERE t.token_hash = $1 AND t.kind = 'access' AND t.revoked_at IS NULL AND g.revoked_at IS NULL
			AND t.expires_at > now()`, apiauth.Hash(token)).Scan(&a.GrantID, &a.Scopes, &a.ExpiresAt, &clientID)
	if err != nil {
		return a, notFound(err)
	}
	if a.Client, err = s.APIClientByID(ctx, clientID); err != nil {
		return a, err
	}
	if !a.Client.Enabled {
		return a, ErrNotFound
	}
	return a, nil
}

// TokenInfo describes a token for introspection (RFC 7662 §2.2).
type TokenInfo struct {
	Active     bool
	Kind       string // "access_token" or "refresh_token"
	Scopes     []string
	ClientID   string // public client_id
	ClientRow  int64
	AdminEmail string
	GrantID    int64
	IssuedAt   time.Time
	ExpiresAt  time.Time
}

// IntrospectToken looks a token up. An unknown token is ErrNotFound; a
// known one reports whether it is active.
func (s *Store) IntrospectToken(ctx context.Context, token string) (TokenInfo, error) {
	var ti TokenInfo
	var kind string
	var used, revoked, grantRevoked *time.Time
	var enabled bool
	var email *string
	err := s.pool.QueryRow(ctx, `SELECT t.kind, t.scopes, c.client_id, c.id, u.email, g.id, t.created_at, t.expires_at,
			t.used_at, t.revoked_at, g.revoked_at, c.enabled
		FROM api_tokens t JOIN api_grants g ON g.id = t.grant_id JOIN api_clients c ON c.id = g.client_id
		LEFT JOIN admin_users u ON u.id = g.admin_id
		WHERE t.token_hash = $1`, apiauth.Hash(token)).
		Scan(&kind, &ti.Scopes, &ti.ClientID, &ti.ClientRow, &email, &ti.GrantID, &ti.IssuedAt, &ti.ExpiresAt,
			&used, &revoked, &grantRevoked, &enabled)
	if err != nil {
		return ti, notFound(err)
	}
	ti.Kind = kind + "_token"
	if email != nil {
		ti.AdminEmail = *email
	}
	ti.Active = used == nil && revoked == nil && grantRevoked == nil && enabled && ti.ExpiresAt.After(time.Now())
	return ti, nil
}

// RevokeToken revokes a token presented by the client it was issued to
// (RFC 7009). A refresh token takes its whole grant with it; an access token
// only itself. It reports whether the token was found and whether it
// belongs to another client (then nothing is revoked).
func (s *Store) RevokeToken(ctx context.Context, token string, clientID int64) (found, otherClient bool, err error) {
	err = s.InTx(ctx, func(tx pgx.Tx) error {
		var kind string
		var grantID, owner int64
		err := tx.QueryRow(ctx, `SELECT t.kind, t.grant_id, g.client_id FROM api_tokens t JOIN api_grants g ON g.id = t.grant_id
			WHERE t.token_hash = $1 FOR UPDATE OF t`, apiauth.Hash(token)).Scan(&kind, &grantID, &owner)
		if isNoRows(err) {
			return nil
		}
		if err != nil {
			return err
		}
		found = true
		if owner != clientID {
			otherClient = true
			return nil
		}
		if kind == "refresh" {
			return s.revokeGrant(ctx, tx, grantID, "revoked by the application")
		}
		_, err = tx.Exec(ctx, `UPDATE api_tokens SET revoked_at = coalesce(revoked_at, now()) WHERE token_hash = $1`, apiauth.Hash(token))
		return err
	})
	return found, otherClient, err
}

// APIGrant is a grant as the admin page lists it.
type APIGrant struct {
	ID           int64
	GrantType    string
	Scopes       []string
	AdminEmail   string
	CreatedAt    time.Time
	LastUsedAt   *time.Time
	RevokedAt    *time.Time
	RevokedWhy   string
	ActiveTokens int
}

// APIGrants lists an application's grants, live ones first.
func (s *Store) APIGrants(ctx context.Context, clientID int64) ([]APIGrant, error) {
	rows, err := s.pool.Query(ctx, `SELECT g.id, g.grant_type, g.scopes, coalesce(u.email, ''), g.created_at, g.last_used_at,
			g.revoked_at, g.revoked_why,
			(SELECT count(*) FROM api_tokens t WHERE t.grant_id = g.id AND t.revoked_at IS NULL AND t.used_at IS NULL
				AND t.expires_at > now())
		FROM api_grants g LEFT JOIN admin_users u ON u.id = g.admin_id
		WHERE g.client_id = $1 AND (g.revoked_at IS NULL OR g.revoked_at > now() - interval '30 days')
		ORDER BY g.revoked_at IS NOT NULL, g.id DESC LIMIT 200`, clientID)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []APIGrant
	for rows.Next() {
		var g APIGrant
		if err := rows.Scan(&g.ID, &g.GrantType, &g.Scopes, &g.AdminEmail, &g.CreatedAt, &g.LastUsedAt, &g.RevokedAt,
			&g.RevokedWhy, &g.ActiveTokens); err != nil {
			return nil, err
		}
		out = append(out, g)
	}
	return out, rows.Err()
}

// RevokeAPIGrant revokes a grant and every token of it (the admin page).
func (s *Store) RevokeAPIGrant(ctx context.Context, clientID, grantID int64, who Actor) error {
	return s.InTx(ctx, func(tx pgx.Tx) error {
		var name string
		err := tx.QueryRow(ctx, `SELECT c.name FROM api_grants g JOIN api_clients c ON c.id = g.client_id
			WHERE g.id = $1 AND g.client_id = $2`, grantID, clientID).Scan(&name)
		if err != nil {
			return notFound(err)
		}
		if err := s.revokeGrant(ctx, tx, grantID, "revoked by "+who.Name); err != nil {
			return err
		}
		return s.recordAudit(ctx, tx, who, audit{Action: "api_grant.revoke", TargetType: "api_client", TargetID: clientID,
			TargetName: name, Detail: map[string]any{"grant": grantID}})
	})
}

// RevokeAllAPIGrants revokes every grant of an application.
func (s *Store) RevokeAllAPIGrants(ctx context.Context, clientID int64, who Actor) error {
	return s.InTx(ctx, func(tx pgx.Tx) error {
		var name string
		if err := tx.QueryRow(ctx, `SELECT name FROM api_clients WHERE id = $1`, clientID).Scan(&name); err != nil {
			return notFound(err)
		}
		rows, err := tx.Query(ctx, `SELECT id FROM api_grants WHERE client_id = $1 AND revoked_at IS NULL`, clientID)
		if err != nil {
			return err
		}
		ids, err := pgx.CollectRows(rows, pgx.RowTo[int64])
		if err != nil {
			return err
		}
		for _, id := range ids {
			if err := s.revokeGrant(ctx, tx, id, "revoked by "+who.Name); err != nil {
				return err
			}
		}
		return s.recordAudit(ctx, tx, who, audit{Action: "api_grant.revoke_all", TargetType: "api_client", TargetID: clientID,
			TargetName: name, Detail: map[string]any{"grants": len(ids)}})
	})
}

// CleanupAPI deletes what has expired: codes and tokens a day after their
// expiry, idempotency records after 24 hours, events and deliveries after
// 30 days. It returns how many rows went.
func (s *Store) CleanupAPI(ctx context.Context) (int64, error) {
	var n int64
	for _, q := range []string{
		`DELETE FROM api_auth_codes WHERE expires_at < now() - interval '1 day'`,
		`DELETE FROM api_tokens WHERE expires_at < now() - interval '1 day'`,
		`DELETE FROM api_idempotency WHERE created_at < now() - interval '24 hours'`,
		`DELETE FROM api_events WHERE created_at < now() - interval '30 days'`,
	} {
		tag, err := s.pool.Exec(ctx, q)
		if err != nil {
			return n, err
		}
		n += tag.RowsAffected()
	}
	return n, nil
}
