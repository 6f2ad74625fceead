package store

import (
	"context"
	"time"

	"github.com/relaydesk/relaydesk/internal/apiauth"
)

// purposeEventSecret binds sealed subscription secrets to their column.
const purposeEventSecret = "api_subscriptions.secret"

// Subscription is an application's event endpoint.
type Subscription struct {
	ID             SubscriptionID
	ClientID       ClientID
	ClientName     string
	URL            string
	Events         []string
	Enabled        bool
	FailingSince   *time.Time
	LastSuccessAt  *time.Time
	LastFailureAt  *time.Time
	LastError      string
	DisabledAt     *time.Time
	DisabledReason string
	CreatedAt      time.Time

	secret []byte
}

const subscriptionSelect = `SELECT s.id, s.client_id, c.name, s.url, s.events, s.enabled, s.failing_since, s.last_success_at,
	s.last_failure_at, s.last_error, s.disabled_at, s.disabled_reason, s.created_at, s.secret
	FROM api_subscriptions s JOIN api_clients c ON c.id = s.client_id`

func scanSubscription(row scanner) (Subscription, error) {
	var s Subscription
	err := row.Scan(&s.ID, &s.ClientID, &s.ClientName, &s.URL, &s.Events, &s.Enabled, &s.FailingSince, &s.LastSuccessAt,
		&s.LastFailureAt, &s.LastError, &s.DisabledAt, &s.DisabledReason, &s.CreatedAt, &s.secret)
	return s, err
}

// SubscriptionSecret opens a subscription's signing secret.
func (q *Queries) SubscriptionSecret(sub Subscription) ([]byte, error) {
	b, err := q.keys.Open(sub.secret, purposeEventSecret)
	return b, wrap(err, "open subscription %d secret", sub.ID)
}

// CreateSubscription registers an endpoint for an application and returns
// it with its signing secret, shown once (kept sealed).
func (q *Queries) CreateSubscription(ctx context.Context, clientID ClientID, url string, events []string) (Subscription, string, error) {
	secret, _ := apiauth.NewSecret(apiauth.PrefixEventSecret)
	var id SubscriptionID
	err := q.db.QueryRow(ctx, `INSERT INTO api_subscriptions (client_id, url, events, secret) VALUES ($1, $2, $3, $4) RETURNING id`,
		clientID, url, events, q.keys.SealString(secret, purposeEventSecret)).Scan(&id)
	if err != nil {
		return Subscription{}, "", wrap(err, "create subscription for api client %d", clientID)
	}
	sub, err := q.SubscriptionByID(ctx, id)
	return sub, secret, err
}

// SubscriptionByID loads a subscription.
func (q *Queries) SubscriptionByID(ctx context.Context, id SubscriptionID) (Subscription, error) {
	s, err := scanSubscription(q.db.QueryRow(ctx, subscriptionSelect+` WHERE s.id = $1`, id))
	return s, wrap(err, "subscription %d", id)
}

// Subscriptions lists subscriptions, of one application when clientID > 0.
func (q *Queries) Subscriptions(ctx context.Context, clientID ClientID) ([]Subscription, error) {
	out, err := list(ctx, q.db, scanSubscription, subscriptionSelect+` WHERE $1 = 0 OR s.client_id = $1 ORDER BY s.id`, clientID)
	return out, wrap(err, "list subscriptions")
}

// DeleteSubscription removes an application's subscription.
func (q *Queries) DeleteSubscription(ctx context.Context, clientID ClientID, id SubscriptionID) error {
	n, err := q.exec(ctx, `DELETE FROM api_subscriptions WHERE id = $1 AND client_id = $2`, id, clientID)
	if err == nil && n == 0 {
		err = ErrNotFound
	}
	return wrap(err, "delete subscription %d", id)
}

// SetSubscriptionEnabled turns a subscription on (clearing its failure
// record) or off, from the admin page.
func (q *Queries) SetSubscriptionEnabled(ctx context.Context, id SubscriptionID, enabled bool, who Actor) error {
	err := q.inTx(ctx, func(tx *Queries) error {
		var url string
		err := tx.db.QueryRow(ctx, `UPDATE api_subscriptions SET enabled = $2,
				failing_since = CASE WHEN $2 THEN NULL ELSE failing_since END,
				disabled_at = CASE WHEN $2 THEN NULL ELSE now() END,
				disabled_reason = CASE WHEN $2 THEN '' ELSE 'disabled by ' || $3 END
			WHERE id = $1 RETURNING url`, id, enabled, who.Name).Scan(&url)
		if err != nil {
			return err
		}
		return tx.recordAudit(ctx, who, audit{Action: "api_subscription." + enableVerb(enabled), TargetType: "api_subscription",
			TargetID: int64(id), TargetName: url})
	})
	return wrap(err, "set subscription %d enabled", id)
}

// EventSubscribers returns the enabled subscriptions that want an event of
// typ about a number: one indexed query, which finds nothing at all when no
// application subscribed.
func (q *Queries) EventSubscribers(ctx context.Context, typ string, accountID AccountID) ([]SubscriptionID, error) {
	// Events flow while the app still holds a live grant allowing them: an
	// admin revoking the app's grants stops its event deliveries too.
	out, err := column[SubscriptionID](ctx, q.db, `SELECT s.id FROM api_subscriptions s JOIN api_clients c ON c.id = s.client_id
		WHERE s.enabled AND c.enabled AND $1 = ANY(s.events)
			AND (cardinality(c.account_ids) = 0 OR $2 = ANY(c.account_ids))
			AND EXISTS (SELECT 1 FROM api_grants g WHERE g.client_id = c.id AND g.revoked_at IS NULL
				AND 'webhooks:manage' = ANY(g.scopes))`, typ, accountID)
	return out, wrap(err, "subscribers of %s events", typ)
}
