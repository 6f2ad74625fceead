package store

import (
	"context"
	"fmt"
	"time"

	"github.com/relaydesk/relaydesk/internal/whatsapp"
)

// Customer is who WhatsApp says wrote: the business-scoped user id (BSUID,
// contacts[].user_id) when WhatsApp sends one, the phone number (wa_id)
// when it is not hidden, at least one of the two; the username and profile
// name when the customer has them.
type Customer struct {
	WaID        string
	UserID      string
	Username    string
	ProfileName string
}

// Key is how the customer is named in errors and logs: the BSUID when
// known, else the phone number.
func (c Customer) Key() string {
	if c.UserID != "" {
		return c.UserID
	}
	return c.WaID
}

// Inbound is what one delivery brought from one customer to one number.
// The customer's contact is the one of the number's business account
// (WABA): contacts are never shared across businesses.
type Inbound struct {
	AccountID AccountID
	Customer  Customer
	Messages  []InboundMessage
}

// InboundMessage is one customer message as stored.
type InboundMessage struct {
	WAMID   string
	Kind    string
	Body    string            // text, caption or a short rendering
	Media   *whatsapp.Media   // media reference (id, mime type, sha256, filename), or nil
	Message *whatsapp.Message // the decoded message, stored in wa_message
	At      time.Time         // WhatsApp's timestamp
}

// InboundResult says what RecordInbound stored.
type InboundResult struct {
	ConversationID ConversationID
	ContactID      ContactID
	Inserted       int         // new messages (the rest were redeliveries)
	InsertedIDs    []MessageID // their ids, in order
	Enqueue        bool        // the caller must enqueue the conversation's delivery job
}

// RecordInbound upserts the contact and conversation and inserts the
// messages in their order, skipping wamids already stored. Run it in the
// transaction that enqueues the delivery job when Enqueue is true.
//
// It is the hot path of every webhook, so it takes two round trips: one
// statement for the contact and the conversation, one for the messages and
// the flags that depend on them.
func (q *Queries) RecordInbound(ctx context.Context, in Inbound) (InboundResult, error) {
	var res InboundResult
	n := len(in.Messages)
	var last time.Time
	for _, m := range in.Messages {
		if m.At.After(last) {
			last = m.At
		}
	}
	lastSeq, err := q.upsertConversation(ctx, in, n, last, &res)
	if err != nil {
		return res, wrap(err, "record inbound from %s: upsert conversation", in.Customer.Key())
	}
	if n == 0 {
		return res, nil
	}

	// One statement for every message of the delivery; the queued flag and
	// the number's last inbound time change only when a message is new. The
	// number's row is written only when the time moves forward (WhatsApp's
	// timestamps are whole seconds): every webhook of a number would
	// otherwise queue on that one row's lock until its commit.
	wamids, kinds, bodies := make([]string, n), make([]string, n), make([]string, n)
	seqs, media, decoded, ats := make([]int64, n), make([]*string, n), make([]*string, n), make([]*time.Time, n)
	for i, m := range in.Messages {
		// A message without WhatsApp's timestamp (Meta always sends one)
		// stores NULL rather than year 1, which would sort it first and
		// show it as sent long ago.
		wamids[i], kinds[i], bodies[i], ats[i] = m.WAMID, m.Kind, m.Body, nullTime(m.At)
		seqs[i] = lastSeq - int64(n) + int64(i) + 1
		if media[i], err = jsonArg(m.Media); err != nil {
			return res, wrap(err, "record inbound %s: media", m.WAMID)
		}
		if decoded[i], err = jsonArg(m.Message); err != nil {
			return res, wrap(err, "record inbound %s: message", m.WAMID)
		}
	}
	var queued int
	err = q.db.QueryRow(ctx, `
		WITH ins AS (
			INSERT INTO messages (conversation_id, direction, seq, wamid, kind, body, media, wa_message, wa_timestamp, author)
			SELECT $1, 'in', u.seq, u.wamid, u.kind, u.body, u.media::jsonb, u.message::jsonb, u.at, 'customer'
			FROM unnest($2::bigint[], $3::text[], $4::text[], $5::text[], $6::text[], $7::text[], $8::timestamptz[])
				AS u(seq, wamid, kind, body, media, message, at)
			ON CONFLICT (wamid) DO NOTHING
			RETURNING id, seq
		), queued AS (
			UPDATE conversations SET inbound_queued = true
			WHERE id = $1 AND NOT inbound_queued AND EXISTS (SELECT 1 FROM ins)
			RETURNING 1
		), account AS (
			-- skipped while another transaction holds the number's row (as
			-- RecordInboundMany does): no queue on one row for a "last seen"
			UPDATE whatsapp_accounts SET last_inbound_at = $10
			WHERE id = (SELECT id FROM whatsapp_accounts WHERE id = $9 AND EXISTS (SELECT 1 FROM ins)
				AND (last_inbound_at IS NULL OR last_inbound_at < $10 OR last_inbound_at > now() + interval '1 hour')
				FOR UPDATE SKIP LOCKED)
			RETURNING 1
		)
		SELECT (SELECT count(*) FROM ins), (SELECT count(*) FROM queued),
			(SELECT coalesce(array_agg(id ORDER BY seq), '{}') FROM ins)`,
		res.ConversationID, seqs, wamids, kinds, bodies, media, decoded, ats, in.AccountID, nullTime(last)).
		Scan(&res.Inserted, &queued, &res.InsertedIDs)
	if err != nil {
		return res, wrap(err, "record inbound from %s: insert messages", in.Customer.Key())
	}
	res.Enqueue = queued == 1
	return res, nil
}

