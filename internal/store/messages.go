package store

import (
	"context"
	"encoding/json"
	"strconv"
	"time"
)

// Message states (relaydesk's own progress with a message).
const (
	StatePending       = "pending"        // not yet delivered to the other side
	StateDone          = "done"           // posted to the helpdesk / accepted by WhatsApp
	StateFailed        = "failed"         // given up; the reason is in Error; can be retried
	StateWaitingWindow = "waiting_window" // outbound, held until the customer writes again
)

// Message is a stored message, both directions.
type Message struct {
	ID             int64
	ConversationID int64
	Direction      string
	Seq            int64
	WAMID          string
	Kind           string
	Body           string
	Media          json.RawMessage
	Payload        json.RawMessage
	State          string
	Status         string
	Error          json.RawMessage
	TicketID       *int64
	ConnectionID   *int64
	RemoteID       string
	Author         string
	Attempts       int
	WATimestamp    *time.Time
	CreatedAt      time.Time
}

const messageColumns = `id, conversation_id, direction, seq, coalesce(wamid, ''), kind, body, media, payload, state, status,
	error, ticket_id, connection_id, coalesce(remote_id, ''), author, attempts, wa_timestamp, created_at`

func scanMessage(row interface{ Scan(...any) error }) (Message, error) {
	var m Message
	err := row.Scan(&m.ID, &m.ConversationID, &m.Direction, &m.Seq, &m.WAMID, &m.Kind, &m.Body, &m.Media, &m.Payload,
		&m.State, &m.Status, &m.Error, &m.TicketID, &m.ConnectionID, &m.RemoteID, &m.Author, &m.Attempts,
		&m.WATimestamp, &m.CreatedAt)
	return m, err
}

// NextPending returns a conversation's first pending message in one
// direction ("in" or "out"), in sequence order.
func (s *Store) NextPending(ctx context.Context, conversationID int64, direction string) (Message, error) {
	m, err := scanMessage(s.pool.QueryRow(ctx, `SELECT `+messageColumns+` FROM messages
		WHERE conversation_id = $1 AND direction = $2 AND state = 'pending' ORDER BY seq LIMIT 1`, conversationID, direction))
	return m, notFound(err)
}

// NextPendingAttempt takes a conversation's first pending message in one
// direction and counts an attempt on it, in one statement. The returned
// Attempts is the count before this attempt: above zero, an earlier attempt
// may have reached the other side, so the caller looks before writing again.
func (s *Store) NextPendingAttempt(ctx context.Context, conversationID int64, direction string) (Message, error) {
	m, err := scanMessage(s.pool.QueryRow(ctx, `UPDATE messages SET attempts = attempts + 1, updated_at = now()
		WHERE id = (SELECT id FROM messages WHERE conversation_id = $1 AND direction = $2 AND state = 'pending'
			ORDER BY seq LIMIT 1)
		RETURNING `+messageColumns, conversationID, direction))
	m.Attempts--
	return m, notFound(err)
}

// MessageByID loads a message.
func (s *Store) MessageByID(ctx context.Context, db DBTX, id int64) (Message, error) {
	m, err := scanMessage(db.QueryRow(ctx, `SELECT `+messageColumns+` FROM messages WHERE id = $1`, id))
	return m, notFound(err)
}

// MarkPosted records that an inbound message is in the helpdesk.
func (s *Store) MarkPosted(ctx context.Context, db DBTX, id, ticketID, connectionID int64, remoteID string) error {
	_, err := db.Exec(ctx, `UPDATE messages SET state = 'done', ticket_id = $2, connection_id = $3, remote_id = $4,
		error = NULL, updated_at = now() WHERE id = $1`, id, ticketID, connectionID, remoteID)
	return err
}

// MarkSent records that WhatsApp accepted an outbound message.
func (s *Store) MarkSent(ctx context.Context, id int64, wamid string) error {
	_, err := s.pool.Exec(ctx, `UPDATE messages SET state = 'done', wamid = $2, status = 'accepted', error = NULL,
		updated_at = now() WHERE id = $1`, id, wamid)
	return err
}

