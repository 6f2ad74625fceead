package store

import (
	"context"
	"fmt"
	"strings"
	"time"
)

// Direction names a conversation's work queue.
type Direction string

// The two directions.
const (
	DirIn  Direction = "inbound"  // customer -> helpdesk
	DirOut Direction = "outbound" // agent -> customer
)

// column returns the conversations column prefix of a direction; anything
// else than the two constants is refused, so it never reaches SQL.
func (d Direction) column() (string, error) {
	if d != DirIn && d != DirOut {
		return "", fmt.Errorf("unknown direction %q", string(d))
	}
	return string(d), nil
}

// Conversation is one customer's chat with one number, with what the bridge
// needs to work on it.
type Conversation struct {
	ID            ConversationID
	AccountID     AccountID
	ContactID     ContactID
	WaID          string // the customer's phone number; empty when WhatsApp hides it
	UserID        string // the business-scoped user id (BSUID); empty when unknown
	Username      string
	ProfileName   string
	ChangedToWaID string
	LastInboundAt *time.Time
	ReengagedAt   *time.Time
}

// Customer is the conversation's customer with the ids relaydesk knows.
func (c Conversation) Customer() Customer {
	return Customer{WaID: c.WaID, UserID: c.UserID, Username: c.Username, ProfileName: c.ProfileName}
}

// Label is how a customer is shown to people: "+" and the phone number
// when known, else the username ("@name"), else the BSUID.
func (c Customer) Label() string {
	switch {
	case c.WaID != "":
		return "+" + c.WaID
	case c.Username != "":
		return "@" + strings.TrimPrefix(c.Username, "@")
	default:
		return c.UserID
	}
}

// DisplayName is the name a helpdesk shows for the customer: the username,
// else the profile name, else the phone number or BSUID (Label).
func (c Customer) DisplayName() string {
	switch {
	case c.Username != "":
		return c.Username
	case c.ProfileName != "":
		return c.ProfileName
	default:
		return c.Label()
	}
}

// contactIDColumns selects a contact k's ids; a contact without a phone
// (BSUID only) has a NULL wa_id, read as "".
const contactIDColumns = `coalesce(k.wa_id, ''), coalesce(k.user_id, ''), k.username`

// ConversationByID loads a conversation with its contact.
func (q *Queries) ConversationByID(ctx context.Context, id ConversationID) (Conversation, error) {
	var c Conversation
	err := q.db.QueryRow(ctx, `
		SELECT c.id, c.account_id, c.contact_id, `+contactIDColumns+`, k.profile_name, coalesce(k.changed_to_wa_id, ''),
			c.last_inbound_at, c.reengaged_at
		FROM conversations c JOIN contacts k ON k.id = c.contact_id WHERE c.id = $1`, id).
		Scan(&c.ID, &c.AccountID, &c.ContactID, &c.WaID, &c.UserID, &c.Username, &c.ProfileName, &c.ChangedToWaID,
			&c.LastInboundAt, &c.ReengagedAt)
	return c, wrap(err, "conversation %d", id)
}

// leaseUpdate runs an UPDATE of a direction's lease columns; set and where
// use %[1]s for the column prefix, and it reports whether a row changed.
func (q *Queries) leaseUpdate(ctx context.Context, dir Direction, set, where string, args ...any) (bool, error) {
	col, err := dir.column()
	if err != nil {
		return false, err
	}
	n, err := q.exec(ctx, fmt.Sprintf(`UPDATE conversations SET `+set+` WHERE id = $1`+where, col), args...)
	return n == 1, err
}

// ExtendLease keeps a claimed conversation for another d. A released
// lease stays released: a heartbeat racing the statement that released it
// must not hold the conversation again.
func (q *Queries) ExtendLease(ctx context.Context, id ConversationID, dir Direction, d time.Duration) error {
	_, err := q.leaseUpdate(ctx, dir, `%[1]s_lease_until = now() + $2`, ` AND %[1]s_lease_until IS NOT NULL`, id, d)
	return wrap(err, "extend conversation %d %s lease", id, dir)
}

// ReleaseConversation gives the lease back.
func (q *Queries) ReleaseConversation(ctx context.Context, id ConversationID, dir Direction) error {
	_, err := q.leaseUpdate(ctx, dir, `%[1]s_lease_until = NULL`, ``, id)
	return wrap(err, "release conversation %d %s", id, dir)
}

// MarkQueued sets a direction's queued flag and reports whether it was
// clear, that is whether the caller must enqueue a job in its transaction.
func (q *Queries) MarkQueued(ctx context.Context, id ConversationID, dir Direction) (bool, error) {
	ok, err := q.leaseUpdate(ctx, dir, `%[1]s_queued = true`, ` AND NOT %[1]s_queued`, id)
	return ok, wrap(err, "mark conversation %d %s queued", id, dir)
}

