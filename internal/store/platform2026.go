package store

import (
	"context"
	"time"

	"github.com/relaydesk/relaydesk/internal/whatsapp"
)

// Authors of messages relaydesk did not get from the customer or an agent
// (messages.author), and of customer messages Meta's AI handled.
const (
	// AuthorCustomerAI is a customer message that arrived while Meta's AI
	// held the conversation (the standby webhook field).
	AuthorCustomerAI = "customer_ai"
	// AuthorMetaAI is a reply of Meta's AI agent.
	AuthorMetaAI = "meta_ai"
	// AuthorBusinessApp is a message the business sent from the WhatsApp
	// Business app on a coexistence number (smb_message_echoes).
	AuthorBusinessApp = "business_app"
	// AuthorWhatsApp is an event WhatsApp reported about the conversation
	// (a handover of control), shown to agents as a note.
	AuthorWhatsApp = "whatsapp"
)

// KindNote is the kind of an inbound-queue row that is posted on the ticket
// as an internal note (its body is the note's text), not as the customer's
// comment.
const KindNote = "note"

// SideInbound is what a delivery brought about one customer's conversation
// besides the customer's own messages: echoes, Meta's AI replies, handover
// events.
type SideInbound struct {
	AccountID AccountID
	Customer  Customer
	Rows      []SideRow
}

// SideRow is one row to store. Rows are inserted in order; a redelivered
// wamid is skipped.
type SideRow struct {
	// WAMID deduplicates the row; empty for none.
	WAMID string
	// Direction is "in" (posted on the ticket by the inbound queue, as a
	// note when Kind is KindNote) or "out" (an echo: stored as sent).
	Direction string
	Kind      string
	Body      string
	Author    string
	// Message is the decoded WhatsApp message, kept in wa_message.
	Message *whatsapp.Message
	At      time.Time
	// Echo marks an outbound row relaydesk did not send: it is stored done
	// (status "sent") and never sent.
	Echo bool
	// IfPrevious: skip this row when the row before it was a redelivery
	// (the note of an echo already stored).
	IfPrevious bool
}

// SideResult says what RecordSide stored.
type SideResult struct {
	ConversationID ConversationID
	// Inserted counts the new rows; InsertedIn the new inbound-queue rows,
	// which the caller wakes the delivery job for.
	Inserted, InsertedIn int
}

// RecordSide upserts the customer's contact and conversation and stores the
// rows. It never moves the conversation's last inbound time: none of these
// rows is the customer writing, so none opens or extends the 24-hour window.
func (q *Queries) RecordSide(ctx context.Context, in SideInbound) (SideResult, error) {
	var res SideResult
	var ir InboundResult
	lastSeq, err := q.upsertConversation(ctx, Inbound{AccountID: in.AccountID, Customer: in.Customer}, len(in.Rows), time.Time{}, &ir)
	if err != nil {
		return res, wrap(err, "record side messages of %s: upsert conversation", in.Customer.Key())
	}
	res.ConversationID = ir.ConversationID
	seq := lastSeq - int64(len(in.Rows))
	prev := true
	for _, r := range in.Rows {
		seq++
		if r.IfPrevious && !prev {
			continue
		}
		decoded, err := jsonArg(r.Message)
		if err != nil {
			return res, wrap(err, "record side message %s", r.WAMID)
		}
		state, status := StatePending, ""
		if r.Echo {
			state, status = StateDone, whatsapp.StatusSent
		}
		var wamid *string
		if r.WAMID != "" {
			wamid = &r.WAMID
		}
		tag, err := q.db.Exec(ctx, `
			INSERT INTO messages (conversation_id, direction, seq, wamid, kind, body, wa_message, wa_timestamp, author, state, status, echo)
			VALUES ($1, $2, $3, $4, $5, $6, $7::jsonb, $8, $9, $10, $11, $12)
			ON CONFLICT (wamid) DO NOTHING`,
			res.ConversationID, r.Direction, seq, wamid, r.Kind, r.Body, decoded, nullTime(r.At), r.Author, state, status, r.Echo)
		if err != nil {
			return res, wrap(err, "record side message %s", r.WAMID)
		}
		prev = tag.RowsAffected() == 1
		if prev {
			res.Inserted++
			if r.Direction == "in" {
				res.InsertedIn++
			}
		}
	}
	return res, nil
}

// MarkHandledByAI marks stored customer messages as having arrived while
// Meta's AI held the conversation (author AuthorCustomerAI).
func (q *Queries) MarkHandledByAI(ctx context.Context, ids []MessageID) error {
	if len(ids) == 0 {
		return nil
	}
	_, err := q.db.Exec(ctx, `UPDATE messages SET author = $2 WHERE id = ANY($1) AND direction = 'in'`, ids, AuthorCustomerAI)
	return wrap(err, "mark messages handled by Meta's AI")
}

