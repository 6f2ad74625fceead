package store

import (
	"context"
	"fmt"
	"time"
)

// Erasure removes what relaydesk holds about one customer (a data subject's
// request): their contact, conversations, messages with their media
// references, tickets' links, raw webhook deliveries and public-API events
// and idempotency records that name them, and the queued jobs of their
// conversations. The helpdesk's own copy is the helpdesk's; ErasedContact
// lists its tickets and requesters so the caller can offer to erase them there.

// ErasedTicket is a helpdesk ticket of an erased contact.
type ErasedTicket struct {
	ConnectionID ConnectionID
	RemoteID     string
	RequesterID  string
}

// ErasedContact is what EraseContact removed, counted, for the audit log
// and the admin's confirmation: never the content.
type ErasedContact struct {
	ContactID       ContactID
	Conversations   int
	Messages        int
	WebhookEvents   int
	APIEvents       int
	APIIdempotency  int
	Jobs            int
	HelpdeskTickets []ErasedTicket
}

// Detail is the audit entry's detail: counts only.
func (e ErasedContact) Detail() map[string]any {
	return map[string]any{"conversations": e.Conversations, "messages": e.Messages, "webhook_events": e.WebhookEvents,
		"api_events": e.APIEvents, "api_idempotency": e.APIIdempotency, "jobs": e.Jobs, "tickets": len(e.HelpdeskTickets)}
}

// EraseContact erases a contact in one transaction and records it in the
// audit log, without the content (the audit names the contact by id only).
// It returns ErrNotFound when there is no such contact.
func (s *Store) EraseContact(ctx context.Context, who Actor, id ContactID) (ErasedContact, error) {
	out := ErasedContact{ContactID: id}
	err := s.InTx(ctx, func(tx *Tx) error {
		// The customer's ids, to find the raw payloads that name them: a
		// contact without a phone has no wa_id, and an empty needle is
		// never searched for (it would match every payload).
		var waID, userID string
		if err := tx.db.QueryRow(ctx, `SELECT coalesce(wa_id, ''), coalesce(user_id, '') FROM contacts WHERE id = $1 FOR UPDATE`,
			id).Scan(&waID, &userID); err != nil {
			return wrap(err, "erase contact %d", id)
		}
		var needles []string
		for _, n := range []string{waID, userID} {
			if n != "" {
				needles = append(needles, n)
			}
		}
		rows, err := tx.db.Query(ctx, `SELECT t.connection_id, t.remote_id, t.requester_id FROM tickets t
			JOIN conversations c ON c.id = t.conversation_id WHERE c.contact_id = $1 ORDER BY t.id`, id)
		if err != nil {
			return wrap(err, "erase contact %d: tickets", id)
		}
		for rows.Next() {
			var t ErasedTicket
			if err := rows.Scan(&t.ConnectionID, &t.RemoteID, &t.RequesterID); err != nil {
				rows.Close()
				return wrap(err, "erase contact %d: tickets", id)
			}
			out.HelpdeskTickets = append(out.HelpdeskTickets, t)
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return wrap(err, "erase contact %d: tickets", id)
		}

		steps := []struct {
			n    *int
			sql  string
			byWA bool // the statement takes the customer's WhatsApp ids (phone, BSUID), not the contact id
		}{
			// Events name messages and tickets in their dedupe key; their
			// deliveries go with them.
			{n: &out.APIEvents, sql: `DELETE FROM api_events e USING messages m JOIN conversations c ON c.id = m.conversation_id
				WHERE c.contact_id = $1 AND (e.dedupe_key = 'received:' || m.id OR e.dedupe_key LIKE 'status:' || m.id || ':%')`},
			{n: &out.APIEvents, sql: `DELETE FROM api_events e USING tickets t JOIN conversations c ON c.id = t.conversation_id
				WHERE c.contact_id = $1 AND e.dedupe_key = 'ticket:' || t.id`},
			// Raw deliveries and stored API answers are bytes: any that
			// holds the customer's WhatsApp id goes (a batch naming other
			// customers too is a debugging copy, kept only for
			// RELAYDESK_WEBHOOK_RETENTION anyway).
			{n: &out.WebhookEvents, byWA: true, sql: `DELETE FROM webhook_events
				WHERE EXISTS (SELECT 1 FROM unnest($1::text[]) n WHERE n <> '' AND position(convert_to(n, 'UTF8') IN body) > 0)`},
			{n: &out.APIIdempotency, byWA: true, sql: `DELETE FROM api_idempotency WHERE response IS NOT NULL
				AND EXISTS (SELECT 1 FROM unnest($1::text[]) n WHERE n <> '' AND position(convert_to(n, 'UTF8') IN response) > 0)`},
			// Queued work on them: deliveries, sends, notes (which quote the
			// customer) and failure reports. A job already running finds
			// nothing and ends.
			{n: &out.Jobs, sql: `DELETE FROM river_job j WHERE j.state IN ('available', 'scheduled', 'retryable', 'pending') AND (
				(j.args->>'conversation_id')::bigint IN (SELECT id FROM conversations WHERE contact_id = $1)
				OR (j.args->>'ticket_id')::bigint IN (SELECT t.id FROM tickets t JOIN conversations c ON c.id = t.conversation_id WHERE c.contact_id = $1)
				OR (j.args->>'message_id')::bigint IN (SELECT m.id FROM messages m JOIN conversations c ON c.id = m.conversation_id WHERE c.contact_id = $1))`},
			{n: &out.Messages, sql: `DELETE FROM messages m USING conversations c WHERE c.contact_id = $1 AND m.conversation_id = c.id`},
			{sql: `DELETE FROM tickets t USING conversations c WHERE c.contact_id = $1 AND t.conversation_id = c.id`},
			{n: &out.Conversations, sql: `DELETE FROM conversations WHERE contact_id = $1`},
			{sql: `DELETE FROM contacts WHERE id = $1`},
		}
		for i, st := range steps {
			arg := any(id)
			if st.byWA {
				if len(needles) == 0 {
					continue
				}
				arg = needles
			}
			tag, err := tx.db.Exec(ctx, st.sql, arg)
			if err != nil {
				return wrap(err, "erase contact %d: step %d", id, i+1)
			}
			if st.n != nil {
				*st.n += int(tag.RowsAffected())
			}
		}
		return tx.recordAudit(ctx, who, audit{Action: "contact.erased", TargetType: "contact", TargetID: int64(id),
			TargetName: fmt.Sprintf("contact %d", id), Detail: out.Detail()})
	})
	return out, err
}

