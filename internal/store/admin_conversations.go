package store

import (
	"context"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
)

// ConversationSummary is one row of the admin page's conversation list.
type ConversationSummary struct {
	ID            int64
	AccountName   string
	WaID          string
	ProfileName   string
	LastInboundAt *time.Time
	LastMessageAt *time.Time
	Messages      int
	Failed        int
	TicketURL     string
	TicketStatus  string
}

// SearchConversations finds conversations whose customer's number contains
// the digits of q or whose profile name contains q (case-insensitive),
// most recently active first. An empty q lists the latest conversations.
func (s *Store) SearchConversations(ctx context.Context, q string, limit int) ([]ConversationSummary, error) {
	q = strings.TrimSpace(q)
	digits := strings.Map(func(r rune) rune {
		if r >= '0' && r <= '9' {
			return r
		}
		return -1
	}, q)
	rows, err := s.pool.Query(ctx, `
		SELECT c.id, a.name, k.wa_id, k.profile_name, c.last_inbound_at, m.last_at, coalesce(m.n, 0), coalesce(m.failed, 0),
			coalesce(t.url, ''), coalesce(t.status, '')
		FROM conversations c
		JOIN contacts k ON k.id = c.contact_id
		JOIN whatsapp_accounts a ON a.id = c.account_id
		LEFT JOIN LATERAL (SELECT max(created_at) AS last_at, count(*) AS n, count(*) FILTER (WHERE state = 'failed') AS failed
			FROM messages WHERE conversation_id = c.id) m ON true
		LEFT JOIN tickets t ON t.conversation_id = c.id AND t.active
		WHERE $1 = '' OR ($2 <> '' AND k.wa_id LIKE '%' || $2 || '%')
			OR strpos(lower(k.profile_name), lower($1)) > 0
		ORDER BY coalesce(m.last_at, c.created_at) DESC, c.id DESC
		LIMIT $3`, q, digits, limit)
	if err != nil {
		return nil, err
	}
	return pgx.CollectRows(rows, func(row pgx.CollectableRow) (ConversationSummary, error) {
		var c ConversationSummary
		err := row.Scan(&c.ID, &c.AccountName, &c.WaID, &c.ProfileName, &c.LastInboundAt, &c.LastMessageAt, &c.Messages,
			&c.Failed, &c.TicketURL, &c.TicketStatus)
		return c, err
	})
}

// ConversationTimeline returns a conversation's messages in sequence order
// and its tickets, newest first.
func (s *Store) ConversationTimeline(ctx context.Context, id int64) ([]Message, []Ticket, error) {
	rows, err := s.pool.Query(ctx, `SELECT `+messageColumns+` FROM messages WHERE conversation_id = $1 ORDER BY seq`, id)
	if err != nil {
		return nil, nil, err
	}
	msgs, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (Message, error) { return scanMessage(row) })
	if err != nil {
		return nil, nil, err
	}
	rows, err = s.pool.Query(ctx, `SELECT `+ticketColumns+` FROM tickets WHERE conversation_id = $1 ORDER BY created_at DESC, id DESC`, id)
	if err != nil {
		return nil, nil, err
	}
	tickets, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (Ticket, error) { return scanTicket(row) })
	return msgs, tickets, err
}
