package store

import (
	"cmp"
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"time"
)

// RecordInboundMany does what RecordInbound does for the customer messages
// of many deliveries at once, with set-based statements: one statement
// upserts the contacts known by phone only (customers with a BSUID go
// through the same per-customer lookup as RecordInbound), one reads their
// ids, one upserts every conversation, one inserts every message and sets
// the queued flags, one moves the numbers' last inbound times. The results
// are in the order of ins, as if each had been recorded alone in that
// order: a conversation named twice gets its sequence numbers in that
// order, a wamid named twice is inserted once (for the first), and only the
// first Inbound of a conversation that inserted anything reports Enqueue.
//
// Rows are locked in a fixed order (contacts, then conversations, each
// sorted) so concurrent calls do not deadlock each other. On any error
// nothing of ins is stored (the caller's transaction aborts) and the caller
// may record each Inbound alone.
func (q *Queries) RecordInboundMany(ctx context.Context, ins []Inbound) ([]InboundResult, error) {
	res := make([]InboundResult, len(ins))
	if len(ins) == 0 {
		return res, nil
	}

	// 1. Contacts.
	var phoneOnly []int // indexes into ins
	var withIDs []int
	for i, in := range ins {
		cu := in.Customer
		if cu.UserID != "" || cu.Username != "" || cu.WaID == "" {
			withIDs = append(withIDs, i)
		} else {
			phoneOnly = append(phoneOnly, i)
		}
	}
	contactOf := make([]ContactID, len(ins))
	if len(phoneOnly) > 0 {
		accounts, waIDs, names := make([]int64, len(phoneOnly)), make([]string, len(phoneOnly)), make([]string, len(phoneOnly))
		for j, i := range phoneOnly {
			accounts[j], waIDs[j], names[j] = int64(ins[i].AccountID), ins[i].Customer.WaID, ins[i].Customer.ProfileName
		}
		// The last non-empty profile name of a customer wins, as it would
		// recorded one after the other.
		if _, err := q.db.Exec(ctx, `
			INSERT INTO contacts (waba_id, wa_id, profile_name)
			SELECT DISTINCT ON (a.waba_id, u.wa_id) a.waba_id, u.wa_id, u.profile
			FROM unnest($1::bigint[], $2::text[], $3::text[]) WITH ORDINALITY AS u(account_id, wa_id, profile, ord)
			JOIN whatsapp_accounts a ON a.id = u.account_id
			ORDER BY a.waba_id, u.wa_id, u.profile <> '' DESC, u.ord DESC
			ON CONFLICT (waba_id, wa_id) DO UPDATE SET profile_name = excluded.profile_name, updated_at = now()
				WHERE excluded.profile_name <> '' AND contacts.profile_name IS DISTINCT FROM excluded.profile_name`,
			accounts, waIDs, names); err != nil {
			return nil, wrap(err, "record inbound: upsert %d contacts", len(phoneOnly))
		}
		// A new statement sees the contacts other transactions committed
		// while the upsert waited for them.
		rows, err := q.db.Query(ctx, `
			SELECT u.ord, k.id FROM unnest($1::bigint[], $2::text[]) WITH ORDINALITY AS u(account_id, wa_id, ord)
			JOIN whatsapp_accounts a ON a.id = u.account_id
			JOIN contacts k ON k.waba_id = a.waba_id AND k.wa_id = u.wa_id`, accounts, waIDs)
		if err != nil {
			return nil, wrap(err, "record inbound: read contacts")
		}
		found := 0
		for rows.Next() {
			var ord int
			var id ContactID
			if err := rows.Scan(&ord, &id); err != nil {
				rows.Close()
				return nil, wrap(err, "record inbound: read contacts")
			}
			contactOf[phoneOnly[ord-1]] = id
			found++
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return nil, wrap(err, "record inbound: read contacts")
		}
		if found != len(phoneOnly) {
			return nil, fmt.Errorf("record inbound: %d of %d contacts not found after their upsert", len(phoneOnly)-found, len(phoneOnly))
		}
	}
	slices.SortStableFunc(withIDs, func(a, b int) int {
		return cmp.Or(cmp.Compare(ins[a].AccountID, ins[b].AccountID), cmp.Compare(ins[a].Customer.Key(), ins[b].Customer.Key()))
	})
	for _, i := range withIDs {
		id, err := q.resolveContact(ctx, ins[i].AccountID, ins[i].Customer)
		if err != nil {
			return nil, err
		}
		contactOf[i] = id
	}

	// 2. Conversations: one row per (number, contact), reserving the
	// sequence numbers of all its messages in the batch.
	type convKey struct {
		account AccountID
		contact ContactID
	}
	type conv struct {
		key   convKey
		n     int
		last  time.Time
		id    ConversationID
		first int64 // the first sequence number reserved in the batch
	}
	convs := map[convKey]*conv{}
	var order []*conv
	for i, in := range ins {
		k := convKey{in.AccountID, contactOf[i]}
		c := convs[k]
		if c == nil {
			c = &conv{key: k}
			convs[k] = c
			order = append(order, c)
		}
		c.n += len(in.Messages)
		for _, m := range in.Messages {
			if m.At.After(c.last) {
				c.last = m.At
			}
		}
	}
	slices.SortFunc(order, func(a, b *conv) int {
		return cmp.Or(cmp.Compare(a.key.account, b.key.account), cmp.Compare(a.key.contact, b.key.contact))
	})
	cAccounts, cContacts, cN, cLast := make([]int64, len(order)), make([]int64, len(order)), make([]int64, len(order)), make([]*time.Time, len(order))
	for j, c := range order {
		cAccounts[j], cContacts[j], cN[j], cLast[j] = int64(c.key.account), int64(c.key.contact), int64(c.n), nullTime(c.last)
	}
	rows, err := q.db.Query(ctx, `
		INSERT INTO conversations (account_id, contact_id, last_seq, last_inbound_at)
		SELECT * FROM unnest($1::bigint[], $2::bigint[], $3::bigint[], $4::timestamptz[])
		ON CONFLICT (account_id, contact_id) DO UPDATE SET last_seq = conversations.last_seq + excluded.last_seq,
			last_inbound_at = greatest(CASE WHEN conversations.last_inbound_at < now() + interval '1 hour' THEN conversations.last_inbound_at END, excluded.last_inbound_at), updated_at = now()
		RETURNING id, account_id, contact_id, last_seq`, cAccounts, cContacts, cN, cLast)
	if err != nil {
		return nil, wrap(err, "record inbound: upsert %d conversations", len(order))
	}
	got := 0
	for rows.Next() {
		var id ConversationID
		var k convKey
		var lastSeq int64
		if err := rows.Scan(&id, &k.account, &k.contact, &lastSeq); err != nil {
			rows.Close()
			return nil, wrap(err, "record inbound: upsert conversations")
		}
		c := convs[k]
		if c == nil {
			rows.Close()
			return nil, fmt.Errorf("record inbound: upsert returned an unknown conversation %d", id)
		}
		c.id, c.first = id, lastSeq-int64(c.n)+1
		got++
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, wrap(err, "record inbound: upsert conversations")
	}
	if got != len(order) {
		return nil, fmt.Errorf("record inbound: %d of %d conversations not upserted", len(order)-got, len(order))
	}

	// 3. Messages, in one statement; the queued flags of the conversations
	// that got a new message in the same.
	var total int
	for _, in := range ins {
		total += len(in.Messages)
	}
	convIDs, seqs := make([]int64, 0, total), make([]int64, 0, total)
	wamids, kinds, bodies := make([]string, 0, total), make([]string, 0, total), make([]string, 0, total)
	media, decoded, ats := make([]*string, 0, total), make([]*string, 0, total), make([]*time.Time, 0, total)
	// A sequence number is unique within its conversation: (conversation,
	// seq) names the Inbound a returned row belongs to.
	type cs struct {
		conv ConversationID
		seq  int64
	}
	owners := make(map[cs]int, total)
	for i, in := range ins {
		c := convs[convKey{in.AccountID, contactOf[i]}]
		res[i].ConversationID, res[i].ContactID = c.id, contactOf[i]
		for _, m := range in.Messages {
			mj, err := jsonArg(m.Media)
			if err != nil {
				return nil, wrap(err, "record inbound %s: media", m.WAMID)
			}
			dj, err := jsonArg(m.Message)
			if err != nil {
				return nil, wrap(err, "record inbound %s: message", m.WAMID)
			}
			convIDs, seqs = append(convIDs, int64(c.id)), append(seqs, c.first)
			owners[cs{c.id, c.first}] = i
			c.first++
			wamids, kinds, bodies = append(wamids, m.WAMID), append(kinds, m.Kind), append(bodies, m.Body)
			media, decoded, ats = append(media, mj), append(decoded, dj), append(ats, nullTime(m.At))
		}
	}
	rows, err = q.db.Query(ctx, `
		WITH ins AS (
			INSERT INTO messages (conversation_id, direction, seq, wamid, kind, body, media, wa_message, wa_timestamp, author)
			SELECT u.conv, 'in', u.seq, u.wamid, u.kind, u.body, u.media::jsonb, u.message::jsonb, u.at, 'customer'
			FROM unnest($1::bigint[], $2::bigint[], $3::text[], $4::text[], $5::text[], $6::text[], $7::text[], $8::timestamptz[])
				AS u(conv, seq, wamid, kind, body, media, message, at)
			ON CONFLICT (wamid) DO NOTHING
			RETURNING id, conversation_id, seq
		), queued AS (
			UPDATE conversations SET inbound_queued = true
			WHERE id IN (SELECT conversation_id FROM ins) AND NOT inbound_queued
			RETURNING id
		)
		SELECT id, conversation_id, seq, false FROM ins
		UNION ALL SELECT 0, id, 0, true FROM queued`,
		convIDs, seqs, wamids, kinds, bodies, media, decoded, ats)
	if err != nil {
		return nil, wrap(err, "record inbound: insert %d messages", total)
	}
	queued := map[ConversationID]bool{}
	type inserted struct {
		id  MessageID
		seq int64
	}
	byIn := make([][]inserted, len(ins))
	for rows.Next() {
		var id MessageID
		var convID ConversationID
		var seq int64
		var isQueued bool
		if err := rows.Scan(&id, &convID, &seq, &isQueued); err != nil {
			rows.Close()
			return nil, wrap(err, "record inbound: insert messages")
		}
		if isQueued {
			queued[convID] = true
			continue
		}
		i, ok := owners[cs{convID, seq}]
		if !ok {
			rows.Close()
			return nil, fmt.Errorf("record inbound: inserted message %d has no owner", id)
		}
		byIn[i] = append(byIn[i], inserted{id, seq})
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, wrap(err, "record inbound: insert messages")
	}

	// 4. The numbers' last inbound times, forward only (see RecordInbound).
	lastOf := map[AccountID]time.Time{}
	for i := range ins {
		r := &res[i]
		slices.SortFunc(byIn[i], func(a, b inserted) int { return cmp.Compare(a.seq, b.seq) })
		for _, m := range byIn[i] {
			r.InsertedIDs = append(r.InsertedIDs, m.id)
		}
		r.Inserted = len(byIn[i])
		if r.Inserted > 0 && queued[r.ConversationID] {
			r.Enqueue = true
			delete(queued, r.ConversationID) // one job per conversation
		}
		if r.Inserted > 0 {
			for _, m := range ins[i].Messages {
				if m.At.After(lastOf[ins[i].AccountID]) {
					lastOf[ins[i].AccountID] = m.At
				}
			}
		}
	}
	if len(lastOf) > 0 {
		ids := make([]int64, 0, len(lastOf))
		for id := range lastOf {
			ids = append(ids, int64(id))
		}
		slices.Sort(ids)
		lasts := make([]*time.Time, len(ids))
		for j, id := range ids {
			lasts[j] = nullTime(lastOf[AccountID(id)])
		}
		// A number's row is skipped while another transaction holds it (it
		// is writing a time of the same second or so): concurrent intake
		// transactions must not queue on one row for a "last seen" time.
		if _, err := q.db.Exec(ctx, `
			UPDATE whatsapp_accounts a SET last_inbound_at = v.last
			FROM unnest($1::bigint[], $2::timestamptz[]) AS v(id, last)
			WHERE a.id = v.id AND a.id IN (SELECT l.id FROM whatsapp_accounts l JOIN unnest($1::bigint[], $2::timestamptz[]) AS w(id, last)
					ON l.id = w.id AND w.last IS NOT NULL
					AND (l.last_inbound_at IS NULL OR l.last_inbound_at < w.last OR l.last_inbound_at > now() + interval '1 hour')
				ORDER BY l.id FOR UPDATE OF l SKIP LOCKED)`,
			ids, lasts); err != nil {
			return nil, wrap(err, "record inbound: last inbound times")
		}
	}
	return res, nil
}