// upsertConversation upserts the contact and the conversation, reserving n
// sequence numbers, and returns the conversation's last one. A stored
// latest inbound time beyond the next hour (written before timestamps were
// clamped) does not survive the next message: greatest() skips the NULL.
func (q *Queries) upsertConversation(ctx context.Context, in Inbound, n int, last time.Time, res *InboundResult) (int64, error) {
	var lastSeq int64
	cu := in.Customer
	if cu.UserID != "" || cu.Username != "" || cu.WaID == "" {
		// A customer with a BSUID: matched on either id (see resolveContact).
		id, err := q.resolveContact(ctx, in.AccountID, cu)
		if err != nil {
			return 0, err
		}
		res.ContactID = id
		return q.upsertConversationOf(ctx, in.AccountID, id, n, last, res)
	}
	// The common case (a phone number only) in one statement. The contact
	// is only rewritten when its profile name changes; otherwise its id
	// comes from the SELECT branch, which runs only when the upsert
	// returned nothing.
	err := q.db.QueryRow(ctx, `
		WITH acc AS (
			SELECT waba_id FROM whatsapp_accounts WHERE id = $3
		), upsert AS (
			INSERT INTO contacts (waba_id, wa_id, profile_name) SELECT acc.waba_id, $1, $2 FROM acc
			ON CONFLICT (waba_id, wa_id) DO UPDATE SET profile_name = excluded.profile_name, updated_at = now()
				WHERE excluded.profile_name <> '' AND contacts.profile_name IS DISTINCT FROM excluded.profile_name
			RETURNING id
		), contact AS (
			(SELECT id FROM upsert UNION ALL SELECT k.id FROM contacts k, acc WHERE k.waba_id = acc.waba_id AND k.wa_id = $1) LIMIT 1
		)
		INSERT INTO conversations (account_id, contact_id, last_seq, last_inbound_at)
		SELECT $3, contact.id, $4, $5 FROM contact
		ON CONFLICT (account_id, contact_id) DO UPDATE SET last_seq = conversations.last_seq + $4,
			last_inbound_at = greatest(CASE WHEN conversations.last_inbound_at < now() + interval '1 hour' THEN conversations.last_inbound_at END, excluded.last_inbound_at), updated_at = now()
		RETURNING id, contact_id, last_seq`, cu.WaID, cu.ProfileName, in.AccountID, n, nullTime(last)).
		Scan(&res.ConversationID, &res.ContactID, &lastSeq)
	if err == nil || !isNoRows(err) {
		return lastSeq, err
	}

	// The contact was created by a transaction that committed after this
	// statement's snapshot was taken: read it with a fresh one.
	if err := q.db.QueryRow(ctx, `SELECT k.id FROM contacts k JOIN whatsapp_accounts a ON a.waba_id = k.waba_id
		WHERE a.id = $1 AND k.wa_id = $2`, in.AccountID, cu.WaID).Scan(&res.ContactID); err != nil {
		return 0, err
	}
	return q.upsertConversationOf(ctx, in.AccountID, res.ContactID, n, last, res)
}