// SetReengaged records that the re-engagement template was sent.
func (q *Queries) SetReengaged(ctx context.Context, id ConversationID, at time.Time) error {
	_, err := q.db.Exec(ctx, `UPDATE conversations SET reengaged_at = $2 WHERE id = $1`, id, at)
	return wrap(err, "set conversation %d reengaged", id)
}

// Stalled returns the conversation directions with messages pending for
// longer than age, no lease held (none, or one a crashed worker left to
// expire) and no live job: the safety net for a job cancelled or discarded
// by hand, or orphaned by a killed process before it claimed its
// conversation (River rescues that one only after RescueStuckJobsAfter,
// while the queued flag keeps new messages from enqueueing another), so
// no conversation waits long.
//
// A live job is a deliver_inbound or send_outbound job of the conversation
// (args conversation_id, matched by containment so river_job's GIN index on
// args serves it) that is waiting to run, or running and attempted within
// orphanAfter: a live worker claims its lease within a second and then
// keeps it alive, so a running job with no lease, attempted earlier, is an
// orphan. A job that is merely waiting (backoff, snooze) is left to run.
func (q *Queries) Stalled(ctx context.Context, age, orphanAfter time.Duration, limit int) (in, out []ConversationID, err error) {
	rows, err := pairs[ConversationID, string](ctx, q.db, `
		SELECT DISTINCT m.conversation_id, m.direction FROM messages m JOIN conversations c ON c.id = m.conversation_id
		WHERE m.state = 'pending' AND m.updated_at < now() - $1::interval
			AND coalesce(CASE m.direction WHEN 'in' THEN c.inbound_lease_until ELSE c.outbound_lease_until END, '-infinity') < now()
			AND NOT EXISTS (SELECT 1 FROM river_job j
				WHERE j.kind = CASE m.direction WHEN 'in' THEN 'deliver_inbound' ELSE 'send_outbound' END
					AND j.args @> jsonb_build_object('conversation_id', m.conversation_id)
					AND (j.state IN ('available', 'scheduled', 'retryable', 'pending')
						OR (j.state = 'running' AND j.attempted_at > now() - $3::interval)))
		LIMIT $2`, age, limit, orphanAfter)
	if err != nil {
		return nil, nil, wrap(err, "stalled conversations")
	}
	for _, s := range rows {
		if s.val == "in" {
			in = append(in, s.key)
		} else {
			out = append(out, s.key)
		}
	}
	return in, out, nil
}

// EnsureConversation returns the conversation of a number with a customer,
// creating the contact (in the number's WABA) and an empty conversation
// when needed (a first message sent through the API, which must be a
// template). The customer is named by phone number or BSUID (see
// IsBSUID); a BSUID the WABA does not know is refused with ErrNotFound, as
// a BSUID only comes from the customer writing first.
func (q *Queries) EnsureConversation(ctx context.Context, accountID AccountID, id string) (ConversationID, error) {
	var contactID ContactID
	var err error
	if IsBSUID(id) {
		err = q.db.QueryRow(ctx, `SELECT k.id FROM contacts k JOIN whatsapp_accounts a ON a.waba_id = k.waba_id
			WHERE a.id = $1 AND k.user_id = $2`, accountID, id).Scan(&contactID)
	} else {
		contactID, err = q.resolveContact(ctx, accountID, Customer{WaID: id})
	}
	if err != nil {
		return 0, wrap(err, "ensure contact %s", id)
	}
	var convID ConversationID
	err = q.db.QueryRow(ctx, `INSERT INTO conversations (account_id, contact_id) VALUES ($1, $2)
		ON CONFLICT (account_id, contact_id) DO UPDATE SET account_id = excluded.account_id RETURNING id`,
		accountID, contactID).Scan(&convID)
	return convID, wrap(err, "ensure conversation of account %d with %s", accountID, id)
}

// IsBSUID reports whether a customer id is a business-scoped user id
// (country code, a dot, alphanumerics: "US.13491208655302741918") rather
// than a phone number (digits only).
func IsBSUID(id string) bool {
	return strings.Contains(id, ".")
}

// RecordNumberChange notes on a contact that WhatsApp reported a new
// number: only the contact of the WABA of the number the system message
// was delivered for (under that number's app's signature), so one app can
// never redirect another business's customer. The customer is named by its
// old phone number or its BSUID; the conversation and its ticket stay.
func (q *Queries) RecordNumberChange(ctx context.Context, accountID AccountID, old Customer, newWaID string, at time.Time) error {
	_, err := q.db.Exec(ctx, `
		UPDATE contacts k SET changed_to_wa_id = $4, changed_at = $5, updated_at = now()
		FROM whatsapp_accounts a
		WHERE a.id = $1 AND k.waba_id = a.waba_id AND (k.wa_id = nullif($2, '') OR k.user_id = nullif($3, ''))`,
		accountID, old.WaID, old.UserID, newWaID, at)
	return wrap(err, "record number change of %s", old.Key())
}