// ContactOfConversation is the contact a conversation belongs to.
func (q *Queries) ContactOfConversation(ctx context.Context, id ConversationID) (ContactID, error) {
	var c ContactID
	err := q.db.QueryRow(ctx, `SELECT contact_id FROM conversations WHERE id = $1`, id).Scan(&c)
	return c, wrap(err, "contact of conversation %d", id)
}

// ContactsByID are the contacts of every WABA whose phone number (digits,
// no "+") or BSUID is id, oldest first; an empty id matches nothing.
func (q *Queries) ContactsByID(ctx context.Context, id string) ([]ContactID, error) {
	if id == "" {
		return nil, nil
	}
	out, err := column[ContactID](ctx, q.db, `SELECT id FROM contacts WHERE wa_id = $1 OR user_id = $1 ORDER BY id`, id)
	return out, wrap(err, "contacts %s", id)
}

// RedactOldMessages empties the bodies and payloads of up to batch messages
// older than before that are finished (done or failed), and reports how many
// it changed; the rows stay (order, statuses and counts remain), marked
// redacted. Callers loop until it returns less than batch, so intake never
// waits behind one long statement.
func (q *Queries) RedactOldMessages(ctx context.Context, before time.Time, batch int) (int, error) {
	tag, err := q.db.Exec(ctx, `UPDATE messages SET body = '', wa_message = NULL, wa_raw = NULL, media = NULL,
			attachments = NULL, api_send = NULL, redacted_at = now()
		WHERE id IN (SELECT id FROM messages WHERE created_at < $1 AND redacted_at IS NULL AND state IN ('done', 'failed')
			ORDER BY created_at LIMIT $2 FOR UPDATE SKIP LOCKED)`, before, batch)
	return int(tag.RowsAffected()), wrap(err, "redact messages before %s", before.Format(time.RFC3339))
}