func (q *Queries) upsertConversationOf(ctx context.Context, accountID AccountID, contactID ContactID, n int, last time.Time, res *InboundResult) (int64, error) {
	var lastSeq int64
	err := q.db.QueryRow(ctx, `
		INSERT INTO conversations (account_id, contact_id, last_seq, last_inbound_at) VALUES ($1, $2, $3, $4)
		ON CONFLICT (account_id, contact_id) DO UPDATE SET last_seq = conversations.last_seq + $3,
			last_inbound_at = greatest(CASE WHEN conversations.last_inbound_at < now() + interval '1 hour' THEN conversations.last_inbound_at END, excluded.last_inbound_at), updated_at = now()
		RETURNING id, last_seq`, accountID, contactID, n, nullTime(last)).Scan(&res.ConversationID, &lastSeq)
	return lastSeq, err
}

// resolveContact returns the contact of a customer in the WABA of an
// account, creating it when neither of its ids is known there. A contact
// first seen by phone and later with both ids is the same row: it is found
// by either id (the BSUID first) and gains the id it lacked; a profile name
// or username that changed is kept. An id another contact of the WABA
// already holds is not moved (the two rows stay apart rather than one
// customer's identity overwriting another's).
func (q *Queries) resolveContact(ctx context.Context, accountID AccountID, cu Customer) (ContactID, error) {
	if cu.WaID == "" && cu.UserID == "" {
		return 0, fmt.Errorf("customer without wa_id or user_id")
	}
	for range 2 {
		var id ContactID
		err := q.db.QueryRow(ctx, `
			WITH acc AS (SELECT waba_id FROM whatsapp_accounts WHERE id = $1),
			found AS (
				SELECT k.id, k.user_id, k.wa_id FROM contacts k, acc
				WHERE k.waba_id = acc.waba_id AND (k.user_id = nullif($2, '') OR k.wa_id = nullif($3, ''))
				ORDER BY k.user_id = nullif($2, '') DESC NULLS LAST, k.id LIMIT 1 FOR UPDATE OF k
			)
			UPDATE contacts k SET
				user_id = CASE WHEN $2 <> '' AND NOT EXISTS (SELECT 1 FROM contacts o, acc WHERE o.waba_id = acc.waba_id AND o.user_id = $2 AND o.id <> k.id)
					THEN $2 ELSE k.user_id END,
				wa_id = CASE WHEN $3 <> '' AND NOT EXISTS (SELECT 1 FROM contacts o, acc WHERE o.waba_id = acc.waba_id AND o.wa_id = $3 AND o.id <> k.id)
					THEN $3 ELSE k.wa_id END,
				profile_name = CASE WHEN $4 <> '' THEN $4 ELSE k.profile_name END,
				username = CASE WHEN $5 <> '' THEN $5 ELSE k.username END,
				updated_at = now()
			FROM found WHERE k.id = found.id
			RETURNING k.id`, accountID, cu.UserID, cu.WaID, cu.ProfileName, cu.Username).Scan(&id)
		if err == nil || !isNoRows(err) {
			return id, wrap(err, "contact %s", cu.Key())
		}
		err = q.db.QueryRow(ctx, `
			INSERT INTO contacts (waba_id, user_id, wa_id, profile_name, username)
			SELECT waba_id, nullif($2, ''), nullif($3, ''), $4, $5 FROM whatsapp_accounts WHERE id = $1
			ON CONFLICT DO NOTHING RETURNING id`, accountID, cu.UserID, cu.WaID, cu.ProfileName, cu.Username).Scan(&id)
		if err == nil || !isNoRows(err) {
			return id, wrap(err, "new contact %s", cu.Key())
		}
		// Another transaction created it meanwhile: find it again.
	}
	return 0, fmt.Errorf("contact %s: not found and not created", cu.Key())
}

