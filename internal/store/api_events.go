package store

import (
	"context"
	"encoding/json"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/relaydesk/relaydesk/internal/apiauth"
)

// purposeEventSecret binds sealed subscription secrets to their column.
const purposeEventSecret = "api_subscriptions.secret"

// Subscription is an application's event endpoint.
type Subscription struct {
	ID             int64
	ClientID       int64 // api_clients.id
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

const subscriptionColumns = `s.id, s.client_id, c.name, s.url, s.events, s.enabled, s.failing_since, s.last_success_at,
	s.last_failure_at, s.last_error, s.disabled_at, s.disabled_reason, s.created_at, s.secret`

func scanSubscription(row pgx.Row) (Subscription, error) {
	var s Subscription
	err := row.Scan(&s.ID, &s.ClientID, &s.ClientName, &s.URL, &s.Events, &s.Enabled, &s.FailingSince, &s.LastSuccessAt,
		&s.LastFailureAt, &s.LastError, &s.DisabledAt, &s.DisabledReason, &s.CreatedAt, &s.secret)
	return s, notFound(err)
}

// SubscriptionSecret opens a subscription's signing secret.
func (s *Store) SubscriptionSecret(sub Subscription) ([]byte, error) {
	return s.keys.Open(sub.secret, purposeEventSecret)
}

// CreateSubscription registers an endpoint for an application and returns
// it with its signing secret, shown once (kept sealed).
func (s *Store) CreateSubscription(ctx context.Context, clientID int64, url string, events []string) (Subscription, string, error) {
	secret, _ := apiauth.NewSecret(apiauth.PrefixEventSecret)
	var id int64
	err := s.pool.QueryRow(ctx, `INSERT INTO api_subscriptions (client_id, url, events, secret) VALUES ($1, $2, $3, $4) RETURNING id`,
		clientID, url, events, s.keys.SealString(secret, purposeEventSecret)).Scan(&id)
	if err != nil {
		return Subscription{}, "", err
	}
	sub, err := s.SubscriptionByID(ctx, id)
	return sub, secret, err
}

// SubscriptionByID loads a subscription.
func (s *Store) SubscriptionByID(ctx context.Context, id int64) (Subscription, error) {
	return scanSubscription(s.pool.QueryRow(ctx, `SELECT `+subscriptionColumns+`
		FROM api_subscriptions s JOIN api_clients c ON c.id = s.client_id WHERE s.id = $1`, id))
}

// Subscriptions lists subscriptions, of one application when clientID > 0.
func (s *Store) Subscriptions(ctx context.Context, clientID int64) ([]Subscription, error) {
	rows, err := s.pool.Query(ctx, `SELECT `+subscriptionColumns+`
		FROM api_subscriptions s JOIN api_clients c ON c.id = s.client_id
		WHERE $1 = 0 OR s.client_id = $1 ORDER BY s.id`, clientID)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := []Subscription{}
	for rows.Next() {
		sub, err := scanSubscription(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, sub)
	}
	return out, rows.Err()
}

// DeleteSubscription removes an application's subscription.
func (s *Store) DeleteSubscription(ctx context.Context, clientID, id int64) error {
	tag, err := s.pool.Exec(ctx, `DELETE FROM api_subscriptions WHERE id = $1 AND client_id = $2`, id, clientID)
	if err == nil && tag.RowsAffected() == 0 {
		return ErrNotFound
	}
	return err
}

// SetSubscriptionEnabled turns a subscription on (clearing its failure
// record) or off, from the admin page.
func (s *Store) SetSubscriptionEnabled(ctx context.Context, id int64, enabled bool, who Actor) error {
	return s.InTx(ctx, func(tx pgx.Tx) error {
		var url string
		err := tx.QueryRow(ctx, `UPDATE api_subscriptions SET enabled = $2,
				failing_since = CASE WHEN $2 THEN NULL ELSE failing_since END,
				disabled_at = CASE WHEN $2 THEN NULL ELSE now() END,
				disabled_reason = CASE WHEN $2 THEN '' ELSE 'disabled by ' || $3 END
			WHERE id = $1 RETURNING url`, id, enabled, who.Name).Scan(&url)
		if err != nil {
			return notFound(err)
		}
		action := "api_subscription.disable"
		if enabled {
			action = "api_subscription.enable"
		}
		return s.recordAudit(ctx, tx, who, audit{Action: action, TargetType: "api_subscription", TargetID: id, TargetName: url})
	})
}

// EventSubscribers returns the enabled subscriptions that want an event of
// typ about a number: one indexed query, which finds nothing at all when no
// application subscribed.
func (s *Store) EventSubscribers(ctx context.Context, db DBTX, typ string, accountID int64) ([]int64, error) {
	// Events flow while the app still holds a live grant allowing them: an
	// admin revoking the app's grants stops its event deliveries too.
	rows, err := db.Query(ctx, `SELECT s.id FROM api_subscriptions s JOIN api_clients c ON c.id = s.client_id
		WHERE s.enabled AND c.enabled AND $1 = ANY(s.events)
			AND (cardinality(c.account_ids) = 0 OR $2 = ANY(c.account_ids))
			AND EXISTS (SELECT 1 FROM api_grants g WHERE g.client_id = c.id AND g.revoked_at IS NULL
				AND 'webhooks:manage' = ANY(g.scopes))`, typ, accountID)
	if err != nil {
		return nil, err
	}
	return pgx.CollectRows(rows, pgx.RowTo[int64])
}

// Delivery is one event for one subscription.
type Delivery struct {
	ID             int64
	SubscriptionID int64
	EventID        int64
	EventType      string
	State          string
	Attempts       int
	LastStatus     *int
	LastError      string
	DeliveredAt    *time.Time
	CreatedAt      time.Time
}

// InsertEvent stores an event and one pending delivery per subscription,
// in the caller's transaction, and returns the deliveries' ids (the caller
// enqueues one job each). An event whose dedupe key was already stored (the
// same fact emitted twice) is dropped: no deliveries.
func (s *Store) InsertEvent(ctx context.Context, db DBTX, typ, dedupeKey string, accountID int64, payload json.RawMessage, subscriptions []int64) ([]int64, error) {
	var eventID int64
	err := db.QueryRow(ctx, `INSERT INTO api_events (type, account_id, payload, dedupe_key) VALUES ($1, $2, $3, $4)
		ON CONFLICT (dedupe_key) DO NOTHING RETURNING id`, typ, accountID, payload, dedupeKey).Scan(&eventID)
	if isNoRows(err) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	rows, err := db.Query(ctx, `INSERT INTO api_deliveries (subscription_id, event_id)
		SELECT unnest($1::bigint[]), $2 RETURNING id`, subscriptions, eventID)
	if err != nil {
		return nil, err
	}
	return pgx.CollectRows(rows, pgx.RowTo[int64])
}

// DeliveryWork is what a delivery job sends.
type DeliveryWork struct {
	Delivery     Delivery
	Subscription Subscription
	EventType    string
	EventAt      time.Time
	Payload      json.RawMessage
}

// DeliveryByID loads a delivery with its subscription and event.
func (s *Store) DeliveryByID(ctx context.Context, id int64) (DeliveryWork, error) {
	var w DeliveryWork
	var subID int64
	err := s.pool.QueryRow(ctx, `SELECT d.id, d.subscription_id, d.event_id, e.type, d.state, d.attempts, d.last_status,
			d.last_error, d.delivered_at, d.created_at, e.created_at, e.payload
		FROM api_deliveries d JOIN api_events e ON e.id = d.event_id WHERE d.id = $1`, id).
		Scan(&w.Delivery.ID, &subID, &w.Delivery.EventID, &w.EventType, &w.Delivery.State, &w.Delivery.Attempts,
			&w.Delivery.LastStatus, &w.Delivery.LastError, &w.Delivery.DeliveredAt, &w.Delivery.CreatedAt, &w.EventAt, &w.Payload)
	if err != nil {
		return w, notFound(err)
	}
	w.Delivery.SubscriptionID = subID
	w.Delivery.EventType = w.EventType
	w.Subscription, err = s.SubscriptionByID(ctx, subID)
	return w, err
}

// MarkDelivered records a successful delivery and clears the
// subscription's failure record.
func (s *Store) MarkDelivered(ctx context.Context, deliveryID, subscriptionID int64, status int) error {
	b := &pgx.Batch{}
	b.Queue(`UPDATE api_deliveries SET state = 'delivered', attempts = attempts + 1, last_status = $2, last_error = '',
		delivered_at = now(), updated_at = now() WHERE id = $1`, deliveryID, status)
	b.Queue(`UPDATE api_subscriptions SET failing_since = NULL, last_success_at = now(), last_error = '' WHERE id = $1`, subscriptionID)
	return s.pool.SendBatch(ctx, b).Close()
}

// DeliveryFailure is the outcome of a failed attempt.
type DeliveryFailure struct {
	// Disabled: the subscription had been failing for longer than the
	// limit and was disabled by this failure.
	Disabled bool
}

// MarkDeliveryFailed records a failed attempt (final when the job gives
// up). A subscription failing for longer than disableAfter is disabled, with
// the reason kept for the admin page and an audit entry, and its pending
// deliveries are cancelled.
func (s *Store) MarkDeliveryFailed(ctx context.Context, deliveryID, subscriptionID int64, status int, reason string, final bool, disableAfter time.Duration) (DeliveryFailure, error) {
	var out DeliveryFailure
	var st *int
	if status > 0 {
		st = &status
	}
	state := "pending"
	if final {
		state = "failed"
	}
	err := s.InTx(ctx, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `UPDATE api_deliveries SET state = $4, attempts = attempts + 1, last_status = $2,
			last_error = $3, updated_at = now() WHERE id = $1`, deliveryID, st, reason, state); err != nil {
			return err
		}
		var url, client string
		err := tx.QueryRow(ctx, `UPDATE api_subscriptions s SET failing_since = coalesce(s.failing_since, now()),
				last_failure_at = now(), last_error = $2,
				enabled = s.enabled AND coalesce(s.failing_since, now()) > now() - $3::interval,
				disabled_at = CASE WHEN s.enabled AND coalesce(s.failing_since, now()) <= now() - $3::interval THEN now() ELSE s.disabled_at END,
				disabled_reason = CASE WHEN s.enabled AND coalesce(s.failing_since, now()) <= now() - $3::interval
					THEN 'disabled automatically: every delivery failed since ' || to_char(s.failing_since, 'YYYY-MM-DD HH24:MI TZ') ||
						'; last error: ' || $2 ELSE s.disabled_reason END
			FROM api_clients c WHERE s.id = $1 AND c.id = s.client_id
			RETURNING s.url, c.name, s.enabled = false AND s.disabled_at = now()`, subscriptionID, reason, disableAfter).
			Scan(&url, &client, &out.Disabled)
		if isNoRows(err) {
			return nil // deleted meanwhile
		}
		if err != nil || !out.Disabled {
			return err
		}
		if _, err := tx.Exec(ctx, `UPDATE api_deliveries SET state = CASE WHEN id = $2 THEN 'failed' ELSE 'cancelled' END,
			updated_at = now() WHERE subscription_id = $1 AND state = 'pending'`, subscriptionID, deliveryID); err != nil {
			return err
		}
		return s.recordAudit(ctx, tx, Actor{Name: "relaydesk"}, audit{Action: "api_subscription.auto_disable",
			TargetType: "api_subscription", TargetID: subscriptionID, TargetName: url,
			Detail: map[string]any{"application": client, "last_error": reason}})
	})
	return out, err
}

