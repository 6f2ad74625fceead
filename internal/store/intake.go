package store

import (
	"context"
	"encoding/json"
	"time"
)

// Inbound is what one delivery brought from one customer to one number.
type Inbound struct {
	AccountID   int64
	WaID        string
	ProfileName string
	Messages    []InboundMessage
}

// InboundMessage is one customer message as stored.
type InboundMessage struct {
	WAMID   string
	Kind    string
	Body    string          // text, caption or a short rendering
	Media   json.RawMessage // media reference (id, mime type, sha256, filename), or nil
	Payload json.RawMessage // the original message JSON
	At      time.Time       // WhatsApp's timestamp
}

// InboundResult says what RecordInbound stored.
type InboundResult struct {
	ConversationID int64
	ContactID      int64
	Inserted       int  // new messages (the rest were redeliveries)
	Enqueue        bool // the caller must enqueue the conversation's delivery job
}

// RecordInbound upserts the contact and conversation and inserts the
// messages in their order, skipping wamids already stored. Run it in the
// transaction that enqueues the delivery job when Enqueue is true.
//
// It is the hot path of every webhook, so it takes two round trips: one
// statement for the contact and the conversation, one for the messages and
// the flags that depend on them.
func (s *Store) RecordInbound(ctx context.Context, db DBTX, in Inbound) (InboundResult, error) {
	var res InboundResult
	n := len(in.Messages)
	var last time.Time
	for _, m := range in.Messages {
		if m.At.After(last) {
			last = m.At
		}
	}
	lastSeq, err := s.upsertConversation(ctx, db, in, n, last, &res)
	if err != nil {
		return res, err
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
	seqs, media, payloads, ats := make([]int64, n), make([]*string, n), make([]*string, n), make([]time.Time, n)
	for i, m := range in.Messages {
		wamids[i], kinds[i], bodies[i], ats[i] = m.WAMID, m.Kind, m.Body, m.At
		seqs[i] = lastSeq - int64(n) + int64(i) + 1
		media[i], payloads[i] = jsonText(m.Media), jsonText(m.Payload)
	}
	var queued int
	err = db.QueryRow(ctx, `
		WITH ins AS (
			INSERT INTO messages (conversation_id, direction, seq, wamid, kind, body, media, payload, wa_timestamp, author)
			SELECT $1, 'in', u.seq, u.wamid, u.kind, u.body, u.media::jsonb, u.payload::jsonb, u.at, 'customer'
			FROM unnest($2::bigint[], $3::text[], $4::text[], $5::text[], $6::text[], $7::text[], $8::timestamptz[])
				AS u(seq, wamid, kind, body, media, payload, at)
			ON CONFLICT (wamid) DO NOTHING
			RETURNING 1
		), queued AS (
			UPDATE conversations SET inbound_queued = true
			WHERE id = $1 AND NOT inbound_queued AND EXISTS (SELECT 1 FROM ins)
			RETURNING 1
		), account AS (
			UPDATE whatsapp_accounts SET last_inbound_at = $10
			WHERE id = $9 AND EXISTS (SELECT 1 FROM ins) AND (last_inbound_at IS NULL OR last_inbound_at < $10)
			RETURNING 1
		)
		SELECT (SELECT count(*) FROM ins), (SELECT count(*) FROM queued)`,
		res.ConversationID, seqs, wamids, kinds, bodies, media, payloads, ats, in.AccountID, nullTime(last)).
		Scan(&res.Inserted, &queued)
	if err != nil {
		return res, err
	}
	res.Enqueue = queued == 1
	return res, nil
}

// upsertConversation upserts the contact and the conversation, reserving n
// sequence numbers, and returns the conversation's last one.
func (s *Store) upsertConversation(ctx context.Context, db DBTX, in Inbound, n int, last time.Time, res *InboundResult) (int64, error) {
	var lastSeq int64
	// The common case in one statement. The contact is only rewritten when
	// its profile name changes; otherwise its id comes from the SELECT
	// branch, which runs only when the upsert returned nothing.
	err := db.QueryRow(ctx, `
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
			last_inbound_at = greatest(conversations.last_inbound_at, excluded.last_inbound_at), updated_at = now()
		RETURNING id, contact_id, last_seq`, in.WaID, in.ProfileName, in.AccountID, n, nullTime(last)).
		Scan(&res.ConversationID, &res.ContactID, &lastSeq)
	if err == nil || !isNoRows(err) {
		return lastSeq, err
	}

	// The contact was created by a transaction that committed after this
	// statement's snapshot was taken: read it with a fresh one.
	if err := db.QueryRow(ctx, `SELECT id FROM contacts WHERE wa_id = $1`, in.WaID).Scan(&res.ContactID); err != nil {
		return 0, err
	}
	err = db.QueryRow(ctx, `
		INSERT INTO conversations (account_id, contact_id, last_seq, last_inbound_at) VALUES ($1, $2, $3, $4)
		ON CONFLICT (account_id, contact_id) DO UPDATE SET last_seq = conversations.last_seq + $3,
			last_inbound_at = greatest(conversations.last_inbound_at, excluded.last_inbound_at), updated_at = now()
		RETURNING id, last_seq`, in.AccountID, res.ContactID, n, nullTime(last)).Scan(&res.ConversationID, &lastSeq)
	return lastSeq, err
}

// StatusUpdate is a WhatsApp status for an outbound message.
type StatusUpdate struct {
	WAMID  string
	Status string
	At     time.Time
	Error  json.RawMessage // the failure's errors, for "failed"
}

// StatusResult says what ApplyStatus changed.
type StatusResult struct {
	MessageID    int64
	Found        bool // the wamid is an outbound message relaydesk sent
	Advanced     bool // the stored status moved forward
	FirstFailure bool // the message's failure was recorded for the first time
}

// ApplyStatus moves an outbound message's status forward only (see
// relaydesk_status_rank) and keeps a failure's details even when the status
// itself does not move (a failure after "delivered" on another device).
func (s *Store) ApplyStatus(ctx context.Context, db DBTX, u StatusUpdate) (StatusResult, error) {
	var r StatusResult
	err := db.QueryRow(ctx, `
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
		u.WAMID, u.Status, u.At, jsonText(u.Error)).Scan(&r.MessageID, &r.Advanced, &r.FirstFailure)
	if isNoRows(err) {
		// Unknown wamid, or nothing to change (a redelivery or a late status).
		err = db.QueryRow(ctx, `SELECT id FROM messages WHERE wamid = $1 AND direction = 'out'`, u.WAMID).Scan(&r.MessageID)
		if isNoRows(err) {
			return r, nil
		}
		r.Found = err == nil
		return r, err
	}
	r.Found = err == nil
	return r, err
}

// RecordNumberChange notes on a contact that WhatsApp reported a new number.
func (s *Store) RecordNumberChange(ctx context.Context, db DBTX, oldWaID, newWaID string, at time.Time) error {
	_, err := db.Exec(ctx, `
		INSERT INTO contacts (wa_id, changed_to_wa_id, changed_at) VALUES ($1, $2, $3)
		ON CONFLICT (wa_id) DO UPDATE SET changed_to_wa_id = excluded.changed_to_wa_id,
			changed_at = excluded.changed_at, updated_at = now()`, oldWaID, newWaID, at)
	return err
}

// WebhookEvent is a raw inbound delivery kept for audit and replay.
type WebhookEvent struct {
	Source    string // "whatsapp" or a connection's kind
	AccountID *int64
	Outcome   string // new, duplicate, status, account_event, ...
	Summary   any    // small JSON summary shown in the admin page
	Body      []byte
}

// InsertWebhookEvent stores a raw delivery.
func (s *Store) InsertWebhookEvent(ctx context.Context, db DBTX, e WebhookEvent) (int64, error) {
	sum, err := json.Marshal(e.Summary)
	if err != nil {
		return 0, err
	}
	var id int64
	err = db.QueryRow(ctx, `INSERT INTO webhook_events (source, account_id, outcome, summary, body)
		VALUES ($1, $2, $3, $4, $5) RETURNING id`, e.Source, e.AccountID, e.Outcome, sum, e.Body).Scan(&id)
	return id, err
}

// AccountsByPhoneNumberIDs returns the accounts named by a delivery.
func (s *Store) AccountsByPhoneNumberIDs(ctx context.Context, ids []string) ([]Account, error) {
	return s.queryAccounts(ctx, `SELECT `+accountColumns+` FROM whatsapp_accounts WHERE phone_number_id = ANY($1)`, ids)
}

// AccountsByWABAIDs returns the accounts of the given business accounts.
func (s *Store) AccountsByWABAIDs(ctx context.Context, ids []string) ([]Account, error) {
	return s.queryAccounts(ctx, `SELECT `+accountColumns+` FROM whatsapp_accounts WHERE waba_id = ANY($1)`, ids)
}

func (s *Store) queryAccounts(ctx context.Context, sql string, args ...any) ([]Account, error) {
	rows, err := s.pool.Query(ctx, sql, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []Account
	for rows.Next() {
		a, err := scanAccount(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, a)
	}
	return out, rows.Err()
}

func jsonText(b json.RawMessage) *string {
	if len(b) == 0 {
		return nil
	}
	s := string(b)
	return &s
}

func nullTime(t time.Time) *time.Time {
	if t.IsZero() {
		return nil
	}
	return &t
}
