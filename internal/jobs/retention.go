package jobs

import (
	"context"
	"time"

	"github.com/riverqueue/river"

	"github.com/relaydesk/relaydesk/internal/bridge"
)

// RetentionArgs empties message bodies older than RELAYDESK_MESSAGE_RETENTION.
type RetentionArgs struct{}

// Kind is the job kind.
func (RetentionArgs) Kind() string { return "message_retention" }

// RetentionWorker runs message retention.
type RetentionWorker struct {
	river.WorkerDefaults[RetentionArgs]
	Bridge    *bridge.Bridge
	Retention time.Duration
}

// Work redacts, batch by batch.
func (w *RetentionWorker) Work(ctx context.Context, _ *river.Job[RetentionArgs]) error {
	_, err := w.Bridge.RedactOldMessages(ctx, w.Retention)
	return err
}

// RetentionPeriodic runs message retention every hour on the leader.
func RetentionPeriodic() *river.PeriodicJob {
	return river.NewPeriodicJob(river.PeriodicInterval(time.Hour),
		func() (river.JobArgs, *river.InsertOpts) { return RetentionArgs{}, nil },
		&river.PeriodicJobOpts{ID: "message_retention", RunOnStart: true})
}
