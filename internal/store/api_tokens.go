package store

import (
	"context"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/relaydesk/relaydesk/internal/apiauth"
)

// Token errors. The token endpoint answers each with invalid_grant.
var (
	// ErrGrantInvalid: the code or refresh token is unknown, expired,
	// revoked or was issued to another client.
	ErrGrantInvalid = refusal("the grant is invalid, expired or revoked")
	// ErrCodeReused: an authorization code was presented a second time; the
	// tokens issued from its first use are revoked.
	ErrCodeReused = refusal("the authorization code was already used; the tokens issued from it are revoked")
	// ErrRefreshReused: a rotated refresh token was presented again; its
	// whole family is revoked.
	ErrRefreshReused = refusal("the refresh token was already used; every token of this grant is revoked")
	// ErrScopeExceeds: a refresh asked for more than the grant holds.
	ErrScopeExceeds = refusal("the requested scope exceeds the scope granted")
)

// IssuedTokens is a token response's content.
type IssuedTokens struct {
	AccessToken  string
	RefreshToken string // "" when none is issued (client credentials)
	ExpiresIn    time.Duration
	Scopes       []string
	GrantID      GrantID
}

// NewAuthCode is an approved authorization request.
type NewAuthCode struct {
	ClientID      ClientID
	AdminID       AdminID
	RedirectURI   string
	RedirectGiven bool
	Scopes        []string
	Challenge     string // S256 code_challenge
}

// AuthCode is a stored authorization code, as the token endpoint checks it.
type AuthCode struct {
	ClientID      ClientID
	AdminID       AdminID
	RedirectURI   string
	RedirectGiven bool
	Scopes        []string
	Challenge     string
	ExpiresAt     time.Time
}

// CreateAuthCode stores an approved request and returns its single-use code,
// valid for apiauth.CodeLifetime.
func (q *Queries) CreateAuthCode(ctx context.Context, n NewAuthCode) (string, error) {
	code, hash := apiauth.NewSecret(apiauth.PrefixCode)
	_, err := q.db.Exec(ctx, `
		WITH gone AS (DELETE FROM api_auth_codes WHERE expires_at < now() - interval '1 day')
		INSERT INTO api_auth_codes (code_hash, client_id, admin_id, redirect_uri, redirect_given, scopes, code_challenge, expires_at)
		VALUES ($1, $2, $3, $4, $5, $6, $7, now() + $8::interval)`,
		hash, n.ClientID, n.AdminID, n.RedirectURI, n.RedirectGiven, n.Scopes, n.Challenge, apiauth.CodeLifetime)
	return code, wrap(err, "create auth code for api client %d", n.ClientID)
}

