package store

import (
	"context"
	"time"
)

// StateUnrouted holds a customer message no route of its number matches:
// it waits, shown on the admin page, until an admin routes it.
const StateUnrouted = "unrouted"

// UnroutedMessage is a held customer message, for the admin page.
type UnroutedMessage struct {
	ID             MessageID
	ConversationID ConversationID
	AccountID      AccountID
	Number         string // the account's name
	WaID           string // empty for a customer without a phone
	UserID         string
	Username       string
	ProfileName    string
	Kind           string
	Body           string
	CreatedAt      time.Time
}

const unroutedQuery = `SELECT m.id, m.conversation_id, a.id, a.name, coalesce(ct.wa_id, ''), coalesce(ct.user_id, ''), ct.username, ct.profile_name, m.kind, m.body, m.created_at
	FROM messages m JOIN conversations c ON c.id = m.conversation_id JOIN whatsapp_accounts a ON a.id = c.account_id
	JOIN contacts ct ON ct.id = c.contact_id WHERE m.state = 'unrouted' AND m.direction = 'in'`

// Customer is the held message's customer.
func (u UnroutedMessage) Customer() Customer {
	return Customer{WaID: u.WaID, UserID: u.UserID, Username: u.Username, ProfileName: u.ProfileName}
}

func scanUnrouted(row scanner) (UnroutedMessage, error) {
	var u UnroutedMessage
	err := row.Scan(&u.ID, &u.ConversationID, &u.AccountID, &u.Number, &u.WaID, &u.UserID, &u.Username, &u.ProfileName, &u.Kind, &u.Body, &u.CreatedAt)
	return u, err
}

// UnroutedMessages lists every held customer message, by number then age
// (at most limit).
func (q *Queries) UnroutedMessages(ctx context.Context, limit int) ([]UnroutedMessage, error) {
	out, err := list(ctx, q.db, scanUnrouted, unroutedQuery+` ORDER BY a.name, m.created_at, m.id LIMIT $1`, limit)
	return out, wrap(err, "list unrouted messages")
}

// UnroutedCount is how many customer messages of a number are held.
type UnroutedCount struct {
	Number string
	Count  int
}

// UnroutedCounts counts the held customer messages of every number that
// has any (the metric relaydesk_unrouted_messages).
func (q *Queries) UnroutedCounts(ctx context.Context) ([]UnroutedCount, error) {
	out, err := list(ctx, q.db, func(r scanner) (UnroutedCount, error) {
		var c UnroutedCount
		return c, r.Scan(&c.Number, &c.Count)
	}, `SELECT a.name, count(*) FROM messages m JOIN conversations c ON c.id = m.conversation_id
		JOIN whatsapp_accounts a ON a.id = c.account_id WHERE m.state = 'unrouted' AND m.direction = 'in'
		GROUP BY a.name ORDER BY a.name`)
	return out, wrap(err, "count unrouted messages")
}

// ReleaseUnrouted puts a number's held customer messages back in their
// conversations' queues and returns those conversations.
func (q *Queries) ReleaseUnrouted(ctx context.Context, accountID AccountID) ([]ConversationID, error) {
	out, err := column[ConversationID](ctx, q.db, `WITH r AS (UPDATE messages m SET state = 'pending', attempts = 0,
		updated_at = now() FROM conversations c WHERE c.id = m.conversation_id AND c.account_id = $1 AND m.state = 'unrouted'
		RETURNING m.conversation_id) SELECT DISTINCT conversation_id FROM r`, accountID)
	return out, wrap(err, "release unrouted messages of account %d", accountID)
}

// StateHeld holds a message whose helpdesk connection is disabled (a
// customer message for it, or an agent reply from it): it waits, shown on
// the conversation page with its reason, until the connection is enabled
// again (ReleaseHeld).
const StateHeld = "held"

// ReleaseHeld puts every message held for a disabled connection back in
// its conversation's queue and returns those conversations with the
// directions to wake. A message whose connection is still disabled is held
// again when its job reaches it.
func (q *Queries) ReleaseHeld(ctx context.Context) (in, out []ConversationID, err error) {
	rows, err := q.db.Query(ctx, `WITH r AS (UPDATE messages SET state = 'pending', updated_at = now()
		WHERE state = 'held' RETURNING conversation_id, direction)
		SELECT DISTINCT conversation_id, direction FROM r ORDER BY conversation_id`)
	if err != nil {
		return nil, nil, wrap(err, "release held messages")
	}
	defer rows.Close()
	for rows.Next() {
		var id ConversationID
		var dir string
		if err := rows.Scan(&id, &dir); err != nil {
			return nil, nil, wrap(err, "release held messages")
		}
		if dir == "in" {
			in = append(in, id)
		} else {
			out = append(out, id)
		}
	}
	return in, out, wrap(rows.Err(), "release held messages")
}
