package jobs

import (
	"context"
	"errors"
	"time"

	"github.com/riverqueue/river"
	"github.com/riverqueue/river/rivertype"

	"github.com/relaydesk/relaydesk/internal/bridge"
	"github.com/relaydesk/relaydesk/internal/store"
)

// outcome maps the bridge's result to River's: a SnoozeError waits without
// spending an attempt, anything else is retried with backoff.
func outcome(err error) error {
	var snooze *bridge.SnoozeError
	if errors.As(err, &snooze) {
		return river.JobSnooze(snooze.After)
	}
	return err
}

// queueTimeout gives the workers that drain a conversation's queue their
// timeout, which leaves room for large media uploads.
type queueTimeout[T river.JobArgs] struct {
	river.WorkerDefaults[T]
}

// Timeout is 15 minutes.
func (queueTimeout[T]) Timeout(*river.Job[T]) time.Duration { return 15 * time.Minute }

type (
	// DeliverInboundWorker posts a conversation's customer messages to its
	// ticket.
	DeliverInboundWorker struct {
		queueTimeout[bridge.DeliverInboundArgs]
		Bridge *bridge.Bridge
	}
	// SendOutboundWorker sends a conversation's agent replies to WhatsApp.
	SendOutboundWorker struct {
		queueTimeout[bridge.SendOutboundArgs]
		Bridge *bridge.Bridge
	}
)

// Work delivers, with the last-attempt rule of drain, after the settle
// window of the message that queued the job (bridge.DeliverInboundQueued).
func (w *DeliverInboundWorker) Work(ctx context.Context, job *river.Job[bridge.DeliverInboundArgs]) error {
	return drain(ctx, w.Bridge, job.JobRow, job.Args.ConversationID, "in", func(ctx context.Context, id store.ConversationID) error {
		return w.Bridge.DeliverInboundQueued(ctx, id, job.CreatedAt)
	})
}

// Work sends, with the last-attempt rule of drain.
func (w *SendOutboundWorker) Work(ctx context.Context, job *river.Job[bridge.SendOutboundArgs]) error {
	return drain(ctx, w.Bridge, job.JobRow, job.Args.ConversationID, "out", w.Bridge.SendOutbound)
}

// drain works a conversation's queue of one direction; after the last
// attempt the waiting message is marked failed (visible and retryable in the
// admin page) rather than silently dropped.
func drain(ctx context.Context, b *bridge.Bridge, job *rivertype.JobRow, convID store.ConversationID, direction string,
	work func(context.Context, store.ConversationID) error) error {
	err := work(ctx, convID)
	if err != nil && (job.Attempt >= job.MaxAttempts || waitedTooLong(job, err, time.Now())) {
		return b.GiveUp(ctx, convID, direction, err)
	}
	return outcome(err)
}

// waitedTooLong reports whether a job that waits on its target's open
// circuit breaker has waited GiveUpAfter since it was queued. Such a job
// snoozes without spending attempts, so without this rule a target that
// never comes back would hold its messages forever.
func waitedTooLong(job *rivertype.JobRow, err error, now time.Time) bool {
	var down *bridge.TargetDownError
	return errors.As(err, &down) && now.Sub(job.CreatedAt) >= GiveUpAfter
}

// StatusFailedWorker reports a WhatsApp delivery failure on the ticket.
type StatusFailedWorker struct {
	river.WorkerDefaults[bridge.StatusFailedArgs]
	Bridge *bridge.Bridge
}

// Work posts the internal note.
func (w *StatusFailedWorker) Work(ctx context.Context, job *river.Job[bridge.StatusFailedArgs]) error {
	return outcome(w.Bridge.ReportFailure(ctx, job.Args.MessageID))
}

// ShowStatusWorker shows the latest delivery status of a ticket's agent
// messages in its helpdesk.
type ShowStatusWorker struct {
	river.WorkerDefaults[bridge.ShowStatusArgs]
	Bridge *bridge.Bridge
}

// Work shows the status; one that waited too long for its helpdesk is
// dropped (the next status queues another).
func (w *ShowStatusWorker) Work(ctx context.Context, job *river.Job[bridge.ShowStatusArgs]) error {
	err := w.Bridge.ShowStatus(ctx, job.Args)
	if err != nil && waitedTooLong(job.JobRow, err, time.Now()) {
		return nil
	}
	return outcome(err)
}

// AddNoteWorker posts an internal note on a ticket.
type AddNoteWorker struct {
	river.WorkerDefaults[bridge.AddNoteArgs]
	Bridge *bridge.Bridge
}

// Work posts the note; one that waited too long for its helpdesk is dropped
// with a log line (what it reports is on the admin page).
func (w *AddNoteWorker) Work(ctx context.Context, job *river.Job[bridge.AddNoteArgs]) error {
	err := w.Bridge.AddNote(ctx, job.Args)
	if err != nil && waitedTooLong(job.JobRow, err, time.Now()) {
		w.Bridge.DropNote(job.Args, err)
		return nil
	}
	return outcome(err)
}

