package store

import (
	"context"
	"time"
)

// Ticket is a helpdesk ticket a conversation feeds or fed.
type Ticket struct {
	ID               TicketID
	ConversationID   ConversationID
	ConnectionID     ConnectionID
	RouteID          *RouteID
	RemoteID         string
	RequesterID      string
	URL              string
	Status           string
	Active           bool
	PreviousTicketID *TicketID
	ResolvedAt       *time.Time
	CreatedAt        time.Time
}

const ticketColumns = `id, conversation_id, connection_id, route_id, remote_id, requester_id, url, status, active,
	previous_ticket_id, resolved_at, created_at`

// fields are the scan destinations of ticketColumns.
func (t *Ticket) fields() []any {
	return []any{&t.ID, &t.ConversationID, &t.ConnectionID, &t.RouteID, &t.RemoteID, &t.RequesterID, &t.URL,
		&t.Status, &t.Active, &t.PreviousTicketID, &t.ResolvedAt, &t.CreatedAt}
}

func scanTicket(row scanner) (Ticket, error) {
	var t Ticket
	err := row.Scan(t.fields()...)
	return t, err
}

// ActiveTicket returns the ticket a conversation currently feeds.
func (q *Queries) ActiveTicket(ctx context.Context, conversationID ConversationID) (Ticket, error) {
	t, err := scanTicket(q.db.QueryRow(ctx, `SELECT `+ticketColumns+` FROM tickets WHERE conversation_id = $1 AND active`, conversationID))
	return t, wrap(err, "active ticket of conversation %d", conversationID)
}

// TicketByID loads a ticket.
func (q *Queries) TicketByID(ctx context.Context, id TicketID) (Ticket, error) {
	t, err := scanTicket(q.db.QueryRow(ctx, `SELECT `+ticketColumns+` FROM tickets WHERE id = $1`, id))
	return t, wrap(err, "ticket %d", id)
}

// TicketByRemoteID finds a ticket by its helpdesk id.
func (q *Queries) TicketByRemoteID(ctx context.Context, connectionID ConnectionID, remoteID string) (Ticket, error) {
	t, err := scanTicket(q.db.QueryRow(ctx, `SELECT `+ticketColumns+` FROM tickets WHERE connection_id = $1 AND remote_id = $2`,
		connectionID, remoteID))
	return t, wrap(err, "ticket %s of connection %d", remoteID, connectionID)
}

// TicketRemoteIDs lists the helpdesk ids of every stored ticket (for the
// load tool's tracker).
func (q *Queries) TicketRemoteIDs(ctx context.Context) ([]string, error) {
	out, err := column[string](ctx, q.db, `SELECT remote_id FROM tickets`)
	return out, wrap(err, "list ticket remote ids")
}

// NewTicket is a ticket just created in a helpdesk.
type NewTicket struct {
	ConversationID             ConversationID
	ConnectionID               ConnectionID
	RouteID                    *RouteID
	RemoteID, RequesterID, URL string
	Status                     string
	PreviousTicketID           *TicketID
}

// InsertTicket records a new ticket as the conversation's active one,
// retiring the previous active ticket. Creating the same remote ticket again
// (an idempotent retry) returns the existing row. Run it in a transaction.
func (q *Queries) InsertTicket(ctx context.Context, t NewTicket) (Ticket, error) {
	if _, err := q.db.Exec(ctx, `UPDATE tickets SET active = false, updated_at = now()
		WHERE conversation_id = $1 AND active AND NOT (connection_id = $2 AND remote_id = $3)`,
		t.ConversationID, t.ConnectionID, t.RemoteID); err != nil {
		return Ticket{}, wrap(err, "retire active ticket of conversation %d", t.ConversationID)
	}
	row, err := scanTicket(q.db.QueryRow(ctx, `
		INSERT INTO tickets (conversation_id, connection_id, route_id, remote_id, requester_id, url, status, previous_ticket_id)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
		ON CONFLICT (connection_id, remote_id) DO UPDATE SET active = true, updated_at = now()
		RETURNING `+ticketColumns,
		t.ConversationID, t.ConnectionID, t.RouteID, t.RemoteID, t.RequesterID, t.URL, t.Status, t.PreviousTicketID))
	return row, wrap(err, "insert ticket %s of connection %d", t.RemoteID, t.ConnectionID)
}

// SetTicketStatus records a ticket's normalized status; resolved_at is set
// when it becomes solved or closed and cleared when it reopens.
func (q *Queries) SetTicketStatus(ctx context.Context, id TicketID, status string) error {
	_, err := q.db.Exec(ctx, `UPDATE tickets SET status = $2, updated_at = now(),
		resolved_at = CASE WHEN $2 IN ('solved', 'closed') THEN coalesce(resolved_at, now()) ELSE NULL END
		WHERE id = $1 AND status IS DISTINCT FROM $2`, id, status)
	return wrap(err, "set ticket %d status", id)
}
