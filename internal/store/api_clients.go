package store

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/relaydesk/relaydesk/internal/apiauth"
)

// APIClient is an application registered for the public API.
type APIClient struct {
	ID            ClientID
	ClientID      string // the public client_id
	Name          string
	RedirectURIs  []string
	Scopes        []string
	GrantTypes    []string
	AccountIDs    []AccountID // empty: every number
	CanIntrospect bool
	RateLimit     int // requests per minute
	Enabled       bool
	CreatedAt     time.Time

	secretHash []byte
}

// CheckSecret compares a presented client secret in constant time.
func (c APIClient) CheckSecret(secret string) bool {
	return apiauth.SecretMatches(secret, c.secretHash)
}

// AllowsGrant reports whether the application may use a grant type; the
// refresh_token grant comes with authorization_code.
func (c APIClient) AllowsGrant(g string) bool {
	if g == apiauth.GrantRefreshToken {
		g = apiauth.GrantAuthorizationCode
	}
	return slices.Contains(c.GrantTypes, g)
}

// AllowsAccount reports whether the application may reach a WhatsApp number.
func (c APIClient) AllowsAccount(accountID AccountID) bool {
	return len(c.AccountIDs) == 0 || slices.Contains(c.AccountIDs, accountID)
}

// NewAPIClient is what registering an application takes.
type NewAPIClient struct {
	Name          string
	RedirectURIs  []string
	Scopes        []string
	GrantTypes    []string
	AccountIDs    []AccountID
	CanIntrospect bool
	RateLimit     int
}

// ErrAPIClientExists: another application has this name.
var ErrAPIClientExists = refusal("an application with this name already exists")

// Validate reports every problem with a registration at once.
func (n NewAPIClient) Validate() error {
	var problems []string
	if strings.TrimSpace(n.Name) == "" || len(n.Name) > 100 {
		problems = append(problems, "give the application a name (at most 100 characters)")
	}
	if len(n.Scopes) == 0 {
		problems = append(problems, "allow at least one scope")
	}
	for _, s := range n.Scopes {
		if !apiauth.KnownScope(s) {
			problems = append(problems, fmt.Sprintf("unknown scope %q", s))
		}
	}
	if len(n.GrantTypes) == 0 {
		problems = append(problems, "allow at least one grant type")
	}
	for _, g := range n.GrantTypes {
		if !slices.Contains(apiauth.GrantTypes, g) {
			problems = append(problems, fmt.Sprintf("unknown grant type %q", g))
		}
	}
	if slices.Contains(n.GrantTypes, apiauth.GrantAuthorizationCode) && len(n.RedirectURIs) == 0 {
		problems = append(problems, "the authorization code grant needs at least one redirect URI")
	}
	for _, u := range n.RedirectURIs {
		if !apiauth.ValidRedirectURI(u) {
			problems = append(problems, fmt.Sprintf("redirect URI %q must be an absolute https URL without a fragment (http only on localhost)", u))
		}
	}
	if n.RateLimit < 1 || n.RateLimit > 100000 {
		problems = append(problems, "the rate limit must be between 1 and 100000 requests per minute")
	}
	if len(problems) > 0 {
		return &APIValidationError{Problems: problems}
	}
	return nil
}

// APIValidationError lists what is wrong with an input, for a form or a problem
// document.
type APIValidationError struct{ Problems []string }

func (e *APIValidationError) Error() string { return strings.Join(e.Problems, "; ") }

const apiClientColumns = `id, client_id, name, redirect_uris, scopes, grant_types, account_ids, can_introspect,
	rate_limit, enabled, created_at, secret_hash`

func scanAPIClient(row scanner) (APIClient, error) {
	var c APIClient
	err := row.Scan(&c.ID, &c.ClientID, &c.Name, &c.RedirectURIs, &c.Scopes, &c.GrantTypes, &c.AccountIDs,
		&c.CanIntrospect, &c.RateLimit, &c.Enabled, &c.CreatedAt, &c.secretHash)
	return c, err
}

