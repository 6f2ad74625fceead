package bridge

import (
	"context"

	"github.com/relaydesk/relaydesk/internal/store"
)

// unroutedReason is what a held customer message shows on the admin page.
const unroutedReason = "No route of this WhatsApp number matches this customer. The message is held: add a route " +
	"(a default route catches every customer), then press \"Route held messages\" on the admin page's Unrouted page."

// holdUnrouted holds a customer message no route matches, instead of
// failing it: the admin page lists it with a button to route it, and the
// metric relaydesk_unrouted_messages counts it.
func (b *Bridge) holdUnrouted(ctx context.Context, ic *convCtx, m store.Message) error {
	b.log.Warn("no route matches the customer; the message is held", "account", ic.account.Name, "message", m.ID)
	return b.store.MarkState(ctx, m.ID, store.StateUnrouted, store.Failure("no_route", unroutedReason))
}

// RouteHeld puts a number's held customer messages back in their queues
// (the admin page's button, after a route was added); they are routed with
// the number's routes as they are now, and held again if none matches. It
// returns how many conversations were woken.
func (b *Bridge) RouteHeld(ctx context.Context, accountID store.AccountID) (int, error) {
	var n int
	err := b.store.InTx(ctx, func(tx *store.Tx) error {
		convs, err := tx.ReleaseUnrouted(ctx, accountID)
		if err != nil {
			return err
		}
		n = len(convs)
		return b.wakeAll(ctx, tx, convs, store.DirIn)
	})
	return n, err
}

// wakeAll queues a job for one direction of each conversation, in tx.
func (b *Bridge) wakeAll(ctx context.Context, tx *store.Tx, convs []store.ConversationID, dir store.Direction) error {
	for _, id := range convs {
		jobs, err := b.wake(ctx, tx, id, dir)
		if err != nil {
			return err
		}
		if err := b.enqueue(ctx, tx, jobs); err != nil {
			return err
		}
	}
	return nil
}
