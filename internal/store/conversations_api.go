package store

import (
	"context"
	"fmt"
	"strings"
	"time"
)

// APIChat is a conversation as the public API shows it.
type APIChat struct {
	ID                 ConversationID
	AccountID          AccountID
	PhoneNumberID      string
	DisplayPhoneNumber string
	WaID               string // empty for a customer without a phone
	UserID             string // the BSUID; empty when unknown
	Username           string
	ProfileName        string
	LastInboundAt      *time.Time
	CreatedAt          time.Time
	UpdatedAt          time.Time
	Ticket             *APIChatTicket // the active ticket, if any
}

// APIChatTicket is a chat's linked helpdesk ticket.
type APIChatTicket struct {
	ID        TicketID
	RemoteID  string
	URL       string
	Status    string
	CreatedAt time.Time
}

// Open reports whether the ticket is neither solved nor closed.
func (t *APIChatTicket) Open() bool {
	return t != nil && t.Status != "solved" && t.Status != "closed"
}

const apiChatSelect = `SELECT c.id, c.account_id, a.phone_number_id, a.display_phone_number, ` + contactIDColumns + `, k.profile_name,
		c.last_inbound_at, c.created_at, c.updated_at, t.id, t.remote_id, t.url, t.status, t.created_at
	FROM conversations c
	JOIN whatsapp_accounts a ON a.id = c.account_id
	JOIN contacts k ON k.id = c.contact_id
	LEFT JOIN tickets t ON t.conversation_id = c.id AND t.active`

func scanAPIChat(row scanner) (APIChat, error) {
	var c APIChat
	var tid *TicketID
	var remote, url, status *string
	var tcreated *time.Time
	err := row.Scan(&c.ID, &c.AccountID, &c.PhoneNumberID, &c.DisplayPhoneNumber, &c.WaID, &c.UserID, &c.Username, &c.ProfileName,
		&c.LastInboundAt, &c.CreatedAt, &c.UpdatedAt, &tid, &remote, &url, &status, &tcreated)
	if err == nil && tid != nil {
		c.Ticket = &APIChatTicket{ID: *tid, RemoteID: *remote, URL: *url, Status: *status, CreatedAt: *tcreated}
	}
	return c, err
}

// ChatFilter selects chats for the API's list.
type ChatFilter struct {
	// AccountIDs limits the numbers; nil means every number.
	AccountIDs    []AccountID
	UpdatedSince  *time.Time
	HasOpenTicket *bool
	// After is the cursor: the last (updated_at, id) of the previous page.
	AfterUpdated *time.Time
	AfterID      ConversationID
	Limit        int
}

// APIChats lists chats in (updated_at, id) order: a client syncing with
// updated_since and the cursor sees every change once.
func (q *Queries) APIChats(ctx context.Context, f ChatFilter) ([]APIChat, error) {
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
	sql := apiChatSelect
	if len(where) > 0 {
		sql += " WHERE " + strings.Join(where, " AND ")
	}
	sql += " ORDER BY c.updated_at, c.id LIMIT " + arg(f.Limit)
	out, err := list(ctx, q.db, scanAPIChat, sql, args...)
	return out, wrap(err, "list api chats")
}

// APIChatByID loads one chat.
func (q *Queries) APIChatByID(ctx context.Context, id ConversationID) (APIChat, error) {
	c, err := scanAPIChat(q.db.QueryRow(ctx, apiChatSelect+` WHERE c.id = $1`, id))
	return c, wrap(err, "api chat %d", id)
}

// APIChatByNumber finds the chat of a number (account) with a customer
// named by phone number or BSUID (IsBSUID).
func (q *Queries) APIChatByNumber(ctx context.Context, accountID AccountID, id string) (APIChat, error) {
	col := "k.wa_id"
	if IsBSUID(id) {
		col = "k.user_id"
	}
	c, err := scanAPIChat(q.db.QueryRow(ctx, apiChatSelect+` WHERE c.account_id = $1 AND `+col+` = $2`, accountID, id))
	return c, wrap(err, "api chat of account %d with %s", accountID, id)
}

// APIMessage is a message as the public API shows it.
type APIMessage struct {
	Message
	AccountID AccountID
	StatusAt  *time.Time
}

const apiMessageSelect = `SELECT m.id, m.conversation_id, m.direction, m.seq, coalesce(m.wamid, ''), m.kind, m.body,
		m.wa_message, m.wa_raw, m.media, m.attachments, m.api_send, m.sent_parts, m.state, m.status, m.error, m.ticket_id,
		m.connection_id, coalesce(m.remote_id, ''), m.author, m.attempts, m.wa_timestamp, m.created_at, coalesce(m.reply_to, ''),
		c.account_id, m.status_at
	FROM messages m JOIN conversations c ON c.id = m.conversation_id`

func scanAPIMessage(row scanner) (APIMessage, error) {
	var m APIMessage
	return m, row.Scan(append(m.fields(), &m.AccountID, &m.StatusAt)...)
}

// APIMessages lists a chat's messages in sequence order after afterSeq.
func (q *Queries) APIMessages(ctx context.Context, chatID ConversationID, afterSeq int64, limit int) ([]APIMessage, error) {
	out, err := list(ctx, q.db, scanAPIMessage, apiMessageSelect+` WHERE m.conversation_id = $1 AND m.seq > $2
		ORDER BY m.seq LIMIT $3`, chatID, afterSeq, limit)
	return out, wrap(err, "api messages of chat %d", chatID)
}

// APIMessageByID loads one message with its number.
func (q *Queries) APIMessageByID(ctx context.Context, id MessageID) (APIMessage, error) {
	m, err := scanAPIMessage(q.db.QueryRow(ctx, apiMessageSelect+` WHERE m.id = $1`, id))
	return m, wrap(err, "api message %d", id)
}

// APIContact is a customer as the public API shows it.
type APIContact struct {
	ID            ContactID
	WaID          string // empty for a customer without a phone
	UserID        string // the BSUID; empty when unknown
	Username      string
	ProfileName   string
	ChangedToWaID string
	CreatedAt     time.Time
	UpdatedAt     time.Time
	ChatIDs       []ConversationID // the contact's chats on the numbers asked about
}

// APIContactsByID loads the contacts, one per WABA, whose phone number
// (digits) or BSUID is id and that have a chat with one of accountIDs
// (nil: any number), oldest first. An empty id matches nothing.
func (q *Queries) APIContactsByID(ctx context.Context, id string, accountIDs []AccountID) ([]APIContact, error) {
	if id == "" {
		return nil, nil
	}
	out, err := list(ctx, q.db, func(row scanner) (APIContact, error) {
		var c APIContact
		return c, row.Scan(&c.ID, &c.WaID, &c.UserID, &c.Username, &c.ProfileName, &c.ChangedToWaID, &c.CreatedAt,
			&c.UpdatedAt, &c.ChatIDs)
	}, `SELECT k.id, `+contactIDColumns+`, k.profile_name, coalesce(k.changed_to_wa_id, ''), k.created_at, k.updated_at,
			array_agg(c.id ORDER BY c.id)
		FROM contacts k JOIN conversations c ON c.contact_id = k.id
		WHERE (k.wa_id = $1 OR k.user_id = $1) AND ($2::bigint[] IS NULL OR c.account_id = ANY($2))
		GROUP BY k.id ORDER BY k.id`, id, accountIDs)
	return out, wrap(err, "api contacts %s", id)
}
