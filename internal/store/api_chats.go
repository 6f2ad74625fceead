package store

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
)

// APIChat is a conversation as the public API shows it.
type APIChat struct {
	ID                 int64
	AccountID          int64
	PhoneNumberID      string
	DisplayPhoneNumber string
	WaID               string
	ProfileName        string
	LastInboundAt      *time.Time
	CreatedAt          time.Time
	UpdatedAt          time.Time
	Ticket             *APIChatTicket // the active ticket, if any
}

// APIChatTicket is a chat's linked helpdesk ticket.
type APIChatTicket struct {
	ID        int64
	RemoteID  string
	URL       string
	Status    string
	CreatedAt time.Time
}

// Open reports whether the ticket is neither solved nor closed.
func (t *APIChatTicket) Open() bool {
	return t != nil && t.Status != "solved" && t.Status != "closed"
}

const apiChatSelect = `SELECT c.id, c.account_id, a.phone_number_id, a.display_phone_number, k.wa_id, k.profile_name,
		c.last_inbound_at, c.created_at, c.updated_at, t.id, t.remote_id, t.url, t.status, t.created_at
	FROM conversations c
	JOIN whatsapp_accounts a ON a.id = c.account_id
	JOIN contacts k ON k.id = c.contact_id
	LEFT JOIN tickets t ON t.conversation_id = c.id AND t.active`

func scanAPIChat(row pgx.Row) (APIChat, error) {
	var c APIChat
	var tid *int64
	var remote, url, status *string
	var tcreated *time.Time
	err := row.Scan(&c.ID, &c.AccountID, &c.PhoneNumberID, &c.DisplayPhoneNumber, &c.WaID, &c.ProfileName,
		&c.LastInboundAt, &c.CreatedAt, &c.UpdatedAt, &tid, &remote, &url, &status, &tcreated)
	if err != nil {
		return c, notFound(err)
	}
	if tid != nil {
		c.Ticket = &APIChatTicket{ID: *tid, RemoteID: *remote, URL: *url, Status: *status, CreatedAt: *tcreated}
	}
	return c, nil
}

// ChatFilter selects chats for the API's list.
type ChatFilter struct {
	// AccountIDs limits the numbers; nil means every number.
	AccountIDs    []int64
	UpdatedSince  *time.Time
	HasOpenTicket *bool
	// After is the cursor: the last (updated_at, id) of the previous page.
	AfterUpdated *time.Time
	AfterID      int64
	Limit        int
}

