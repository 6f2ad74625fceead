// Package jobs holds relaydesk's River workers and builds the River client.
// Workers are thin: they decode their arguments and call the domain.
package jobs

import (
	"cmp"
	"context"
	"fmt"
	"log/slog"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/riverqueue/river"
	"github.com/riverqueue/river/riverdriver/riverpgxv5"
	"github.com/riverqueue/river/rivertype"

	"github.com/relaydesk/relaydesk/internal/bridge"
	"github.com/relaydesk/relaydesk/internal/metrics"
	"github.com/relaydesk/relaydesk/internal/store"
)

// Opts configures the River client.
type Opts struct {
	Store      *store.Store
	Logger     *slog.Logger
	Registry   *prometheus.Registry
	MaxWorkers int
	// ReplyWorkers work bridge.ReplyQueue, the agents' replies; zero takes
	// DefaultReplyWorkers.
	ReplyWorkers int
	// FetchCooldown and FetchPollInterval are River's; zero takes River's
	// defaults (100 ms and 1 s).
	FetchCooldown     time.Duration
	FetchPollInterval time.Duration
	WebhookRetention  time.Duration
	// RegisterWorkers adds the domain workers built elsewhere (bridge jobs).
	RegisterWorkers func(*river.Workers)
	// Periodic adds periodic jobs besides the built-in ones.
	Periodic []*river.PeriodicJob
	// Insert-only clients (tools, tests) do not work jobs.
	InsertOnly bool
	// RescueAfter overrides how long a job of a crashed process waits
	// before it is retried (tests and the chaos soak shorten it).
	RescueAfter time.Duration
}

// DefaultReplyWorkers is RELAYDESK_REPLY_WORKERS's default.
const DefaultReplyWorkers = 50

// NewClient builds the River client with every worker registered.
func NewClient(opts Opts) (*river.Client[pgx.Tx], error) {
	workers := river.NewWorkers()
	river.AddWorker(workers, &CleanupWorker{Store: opts.Store, Retention: opts.WebhookRetention})
	if opts.RegisterWorkers != nil {
		opts.RegisterWorkers(workers)
	}
	cfg := &river.Config{
		Logger:  opts.Logger,
		Workers: workers,
		PeriodicJobs: append([]*river.PeriodicJob{
			river.NewPeriodicJob(river.PeriodicInterval(time.Hour),
				func() (river.JobArgs, *river.InsertOpts) { return CleanupArgs{}, nil },
				&river.PeriodicJobOpts{RunOnStart: true, ID: "cleanup_webhook_events"}),
		}, opts.Periodic...),
		Middleware:  []rivertype.Middleware{newJobMetrics(opts.Registry), &jobLog{log: opts.Logger}, &attemptsMiddleware{}},
		RetryPolicy: retryPolicy{},
		JobTimeout:  5 * time.Minute,
		// A job whose process died is retried after this long. It must exceed
		// the longest worker timeout (media delivery: 15 minutes).
		RescueStuckJobsAfter: 16 * time.Minute,
		FetchCooldown:        opts.FetchCooldown,
		FetchPollInterval:    opts.FetchPollInterval,
		// A completed job holds nothing the messages table does not: what
		// was delivered, when and how is there. An hour keeps them for a
		// look at River's own state after an incident, and costs about a
		// twenty-fourth of River's default of a day (docs/performance.md,
		// "Storage per message"). Failed (discarded) jobs keep River's
		// default of 7 days.
		CompletedJobRetentionPeriod: time.Hour,
	}
	if opts.RescueAfter > 0 {
		cfg.RescueStuckJobsAfter = opts.RescueAfter
	}
	if !opts.InsertOnly {
		max := opts.MaxWorkers
		if max <= 0 {
			max = 200
		}
		replies := cmp.Or(opts.ReplyWorkers, DefaultReplyWorkers)
		cfg.Queues = map[string]river.QueueConfig{
			river.QueueDefault: {MaxWorkers: max},
			bridge.ReplyQueue:  {MaxWorkers: replies},
		}
	}
	if opts.Registry != nil && !opts.InsertOnly {
		metrics.RegisterBreakers(opts.Registry, opts.Store.BreakerGauges)
	}
	return river.NewClient(riverpgxv5.New(opts.Store.Pool()), cfg)
}

// Stop stops the client gracefully: running jobs get until ctx ends to
// finish, then they are cancelled (River retries them later) and Stop waits
// a little longer for them to return.
func Stop(ctx context.Context, client *river.Client[pgx.Tx], log *slog.Logger) error {
	err := client.Stop(ctx)
	if err == nil {
		return nil
	}
	log.Warn("jobs still running at the shutdown deadline; cancelling them", "err", err)
	cctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := client.StopAndCancel(cctx); err != nil {
		return fmt.Errorf("stop jobs: %w", err)
	}
	return nil
}
