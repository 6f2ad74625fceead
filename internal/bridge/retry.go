package bridge

import (
	"context"

	"github.com/jackc/pgx/v5"
)

// RetryMessage puts a failed message back in its conversation's queue (the
// admin page's "retry" action). It keeps its place in the sequence: messages
// of the same direction behind it wait until it is delivered or fails again.
// It returns store.ErrNotFound when the message is not failed or held.
func (b *Bridge) RetryMessage(ctx context.Context, messageID int64) error {
	return b.store.InTx(ctx, func(tx pgx.Tx) error {
		convID, direction, err := b.store.RetryMessage(ctx, tx, messageID)
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
