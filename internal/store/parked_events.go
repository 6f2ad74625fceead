package store

import (
	"context"
	"time"

	"github.com/relaydesk/relaydesk/connectors"
)

// ParkEvent keeps a helpdesk event for a ticket not recorded yet.
func (q *Queries) ParkEvent(ctx context.Context, connectionID ConnectionID, remoteTicketID string, event connectors.Event) error {
	_, err := q.db.Exec(ctx, `INSERT INTO parked_events (connection_id, remote_ticket_id, event) VALUES ($1, $2, $3)`,
		connectionID, remoteTicketID, event)
	return wrap(err, "park event for ticket %s of connection %d", remoteTicketID, connectionID)
}

// TakeParkedEvents removes and returns the events parked for a ticket,
// oldest first.
func (q *Queries) TakeParkedEvents(ctx context.Context, connectionID ConnectionID, remoteTicketID string) ([]connectors.Event, error) {
	// RETURNING has no order of its own: the CTE's rows are sorted by id,
	// that is by arrival.
	out, err := list(ctx, q.db, func(r scanner) (connectors.Event, error) {
		var e connectors.Event
		return e, r.Scan(&e)
	}, `WITH taken AS (DELETE FROM parked_events WHERE connection_id = $1 AND remote_ticket_id = $2 RETURNING id, event)
		SELECT event FROM taken ORDER BY id`, connectionID, remoteTicketID)
	return out, wrap(err, "take parked events of ticket %s of connection %d", remoteTicketID, connectionID)
}

// DeleteParkedBefore drops parked events older than t: they were about
// tickets relaydesk never opened (an e-mail ticket, say).
func (q *Queries) DeleteParkedBefore(ctx context.Context, t time.Time) (int64, error) {
	n, err := q.exec(ctx, `DELETE FROM parked_events WHERE received_at < $1`, t)
	return n, wrap(err, "delete parked events")
}

// LockTicketKey serialises, until the transaction ends (call it on a Tx),
// the transactions that record a remote ticket and those that park events
// for it, so a parked event is either seen by the adopting transaction or
// not parked at all.
func (q *Queries) LockTicketKey(ctx context.Context, connectionID ConnectionID, remoteTicketID string) error {
	_, err := q.db.Exec(ctx, `SELECT pg_advisory_xact_lock(hashtextextended($1::bigint::text || ':' || $2::text, 7235))`,
		connectionID, remoteTicketID)
	return wrap(err, "lock ticket %s of connection %d", remoteTicketID, connectionID)
}
