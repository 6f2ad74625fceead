package store

import (
	"context"
	"time"
)

// DeleteWebhookEventsBefore removes raw deliveries received before t, at most
// limit rows per call so a large backlog never holds one long transaction.
func (s *Store) DeleteWebhookEventsBefore(ctx context.Context, t time.Time, limit int) (int64, error) {
	tag, err := s.pool.Exec(ctx, `DELETE FROM webhook_events WHERE id IN (
		SELECT id FROM webhook_events WHERE received_at < $1 ORDER BY received_at LIMIT $2)`, t, limit)
	return tag.RowsAffected(), err
}