// ExchangeAuthCode redeems an authorization code for tokens: check is given
// the stored code (client, redirect URI, PKCE) and its error is returned as
// is. A code is redeemed once: a second use returns ErrCodeReused and
// revokes every token issued from the first (RFC 6749 §4.1.2). An unknown or
// expired code is ErrGrantInvalid.
func (q *Queries) ExchangeAuthCode(ctx context.Context, code string, check func(AuthCode) error) (IssuedTokens, error) {
	var out IssuedTokens
	var reused bool
	err := q.inTx(ctx, func(tx *Queries) error {
		var c AuthCode
		var grantID *GrantID
		var used *time.Time
		err := tx.db.QueryRow(ctx, `SELECT client_id, admin_id, redirect_uri, redirect_given, scopes, code_challenge, expires_at,
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
				return tx.revokeGrant(ctx, *grantID, "authorization code used twice")
			}
			return nil
		}
		if !c.ExpiresAt.After(time.Now()) {
			return ErrGrantInvalid
		}
		if err := check(c); err != nil {
			return err
		}
		var gid GrantID
		if err := tx.db.QueryRow(ctx, `INSERT INTO api_grants (client_id, admin_id, grant_type, scopes)
			VALUES ($1, $2, $3, $4) RETURNING id`, c.ClientID, c.AdminID, apiauth.GrantAuthorizationCode, c.Scopes).Scan(&gid); err != nil {
			return err
		}
		if _, err := tx.db.Exec(ctx, `UPDATE api_auth_codes SET used_at = now(), grant_id = $2 WHERE code_hash = $1`,
			apiauth.Hash(code), gid); err != nil {
			return err
		}
		out, err = tx.issueTokens(ctx, gid, c.Scopes, c.Scopes, true)
		return err
	})
	if err == nil && reused {
		return IssuedTokens{}, ErrCodeReused
	}
	return out, wrap(err, "exchange auth code")
}

// issueTokens stores a new access token (and refresh token) of a grant.
func (q *Queries) issueTokens(ctx context.Context, grantID GrantID, accessScopes, refreshScopes []string, refresh bool) (IssuedTokens, error) {
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
	return out, q.db.SendBatch(ctx, b).Close()
}

// IssueClientCredentials issues an access token (no refresh token, RFC 6749
// §4.4.3) to an application for scopes. The application's tokens share one
// client-credentials grant, so revoking it in the admin page revokes them
// all; the next request then starts a new grant.
func (q *Queries) IssueClientCredentials(ctx context.Context, client APIClient, scopes []string) (IssuedTokens, error) {
	var out IssuedTokens
	err := q.inTx(ctx, func(tx *Queries) error {
		// Serialise token requests of one client so they share one grant.
		if _, err := tx.db.Exec(ctx, `SELECT 1 FROM api_clients WHERE id = $1 FOR UPDATE`, client.ID); err != nil {
			return err
		}
		var gid GrantID
		err := tx.db.QueryRow(ctx, `SELECT id FROM api_grants WHERE client_id = $1 AND grant_type = $2 AND revoked_at IS NULL
			ORDER BY id DESC LIMIT 1`, client.ID, apiauth.GrantClientCredentials).Scan(&gid)
		if isNoRows(err) {
			err = tx.db.QueryRow(ctx, `INSERT INTO api_grants (client_id, grant_type, scopes) VALUES ($1, $2, $3) RETURNING id`,
				client.ID, apiauth.GrantClientCredentials, client.Scopes).Scan(&gid)
		}
		if err != nil {
			return err
		}
		out, err = tx.issueTokens(ctx, gid, scopes, nil, false)
		return err
	})
	return out, wrap(err, "issue client credentials to api client %d", client.ID)
}

// RefreshTokens rotates a refresh token: the presented one is spent, and a
// new access token (for scopes, or the refresh token's own scope when nil)
// and a new refresh token are issued in the same grant. A spent refresh
// token presented again revokes the grant (ErrRefreshReused).
func (q *Queries) RefreshTokens(ctx context.Context, refreshToken string, clientID ClientID, scopes []string) (IssuedTokens, error) {
	var out IssuedTokens
	var reused bool
	err := q.inTx(ctx, func(tx *Queries) error {
		var grantID GrantID
		var owner ClientID
		var have []string
		var expires time.Time
		var used, revoked, grantRevoked *time.Time
		err := tx.db.QueryRow(ctx, `SELECT t.grant_id, g.client_id, t.scopes, t.expires_at, t.used_at, t.revoked_at, g.revoked_at
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
			return tx.revokeGrant(ctx, grantID, "refresh token reused")
		}
		if scopes == nil {
			scopes = have
		}
		if !apiauth.Subset(scopes, have) {
			return ErrScopeExceeds
		}
		if _, err := tx.db.Exec(ctx, `UPDATE api_tokens SET used_at = now() WHERE token_hash = $1`, apiauth.Hash(refreshToken)); err != nil {
			return err
		}
		out, err = tx.issueTokens(ctx, grantID, scopes, have, true)
		return err
	})
	if err == nil && reused {
		return IssuedTokens{}, ErrRefreshReused
	}
	return out, wrap(err, "refresh tokens")
}

