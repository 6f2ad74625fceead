package store

import (
	"context"
	"fmt"
	"strings"
	"time"
)

// Posted is a customer message now in the helpdesk, to be recorded: its
// ticket, connection and comment id.
type Posted struct {
	Message    MessageID
	Ticket     TicketID
	Connection ConnectionID
	RemoteID   string
}

// InboundStep is one step of a conversation's customer-message queue: the
// queue as TakeInbound read it and the message it took, if any.
type InboundStep struct {
	Queue InboundQueue
	// Message is the message taken, with an attempt counted (Attempts is
	// the count before it, as NextPendingAttempt returns it); nil when none
	// is pending or the queue has not settled yet.
	Message *Message
}

// TakeInbound is the delivery job's one statement a customer message: it
// records posted (when not nil) the way MarkPosted does, reads the queue
// (InboundQueueOf, counting posted as done) and, when the longest-waiting
// pending message has been stored for at least settle by the database's
// clock, takes the first pending one in the customer's order and counts an
// attempt on it (NextPendingAttempt). What took three round trips a message
// takes one; when the queue must still settle, Message is nil and
// OldestPending says how long (see the bridge's settleWait).
func (q *Queries) TakeInbound(ctx context.Context, conversationID ConversationID, posted *Posted, settle time.Duration) (InboundStep, error) {
	var (
		postedID   *MessageID
		ticket     *TicketID
		connection *ConnectionID
		remote     *string
		step       InboundStep
	)
	if posted != nil {
		postedID, ticket, connection, remote = &posted.Message, &posted.Ticket, &posted.Connection, &posted.RemoteID
	}
	// The statement's subqueries see the rows as they were before its
	// UPDATEs: the message just posted is still pending to them, so it is
	// left out of the queue by id, and its timestamp counts as posted.
	rows, err := q.db.Query(ctx, `
		WITH posted AS (
			UPDATE messages SET state = 'done', ticket_id = $3, connection_id = $4, remote_id = $5, error = NULL,
				updated_at = now()
			WHERE id = $2 RETURNING wa_timestamp
		), queue AS (
			SELECT (SELECT min(created_at) FROM messages WHERE conversation_id = $1 AND direction = 'in'
					AND state = 'pending' AND id IS DISTINCT FROM $2) AS oldest,
				now() AS now,
				greatest((SELECT max(wa_timestamp) FROM messages WHERE conversation_id = $1 AND direction = 'in'
					AND state = 'done'), (SELECT wa_timestamp FROM posted)) AS last_posted
		), taken AS (
			UPDATE messages SET attempts = attempts + 1, updated_at = now()
			WHERE id = (SELECT id FROM messages WHERE conversation_id = $1 AND state = 'pending' AND direction = 'in'
					AND id IS DISTINCT FROM $2 ORDER BY wa_timestamp, seq LIMIT 1)
				AND (SELECT oldest FROM queue) <= now() - $6::interval
			RETURNING `+messageColumns+`
		)
		SELECT queue.oldest, queue.now, queue.last_posted, taken.* FROM queue LEFT JOIN taken ON true`,
		conversationID, postedID, ticket, connection, remote, max(settle, 0))
	if err != nil {
		return step, wrap(err, "take next customer message of conversation %d", conversationID)
	}
	defer rows.Close()
	if !rows.Next() {
		if err := rows.Err(); err != nil {
			return step, wrap(err, "take next customer message of conversation %d", conversationID)
		}
		return step, fmt.Errorf("take next customer message of conversation %d: no row", conversationID)
	}
	queue := []any{&step.Queue.OldestPending, &step.Queue.Now, &step.Queue.LastPosted}
	var m Message
	fields := m.fields()
	if rows.RawValues()[len(queue)] == nil { // no message taken: its columns are NULL
		fields = make([]any, len(fields))
	} else {
		step.Message = &m
	}
	if err := rows.Scan(append(queue, fields...)...); err != nil {
		return InboundStep{}, wrap(err, "take next customer message of conversation %d", conversationID)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return InboundStep{}, wrap(err, "take next customer message of conversation %d", conversationID)
	}
	if step.Message != nil {
		step.Message.Attempts--
	}
	return step, nil
}

// ClaimAndLoad takes a direction's lease on a conversation like
// ClaimConversation and, in the same statement, reads the conversation
// with its contact (ConversationByID) and its number (AccountByID). ok is
// false when another worker holds the lease (or the conversation is gone:
// the caller tells which).
func (q *Queries) ClaimAndLoad(ctx context.Context, id ConversationID, dir Direction, d time.Duration) (c Conversation, a Account, ok bool, err error) {
	col, err := dir.column()
	if err != nil {
		return c, a, false, err
	}
	row := q.db.QueryRow(ctx, fmt.Sprintf(`
		WITH claimed AS (
			UPDATE conversations SET %[1]s_queued = false, %[1]s_lease_until = now() + $2
			WHERE id = $1 AND (%[1]s_lease_until IS NULL OR %[1]s_lease_until < now())
			RETURNING id, account_id, contact_id, last_inbound_at, reengaged_at
		)
		SELECT c.id, c.account_id, c.contact_id, `+contactIDColumns+`, k.profile_name, coalesce(k.changed_to_wa_id, ''),
			c.last_inbound_at, c.reengaged_at, `+accountColumnsOf("a")+`
		FROM claimed c JOIN contacts k ON k.id = c.contact_id JOIN whatsapp_accounts a ON a.id = c.account_id`, col), id, d)
	err = row.Scan(append([]any{&c.ID, &c.AccountID, &c.ContactID, &c.WaID, &c.UserID, &c.Username, &c.ProfileName,
		&c.ChangedToWaID, &c.LastInboundAt, &c.ReengagedAt}, a.fields()...)...)
	if isNoRows(err) {
		return c, a, false, nil
	}
	return c, a, err == nil, wrap(err, "claim conversation %d %s", id, dir)
}

// accountColumnsOf is accountColumns of the table named alias in a join.
func accountColumnsOf(alias string) string {
	cols := strings.Split(accountColumns, ",")
	for i, c := range cols {
		cols[i] = alias + "." + strings.TrimSpace(c)
	}
	return strings.Join(cols, ", ")
}
