package bridge

import (
	"context"

	"github.com/relaydesk/relaydesk/internal/store"
)

// RetryMessage puts a failed message back in its conversation's queue (the
// admin page's "retry" action). It keeps its place in the sequence: messages
// of the same direction behind it wait until it is delivered or fails again.
// It returns store.ErrNotFound when the message is not failed or held.
func (b *Bridge) RetryMessage(ctx context.Context, messageID store.MessageID) error {
	return b.store.InTx(ctx, func(tx *store.Tx) error {
		convID, direction, err := tx.RetryMessage(ctx, messageID)
		if err != nil {
			return err
		}
		jobs, err := b.wake(ctx, tx, convID, dirOf(direction))
		if err != nil {
			return err
		}
		return b.enqueue(ctx, tx, jobs)
	})
}
