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

// The poll scheduler runs every 5 seconds and the sweep every 15: their
// completed runs are pruned after a minute, so River UI's job list is not
// 17,000 scheduler runs a day. Failed runs and other kinds stay.
func TestFrequentPeriodicJobsDoNotFloodTheJobList(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	st := testdb.NewStore(t)
	insert := func(kind, state string, age time.Duration) {
		_, err := st.Pool().Exec(ctx, `INSERT INTO river_job (kind, args, state, finalized_at, max_attempts, queue, priority)
			VALUES ($1, '{}', $2::river_job_state, now() - make_interval(secs => $3), 25, 'default', 1)`, kind, state, age.Seconds())
		require.NoError(t, err)
	}
	for range 100 {
		insert("schedule_polls", "completed", 10*time.Minute)
	}
	insert("schedule_polls", "completed", 10*time.Second) // recent: stays
	insert("sweep_stalled", "completed", 10*time.Minute)
	insert("schedule_polls", "discarded", 10*time.Minute)  // failed for good: stays
	insert("deliver_inbound", "completed", 10*time.Minute) // River's own retention
	b := bridge.New(bridge.Opts{Store: st, Logger: slog.New(slog.DiscardHandler)})

	w := &jobs.SchedulePollsWorker{Bridge: b}
	require.NoError(t, w.Work(ctx, &river.Job[bridge.SchedulePollsArgs]{}))

	left := map[string]int{}
	rows, err := st.Pool().Query(ctx, `SELECT kind || ':' || state, count(*) FROM river_job GROUP BY 1`)
	require.NoError(t, err)
	for rows.Next() {
		var k string
		var n int
		require.NoError(t, rows.Scan(&k, &n))
		left[k] = n
	}
	require.NoError(t, rows.Err())
	require.Equal(t, map[string]int{"schedule_polls:completed": 1, "schedule_polls:discarded": 1, "deliver_inbound:completed": 1}, left)
}
