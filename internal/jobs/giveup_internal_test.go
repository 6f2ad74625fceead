package jobs

import (
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/riverqueue/river/rivertype"
	"github.com/stretchr/testify/require"

	"github.com/relaydesk/relaydesk/internal/bridge"
	"github.com/relaydesk/relaydesk/internal/store"
)

// A job waiting on an open breaker is given up by its age, not its attempts
// (a snooze spends none); other errors and other waits never are.
func TestWaitedTooLong(t *testing.T) {
	t.Parallel()
	now := time.Now()
	down := &bridge.TargetDownError{SnoozeError: bridge.SnoozeError{After: time.Minute}, Target: store.BreakerConnection}
	cases := []struct {
		name   string
		queued time.Duration // how long ago the job was inserted
		err    error
		want   bool
	}{
		{"target down for less than the limit", GiveUpAfter - time.Minute, down, false},
		{"target down for the limit", GiveUpAfter, down, true},
		{"target down, wrapped", GiveUpAfter + time.Hour, fmt.Errorf("deliver: %w", down), true},
		{"an old job that failed otherwise retries by attempts", GiveUpAfter + time.Hour, errors.New("500"), false},
		{"an old job snoozed by a rate limit", GiveUpAfter + time.Hour, &bridge.SnoozeError{After: time.Minute}, false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			job := &rivertype.JobRow{CreatedAt: now.Add(-c.queued)}
			require.Equal(t, c.want, waitedTooLong(job, c.err, now))
		})
	}
	require.True(t, errors.As(error(down), new(*bridge.SnoozeError)), "the wait is a snooze for River")
}
