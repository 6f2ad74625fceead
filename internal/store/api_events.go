package store

import (
	"context"
	"encoding/json"
	"time"

	"github.com/jackc/pgx/v5"
)

// Delivery is one event for one subscription.
type Delivery struct {
	ID             DeliveryID
	SubscriptionID SubscriptionID
	EventID        EventID
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
func (q *Queries) InsertEvent(ctx context.Context, typ, dedupeKey string, accountID AccountID, payload json.RawMessage, subscriptions []SubscriptionID) ([]DeliveryID, error) {
	var eventID EventID
	err := q.db.QueryRow(ctx, `INSERT INTO api_events (type, account_id, payload, dedupe_key) VALUES ($1, $2, $3, $4)
		ON CONFLICT (dedupe_key) DO NOTHING RETURNING id`, typ, accountID, payload, dedupeKey).Scan(&eventID)
	if isNoRows(err) {
		return nil, nil
	}
	if err != nil {
		return nil, wrap(err, "insert %s event", typ)
	}
	out, err := column[DeliveryID](ctx, q.db, `INSERT INTO api_deliveries (subscription_id, event_id)
		SELECT unnest($1::bigint[]), $2 RETURNING id`, subscriptions, eventID)
	return out, wrap(err, "insert deliveries of event %d", eventID)
}

// DeliveryWork is what a delivery job sends.
type DeliveryWork struct {
	Delivery     Delivery
	Subscription Subscription
	EventType    string
	EventAt      time.Time
	Payload      json.RawMessage
}

const deliveryColumns = `d.id, d.subscription_id, d.event_id, e.type, d.state, d.attempts, d.last_status, d.last_error,
	d.delivered_at, d.created_at`

func (d *Delivery) fields() []any {
	return []any{&d.ID, &d.SubscriptionID, &d.EventID, &d.EventType, &d.State, &d.Attempts, &d.LastStatus, &d.LastError,
		&d.DeliveredAt, &d.CreatedAt}
}

// DeliveryByID loads a delivery with its subscription and event.
func (q *Queries) DeliveryByID(ctx context.Context, id DeliveryID) (DeliveryWork, error) {
	var w DeliveryWork
	err := q.db.QueryRow(ctx, `SELECT `+deliveryColumns+`, e.created_at, e.payload
		FROM api_deliveries d JOIN api_events e ON e.id = d.event_id WHERE d.id = $1`, id).
		Scan(append(w.Delivery.fields(), &w.EventAt, &w.Payload)...)
	if err != nil {
		return w, wrap(err, "delivery %d", id)
	}
	w.EventType = w.Delivery.EventType
	w.Subscription, err = q.SubscriptionByID(ctx, w.Delivery.SubscriptionID)
	return w, err
}

// MarkDelivered records a successful delivery and clears the
// subscription's failure record.
func (q *Queries) MarkDelivered(ctx context.Context, deliveryID DeliveryID, subscriptionID SubscriptionID, status int) error {
	b := &pgx.Batch{}
	b.Queue(`UPDATE api_deliveries SET state = 'delivered', attempts = attempts + 1, last_status = $2, last_error = '',
		delivered_at = now(), updated_at = now() WHERE id = $1`, deliveryID, status)
	b.Queue(`UPDATE api_subscriptions SET failing_since = NULL, last_success_at = now(), last_error = '' WHERE id = $1`, subscriptionID)
	return wrap(q.db.SendBatch(ctx, b).Close(), "mark delivery %d delivered", deliveryID)
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
func (q *Queries) MarkDeliveryFailed(ctx context.Context, deliveryID DeliveryID, subscriptionID SubscriptionID, status int, reason string, final bool, disableAfter time.Duration) (DeliveryFailure, error) {
	var out DeliveryFailure
	var st *int
	if status > 0 {
		st = &status
	}
	state := "pending"
	if final {
		state = "failed"
	}
	err := q.inTx(ctx, func(tx *Queries) error {
		if _, err := tx.db.Exec(ctx, `UPDATE api_deliveries SET state = $4, attempts = attempts + 1, last_status = $2,
			last_error = $3, updated_at = now() WHERE id = $1`, deliveryID, st, reason, state); err != nil {
			return err
		}
		var url, client string
		err := tx.db.QueryRow(ctx, `UPDATE api_subscriptions s SET failing_since = coalesce(s.failing_since, now()),
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
		if _, err := tx.db.Exec(ctx, `UPDATE api_deliveries SET state = CASE WHEN id = $2 THEN 'failed' ELSE 'cancelled' END,
			updated_at = now() WHERE subscription_id = $1 AND state = 'pending'`, subscriptionID, deliveryID); err != nil {
			return err
		}
		return tx.recordAudit(ctx, Actor{Name: "relaydesk"}, audit{Action: "api_subscription.auto_disable",
			TargetType: "api_subscription", TargetID: int64(subscriptionID), TargetName: url,
			Detail: map[string]any{"application": client, "last_error": reason}})
	})
	return out, wrap(err, "mark delivery %d failed", deliveryID)
}

// CancelDelivery marks a delivery that will not be attempted again (its
// subscription is disabled or gone).
func (q *Queries) CancelDelivery(ctx context.Context, deliveryID DeliveryID, reason string) error {
	_, err := q.db.Exec(ctx, `UPDATE api_deliveries SET state = 'cancelled', last_error = $2, updated_at = now()
		WHERE id = $1 AND state = 'pending'`, deliveryID, reason)
	return wrap(err, "cancel delivery %d", deliveryID)
}

// RecentDeliveries lists a subscription's latest deliveries for the admin page.
func (q *Queries) RecentDeliveries(ctx context.Context, subscriptionID SubscriptionID, limit int) ([]Delivery, error) {
	out, err := list(ctx, q.db, func(r scanner) (Delivery, error) {
		var d Delivery
		return d, r.Scan(d.fields()...)
	}, `SELECT `+deliveryColumns+` FROM api_deliveries d JOIN api_events e ON e.id = d.event_id
		WHERE d.subscription_id = $1 ORDER BY d.id DESC LIMIT $2`, subscriptionID, limit)
	return out, wrap(err, "recent deliveries of subscription %d", subscriptionID)
}
