package store

import (
	"context"
	"time"
)

// Ticket is a helpdesk ticket a conversation feeds or fed.
type Ticket struct {
	ID               int64
	ConversationID   int64
	ConnectionID     int64
	RouteID          *int64
	RemoteID         string
	RequesterID      string
	URL              string
	Status           string
	Active           bool
	PreviousTicketID *int64
	ResolvedAt       *time.Time
	CreatedAt        time.Time
}

const ticketColumns = `id, conversation_id, connection_id, route_id, remote_id, requester_id, url, status, active,
	previous_ticket_id, resolved_at, created_at`

func scanTicket(row interface{ Scan(...any) error }) (Ticket, error) {
	var t Ticket
	err := row.Scan(&t.ID, &t.ConversationID, &t.ConnectionID, &t.RouteID, &t.RemoteID, &t.RequesterID, &t.URL,
		&t.Status, &t.Active, &t.PreviousTicketID, &t.ResolvedAt, &t.CreatedAt)
	return t, err
}

// ActiveTicket returns the ticket a conversation currently feeds.
func (s *Store) ActiveTicket(ctx context.Context, db DBTX, conversationID int64) (Ticket, error) {
	t, err := scanTicket(db.QueryRow(ctx, `SELECT `+ticketColumns+` FROM tickets WHERE conversation_id = $1 AND active`, conversationID))
	return t, notFound(err)
}

// TicketByID loads a ticket.
func (s *Store) TicketByID(ctx context.Context, db DBTX, id int64) (Ticket, error) {
	t, err := scanTicket(db.QueryRow(ctx, `SELECT `+ticketColumns+` FROM tickets WHERE id = $1`, id))
	return t, notFound(err)
}

// TicketByRemoteID finds a ticket by its helpdesk id.
func (s *Store) TicketByRemoteID(ctx context.Context, db DBTX, connectionID int64, remoteID string) (Ticket, error) {
	t, err := scanTicket(db.QueryRow(ctx, `SELECT `+ticketColumns+` FROM tickets WHERE connection_id = $1 AND remote_id = $2`,
		connectionID, remoteID))
	return t, notFound(err)
}

// NewTicket is a ticket just created in a helpdesk.
type NewTicket struct {
	ConversationID, ConnectionID int64
	RouteID                      *int64
	RemoteID, RequesterID, URL   string
	Status                       string
	PreviousTicketID             *int64
}

// InsertTicket records a new ticket as the conversation's active one,
// retiring the previous active ticket. Creating the same remote ticket again
// (an idempotent retry) returns the existing row.
func (s *Store) InsertTicket(ctx context.Context, db DBTX, t NewTicket) (Ticket, error) {
	if _, err := db.Exec(ctx, `UPDATE tickets SET active = false, updated_at = now()
		WHERE conversation_id = $1 AND active AND NOT (connection_id = $2 AND remote_id = $3)`,
		t.ConversationID, t.ConnectionID, t.RemoteID); err != nil {
		return Ticket{}, err
	}
	return scanTicket(db.QueryRow(ctx, `
		INSERT INTO tickets (conversation_id, connection_id, route_id, remote_id, requester_id, url, status, previous_ticket_id)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
		ON CONFLICT (connection_id, remote_id) DO UPDATE SET active = true, updated_at = now()
		RETURNING `+ticketColumns,
		t.ConversationID, t.ConnectionID, t.RouteID, t.RemoteID, t.RequesterID, t.URL, t.Status, t.PreviousTicketID))
}

// SetTicketStatus records a ticket's normalized status; resolved_at is set
// when it becomes solved or closed and cleared when it reopens.
func (s *Store) SetTicketStatus(ctx context.Context, db DBTX, id int64, status string) error {
	_, err := db.Exec(ctx, `UPDATE tickets SET status = $2, updated_at = now(),
		resolved_at = CASE WHEN $2 IN ('solved', 'closed') THEN coalesce(resolved_at, now()) ELSE NULL END
		WHERE id = $1 AND status IS DISTINCT FROM $2`, id, status)
	return err
}

// DeactivateTicket retires a conversation's active ticket (it was deleted or
// can no longer take messages), so the next message opens a new one.
func (s *Store) DeactivateTicket(ctx context.Context, id int64) error {
	_, err := s.pool.Exec(ctx, `UPDATE tickets SET active = false, updated_at = now() WHERE id = $1`, id)
	return err
}
