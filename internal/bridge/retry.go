package bridge

import (
	"context"

	"github.com/jackc/pgx/v5"
	"github.com/riverqueue/river"

	"github.com/relaydesk/relaydesk/internal/store"
)

// RetryMessage puts a failed message back in its conversation's queue (the
// admin page's "retry" action). It keeps its place in the sequence: messages
// of the same direction behind it wait until it is delivered or fails again.
// It returns store.ErrNotFound when the message is not failed or held.
func (b *Bridge) RetryMessage(ctx context.Context, messageID int64) error {
	return b.store.InTx(ctx, func(tx pgx.Tx) error {
		convID, dir, err := b.store.RetryMessage(ctx, tx, messageID)
		if err != nil {
			return err
		}
		d, args := store.DirIn, river.JobArgs(DeliverInboundArgs{ConversationID: convID})
		if dir == "out" {
			d, args = store.DirOut, SendOutboundArgs{ConversationID: convID}
		}
		queue, err := b.store.MarkQueued(ctx, tx, convID, d)
		if err != nil || !queue {
			return err
		}
		_, err = b.jobs.InsertManyTx(ctx, tx, []river.InsertManyParams{{Args: args}})
		return err
	})
}
