package store

import (
	"context"
	"encoding/json"
	"time"
)

// ParkEvent keeps a helpdesk event for a ticket not recorded yet.
func (s *Store) ParkEvent(ctx context.Context, db DBTX, connectionID int64, remoteTicketID string, event any) error {
	b, err := json.Marshal(event)
	if err != nil {
		return err
	}
	_, err = db.Exec(ctx, `INSERT INTO parked_events (connection_id, remote_ticket_id, event) VALUES ($1, $2, $3)`,
		connectionID, remoteTicketID, b)
	return err
}

// TakeParkedEvents removes and returns the events parked for a ticket, oldest first.
func (s *Store) TakeParkedEvents(ctx context.Context, db DBTX, connectionID int64, remoteTicketID string) ([]json.RawMessage, error) {
	rows, err := db.Query(ctx, `DELETE FROM parked_events WHERE connection_id = $1 AND remote_ticket_id = $2
		RETURNING id, event`, connectionID, remoteTicketID)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	type ev struct {
		id  int64
		raw json.RawMessage
	}
	var evs []ev
	for rows.Next() {
		var e ev
		if err := rows.Scan(&e.id, &e.raw); err != nil {
			return nil, err
		}
		evs = append(evs, e)
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	// RETURNING has no order: restore arrival order.
	for i := 1; i < len(evs); i++ {
		for j := i; j > 0 && evs[j].id < evs[j-1].id; j-- {
			evs[j], evs[j-1] = evs[j-1], evs[j]
		}
	}
	out := make([]json.RawMessage, len(evs))
	for i, e := range evs {
		out[i] = e.raw
	}
	return out, nil
}

// DeleteParkedBefore drops parked events older than t: they were about
// tickets relaydesk never opened (an e-mail ticket, say).
func (s *Store) DeleteParkedBefore(ctx context.Context, t time.Time) (int64, error) {
	tag, err := s.pool.Exec(ctx, `DELETE FROM parked_events WHERE received_at < $1`, t)
	return tag.RowsAffected(), err
}

// LockTicketKey serialises, until tx ends, the transactions that record a
// remote ticket and those that park events for it, so a parked event is
// either seen by the adopting transaction or not parked at all.
func (s *Store) LockTicketKey(ctx context.Context, tx DBTX, connectionID int64, remoteTicketID string) error {
	_, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock(hashtextextended($1::bigint::text || ':' || $2::text, 7235))`,
		connectionID, remoteTicketID)
	return err
}