// CancelDelivery marks a delivery that will not be attempted again (its
// subscription is disabled or gone).
func (s *Store) CancelDelivery(ctx context.Context, deliveryID int64, reason string) error {
	_, err := s.pool.Exec(ctx, `UPDATE api_deliveries SET state = 'cancelled', last_error = $2, updated_at = now()
		WHERE id = $1 AND state = 'pending'`, deliveryID, reason)
	return err
}

// RecentDeliveries lists a subscription's latest deliveries for the admin page.
func (s *Store) RecentDeliveries(ctx context.Context, subscriptionID int64, limit int) ([]Delivery, error) {
	rows, err := s.pool.Query(ctx, `SELECT d.id, d.subscription_id, d.event_id, e.type, d.state, d.attempts, d.last_status,
			d.last_error, d.delivered_at, d.created_at
		FROM api_deliveries d JOIN api_events e ON e.id = d.event_id
		WHERE d.subscription_id = $1 ORDER BY d.id DESC LIMIT $2`, subscriptionID, limit)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := []Delivery{}
	for rows.Next() {
		var d Delivery
		if err := rows.Scan(&d.ID, &d.SubscriptionID, &d.EventID, &d.EventType, &d.State, &d.Attempts, &d.LastStatus,
			&d.LastError, &d.DeliveredAt, &d.CreatedAt); err != nil {
			return nil, err
		}
		out = append(out, d)
	}
	return out, rows.Err()
}

// InboundInsertedInTx returns the ids of a conversation's customer messages
// inserted by the current transaction (their xmin is its id), in order: the
// new messages of a delivery, without its redeliveries.
func (s *Store) InboundInsertedInTx(ctx context.Context, db DBTX, conversationID int64) ([]int64, error) {
	rows, err := db.Query(ctx, `SELECT id FROM messages WHERE conversation_id = $1 AND direction = 'in'
		AND xmin = pg_current_xact_id()::xid ORDER BY seq`, conversationID)
	if err != nil {
		return nil, err
	}
	return pgx.CollectRows(rows, pgx.RowTo[int64])
}