// APIChats lists chats in (updated_at, id) order: a client syncing with
// updated_since and the cursor sees every change once.
func (s *Store) APIChats(ctx context.Context, f ChatFilter) ([]APIChat, error) {
	var where []string
	var args []any
	arg := func(v any) string {
		args = append(args, v)
		return fmt.Sprintf("$%d", len(args))
	}
	if f.AccountIDs != nil {
		where = append(where, "c.account_id = ANY("+arg(f.AccountIDs)+")")
	}
	if f.UpdatedSince != nil {
		where = append(where, "c.updated_at >= "+arg(*f.UpdatedSince))
	}
	if f.HasOpenTicket != nil {
		cond := "t.id IS NOT NULL AND t.status NOT IN ('solved', 'closed')"
		if !*f.HasOpenTicket {
			cond = "NOT (" + cond + ")"
		}
		where = append(where, cond)
	}
	if f.AfterUpdated != nil {
		where = append(where, "(c.updated_at, c.id) > ("+arg(*f.AfterUpdated)+", "+arg(f.AfterID)+")")
	}
	q := apiChatSelect
	if len(where) > 0 {
		q += " WHERE " + strings.Join(where, " AND ")
	}
	q += " ORDER BY c.updated_at, c.id LIMIT " + arg(f.Limit)
	rows, err := s.pool.Query(ctx, q, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := []APIChat{}
	for rows.Next() {
		c, err := scanAPIChat(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, c)
	}
	return out, rows.Err()
}

// APIChatByID loads one chat.
func (s *Store) APIChatByID(ctx context.Context, db DBTX, id int64) (APIChat, error) {
	return scanAPIChat(db.QueryRow(ctx, apiChatSelect+` WHERE c.id = $1`, id))
}

// APIChatByNumber finds the chat of a number (account) with a customer.
func (s *Store) APIChatByNumber(ctx context.Context, db DBTX, accountID int64, waID string) (APIChat, error) {
	return scanAPIChat(db.QueryRow(ctx, apiChatSelect+` WHERE c.account_id = $1 AND k.wa_id = $2`, accountID, waID))
}

// APIMessage is a message as the public API shows it.
type APIMessage struct {
	Message
	AccountID int64
	StatusAt  *time.Time
}

const apiMessageSelect = `SELECT m.id, m.conversation_id, m.direction, m.seq, coalesce(m.wamid, ''), m.kind, m.body, m.media,
		m.payload, m.state, m.status, m.error, m.ticket_id, m.connection_id, coalesce(m.remote_id, ''), m.author, m.attempts,
		m.wa_timestamp, m.created_at, c.account_id, m.status_at
	FROM messages m JOIN conversations c ON c.id = m.conversation_id`

func scanAPIMessage(row pgx.Row) (APIMessage, error) {
	var m APIMessage
	err := row.Scan(&m.ID, &m.ConversationID, &m.Direction, &m.Seq, &m.WAMID, &m.Kind, &m.Body, &m.Media, &m.Payload,
		&m.State, &m.Status, &m.Error, &m.TicketID, &m.ConnectionID, &m.RemoteID, &m.Author, &m.Attempts,
		&m.WATimestamp, &m.CreatedAt, &m.AccountID, &m.StatusAt)
	return m, notFound(err)
}

// APIMessages lists a chat's messages in sequence order after afterSeq.
func (s *Store) APIMessages(ctx context.Context, chatID, afterSeq int64, limit int) ([]APIMessage, error) {
	rows, err := s.pool.Query(ctx, apiMessageSelect+` WHERE m.conversation_id = $1 AND m.seq > $2 ORDER BY m.seq LIMIT $3`,
		chatID, afterSeq, limit)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := []APIMessage{}
	for rows.Next() {
		m, err := scanAPIMessage(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, m)
	}
	return out, rows.Err()
}

// APIMessageByID loads one message with its number.
func (s *Store) APIMessageByID(ctx context.Context, db DBTX, id int64) (APIMessage, error) {
	return scanAPIMessage(db.QueryRow(ctx, apiMessageSelect+` WHERE m.id = $1`, id))
}

// APIContact is a customer as the public API shows it.
type APIContact struct {
	WaID          string
	ProfileName   string
	ChangedToWaID string
	CreatedAt     time.Time
	UpdatedAt     time.Time
	ChatIDs       []int64 // the contact's chats on the numbers asked about
}

// APIContactByWaID loads a contact that has a chat with one of accountIDs
// (nil: any number); otherwise ErrNotFound.
func (s *Store) APIContactByWaID(ctx context.Context, waID string, accountIDs []int64) (APIContact, error) {
	var c APIContact
	var changed *string
	err := s.pool.QueryRow(ctx, `SELECT k.wa_id, k.profile_name, k.changed_to_wa_id, k.created_at, k.updated_at,
			array_agg(c.id ORDER BY c.id)
		FROM contacts k JOIN conversations c ON c.contact_id = k.id
		WHERE k.wa_id = $1 AND ($2::bigint[] IS NULL OR c.account_id = ANY($2))
		GROUP BY k.id`, waID, accountIDs).Scan(&c.WaID, &c.ProfileName, &changed, &c.CreatedAt, &c.UpdatedAt, &c.ChatIDs)
	if changed != nil {
		c.ChangedToWaID = *changed
	}
	return c, notFound(err)
}

// EnsureConversation returns the conversation of a number with a customer,
// creating the contact and an empty conversation when needed (a first
// message sent through the API, which must be a template).
func (s *Store) EnsureConversation(ctx context.Context, db DBTX, accountID int64, waID string) (int64, error) {
	var contactID, convID int64
	err := db.QueryRow(ctx, `INSERT INTO contacts (wa_id) VALUES ($1)
		ON CONFLICT (wa_id) DO UPDATE SET wa_id = excluded.wa_id RETURNING id`, waID).Scan(&contactID)
	if err != nil {
		return 0, err
	}
	err = db.QueryRow(ctx, `INSERT INTO conversations (account_id, contact_id) VALUES ($1, $2)
		ON CONFLICT (account_id, contact_id) DO UPDATE SET account_id = excluded.account_id RETURNING id`,
		accountID, contactID).Scan(&convID)
	return convID, err
}

// SetMessagePayload stores an outbound message's payload (an API send's
// media link or template), in the transaction that inserted it.
func (s *Store) SetMessagePayload(ctx context.Context, db DBTX, id int64, payload json.RawMessage) error {
	_, err := db.Exec(ctx, `UPDATE messages SET payload = $2::jsonb WHERE id = $1`, id, jsonText(payload))
	return err
}