// SetAIHolds records whether Meta's AI holds a conversation, and reports
// whether that changed.
func (q *Queries) SetAIHolds(ctx context.Context, id ConversationID, holds bool) (bool, error) {
	tag, err := q.db.Exec(ctx, `UPDATE conversations SET ai_holds = $2, updated_at = now() WHERE id = $1 AND ai_holds <> $2`, id, holds)
	if err != nil {
		return false, wrap(err, "set ai_holds of conversation %d", id)
	}
	return tag.RowsAffected() == 1, nil
}

// AIHolds reports whether Meta's AI holds a conversation (its last
// messages came on the standby field, or a handover gave it the thread).
func (q *Queries) AIHolds(ctx context.Context, id ConversationID) (bool, error) {
	var holds bool
	err := q.db.QueryRow(ctx, `SELECT ai_holds FROM conversations WHERE id = $1`, id).Scan(&holds)
	return holds, wrap(err, "ai_holds of conversation %d", id)
}

// MessageInConversation returns the conversation's message with a wamid
// (either direction), for edits and revokes naming it.
func (q *Queries) MessageInConversation(ctx context.Context, id ConversationID, wamid string) (Message, error) {
	m, err := scanMessage(q.db.QueryRow(ctx, `SELECT `+messageColumns+` FROM messages WHERE conversation_id = $1 AND wamid = $2`, id, wamid))
	return m, wrap(err, "message %s of conversation %d", wamid, id)
}

// LastCustomerWAMID returns the wamid of the customer's newest message in a
// conversation ("" when none), the one a read receipt names.
func (q *Queries) LastCustomerWAMID(ctx context.Context, id ConversationID) (string, error) {
	var wamid string
	err := q.db.QueryRow(ctx, `SELECT wamid FROM messages WHERE conversation_id = $1 AND direction = 'in'
		AND author IN ('customer', $2) AND kind NOT IN ($3, 'edit', 'revoke') AND wamid IS NOT NULL
		ORDER BY wa_timestamp DESC NULLS LAST, seq DESC LIMIT 1`, id, AuthorCustomerAI, KindNote).Scan(&wamid)
	if isNoRows(err) {
		return "", nil
	}
	return wamid, wrap(err, "last customer message of conversation %d", id)
}

// Pricing is how WhatsApp bills one outbound message, from its status
// webhooks (statuses[].pricing).
type Pricing struct {
	Category, Type, Model string
	Billable              bool
}

// RecordPricing keeps the pricing of an outbound message of the account's
// number (matched like ApplyStatus: another number's wamid changes nothing).
// The latest status's pricing wins: Meta repeats it on every status.
func (q *Queries) RecordPricing(ctx context.Context, accountID AccountID, wamid string, p Pricing) error {
	if p.Category == "" && p.Model == "" && p.Type == "" {
		return nil
	}
	_, err := q.db.Exec(ctx, `UPDATE messages m SET pricing_category = nullif($3, ''), pricing_billable = $4,
			pricing_type = nullif($5, ''), pricing_model = nullif($6, ''), updated_at = now()
		FROM conversations c
		WHERE c.id = m.conversation_id AND c.account_id = $1 AND m.wamid = $2 AND m.direction = 'out'
			AND (m.pricing_category, m.pricing_billable, m.pricing_type, m.pricing_model)
				IS DISTINCT FROM (nullif($3, ''), $4, nullif($5, ''), nullif($6, ''))`,
		accountID, wamid, p.Category, p.Billable, p.Type, p.Model)
	return wrap(err, "record pricing of %s", wamid)
}

// PricingCount is how many outbound messages of a number WhatsApp priced in
// one category in one month (UTC), and how many of them were billable.
type PricingCount struct {
	Month    time.Time `json:"month"`
	Category string    `json:"category"`
	Messages int       `json:"messages"`
	Billable int       `json:"billable"`
}

// PricingByMonth counts a number's priced outbound messages (not echoes of
// the Business app) per month of sending (UTC) and category, newest month
// first, for the last months months.
func (q *Queries) PricingByMonth(ctx context.Context, accountID AccountID, months int) ([]PricingCount, error) {
	out, err := list(ctx, q.db, func(row scanner) (PricingCount, error) {
		var p PricingCount
		err := row.Scan(&p.Month, &p.Category, &p.Messages, &p.Billable)
		return p, err
	}, `SELECT date_trunc('month', m.created_at AT TIME ZONE 'UTC') AT TIME ZONE 'UTC', m.pricing_category,
			count(*), count(*) FILTER (WHERE m.pricing_billable)
		FROM messages m JOIN conversations c ON c.id = m.conversation_id
		WHERE c.account_id = $1 AND m.pricing_category IS NOT NULL AND NOT m.echo
			AND m.created_at >= date_trunc('month', now() AT TIME ZONE 'UTC') AT TIME ZONE 'UTC' - make_interval(months => $2 - 1)
		GROUP BY 1, 2 ORDER BY 1 DESC, 2`, accountID, max(months, 1))
	return out, wrap(err, "pricing of account %d", accountID)
}
