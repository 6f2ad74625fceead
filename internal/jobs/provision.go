package jobs

import (
	"context"
	"errors"
	"time"

	"github.com/riverqueue/river"

	"github.com/relaydesk/relaydesk/internal/bridge"
)

// ProvisionWebhookWorker installs a connection's helpdesk-side webhook.
type ProvisionWebhookWorker struct {
	river.WorkerDefaults[bridge.ProvisionWebhookArgs]
	Bridge *bridge.Bridge
}

// Work installs; a rate limit snoozes, an unreachable helpdesk is retried
// with River's backoff, and a refusal cancels the job (final, with the
// helpdesk's reason on the connection). Asked again while it ran (River
// keeps one job per connection), it runs once more.
func (w *ProvisionWebhookWorker) Work(ctx context.Context, job *river.Job[bridge.ProvisionWebhookArgs]) error {
	res, err := w.Bridge.ProvisionWebhook(ctx, job.Args.ConnectionID, bridge.Provision{LastAttempt: job.Attempt >= job.MaxAttempts})
	if err != nil {
		return outcome(err)
	}
	if res.Outcome == bridge.ProvisionFailed {
		return river.JobCancel(errors.New(res.Detail))
	}
	if again, err := w.Bridge.ProvisionAgain(ctx, job.Args.ConnectionID); err != nil || again {
		return river.JobSnooze(time.Second)
	}
	return nil
}
