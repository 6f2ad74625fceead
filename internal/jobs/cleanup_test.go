package jobs_test

import (
	"context"
	"testing"
	"time"

	"github.com/riverqueue/river"
	"github.com/stretchr/testify/require"

	"github.com/relaydesk/relaydesk/internal/jobs"
	"github.com/relaydesk/relaydesk/internal/testdb"
)

func TestCleanupDeletesOnlyExpiredEvents(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	st := testdb.NewStore(t)
	pool := st.Pool()

	for _, age := range []time.Duration{200 * time.Hour, 170 * time.Hour, time.Hour, 0} {
		_, err := pool.Exec(ctx, `INSERT INTO webhook_events (source, outcome, body, received_at) VALUES ('whatsapp', 'new', '{}', now() - $1::interval)`, age)
		require.NoError(t, err)
	}
	w := &jobs.CleanupWorker{Store: st, Retention: 168 * time.Hour}
	require.NoError(t, w.Work(ctx, &river.Job[jobs.CleanupArgs]{}))

	var left int
	require.NoError(t, pool.QueryRow(ctx, `SELECT count(*) FROM webhook_events`).Scan(&left))
	require.Equal(t, 2, left, "events younger than the retention stay")
}
