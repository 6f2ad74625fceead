package jobs

import (
	"context"
	"time"

	"github.com/riverqueue/river"

	"github.com/relaydesk/relaydesk/internal/store"
)

// CleanupArgs asks for raw webhook deliveries past their retention to be deleted.
type CleanupArgs struct{}

// Kind is the job kind.
func (CleanupArgs) Kind() string { return "cleanup_webhook_events" }

// InsertOpts makes the job unique: one pending cleanup is enough.
func (CleanupArgs) InsertOpts() river.InsertOpts {
	return river.InsertOpts{UniqueOpts: river.UniqueOpts{ByArgs: true, ByPeriod: 10 * time.Minute}}
}

// CleanupWorker deletes webhook_events older than the retention.
type CleanupWorker struct {
	river.WorkerDefaults[CleanupArgs]
	Store     *store.Store
	Retention time.Duration
}

// parkedTTL is how long an event about an unknown ticket is kept.
const parkedTTL = 24 * time.Hour

// Work deletes in batches until nothing old is left.
func (w *CleanupWorker) Work(ctx context.Context, job *river.Job[CleanupArgs]) error {
	if _, err := w.Store.DeleteParkedBefore(ctx, time.Now().Add(-parkedTTL)); err != nil {
		return err
	}
	if w.Retention <= 0 {
		return nil
	}
	cutoff := time.Now().Add(-w.Retention)
	for {
		n, err := w.Store.DeleteWebhookEventsBefore(ctx, cutoff, 5000)
		if err != nil {
			return err
		}
		if n < 5000 {
			return nil
		}
	}
}
