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

// The cleanup deletes raw deliveries older than the retention, and none
// when no retention is set.
func TestCleanupDeletesOnlyExpiredEvents(t *testing.T) {
	t.Parallel()
	for name, tt := range map[string]struct {
		retention time.Duration
		left      int
	}{
		"events younger than the retention stay": {168 * time.Hour, 2},
		"no retention keeps everything":          {0, 4},
	} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			ctx := context.Background()
			st := testdb.NewStore(t)
			for _, age := range []time.Duration{200 * time.Hour, 170 * time.Hour, time.Hour, 0} {
				_, err := st.Pool().Exec(ctx, `INSERT INTO webhook_events (source, outcome, body, received_at)
					VALUES ('whatsapp', 'new', '{}', now() - $1::interval)`, age)
				require.NoError(t, err)
			}
			w := &jobs.CleanupWorker{Store: st, Retention: tt.retention}
			require.NoError(t, w.Work(ctx, &river.Job[jobs.CleanupArgs]{}))

			var left int
			require.NoError(t, st.Pool().QueryRow(ctx, `SELECT count(*) FROM webhook_events`).Scan(&left))
			require.Equal(t, tt.left, left)
		})
	}
}
