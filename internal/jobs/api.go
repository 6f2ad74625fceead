package jobs

import (
	"context"
	"errors"
	"time"

	"github.com/riverqueue/river"

	"github.com/relaydesk/relaydesk/internal/apievents"
	"github.com/relaydesk/relaydesk/internal/store"
)

// DeliverEventWorker sends one public-API event to one subscription.
type DeliverEventWorker struct {
	river.WorkerDefaults[apievents.DeliverArgs]
	Deliverer *apievents.Deliverer
}

// Timeout bounds one attempt (the HTTP call has its own 10-second limit).
func (w *DeliverEventWorker) Timeout(*river.Job[apievents.DeliverArgs]) time.Duration {
	return time.Minute
}

// Work delivers; a failure is retried with River's backoff, and a delivery
// whose subscription was disabled is cancelled.
func (w *DeliverEventWorker) Work(ctx context.Context, job *river.Job[apievents.DeliverArgs]) error {
	err := w.Deliverer.Deliver(ctx, job.Args.DeliveryID, job.Attempt, job.MaxAttempts)
	if errors.Is(err, apievents.ErrStop) {
		return river.JobCancel(err)
	}
	return err
}

// APICleanupArgs deletes expired codes, tokens, idempotency records and
// old events.
type APICleanupArgs struct{}

// Kind is the job kind.
func (APICleanupArgs) Kind() string { return "api_cleanup" }

// APICleanupWorker runs the cleanup.
type APICleanupWorker struct {
	river.WorkerDefaults[APICleanupArgs]
	Store *store.Store
}

// Work cleans up.
func (w *APICleanupWorker) Work(ctx context.Context, _ *river.Job[APICleanupArgs]) error {
	_, err := w.Store.CleanupAPI(ctx)
	return err
}

// APICleanupPeriodic runs the cleanup every hour on the leader.
func APICleanupPeriodic() *river.PeriodicJob {
	return river.NewPeriodicJob(river.PeriodicInterval(time.Hour),
		func() (river.JobArgs, *river.InsertOpts) { return APICleanupArgs{}, nil },
		&river.PeriodicJobOpts{ID: "api_cleanup"})
}

// AddAPIWorkers registers the public API's workers.
func AddAPIWorkers(st *store.Store, d *apievents.Deliverer) func(*river.Workers) {
	return func(ws *river.Workers) {
		river.AddWorker(ws, &DeliverEventWorker{Deliverer: d})
		river.AddWorker(ws, &APICleanupWorker{Store: st})
	}
}
