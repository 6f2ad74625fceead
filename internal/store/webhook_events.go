package store

import (
	"context"
	"encoding/json"
	"time"
)

// WebhookEvent is a raw inbound delivery kept for audit and replay.
type WebhookEvent struct {
	Source    string // "whatsapp" or a connection's kind
	AccountID *AccountID
	Outcome   string // new, duplicate, status, account_event, ...
	Summary   any    // small JSON summary shown in the admin page
	Body      []byte
}

// InsertWebhookEvent stores a raw delivery.
func (q *Queries) InsertWebhookEvent(ctx context.Context, e WebhookEvent) (WebhookEventID, error) {
	sum, err := json.Marshal(e.Summary)
	if err != nil {
		return 0, wrap(err, "insert webhook event: summary")
	}
	var id WebhookEventID
	err = q.db.QueryRow(ctx, `INSERT INTO webhook_events (source, account_id, outcome, summary, body)
		VALUES ($1, $2, $3, $4, $5) RETURNING id`, e.Source, e.AccountID, e.Outcome, json.RawMessage(sum), e.Body).Scan(&id)
	return id, wrap(err, "insert %s webhook event", e.Source)
}

// DeleteWebhookEventsBefore removes raw deliveries received before t, at most
// limit rows per call so a large backlog never holds one long transaction.
func (q *Queries) DeleteWebhookEventsBefore(ctx context.Context, t time.Time, limit int) (int64, error) {
	n, err := q.exec(ctx, `DELETE FROM webhook_events WHERE id IN (
		SELECT id FROM webhook_events WHERE received_at < $1 ORDER BY received_at LIMIT $2)`, t, limit)
	return n, wrap(err, "delete webhook events")
}

// WebhookEventRow is an accepted delivery as the webhooks page lists it
// (never its body).
type WebhookEventRow struct {
	ID          WebhookEventID
	ReceivedAt  time.Time
	Source      string
	AccountName string
	Outcome     string
	Summary     map[string]any
	Size        int
	// Test marks the admin page's own test events.
	Test bool
}

// WebhookEventFilter narrows the list; empty fields match everything.
type WebhookEventFilter struct {
	Source, Outcome string
	// TestMarker identifies test events in bodies.
	TestMarker string
	Limit      int
}

// RecentWebhookEvents lists accepted deliveries, newest first.
func (q *Queries) RecentWebhookEvents(ctx context.Context, f WebhookEventFilter) ([]WebhookEventRow, error) {
	if f.Limit <= 0 {
		f.Limit = 50
	}
	marker := []byte(f.TestMarker)
	if len(marker) == 0 {
		marker = []byte{0} // matches nothing real: bodies are JSON text
	}
	out, err := list(ctx, q.db, func(row scanner) (WebhookEventRow, error) {
		var e WebhookEventRow
		return e, row.Scan(&e.ID, &e.ReceivedAt, &e.Source, &e.AccountName, &e.Outcome, &e.Summary, &e.Size, &e.Test)
	}, `
		SELECT e.id, e.received_at, e.source, coalesce(a.name, ''), e.outcome, e.summary, length(e.body),
			position($3::bytea IN e.body) > 0
		FROM webhook_events e LEFT JOIN whatsapp_accounts a ON a.id = e.account_id
		WHERE ($1 = '' OR e.source = $1) AND ($2 = '' OR e.outcome = $2)
		ORDER BY e.received_at DESC, e.id DESC LIMIT $4`, f.Source, f.Outcome, marker, f.Limit)
	return out, wrap(err, "recent webhook events")
}

// WebhookEventFacets returns the sources and outcomes present, for the
// page's filters.
func (q *Queries) WebhookEventFacets(ctx context.Context) (sources, outcomes []string, err error) {
	if sources, err = column[string](ctx, q.db, `SELECT DISTINCT source FROM webhook_events ORDER BY 1`); err != nil {
		return nil, nil, wrap(err, "webhook event sources")
	}
	outcomes, err = column[string](ctx, q.db, `SELECT DISTINCT outcome FROM webhook_events ORDER BY 1`)
	return sources, outcomes, wrap(err, "webhook event outcomes")
}
