package store

import (
	"context"
)

// Footprint is what deleting a number or a helpdesk connection takes with
// it, for the confirmation page and the audit entry.
type Footprint struct {
	Name          string
	ManagedByFile bool
	Conversations int // a number's conversations, with their contacts' messages
	Messages      int // a number's messages
	Pending       int // messages not yet delivered (a number's: deleted; a connection's replies: failed)
	Tickets       int // ticket links (the tickets stay in the helpdesk)
	Routes        int
}

// AccountFootprint counts what deleting number id takes with it.
func (q *Queries) AccountFootprint(ctx context.Context, id AccountID) (Footprint, error) {
	var f Footprint
	err := q.db.QueryRow(ctx, `SELECT a.name, a.managed_by_file,
		(SELECT count(*) FROM conversations c WHERE c.account_id = a.id),
		(SELECT count(*) FROM messages m JOIN conversations c ON c.id = m.conversation_id WHERE c.account_id = a.id),
		(SELECT count(*) FROM messages m JOIN conversations c ON c.id = m.conversation_id WHERE c.account_id = a.id
			AND m.state NOT IN ('done', 'failed')),
		(SELECT count(*) FROM tickets t JOIN conversations c ON c.id = t.conversation_id WHERE c.account_id = a.id),
		(SELECT count(*) FROM routes r WHERE r.account_id = a.id)
		FROM whatsapp_accounts a WHERE a.id = $1`, id).
		Scan(&f.Name, &f.ManagedByFile, &f.Conversations, &f.Messages, &f.Pending, &f.Tickets, &f.Routes)
	return f, wrap(err, "footprint of account %d", id)
}

// ConnectionFootprint counts what deleting connection id takes with it.
func (q *Queries) ConnectionFootprint(ctx context.Context, id ConnectionID) (Footprint, error) {
	var f Footprint
	err := q.db.QueryRow(ctx, `SELECT h.name, h.managed_by_file,
		(SELECT count(DISTINCT t.conversation_id) FROM tickets t WHERE t.connection_id = h.id),
		(SELECT count(*) FROM messages m WHERE m.connection_id = h.id),
		(SELECT count(*) FROM messages m WHERE m.connection_id = h.id AND m.direction = 'out'
			AND m.state NOT IN ('done', 'failed')),
		(SELECT count(*) FROM tickets t WHERE t.connection_id = h.id),
		(SELECT count(*) FROM routes r WHERE r.connection_id = h.id)
		FROM helpdesk_connections h WHERE h.id = $1`, id).
		Scan(&f.Name, &f.ManagedByFile, &f.Conversations, &f.Messages, &f.Pending, &f.Tickets, &f.Routes)
	return f, wrap(err, "footprint of connection %d", id)
}

// queuedJobsOf deletes the queued (not running) deliver and send jobs of
// the conversations selected by where ($1 is its argument).
const queuedJobsOf = `DELETE FROM river_job j WHERE j.state IN ('available', 'scheduled', 'retryable', 'pending')
	AND j.kind IN ('deliver_inbound', 'send_outbound')
	AND (j.args->>'conversation_id')::bigint IN (SELECT id FROM conversations WHERE `

// DeleteAccount deletes a number made in the admin page with its
// conversations, contacts' messages, ticket links and routes, and the
// queued jobs of those conversations (a job already running ends when it
// finds its conversation gone). The audit entry keeps the counts.
func (q *Queries) DeleteAccount(ctx context.Context, id AccountID, who Actor) error {
	err := q.inTx(ctx, func(tx *Queries) error {
		f, err := tx.AccountFootprint(ctx, id)
		if err != nil {
			return err
		}
		if f.ManagedByFile {
			return ErrManagedByFile
		}
		if _, err := tx.db.Exec(ctx, queuedJobsOf+`account_id = $1)`, id); err != nil {
			return err
		}
		if _, err := tx.db.Exec(ctx, `DELETE FROM breakers WHERE target = 'account' AND target_id = $1`, id); err != nil {
			return err
		}
		if _, err := tx.db.Exec(ctx, `DELETE FROM whatsapp_accounts WHERE id = $1`, id); err != nil {
			return err
		}
		return tx.recordAudit(ctx, who, audit{Action: "whatsapp.delete", TargetType: "whatsapp", TargetID: int64(id),
			TargetName: f.Name, Detail: footprintDetail(f)})
	})
	return wrap(err, "delete account %d", id)
}

// DeleteConnection deletes a helpdesk connection made in the admin page
// with its routes and ticket links. Its agent replies not yet sent are
// marked failed (relaydesk no longer knows the helpdesk they came from).
// Customer messages held for it are the caller's to release (the bridge's
// ReleaseHeld): the number's remaining routes take them, or hold them as
// unrouted.
func (q *Queries) DeleteConnection(ctx context.Context, id ConnectionID, who Actor) error {
	err := q.inTx(ctx, func(tx *Queries) error {
		f, err := tx.ConnectionFootprint(ctx, id)
		if err != nil {
			return err
		}
		if f.ManagedByFile {
			return ErrManagedByFile
		}
		if _, err := tx.db.Exec(ctx, `UPDATE messages SET state = 'failed', error = $2::jsonb, updated_at = now()
			WHERE connection_id = $1 AND direction = 'out' AND state NOT IN ('done', 'failed')`, id,
			`{"code":"connection_deleted","reason":"Not sent: the helpdesk connection it came from was deleted."}`); err != nil {
			return err
		}
		if _, err := tx.db.Exec(ctx, `DELETE FROM breakers WHERE target = 'connection' AND target_id = $1`, id); err != nil {
			return err
		}
		if _, err := tx.db.Exec(ctx, `DELETE FROM helpdesk_connections WHERE id = $1`, id); err != nil {
			return err
		}
		return tx.recordAudit(ctx, who, audit{Action: "helpdesk.delete", TargetType: "helpdesk", TargetID: int64(id),
			TargetName: f.Name, Detail: footprintDetail(f)})
	})
	return wrap(err, "delete connection %d", id)
}

func footprintDetail(f Footprint) map[string]any {
	return map[string]any{"conversations": f.Conversations, "messages": f.Messages, "pending": f.Pending,
		"tickets": f.Tickets, "routes": f.Routes}
}
