package store

import (
	"context"
	"encoding/json"
	"fmt"
	"strconv"
	"time"

	"github.com/relaydesk/relaydesk/connectors"
	"github.com/relaydesk/relaydesk/internal/whatsapp"
)

// Message states (relaydesk's own progress with a message).
const (
	StatePending       = "pending"        // not yet delivered to the other side
	StateDone          = "done"           // posted to the helpdesk / accepted by WhatsApp
	StateFailed        = "failed"         // given up; the reason is in Error; can be retried
	StateWaitingWindow = "waiting_window" // outbound, held until the customer writes again
)

// Message is a stored message, both directions. Each JSON column has one
// meaning and is decoded once, when the row is read.
type Message struct {
	ID             MessageID
	ConversationID ConversationID
	Direction      string
	Seq            int64
	WAMID          string
	Kind           string
	Body           string
	// Inbound is the customer's message as the intake decoded it
	// (wa_message), for rows stored from migration 005 on.
	Inbound *whatsapp.Message
	// InboundRaw is Meta's JSON of a customer message stored before
	// migration 005 (wa_raw), which SQL cannot convert: decode it with
	// whatsapp.DecodeMessage, and only when Inbound is nil.
	InboundRaw json.RawMessage
	// Media is an inbound message's media reference.
	Media *whatsapp.Media
	// Attachments are an outbound message's files from the helpdesk.
	Attachments []connectors.RemoteAttachment
	// APISend is what a public-API send asked for beyond its text.
	APISend *APISend
	// SentParts maps the parts of a multi-part outbound message that
	// WhatsApp accepted to their wamids.
	SentParts    map[int]string
	State        string
	Status       string
	Error        *MessageError
	TicketID     *TicketID
	ConnectionID *ConnectionID
	RemoteID     string
	Author       string
	Attempts     int
	WATimestamp  *time.Time
	CreatedAt    time.Time
	// ReplyTo is the wamid an outbound message answers (context.message_id)
	// or, for a reaction, the message reacted to; "" for none.
	ReplyTo string
}

const messageColumns = `id, conversation_id, direction, seq, coalesce(wamid, ''), kind, body, wa_message, wa_raw, media,
	attachments, api_send, sent_parts, state, status, error, ticket_id, connection_id, coalesce(remote_id, ''), author,
	attempts, wa_timestamp, created_at, coalesce(reply_to, '')`

func (m *Message) fields() []any {
	return []any{&m.ID, &m.ConversationID, &m.Direction, &m.Seq, &m.WAMID, &m.Kind, &m.Body, &m.Inbound, &m.InboundRaw,
		&m.Media, &m.Attachments, &m.APISend, &m.SentParts, &m.State, &m.Status, &m.Error, &m.TicketID, &m.ConnectionID,
		&m.RemoteID, &m.Author, &m.Attempts, &m.WATimestamp, &m.CreatedAt, &m.ReplyTo}
}

func scanMessage(row scanner) (Message, error) {
	var m Message
	return m, row.Scan(m.fields()...)
}

// pendingQueue selects a conversation's ($1) first pending message of one
// direction ("in" or "out") in the order they are worked: customer messages
// in the customer's order (WhatsApp's timestamp, then arrival for equal ones,
// as it has whole seconds), replies in the order they were written (their
// sequence number). The direction is written out, not a parameter, so that
// generic plans can use the partial index messages_pending_inbound. and,
// when not empty, is one more condition (TakeInbound leaves out the message
// it records as posted in the same statement).
func pendingQueue(direction, and string) (string, error) {
	pending := `SELECT id FROM messages WHERE conversation_id = $1 AND state = 'pending'`
	if and != "" {
		pending += ` AND ` + and
	}
	switch direction {
	case "in":
		return pending + ` AND direction = 'in' ORDER BY wa_timestamp, seq LIMIT 1`, nil
	case "out":
		return pending + ` AND direction = 'out' ORDER BY seq LIMIT 1`, nil
	}
	return "", fmt.Errorf("unknown direction %q", direction)
}

// NextPending returns a conversation's first pending message in one
// direction ("in" or "out"), in the order the queue works them.
func (q *Queries) NextPending(ctx context.Context, conversationID ConversationID, direction string) (Message, error) {
	next, err := pendingQueue(direction, "")
	if err != nil {
		return Message{}, wrap(err, "next pending message of conversation %d", conversationID)
	}
	m, err := scanMessage(q.db.QueryRow(ctx, `SELECT `+messageColumns+` FROM messages WHERE id = (`+next+`)`, conversationID))
	return m, wrap(err, "next pending %s message of conversation %d", direction, conversationID)
}