// StatusUpdate is a WhatsApp status for an outbound message.
type StatusUpdate struct {
	// AccountID is the number the status was delivered for (its
	// phone_number_id, under that number's app's signature): only that
	// number's messages are looked at.
	AccountID AccountID
	WAMID     string
	Status    string
	At        time.Time
	Errors    []whatsapp.Error // the failure's errors, for "failed"
}

// StatusResult says what ApplyStatus changed.
type StatusResult struct {
	MessageID    MessageID
	Found        bool // the wamid is an outbound message relaydesk sent
	Advanced     bool // the stored status moved forward
	FirstFailure bool // the message's failure was recorded for the first time
	// Foreign: the wamid is an outbound message of another number; nothing
	// was changed.
	Foreign bool
}

// ApplyStatus moves an outbound message's status forward only (see
// relaydesk_status_rank) and keeps a failure's details even when the status
// itself does not move (a failure after "delivered" on another device).
func (q *Queries) ApplyStatus(ctx context.Context, u StatusUpdate) (StatusResult, error) {
	var r StatusResult
	var failure *string
	if len(u.Errors) > 0 {
		var err error
		if failure, err = jsonArg(MessageError{WhatsApp: u.Errors}); err != nil {
			return r, wrap(err, "apply status of %s", u.WAMID)
		}
	}
	err := q.db.QueryRow(ctx, `
		WITH old AS (
			SELECT m.id, m.status, m.error FROM messages m JOIN conversations c ON c.id = m.conversation_id
			WHERE m.wamid = $1 AND m.direction = 'out' AND c.account_id = $5 FOR UPDATE OF m
		)
		UPDATE messages m SET
			status = CASE WHEN relaydesk_status_rank($2) > relaydesk_status_rank(old.status) THEN $2 ELSE old.status END,
			status_at = CASE WHEN relaydesk_status_rank($2) > relaydesk_status_rank(old.status) THEN $3 ELSE m.status_at END,
			error = coalesce(old.error, $4::jsonb),
			updated_at = now()
		FROM old
		WHERE m.id = old.id
			AND (relaydesk_status_rank($2) > relaydesk_status_rank(old.status) OR (old.error IS NULL AND $4::jsonb IS NOT NULL))
		RETURNING m.id, m.status <> old.status, old.error IS NULL AND $4::jsonb IS NOT NULL`,
		u.WAMID, u.Status, u.At, failure, u.AccountID).Scan(&r.MessageID, &r.Advanced, &r.FirstFailure)
	if isNoRows(err) {
		// Unknown wamid, another number's, or nothing to change (a
		// redelivery or a late status).
		var account AccountID
		err = q.db.QueryRow(ctx, `SELECT m.id, c.account_id FROM messages m JOIN conversations c ON c.id = m.conversation_id
			WHERE m.wamid = $1 AND m.direction = 'out'`, u.WAMID).Scan(&r.MessageID, &account)
		if isNoRows(err) {
			return r, nil
		}
		if err == nil && account != u.AccountID {
			return StatusResult{Foreign: true}, nil
		}
	}
	r.Found = err == nil
	return r, wrap(err, "apply status %s of %s", u.Status, u.WAMID)
}