// ReleaseWaitingMany is ReleaseWaiting for many conversations in one
// statement: it returns how many replies each had held for the 24-hour
// window (conversations with none are absent).
func (q *Queries) ReleaseWaitingMany(ctx context.Context, ids []ConversationID) (map[ConversationID]int, error) {
	out := map[ConversationID]int{}
	if len(ids) == 0 {
		return out, nil
	}
	rows, err := q.db.Query(ctx, `
		WITH released AS (
			UPDATE messages SET state = 'pending', updated_at = now()
			WHERE conversation_id = ANY($1::bigint[]) AND direction = 'out' AND state = 'waiting_window'
			RETURNING conversation_id
		)
		SELECT conversation_id, count(*) FROM released GROUP BY conversation_id`, ids)
	if err != nil {
		return nil, wrap(err, "release waiting messages of %d conversations", len(ids))
	}
	defer rows.Close()
	for rows.Next() {
		var id ConversationID
		var n int
		if err := rows.Scan(&id, &n); err != nil {
			return nil, wrap(err, "release waiting messages")
		}
		out[id] = n
	}
	return out, wrap(rows.Err(), "release waiting messages")
}

// InsertWebhookEvents stores many raw deliveries in one statement and
// returns their ids in the order of es.
func (q *Queries) InsertWebhookEvents(ctx context.Context, es []WebhookEvent) ([]WebhookEventID, error) {
	n := len(es)
	if n == 0 {
		return nil, nil
	}
	sources, outcomes, summaries := make([]string, n), make([]string, n), make([]string, n)
	accounts, bodies := make([]*int64, n), make([][]byte, n)
	for i, e := range es {
		sum, err := json.Marshal(e.Summary)
		if err != nil {
			return nil, wrap(err, "insert webhook events: summary")
		}
		sources[i], outcomes[i], summaries[i], bodies[i] = e.Source, e.Outcome, string(sum), e.Body
		if e.AccountID != nil {
			id := int64(*e.AccountID)
			accounts[i] = &id
		}
	}
	// Identity values are drawn in the order the rows are inserted, which
	// is the ORDER BY's: sorted, the returned ids follow es.
	ids, err := column[WebhookEventID](ctx, q.db, `
		INSERT INTO webhook_events (source, account_id, outcome, summary, body)
		SELECT u.source, u.account_id, u.outcome, u.summary::jsonb, u.body
		FROM unnest($1::text[], $2::bigint[], $3::text[], $4::text[], $5::bytea[]) WITH ORDINALITY AS u(source, account_id, outcome, summary, body, ord)
		ORDER BY u.ord
		RETURNING id`, sources, accounts, outcomes, summaries, bodies)
	if err != nil {
		return nil, wrap(err, "insert %d webhook events", n)
	}
	if len(ids) != n {
		return nil, fmt.Errorf("insert webhook events: %d ids for %d events", len(ids), n)
	}
	slices.Sort(ids)
	return ids, nil
}
