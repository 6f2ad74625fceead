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
	// Released is set when no customer message was pending: the statement
	// gave the conversation's inbound lease back (ReleaseConversation).
	Released bool
}

// TakeInbound is the delivery job's one statement a customer message: it
// records posted (when not nil) the way MarkPosted does, reads the queue
// (InboundQueue, counting posted as done) and, when the longest-waiting
// pending message has been stored for at least settle by the database's
// clock, takes the first pending one in the customer's order and counts an
// attempt on it (NextPendingAttempt). What took three round trips a message
// takes one; when the queue must still settle, Message is nil and
// OldestPending says how long (see the bridge's settleWait). When nothing
// is pending, the job is done: the statement also releases the lease.
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
	next, err := pendingQueue("in", "id IS DISTINCT FROM $2")
	if err != nil {
		return step, err
	}
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
			WHERE id = (`+next+`) AND (SELECT oldest FROM queue) <= now() - $6::interval
			RETURNING `+messageColumns+`
		), released AS (
			UPDATE conversations SET inbound_lease_until = NULL
			WHERE id = $1 AND (SELECT oldest FROM queue) IS NULL
			RETURNING id
		)
		SELECT EXISTS (SELECT FROM released), queue.oldest, queue.now, queue.last_posted, taken.*
		FROM queue LEFT JOIN taken ON true`,
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
	var m Message
	present, dest := presentGroups(rows.RawValues(), [][]any{
		{&step.Released, &step.Queue.OldestPending, &step.Queue.Now, &step.Queue.LastPosted},
		m.fields(), // NULL when no message was taken
	})
	if err := rows.Scan(dest...); err != nil {
		return InboundStep{}, wrap(err, "take next customer message of conversation %d", conversationID)
	}
	if present[1] {
		step.Message = &m
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

// Claimed is what a delivery job reads with its claim on a conversation.
type Claimed struct {
	Conversation Conversation
	Account      Account
	// Ticket is the conversation's active ticket and Connection that
	// ticket's helpdesk connection; both nil when it has none.
	Ticket     *Ticket
	Connection *Connection
	// Breaker is the circuit breaker of the queue's target when the claim
	// knows the target: the number's for replies, the active ticket's
	// connection's for customer messages (a breaker without a row is
	// closed); nil for customer messages without a ticket.
	Breaker *Breaker
}

// ClaimAndLoad takes a direction's lease on a conversation for d and clears
// its queued flag, so that work stored from now on enqueues a new job, and,
// in the same statement, reads what the job needs first: the conversation with its contact (ConversationByID), its number
// (AccountByID), its active ticket with the ticket's connection, and the
// breaker of the queue's target (BreakerOf). ok is false when another
// worker holds the lease (or the conversation is gone: the caller tells
// which).
func (q *Queries) ClaimAndLoad(ctx context.Context, id ConversationID, dir Direction, d time.Duration) (cl Claimed, ok bool, err error) {
	col, err := dir.column()
	if err != nil {
		return cl, false, err
	}
	breakerOn := `b.target = 'connection' AND b.target_id = t.connection_id`
	if dir == DirOut {
		breakerOn = `b.target = 'account' AND b.target_id = c.account_id`
	}
	rows, err := q.db.Query(ctx, fmt.Sprintf(`
		WITH claimed AS (
			UPDATE conversations SET %[1]s_queued = false, %[1]s_lease_until = now() + $2
			WHERE id = $1 AND (%[1]s_lease_until IS NULL OR %[1]s_lease_until < now())
			RETURNING id, account_id, contact_id, last_inbound_at, reengaged_at
		)
		SELECT c.id, c.account_id, c.contact_id, `+contactIDColumns+`, k.profile_name, coalesce(k.changed_to_wa_id, ''),
			c.last_inbound_at, c.reengaged_at, `+columnsOf("a", accountColumns)+`, `+columnsOf("t", ticketColumns)+`,
			`+columnsOf("h", connectionColumns)+`, `+columnsOf("b", breakerColumns)+`
		FROM claimed c JOIN contacts k ON k.id = c.contact_id JOIN whatsapp_accounts a ON a.id = c.account_id
			LEFT JOIN tickets t ON t.conversation_id = c.id AND t.active
			LEFT JOIN helpdesk_connections h ON h.id = t.connection_id
			LEFT JOIN breakers b ON `+breakerOn, col), id, d)
	if err != nil {
		return cl, false, wrap(err, "claim conversation %d %s", id, dir)
	}
	defer rows.Close()
	if !rows.Next() {
		return cl, false, wrap(rows.Err(), "claim conversation %d %s", id, dir)
	}
	c := &cl.Conversation
	var (
		t  Ticket
		h  Connection
		br Breaker
	)
	// Each joined row's columns are NULL when it is missing: those are
	// skipped, and the row stays nil.
	groups := [][]any{
		{&c.ID, &c.AccountID, &c.ContactID, &c.WaID, &c.UserID, &c.Username, &c.ProfileName, &c.ChangedToWaID,
			&c.LastInboundAt, &c.ReengagedAt},
		cl.Account.fields(), t.fields(), h.fields(), br.fields(),
	}
	present, dest := presentGroups(rows.RawValues(), groups)
	if err := rows.Scan(dest...); err != nil {
		return Claimed{}, false, wrap(err, "claim conversation %d %s", id, dir)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return Claimed{}, false, wrap(err, "claim conversation %d %s", id, dir)
	}
	if present[2] {
		cl.Ticket = &t
	}
	if present[3] {
		cl.Connection = &h
	}
	switch {
	case present[4]:
		cl.Breaker = &br
	case dir == DirOut:
		cl.Breaker = &Breaker{Target: BreakerAccount, TargetID: int64(c.AccountID), State: BreakerClosed}
	case cl.Ticket != nil:
		cl.Breaker = &Breaker{Target: BreakerConnection, TargetID: int64(cl.Ticket.ConnectionID), State: BreakerClosed}
	}
	return cl, true, nil
}

// presentGroups lays out the scan destinations of a row made of groups of
// columns, one group per joined table: a group whose first column is NULL
// (an outer join that found no row) gets nil destinations, which skip its
// columns.
func presentGroups(raw [][]byte, groups [][]any) (present []bool, dest []any) {
	present = make([]bool, len(groups))
	at := 0
	for i, g := range groups {
		present[i] = at < len(raw) && raw[at] != nil
		if present[i] {
			dest = append(dest, g...)
		} else {
			dest = append(dest, make([]any, len(g))...)
		}
		at += len(g)
	}
	return present, dest
}

// columnsOf is a column list (accountColumns, ticketColumns, ...) with its
// columns qualified by a table alias, for a join; an item "x = y" compares
// two of the table's columns.
func columnsOf(alias, columns string) string {
	items := strings.Split(columns, ",")
	for i, item := range items {
		sides := strings.Split(strings.TrimSpace(item), "=")
		for j, side := range sides {
			sides[j] = alias + "." + strings.TrimSpace(side)
		}
		items[i] = strings.Join(sides, " = ")
	}
	return strings.Join(items, ", ")
}
