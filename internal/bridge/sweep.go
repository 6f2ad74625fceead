package bridge

import (
	"context"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/riverqueue/river"
)

// SweepArgs asks for stalled conversations to be queued again.
type SweepArgs struct{}

// Kind is the job kind.
func (SweepArgs) Kind() string { return "sweep_stalled" }

// Sweep re-enqueues work for conversations whose messages have waited more
// than age with no job working on them (a job cancelled from the jobs page,
// or discarded by an operator). Normal operation never needs it; it makes
// sure nothing waits forever.
func (b *Bridge) Sweep(ctx context.Context, age time.Duration) (int, error) {
	in, out, err := b.store.Stalled(ctx, age, 500)
	if err != nil || len(in)+len(out) == 0 {
		return 0, err
	}
	var jobs []river.InsertManyParams
	for _, id := range in {
		jobs = append(jobs, river.InsertManyParams{Args: DeliverInboundArgs{ConversationID: id}})
	}
	for _, id := range out {
		jobs = append(jobs, river.InsertManyParams{Args: SendOutboundArgs{ConversationID: id}})
	}
	err = b.store.InTx(ctx, func(tx pgx.Tx) error {
		_, err := b.jobs.InsertManyTx(ctx, tx, jobs)
		return err
	})
	if err == nil {
		b.log.Warn("re-queued stalled conversations", "inbound", len(in), "outbound", len(out))
	}
	return len(jobs), err
}