func (q *Queries) revokeGrant(ctx context.Context, grantID GrantID, why string) error {
	b := &pgx.Batch{}
	b.Queue(`UPDATE api_grants SET revoked_at = coalesce(revoked_at, now()),
		revoked_why = CASE WHEN revoked_at IS NULL THEN $2 ELSE revoked_why END WHERE id = $1`, grantID, why)
	b.Queue(`UPDATE api_tokens SET revoked_at = now() WHERE grant_id = $1 AND revoked_at IS NULL`, grantID)
	return q.db.SendBatch(ctx, b).Close()
}

// APIAccess is what an access token grants.
type APIAccess struct {
	Client    APIClient
	GrantID   GrantID
	Scopes    []string
	ExpiresAt time.Time
}

// AccessByToken returns what a live access token grants: not expired, not
// revoked, its grant not revoked and its application enabled. Anything else
// is ErrNotFound, so a revocation takes effect on the next request.
func (q *Queries) AccessByToken(ctx context.Context, token string) (APIAccess, error) {
	var a APIAccess
	var clientID ClientID
	err := q.db.QueryRow(ctx, `SELECT t.grant_id, t.scopes, t.expires_at, g.client_id
		FROM api_tokens t JOIN api_grants g ON g.id = t.grant_id
		WHERE t.token_hash = $1 AND t.kind = 'access' AND t.revoked_at IS NULL AND g.revoked_at IS NULL
			AND t.expires_at > now()`, apiauth.Hash(token)).Scan(&a.GrantID, &a.Scopes, &a.ExpiresAt, &clientID)
	if err == nil {
		a.Client, err = q.APIClientByID(ctx, clientID)
	}
	if err == nil && !a.Client.Enabled {
		err = ErrNotFound
	}
	return a, wrap(err, "access by token")
}

// TokenInfo describes a token for introspection (RFC 7662 §2.2).
type TokenInfo struct {
	Active     bool
	Kind       string // "access_token" or "refresh_token"
	Scopes     []string
	ClientID   string // public client_id
	ClientRow  ClientID
	AdminEmail string
	GrantID    GrantID
	IssuedAt   time.Time
	ExpiresAt  time.Time
}

