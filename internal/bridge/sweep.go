package bridge

import (
	"context"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/riverqueue/river"

	"github.com/relaydesk/relaydesk/internal/store"
)

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
	for _, q := range []struct {
		dir store.Direction
		ids []int64
	}{{store.DirIn, in}, {store.DirOut, out}} {
		for _, id := range q.ids {
			jobs = append(jobs, river.InsertManyParams{Args: jobFor(q.dir, id)})
		}
	}
	err = b.store.InTx(ctx, func(tx pgx.Tx) error { return b.enqueue(ctx, tx, jobs) })
	if err == nil {
		b.log.Warn("re-queued stalled conversations", "inbound", len(in), "outbound", len(out))
	}
	return len(jobs), err
}
