package store

import "context"

// MessageStats are counts over every stored message, for the load tool's
// verification after a run.
type MessageStats struct {
	// States counts messages by state.
	States map[string]int64
	// FailedWithoutReason counts failed messages with no error recorded.
	FailedWithoutReason int64
	// WaitingWithoutReason counts held messages with no error recorded.
	WaitingWithoutReason int64
	// SentNotRead counts outbound messages WhatsApp accepted whose status
	// has not reached "read".
	SentNotRead int64
}

// MessageStats counts messages by state and the anomalies the load tool
// checks for.
func (q *Queries) MessageStats(ctx context.Context) (MessageStats, error) {
	var s MessageStats
	var err error
	if s.States, err = q.counts(ctx, `SELECT state, count(*) FROM messages GROUP BY state`); err != nil {
		return s, wrap(err, "count messages by state")
	}
	err = q.db.QueryRow(ctx, `SELECT
			count(*) FILTER (WHERE state = 'failed' AND error IS NULL),
			count(*) FILTER (WHERE state = 'waiting_window' AND error IS NULL),
			count(*) FILTER (WHERE direction = 'out' AND state = 'done' AND status <> 'read')
		FROM messages`).Scan(&s.FailedWithoutReason, &s.WaitingWithoutReason, &s.SentNotRead)
	return s, wrap(err, "count message anomalies")
}

// MessageCount returns how many messages are stored.
func (q *Queries) MessageCount(ctx context.Context) (int64, error) {
	n, err := q.count(ctx, `SELECT count(*) FROM messages`)
	return n, wrap(err, "count messages")
}

// PendingMessageCount returns how many messages wait to be delivered.
func (q *Queries) PendingMessageCount(ctx context.Context) (int64, error) {
	n, err := q.count(ctx, `SELECT count(*) FROM messages WHERE state = 'pending'`)
	return n, wrap(err, "count pending messages")
}