// SweepWorker re-queues stalled conversations.
type SweepWorker struct {
	river.WorkerDefaults[bridge.SweepArgs]
	Bridge *bridge.Bridge
}

// SweepEvery is both how often the sweep runs and how long pending messages
// must have waited, with no lease and no live job, to be re-queued. It is
// short because a job orphaned by a killed process is otherwise rescued
// only after RescueStuckJobsAfter.
const SweepEvery = 15 * time.Second

// Work sweeps conversations whose pending messages waited SweepEvery.
func (w *SweepWorker) Work(ctx context.Context, job *river.Job[bridge.SweepArgs]) error {
	if _, err := w.Bridge.Sweep(ctx, SweepEvery); err != nil {
		return err
	}
	return w.Bridge.PruneMaintenanceJobs(ctx)
}

// SweepPeriodic runs the sweep every SweepEvery on the leader.
func SweepPeriodic() *river.PeriodicJob {
	return river.NewPeriodicJob(river.PeriodicInterval(SweepEvery),
		func() (river.JobArgs, *river.InsertOpts) { return bridge.SweepArgs{}, nil },
		&river.PeriodicJobOpts{ID: "sweep_stalled"})
}

// PollWorker polls one helpdesk connection.
type PollWorker struct {
	river.WorkerDefaults[bridge.PollArgs]
	Bridge *bridge.Bridge
}

// Work polls; rate limits snooze until the helpdesk's Retry-After.
func (w *PollWorker) Work(ctx context.Context, job *river.Job[bridge.PollArgs]) error {
	_, err := w.Bridge.Poll(ctx, job.Args.ConnectionID)
	return outcome(err)
}

// SchedulePollsWorker enqueues the polls that are due.
type SchedulePollsWorker struct {
	river.WorkerDefaults[bridge.SchedulePollsArgs]
	Bridge *bridge.Bridge
}

// Work schedules.
// Only a minute of its completed runs stays in the job list (it runs every
// 5 seconds): the sweep prunes them, and this run too.
func (w *SchedulePollsWorker) Work(ctx context.Context, job *river.Job[bridge.SchedulePollsArgs]) error {
	if _, err := w.Bridge.SchedulePolls(ctx); err != nil {
		return err
	}
	return w.Bridge.PruneMaintenanceJobs(ctx)
}

// SchedulePollsPeriodic looks for due polls every 5 seconds on the leader.
func SchedulePollsPeriodic() *river.PeriodicJob {
	return river.NewPeriodicJob(river.PeriodicInterval(5*time.Second),
		func() (river.JobArgs, *river.InsertOpts) { return bridge.SchedulePollsArgs{}, nil },
		&river.PeriodicJobOpts{ID: "schedule_polls"})
}

// RefreshTemplatesWorker reads template catalogues from Graph.
type RefreshTemplatesWorker struct {
	river.WorkerDefaults[bridge.RefreshTemplatesArgs]
	Bridge *bridge.Bridge
}

// Work refreshes one number's catalogue, or every number's.
func (w *RefreshTemplatesWorker) Work(ctx context.Context, job *river.Job[bridge.RefreshTemplatesArgs]) error {
	if job.Args.AccountID != 0 {
		_, err := w.Bridge.RefreshTemplates(ctx, job.Args.AccountID)
		return err
	}
	return w.Bridge.RefreshAllTemplates(ctx)
}

// TemplatesEvery is how often every number's template catalogue is read
// again from Graph (also once at start-up); the number's admin page has a
// button for a refresh now.
const TemplatesEvery = 6 * time.Hour

// TemplatesPeriodic refreshes every catalogue every TemplatesEvery on the
// leader.
func TemplatesPeriodic() *river.PeriodicJob {
	return river.NewPeriodicJob(river.PeriodicInterval(TemplatesEvery),
		func() (river.JobArgs, *river.InsertOpts) { return bridge.RefreshTemplatesArgs{}, nil },
		&river.PeriodicJobOpts{ID: "refresh_templates", RunOnStart: true})
}

// AddBridgeWorkers registers the bridge's workers.
func AddBridgeWorkers(b *bridge.Bridge) func(*river.Workers) {
	return func(ws *river.Workers) {
		river.AddWorker(ws, &DeliverInboundWorker{Bridge: b})
		river.AddWorker(ws, &SendOutboundWorker{Bridge: b})
		river.AddWorker(ws, &StatusFailedWorker{Bridge: b})
		river.AddWorker(ws, &AddNoteWorker{Bridge: b})
		river.AddWorker(ws, &ShowStatusWorker{Bridge: b})
		river.AddWorker(ws, &SweepWorker{Bridge: b})
		river.AddWorker(ws, &PollWorker{Bridge: b})
		river.AddWorker(ws, &SchedulePollsWorker{Bridge: b})
		river.AddWorker(ws, &ProvisionWebhookWorker{Bridge: b})
		river.AddWorker(ws, &RefreshTemplatesWorker{Bridge: b})
	}
}