// NextPendingAttempt takes a conversation's first pending message in one
// direction and counts an attempt on it, in one statement. The returned
// Attempts is the count before this attempt: above zero, an earlier attempt
// may have reached the other side, so the caller looks before writing again.
func (q *Queries) NextPendingAttempt(ctx context.Context, conversationID ConversationID, direction string) (Message, error) {
	next, err := pendingQueue(direction, "")
	if err != nil {
		return Message{}, wrap(err, "attempt next pending message of conversation %d", conversationID)
	}
	m, err := scanMessage(q.db.QueryRow(ctx, `UPDATE messages SET attempts = attempts + 1, updated_at = now()
		WHERE id = (`+next+`) RETURNING `+messageColumns, conversationID))
	m.Attempts--
	return m, wrap(err, "attempt next pending %s message of conversation %d", direction, conversationID)
}

// InboundQueue is what the delivery job reads before it takes a customer
// message (TakeInbound): when the longest-waiting pending one was stored, by the
// database's clock, and the newest WhatsApp timestamp already posted.
type InboundQueue struct {
	// OldestPending is when the first of the pending messages still there
	// was stored (nil when none is pending).
	OldestPending *time.Time
	// Now is the database's clock, which stamped OldestPending.
	Now time.Time
	// LastPosted is the newest WhatsApp timestamp among the conversation's
	// customer messages already in the helpdesk (nil when none is).
	LastPosted *time.Time
}

// MessageByID loads a message.
func (q *Queries) MessageByID(ctx context.Context, id MessageID) (Message, error) {
	m, err := scanMessage(q.db.QueryRow(ctx, `SELECT `+messageColumns+` FROM messages WHERE id = $1`, id))
	return m, wrap(err, "message %d", id)
}

// MarkPosted records that an inbound message is in the helpdesk.
func (q *Queries) MarkPosted(ctx context.Context, id MessageID, ticketID TicketID, connectionID ConnectionID, remoteID string) error {
	_, err := q.db.Exec(ctx, `UPDATE messages SET state = 'done', ticket_id = $2, connection_id = $3, remote_id = $4,
		error = NULL, updated_at = now() WHERE id = $1`, id, ticketID, connectionID, remoteID)
	return wrap(err, "mark message %d posted", id)
}

// MarkSent records that WhatsApp accepted an outbound message.
func (q *Queries) MarkSent(ctx context.Context, id MessageID, wamid string) error {
	_, err := q.db.Exec(ctx, `UPDATE messages SET state = 'done', wamid = $2, status = 'accepted', error = NULL,
		updated_at = now() WHERE id = $1`, id, wamid)
	return wrap(err, "mark message %d sent", id)
}

// MarkState sets a message's state and, when reason is not nil, its error.
func (q *Queries) MarkState(ctx context.Context, id MessageID, state string, reason *MessageError) error {
	var arg *string
	if reason != nil {
		var err error
		if arg, err = jsonArg(reason); err != nil {
			return wrap(err, "mark message %d %s", id, state)
		}
	}
	_, err := q.db.Exec(ctx, `UPDATE messages SET state = $2, error = coalesce($3::jsonb, error), updated_at = now()
		WHERE id = $1`, id, state, arg)
	return wrap(err, "mark message %d %s", id, state)
}

// ReleaseWaiting makes a conversation's outbound messages held for the
// 24-hour window pending again and reports how many there were.
func (q *Queries) ReleaseWaiting(ctx context.Context, conversationID ConversationID) (int, error) {
	n, err := q.exec(ctx, `UPDATE messages SET state = 'pending', updated_at = now()
		WHERE conversation_id = $1 AND direction = 'out' AND state = 'waiting_window'`, conversationID)
	return int(n), wrap(err, "release waiting messages of conversation %d", conversationID)
}

// Outbound is an agent reply (or an API send) to store.
type Outbound struct {
	ConversationID ConversationID
	ConnectionID   *ConnectionID
	TicketID       *TicketID
	RemoteID       string // the helpdesk comment id; "" for API sends
	Kind           string
	Body           string
	Attachments    []connectors.RemoteAttachment // files to send
	APISend        *APISend                      // an API send's media link or template
	Author         string
	ReplyTo        string // the wamid answered or reacted to; "" for none
}

