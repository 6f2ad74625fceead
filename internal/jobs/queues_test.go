package jobs_test

import (
	"context"
	"log/slog"
	"testing"
	"time"

	"github.com/riverqueue/river"
	"github.com/stretchr/testify/require"

	"github.com/relaydesk/relaydesk/internal/bridge"
	"github.com/relaydesk/relaydesk/internal/jobs"
	"github.com/relaydesk/relaydesk/internal/testdb"
)

// blockArgs is a job of the default queue that holds its worker until the
// test lets it go, as a delivery waiting on a slow helpdesk does.
type blockArgs struct{}

func (blockArgs) Kind() string { return "test_block" }

type blockWorker struct {
	river.WorkerDefaults[blockArgs]
	started chan struct{}
	release chan struct{}
}

func (w *blockWorker) Work(ctx context.Context, _ *river.Job[blockArgs]) error {
	w.started <- struct{}{}
	select {
	case <-w.release:
	case <-ctx.Done():
	}
	return nil
}

// replyWorker stands in for the bridge's SendOutboundWorker: it reports the
// conversation it was asked to send for.
type replyWorker struct {
	river.WorkerDefaults[bridge.SendOutboundArgs]
	sent chan int64
}

func (w *replyWorker) Work(_ context.Context, j *river.Job[bridge.SendOutboundArgs]) error {
	w.sent <- int64(j.Args.ConversationID)
	return nil
}

// Every default-queue worker is busy (here the only one, held by a blocked
// job): an agent's reply is still sent at once, by the reply queue's own
// workers, instead of waiting behind the customers' backlog.
func TestRepliesDoNotWaitForBusyWorkers(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	st := testdb.NewStore(t)
	block := &blockWorker{started: make(chan struct{}, 4), release: make(chan struct{})}
	reply := &replyWorker{sent: make(chan int64, 4)}
	c, err := jobs.NewClient(jobs.Opts{Store: st, Logger: slog.New(slog.DiscardHandler), MaxWorkers: 1,
		RegisterWorkers: func(ws *river.Workers) {
			river.AddWorker(ws, block)
			river.AddWorker(ws, reply)
		}})
	require.NoError(t, err)
	require.NoError(t, c.Start(ctx))
	t.Cleanup(func() {
		close(block.release)
		sctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		_ = c.StopAndCancel(sctx)
	})

	// Two blocked jobs: one holds the default queue's only worker, the
	// other waits behind it.
	for range 2 {
		_, err = c.Insert(ctx, blockArgs{}, nil)
		require.NoError(t, err)
	}
	select {
	case <-block.started:
	case <-time.After(30 * time.Second):
		t.Fatal("the blocking job never started")
	}

	res, err := c.Insert(ctx, bridge.SendOutboundArgs{ConversationID: 42}, nil)
	require.NoError(t, err)
	require.Equal(t, bridge.ReplyQueue, res.Job.Queue)
	select {
	case got := <-reply.sent:
		require.Equal(t, int64(42), got)
	case <-time.After(30 * time.Second):
		t.Fatal("the reply waited for the default queue's busy worker")
	}
	var waiting int
	require.NoError(t, st.Pool().QueryRow(ctx,
		`SELECT count(*) FROM river_job WHERE kind = 'test_block' AND state IN ('available', 'running')`).Scan(&waiting))
	require.Equal(t, 2, waiting, "the reply went out while the default queue was still full")
}