// CreateAPIClient registers an application and returns it with its client
// secret, which is shown once: only its SHA-256 is kept.
func (q *Queries) CreateAPIClient(ctx context.Context, n NewAPIClient, who Actor) (APIClient, string, error) {
	if err := n.Validate(); err != nil {
		return APIClient{}, "", err
	}
	slices.Sort(n.Scopes)
	if n.AccountIDs == nil {
		n.AccountIDs = []AccountID{}
	}
	if n.RedirectURIs == nil {
		n.RedirectURIs = []string{}
	}
	secret, hash := apiauth.NewSecret(apiauth.PrefixClientSecret)
	var c APIClient
	err := q.inTx(ctx, func(tx *Queries) error {
		var err error
		c, err = scanAPIClient(tx.db.QueryRow(ctx, `INSERT INTO api_clients
			(client_id, name, secret_hash, redirect_uris, scopes, grant_types, account_ids, can_introspect, rate_limit, created_by)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) RETURNING `+apiClientColumns,
			apiauth.NewClientID(), strings.TrimSpace(n.Name), hash, n.RedirectURIs, n.Scopes, n.GrantTypes, n.AccountIDs,
			n.CanIntrospect, n.RateLimit, who.AdminID))
		if isUniqueViolation(err) {
			return ErrAPIClientExists
		}
		if err != nil {
			return err
		}
		return tx.recordAudit(ctx, who, audit{Action: "api_client.create", TargetType: "api_client", TargetID: int64(c.ID),
			TargetName: c.Name, Detail: map[string]any{"scopes": n.Scopes, "grant_types": n.GrantTypes,
				"redirect_uris": n.RedirectURIs, "account_ids": n.AccountIDs, "can_introspect": n.CanIntrospect}})
	})
	return c, secret, wrap(err, "create api client %q", n.Name)
}

// APIClientByClientID finds an application by its public client_id.
func (q *Queries) APIClientByClientID(ctx context.Context, clientID string) (APIClient, error) {
	c, err := scanAPIClient(q.db.QueryRow(ctx, `SELECT `+apiClientColumns+` FROM api_clients WHERE client_id = $1`, clientID))
	return c, wrap(err, "api client %s", clientID)
}

// APIClientByID finds an application by its row id.
func (q *Queries) APIClientByID(ctx context.Context, id ClientID) (APIClient, error) {
	c, err := scanAPIClient(q.db.QueryRow(ctx, `SELECT `+apiClientColumns+` FROM api_clients WHERE id = $1`, id))
	return c, wrap(err, "api client %d", id)
}

// APIClients lists every application by name.
func (q *Queries) APIClients(ctx context.Context) ([]APIClient, error) {
	out, err := list(ctx, q.db, scanAPIClient, `SELECT `+apiClientColumns+` FROM api_clients ORDER BY name`)
	return out, wrap(err, "list api clients")
}

// SetAPIClientEnabled turns an application on or off; a disabled
// application's tokens stop working at once and it can get no new ones.
func (q *Queries) SetAPIClientEnabled(ctx context.Context, id ClientID, enabled bool, who Actor) error {
	err := q.inTx(ctx, func(tx *Queries) error {
		var name string
		err := tx.db.QueryRow(ctx, `UPDATE api_clients SET enabled = $2, updated_at = now() WHERE id = $1 RETURNING name`,
			id, enabled).Scan(&name)
		if err != nil {
			return err
		}
		return tx.recordAudit(ctx, who, audit{Action: "api_client." + enableVerb(enabled), TargetType: "api_client",
			TargetID: int64(id), TargetName: name})
	})
	return wrap(err, "set api client %d enabled", id)
}

// RotateAPIClientSecret replaces an application's secret and returns the new
// one (shown once). Tokens already issued keep working until revoked.
func (q *Queries) RotateAPIClientSecret(ctx context.Context, id ClientID, who Actor) (string, error) {
	secret, hash := apiauth.NewSecret(apiauth.PrefixClientSecret)
	err := q.inTx(ctx, func(tx *Queries) error {
		var name string
		err := tx.db.QueryRow(ctx, `UPDATE api_clients SET secret_hash = $2, updated_at = now() WHERE id = $1 RETURNING name`,
			id, hash).Scan(&name)
		if err != nil {
			return err
		}
		return tx.recordAudit(ctx, who, audit{Action: "api_client.rotate_secret", TargetType: "api_client", TargetID: int64(id),
			TargetName: name, Detail: map[string]any{"changed": []string{"client_secret"}}})
	})
	return secret, wrap(err, "rotate api client %d secret", id)
}

// DeleteAPIClient removes an application with its grants, tokens and
// subscriptions.
func (q *Queries) DeleteAPIClient(ctx context.Context, id ClientID, who Actor) error {
	err := q.inTx(ctx, func(tx *Queries) error {
		var name string
		if err := tx.db.QueryRow(ctx, `DELETE FROM api_clients WHERE id = $1 RETURNING name`, id).Scan(&name); err != nil {
			return err
		}
		return tx.recordAudit(ctx, who, audit{Action: "api_client.delete", TargetType: "api_client", TargetID: int64(id), TargetName: name})
	})
	return wrap(err, "delete api client %d", id)
}