// InsertOutbound stores an outbound message at the end of its conversation,
// once per (connection, remote id). It reports false for a duplicate,
// including a comment relaydesk itself posted.
func (q *Queries) InsertOutbound(ctx context.Context, o Outbound) (MessageID, bool, error) {
	var remote *string
	if o.RemoteID != "" {
		remote = &o.RemoteID
	}
	attachments, err := jsonArg(o.Attachments)
	if err != nil {
		return 0, false, wrap(err, "insert outbound message")
	}
	apiSend, err := jsonArg(o.APISend)
	if err != nil {
		return 0, false, wrap(err, "insert outbound message")
	}
	var id MessageID
	err = q.db.QueryRow(ctx, `
		WITH seq AS (UPDATE conversations SET last_seq = last_seq + 1, updated_at = now() WHERE id = $1 RETURNING last_seq)
		INSERT INTO messages (conversation_id, direction, seq, kind, body, attachments, api_send, connection_id, ticket_id,
			remote_id, author, reply_to)
		SELECT $1, 'out', seq.last_seq, $2, $3, $4::jsonb, $5::jsonb, $6, $7, $8, $9, nullif($10, '') FROM seq
		ON CONFLICT (connection_id, remote_id) DO NOTHING
		RETURNING id`, o.ConversationID, o.Kind, o.Body, attachments, apiSend, o.ConnectionID, o.TicketID, remote, o.Author,
		o.ReplyTo).Scan(&id)
	if isNoRows(err) {
		return 0, false, nil
	}
	return id, err == nil, wrap(err, "insert outbound message in conversation %d", o.ConversationID)
}

// RecordPart remembers that part i of a multi-part outbound message was
// accepted by WhatsApp, so a retry does not send it again.
func (q *Queries) RecordPart(ctx context.Context, id MessageID, i int, wamid string) error {
	_, err := q.db.Exec(ctx, `UPDATE messages SET sent_parts = coalesce(sent_parts, '{}') || jsonb_build_object($2::text, $3::text),
		updated_at = now() WHERE id = $1`, id, strconv.Itoa(i), wamid)
	return wrap(err, "record part %d of message %d", i, id)
}

// SetAttachments replaces an outbound message's body and attachments
// (after hydrating an agent reply's attachments).
func (q *Queries) SetAttachments(ctx context.Context, id MessageID, body string, attachments []connectors.RemoteAttachment) error {
	arg, err := jsonArg(attachments)
	if err != nil {
		return wrap(err, "set message %d attachments", id)
	}
	_, err = q.db.Exec(ctx, `UPDATE messages SET body = $2, attachments = $3::jsonb, updated_at = now() WHERE id = $1`,
		id, body, arg)
	return wrap(err, "set message %d attachments", id)
}

// RetryMessage puts a failed (or held) message back in its queue and reports
// its conversation and direction; the caller enqueues the job in the same
// transaction when MarkQueued says so.
func (q *Queries) RetryMessage(ctx context.Context, id MessageID) (conversationID ConversationID, direction string, err error) {
	err = q.db.QueryRow(ctx, `UPDATE messages SET state = 'pending', attempts = 0, updated_at = now()
		WHERE id = $1 AND state IN ('failed', 'waiting_window', 'unrouted') RETURNING conversation_id, direction`, id).
		Scan(&conversationID, &direction)
	return conversationID, direction, wrap(err, "retry message %d", id)
}

// MessageByWAMID finds a conversation's message, in either direction, by
// the id WhatsApp gave it (what a customer's reaction names).
func (q *Queries) MessageByWAMID(ctx context.Context, conversationID ConversationID, wamid string) (Message, error) {
	m, err := scanMessage(q.db.QueryRow(ctx, `SELECT `+messageColumns+` FROM messages
		WHERE conversation_id = $1 AND wamid = $2 ORDER BY id LIMIT 1`, conversationID, wamid))
	return m, wrap(err, "message %s of conversation %d", wamid, conversationID)
}

// WAMIDOfComment is the wamid of the conversation's message that is
// comment remoteID of connection connectionID in the helpdesk (a customer
// message relaydesk posted, or an agent reply it sent), for a reply or a
// reaction to that comment. ErrNotFound when there is none with a wamid.
func (q *Queries) WAMIDOfComment(ctx context.Context, conversationID ConversationID, connectionID ConnectionID, remoteID string) (string, error) {
	var wamid string
	err := q.db.QueryRow(ctx, `SELECT wamid FROM messages WHERE connection_id = $1 AND remote_id = $2 AND conversation_id = $3
		AND wamid IS NOT NULL`, connectionID, remoteID, conversationID).Scan(&wamid)
	if isNoRows(err) {
		return "", ErrNotFound
	}
	return wamid, wrap(err, "wamid of comment %s", remoteID)
}
