package store

import "context"

// NoteSignedDelivery records what a delivery that passed its signature
// check proves about its number (the webhook event's account): Meta's
// webhook reaches relaydesk with the right app secret, so the number is
// verified, and healthy unless a test said otherwise. It changes nothing
// once both are known, so most deliveries update no row.
func (q *Queries) NoteSignedDelivery(ctx context.Context, event WebhookEventID) error {
	_, err := q.db.Exec(ctx, `
		UPDATE whatsapp_accounts a SET verified_at = coalesce(a.verified_at, now()),
			health = CASE WHEN a.health = 'unknown' THEN 'healthy' ELSE a.health END,
			health_detail = CASE WHEN a.health = 'unknown' THEN 'Signed deliveries from Meta arrive.' ELSE a.health_detail END,
			health_at = CASE WHEN a.health = 'unknown' THEN now() ELSE a.health_at END
		FROM webhook_events e
		WHERE e.id = $1 AND e.account_id = a.id AND (a.verified_at IS NULL OR a.health = 'unknown')`, event)
	return wrap(err, "note signed delivery %d", event)
}
