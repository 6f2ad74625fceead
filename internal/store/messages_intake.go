package store

import (
	"context"
	"time"

	"github.com/relaydesk/relaydesk/internal/whatsapp"
)

// Inbound is what one delivery brought from one customer to one number.
type Inbound struct {
	AccountID   AccountID
	WaID        string
	ProfileName string
	Messages    []InboundMessage
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
		return res, wrap(err, "record inbound from %s: upsert conversation", in.WaID)
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
			UPDATE whatsapp_accounts SET last_inbound_at = $10
			WHERE id = $9 AND EXISTS (SELECT 1 FROM ins)
				AND (last_inbound_at IS NULL OR last_inbound_at < $10 OR last_inbound_at > now() + interval '1 hour')
			RETURNING 1
		)
		SELECT (SELECT count(*) FROM ins), (SELECT count(*) FROM queued),
			(SELECT coalesce(array_agg(id ORDER BY seq), '{}') FROM ins)`,
		res.ConversationID, seqs, wamids, kinds, bodies, media, decoded, ats, in.AccountID, nullTime(last)).
		Scan(&res.Inserted, &queued, &res.InsertedIDs)
	if err != nil {
		return res, wrap(err, "record inbound from %s: insert messages", in.WaID)
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
	// The common case in one statement. The contact is only rewritten when
	// its profile name changes; otherwise its id comes from the SELECT
	// branch, which runs only when the upsert returned nothing.
	err := q.db.QueryRow(ctx, `
		WITH upsert AS (
			INSERT INTO contacts (wa_id, profile_name) VALUES ($1, $2)
			ON CONFLICT (wa_id) DO UPDATE SET profile_name = excluded.profile_name, updated_at = now()
				WHERE excluded.profile_name <> '' AND contacts.profile_name IS DISTINCT FROM excluded.profile_name
			RETURNING id
		), contact AS (
			(SELECT id FROM upsert UNION ALL SELECT id FROM contacts WHERE wa_id = $1) LIMIT 1
		)
		INSERT INTO conversations (account_id, contact_id, last_seq, last_inbound_at)
		SELECT $3, contact.id, $4, $5 FROM contact
		ON CONFLICT (account_id, contact_id) DO UPDATE SET last_seq = conversations.last_seq + $4,
			last_inbound_at = greatest(CASE WHEN conversations.last_inbound_at < now() + interval '1 hour' THEN conversations.last_inbound_at END, excluded.last_inbound_at), updated_at = now()
		RETURNING id, contact_id, last_seq`, in.WaID, in.ProfileName, in.AccountID, n, nullTime(last)).
		Scan(&res.ConversationID, &res.ContactID, &lastSeq)
	if err == nil || !isNoRows(err) {
		return lastSeq, err
	}

	// The contact was created by a transaction that committed after this
	// statement's snapshot was taken: read it with a fresh one.
	if err := q.db.QueryRow(ctx, `SELECT id FROM contacts WHERE wa_id = $1`, in.WaID).Scan(&res.ContactID); err != nil {
		return 0, err
	}
	err = q.db.QueryRow(ctx, `
		INSERT INTO conversations (account_id, contact_id, last_seq, last_inbound_at) VALUES ($1, $2, $3, $4)
		ON CONFLICT (account_id, contact_id) DO UPDATE SET last_seq = conversations.last_seq + $3,
			last_inbound_at = greatest(CASE WHEN conversations.last_inbound_at < now() + interval '1 hour' THEN conversations.last_inbound_at END, excluded.last_inbound_at), updated_at = now()
		RETURNING id, last_seq`, in.AccountID, res.ContactID, n, nullTime(last)).Scan(&res.ConversationID, &lastSeq)
	return lastSeq, err
}

// StatusUpdate is a WhatsApp status for an outbound message.
type StatusUpdate struct {
	WAMID  string
	Status string
	At     time.Time
	Errors []whatsapp.Error // the failure's errors, for "failed"
}

// StatusResult says what ApplyStatus changed.
type StatusResult struct {
	MessageID    MessageID
	Found        bool // the wamid is an outbound message relaydesk sent
	Advanced     bool // the stored status moved forward
	FirstFailure bool // the message's failure was recorded for the first time
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
			SELECT id, status, error FROM messages WHERE wamid = $1 AND direction = 'out' FOR UPDATE
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
		u.WAMID, u.Status, u.At, failure).Scan(&r.MessageID, &r.Advanced, &r.FirstFailure)
	if isNoRows(err) {
		// Unknown wamid, or nothing to change (a redelivery or a late status).
		err = q.db.QueryRow(ctx, `SELECT id FROM messages WHERE wamid = $1 AND direction = 'out'`, u.WAMID).Scan(&r.MessageID)
		if isNoRows(err) {
			return r, nil
		}
	}
	r.Found = err == nil
	return r, wrap(err, "apply status %s of %s", u.Status, u.WAMID)
}