// MarkState sets a message's state and, when reason is not nil, its error.
func (s *Store) MarkState(ctx context.Context, id int64, state string, reason any) error {
	return s.MarkStateTx(ctx, s.pool, id, state, reason)
}

// MarkStateTx is MarkState in a caller's transaction.
func (s *Store) MarkStateTx(ctx context.Context, db DBTX, id int64, state string, reason any) error {
	var b []byte
	if reason != nil {
		var err error
		if b, err = json.Marshal(reason); err != nil {
			return err
		}
	}
	_, err := db.Exec(ctx, `UPDATE messages SET state = $2, error = coalesce($3::jsonb, error), updated_at = now()
		WHERE id = $1`, id, state, jsonText(b))
	return err
}

// ReleaseWaiting makes a conversation's outbound messages held for the
// 24-hour window pending again and reports how many there were.
func (s *Store) ReleaseWaiting(ctx context.Context, db DBTX, conversationID int64) (int, error) {
	tag, err := db.Exec(ctx, `UPDATE messages SET state = 'pending', updated_at = now()
		WHERE conversation_id = $1 AND direction = 'out' AND state = 'waiting_window'`, conversationID)
	return int(tag.RowsAffected()), err
}

// Outbound is an agent reply (or an API send) to store.
type Outbound struct {
	ConversationID int64
	ConnectionID   *int64
	TicketID       *int64
	RemoteID       string // the helpdesk comment id; "" for API sends
	Kind           string
	Body           string
	Media          json.RawMessage // attachments to send
	Author         string
}

// InsertOutbound stores an outbound message at the end of its conversation,
// once per (connection, remote id). It reports false for a duplicate,
// including a comment relaydesk itself posted.
func (s *Store) InsertOutbound(ctx context.Context, db DBTX, o Outbound) (int64, bool, error) {
	var remote *string
	if o.RemoteID != "" {
		remote = &o.RemoteID
	}
	var id int64
	err := db.QueryRow(ctx, `
		WITH seq AS (UPDATE conversations SET last_seq = last_seq + 1, updated_at = now() WHERE id = $1 RETURNING last_seq)
		INSERT INTO messages (conversation_id, direction, seq, kind, body, media, connection_id, ticket_id, remote_id, author)
		SELECT $1, 'out', seq.last_seq, $2, $3, $4::jsonb, $5, $6, $7, $8 FROM seq
		ON CONFLICT (connection_id, remote_id) DO NOTHING
		RETURNING id`, o.ConversationID, o.Kind, o.Body, jsonText(o.Media), o.ConnectionID, o.TicketID, remote, o.Author).Scan(&id)
	if isNoRows(err) {
		return 0, false, nil
	}
	return id, err == nil, err
}

// RecordPart remembers that part i of a multi-part outbound message was
// accepted by WhatsApp, so a retry does not send it again.
func (s *Store) RecordPart(ctx context.Context, id int64, i int, wamid string) error {
	_, err := s.pool.Exec(ctx, `UPDATE messages SET payload = jsonb_set(coalesce(payload, '{}'), '{parts}',
		coalesce(payload->'parts', '{}') || jsonb_build_object($2::text, $3::text)), updated_at = now() WHERE id = $1`,
		id, strconv.Itoa(i), wamid)
	return err
}

// SetMedia replaces a message's media description (after hydrating an
// agent reply's attachments).
func (s *Store) SetMedia(ctx context.Context, id int64, body string, media json.RawMessage) error {
	_, err := s.pool.Exec(ctx, `UPDATE messages SET body = $2, media = $3::jsonb, updated_at = now() WHERE id = $1`,
		id, body, jsonText(media))
	return err
}

// RetryMessage puts a failed (or held) message back in its queue and reports
// its conversation and direction; the caller enqueues the job in the same
// transaction when MarkQueued says so.
func (s *Store) RetryMessage(ctx context.Context, db DBTX, id int64) (conversationID int64, direction string, err error) {
	err = db.QueryRow(ctx, `UPDATE messages SET state = 'pending', attempts = 0, updated_at = now()
		WHERE id = $1 AND state IN ('failed', 'waiting_window') RETURNING conversation_id, direction`, id).
		Scan(&conversationID, &direction)
	return conversationID, direction, notFound(err)
}