// RecordUserIDChange gives the contact of the WABA of the number the
// system message was delivered for (under that number's app's signature)
// whose BSUID is previous the new BSUID: the customer keeps their contact,
// conversations and tickets. It reports whether a contact changed; it
// changes nothing when no contact has previous, or another contact of the
// WABA already holds next (the customer wrote under the new id before the
// system message came; the two stay apart rather than one overwriting the
// other).
func (q *Queries) RecordUserIDChange(ctx context.Context, accountID AccountID, previous, next string) (bool, error) {
	if previous == "" || next == "" || previous == next {
		return false, nil
	}
	n, err := q.exec(ctx, `
		UPDATE contacts k SET user_id = $3, updated_at = now()
		FROM whatsapp_accounts a
		WHERE a.id = $1 AND k.waba_id = a.waba_id AND k.user_id = $2
			AND NOT EXISTS (SELECT 1 FROM contacts o WHERE o.waba_id = a.waba_id AND o.user_id = $3)`,
		accountID, previous, next)
	return n == 1, wrap(err, "record user id change of %s", previous)
}

// ConversationSummary is one row of the admin page's conversation list.
type ConversationSummary struct {
	ID            ConversationID
	AccountName   string
	WaID          string // empty for a customer without a phone
	UserID        string
	Username      string
	ProfileName   string
	LastInboundAt *time.Time
	LastMessageAt *time.Time
	Messages      int
	Failed        int
	TicketURL     string
	TicketStatus  string
}

// Customer is the listed conversation's customer.
func (c ConversationSummary) Customer() Customer {
	return Customer{WaID: c.WaID, UserID: c.UserID, Username: c.Username, ProfileName: c.ProfileName}
}

// SearchConversations finds conversations whose customer's number contains
// the digits of q, whose profile name or username contains q
// (case-insensitive) or whose BSUID is q, most recently active first. An empty q lists the latest conversations.
func (q *Queries) SearchConversations(ctx context.Context, query string, limit int) ([]ConversationSummary, error) {
	query = strings.TrimSpace(query)
	digits := strings.Map(func(r rune) rune {
		if r >= '0' && r <= '9' {
			return r
		}
		return -1
	}, query)
	out, err := list(ctx, q.db, func(row scanner) (ConversationSummary, error) {
		var c ConversationSummary
		return c, row.Scan(&c.ID, &c.AccountName, &c.WaID, &c.UserID, &c.Username, &c.ProfileName, &c.LastInboundAt,
			&c.LastMessageAt, &c.Messages, &c.Failed, &c.TicketURL, &c.TicketStatus)
	}, `
		SELECT c.id, a.name, `+contactIDColumns+`, k.profile_name, c.last_inbound_at, m.last_at, coalesce(m.n, 0), coalesce(m.failed, 0),
			coalesce(t.url, ''), coalesce(t.status, '')
		FROM conversations c
		JOIN contacts k ON k.id = c.contact_id
		JOIN whatsapp_accounts a ON a.id = c.account_id
		LEFT JOIN LATERAL (SELECT max(created_at) AS last_at, count(*) AS n, count(*) FILTER (WHERE state = 'failed') AS failed
			FROM messages WHERE conversation_id = c.id) m ON true
		LEFT JOIN tickets t ON t.conversation_id = c.id AND t.active
		WHERE $1 = '' OR ($2 <> '' AND k.wa_id LIKE '%' || $2 || '%')
			OR strpos(lower(k.profile_name), lower($1)) > 0
			OR ($1 <> '' AND strpos(lower(k.username), lower(ltrim($1, '@'))) > 0)
			OR k.user_id = $1
		ORDER BY coalesce(m.last_at, c.created_at) DESC, c.id DESC
		LIMIT $3`, query, digits, limit)
	return out, wrap(err, "search conversations")
}

// ConversationTimeline returns a conversation's messages in sequence order
// and its tickets, newest first.
func (q *Queries) ConversationTimeline(ctx context.Context, id ConversationID) ([]Message, []Ticket, error) {
	msgs, err := list(ctx, q.db, scanMessage, `SELECT `+messageColumns+` FROM messages WHERE conversation_id = $1 ORDER BY seq`, id)
	if err != nil {
		return nil, nil, wrap(err, "messages of conversation %d", id)
	}
	tickets, err := list(ctx, q.db, scanTicket, `SELECT `+ticketColumns+` FROM tickets WHERE conversation_id = $1
		ORDER BY created_at DESC, id DESC`, id)
	return msgs, tickets, wrap(err, "tickets of conversation %d", id)
}
