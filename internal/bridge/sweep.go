package bridge

import (
	"context"
	"time"

	"github.com/riverqueue/river"

	"github.com/relaydesk/relaydesk/internal/store"
)

// Sweep re-enqueues work for conversation directions whose pending messages
// have waited more than age with no lease held and no live job for them
// (see store.Stalled): a job cancelled from the jobs page or discarded by an
// operator, or one orphaned in 'running' by a killed process before it
// claimed its conversation. Normal operation never needs it; it makes sure
// nothing waits forever. A job it adds to one a rescue later revives is
// harmless: whichever runs second finds nothing pending.
func (b *Bridge) Sweep(ctx context.Context, age time.Duration) (int, error) {
	in, out, err := b.store.Stalled(ctx, age, orphanAfter, 500)
	if err != nil || len(in)+len(out) == 0 {
		return 0, err
	}
	jobs := make([]river.InsertManyParams, 0, len(in)+len(out))
	for _, id := range in {
		jobs = append(jobs, river.InsertManyParams{Args: jobFor(store.DirIn, id)})
	}
	for _, id := range out {
		jobs = append(jobs, river.InsertManyParams{Args: jobFor(store.DirOut, id)})
	}
	if err := b.enqueueAlone(ctx, jobs); err != nil {
		return 0, err
	}
	b.log.Warn("re-queued stalled conversations", "inbound", len(in), "outbound", len(out))
	return len(jobs), nil
}
