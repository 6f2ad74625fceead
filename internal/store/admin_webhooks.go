package store

import (
	"context"
	"time"

	"github.com/jackc/pgx/v5"
)

// WebhookEventRow is an accepted delivery as the webhooks page lists it
// (never its body).
type WebhookEventRow struct {
	ID          int64
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
func (s *Store) RecentWebhookEvents(ctx context.Context, f WebhookEventFilter) ([]WebhookEventRow, error) {
	if f.Limit <= 0 {
		f.Limit = 50
	}
	marker := []byte(f.TestMarker)
	if len(marker) == 0 {
		marker = []byte{0} // matches nothing real: bodies are JSON text
	}
	rows, err := s.pool.Query(ctx, `
		SELECT e.id, e.received_at, e.source, coalesce(a.name, ''), e.outcome, e.summary, length(e.body),
			position($3::bytea IN e.body) > 0
		FROM webhook_events e LEFT JOIN whatsapp_accounts a ON a.id = e.account_id
		WHERE ($1 = '' OR e.source = $1) AND ($2 = '' OR e.outcome = $2)
		ORDER BY e.received_at DESC, e.id DESC LIMIT $4`, f.Source, f.Outcome, marker, f.Limit)
	if err != nil {
		return nil, err
	}
	return pgx.CollectRows(rows, func(row pgx.CollectableRow) (WebhookEventRow, error) {
		var e WebhookEventRow
		err := row.Scan(&e.ID, &e.ReceivedAt, &e.Source, &e.AccountName, &e.Outcome, &e.Summary, &e.Size, &e.Test)
		return e, err
	})
}

// WebhookEventFacets returns the sources and outcomes present, for the
// page's filters.
func (s *Store) WebhookEventFacets(ctx context.Context) (sources, outcomes []string, err error) {
	rows, err := s.pool.Query(ctx, `SELECT DISTINCT source FROM webhook_events ORDER BY 1`)
	if err != nil {
		return nil, nil, err
	}
	if sources, err = pgx.CollectRows(rows, pgx.RowTo[string]); err != nil {
		return nil, nil, err
	}
	rows, err = s.pool.Query(ctx, `SELECT DISTINCT outcome FROM webhook_events ORDER BY 1`)
	if err != nil {
		return nil, nil, err
	}
	outcomes, err = pgx.CollectRows(rows, pgx.RowTo[string])
	return sources, outcomes, err
}