// IntrospectToken looks a token up. An unknown token is ErrNotFound; a
// known one reports whether it is active.
func (q *Queries) IntrospectToken(ctx context.Context, token string) (TokenInfo, error) {
	var ti TokenInfo
	var kind string
	var used, revoked, grantRevoked *time.Time
	var enabled bool
	var email *string
	err := q.db.QueryRow(ctx, `SELECT t.kind, t.scopes, c.client_id, c.id, u.email, g.id, t.created_at, t.expires_at,
			t.used_at, t.revoked_at, g.revoked_at, c.enabled
		FROM api_tokens t JOIN api_grants g ON g.id = t.grant_id JOIN api_clients c ON c.id = g.client_id
		LEFT JOIN admin_users u ON u.id = g.admin_id
		WHERE t.token_hash = $1`, apiauth.Hash(token)).
		Scan(&kind, &ti.Scopes, &ti.ClientID, &ti.ClientRow, &email, &ti.GrantID, &ti.IssuedAt, &ti.ExpiresAt,
			&used, &revoked, &grantRevoked, &enabled)
	if err != nil {
		return ti, wrap(err, "introspect token")
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
func (q *Queries) RevokeToken(ctx context.Context, token string, clientID ClientID) (found, otherClient bool, err error) {
	err = q.inTx(ctx, func(tx *Queries) error {
		var kind string
		var grantID GrantID
		var owner ClientID
		err := tx.db.QueryRow(ctx, `SELECT t.kind, t.grant_id, g.client_id FROM api_tokens t JOIN api_grants g ON g.id = t.grant_id
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
			return tx.revokeGrant(ctx, grantID, "revoked by the application")
		}
		_, err = tx.db.Exec(ctx, `UPDATE api_tokens SET revoked_at = coalesce(revoked_at, now()) WHERE token_hash = $1`, apiauth.Hash(token))
		return err
	})
	return found, otherClient, wrap(err, "revoke token")
}

// APIGrant is a grant as the admin page lists it.
type APIGrant struct {
	ID           GrantID
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
func (q *Queries) APIGrants(ctx context.Context, clientID ClientID) ([]APIGrant, error) {
	out, err := list(ctx, q.db, func(r scanner) (APIGrant, error) {
		var g APIGrant
		return g, r.Scan(&g.ID, &g.GrantType, &g.Scopes, &g.AdminEmail, &g.CreatedAt, &g.LastUsedAt, &g.RevokedAt,
			&g.RevokedWhy, &g.ActiveTokens)
	}, `SELECT g.id, g.grant_type, g.scopes, coalesce(u.email, ''), g.created_at, g.last_used_at,
			g.revoked_at, g.revoked_why,
			(SELECT count(*) FROM api_tokens t WHERE t.grant_id = g.id AND t.revoked_at IS NULL AND t.used_at IS NULL
				AND t.expires_at > now())
		FROM api_grants g LEFT JOIN admin_users u ON u.id = g.admin_id
		WHERE g.client_id = $1 AND (g.revoked_at IS NULL OR g.revoked_at > now() - interval '30 days')
		ORDER BY g.revoked_at IS NOT NULL, g.id DESC LIMIT 200`, clientID)
	return out, wrap(err, "grants of api client %d", clientID)
}

// RevokeAPIGrant revokes a grant and every token of it (the admin page).
func (q *Queries) RevokeAPIGrant(ctx context.Context, clientID ClientID, grantID GrantID, who Actor) error {
	err := q.inTx(ctx, func(tx *Queries) error {
		var name string
		err := tx.db.QueryRow(ctx, `SELECT c.name FROM api_grants g JOIN api_clients c ON c.id = g.client_id
			WHERE g.id = $1 AND g.client_id = $2`, grantID, clientID).Scan(&name)
		if err != nil {
			return err
		}
		if err := tx.revokeGrant(ctx, grantID, "revoked by "+who.Name); err != nil {
			return err
		}
		return tx.recordAudit(ctx, who, audit{Action: "api_grant.revoke", TargetType: "api_client", TargetID: int64(clientID),
			TargetName: name, Detail: map[string]any{"grant": grantID}})
	})
	return wrap(err, "revoke grant %d of api client %d", grantID, clientID)
}

// RevokeAllAPIGrants revokes every grant of an application.
func (q *Queries) RevokeAllAPIGrants(ctx context.Context, clientID ClientID, who Actor) error {
	err := q.inTx(ctx, func(tx *Queries) error {
		var name string
		if err := tx.db.QueryRow(ctx, `SELECT name FROM api_clients WHERE id = $1`, clientID).Scan(&name); err != nil {
			return err
		}
		ids, err := column[GrantID](ctx, tx.db, `SELECT id FROM api_grants WHERE client_id = $1 AND revoked_at IS NULL`, clientID)
		if err != nil {
			return err
		}
		for _, id := range ids {
			if err := tx.revokeGrant(ctx, id, "revoked by "+who.Name); err != nil {
				return err
			}
		}
		return tx.recordAudit(ctx, who, audit{Action: "api_grant.revoke_all", TargetType: "api_client", TargetID: int64(clientID),
			TargetName: name, Detail: map[string]any{"grants": len(ids)}})
	})
	return wrap(err, "revoke every grant of api client %d", clientID)
}

// CleanupAPI deletes what has expired: codes and tokens a day after their
// expiry, idempotency records after 24 hours, events and deliveries after
// 30 days. It returns how many rows went.
func (q *Queries) CleanupAPI(ctx context.Context) (int64, error) {
	var n int64
	for _, sql := range []string{
		`DELETE FROM api_auth_codes WHERE expires_at < now() - interval '1 day'`,
		`DELETE FROM api_tokens WHERE expires_at < now() - interval '1 day'`,
		`DELETE FROM api_idempotency WHERE created_at < now() - interval '24 hours'`,
		`DELETE FROM api_events WHERE created_at < now() - interval '30 days'`,
	} {
		m, err := q.exec(ctx, sql)
		if err != nil {
			return n, wrap(err, "clean up api rows")
		}
		n += m
	}
	return n, nil
}
