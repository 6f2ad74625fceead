package jobs_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/relaydesk/relaydesk/internal/jobs"
)

// Every job kind has an explicit retry rule: none is left on River's
// default (attempt^4 seconds, 25 attempts).
func TestEveryJobKindHasAPolicy(t *testing.T) {
	t.Parallel()
	kinds := []string{"deliver_inbound", "send_outbound", "add_note", "status_failed", "provision_webhook",
		"poll_connection", "schedule_polls", "sweep_stalled", "cleanup_webhook_events", "api_cleanup", "api_event_deliver", "message_retention",
		"refresh_templates", "show_status"}
	require.Len(t, jobs.Policies, len(kinds))
	for _, k := range kinds {
		p, ok := jobs.Policies[k]
		require.True(t, ok, k)
		require.Positive(t, p.MaxAttempts, k)
		require.Positive(t, p.Base, k)
	}
}

// Transient failures of the work that must not be lost retry 1 s doubling
// to 60 s, never above, for at least 72 hours.
func TestTransientSchedule(t *testing.T) {
	t.Parallel()
	for _, kind := range []string{"deliver_inbound", "send_outbound", "add_note", "status_failed", "provision_webhook"} {
		p := jobs.PolicyOf(kind)
		var got []time.Duration
		for a := 1; a <= 9; a++ {
			got = append(got, p.Delay(a, 0))
		}
		s := time.Second
		require.Equal(t, []time.Duration{s, 2 * s, 4 * s, 8 * s, 16 * s, 32 * s, 60 * s, 60 * s, 60 * s}, got, kind)
		// Jitter only shortens a wait, by at most a fifth.
		require.Equal(t, 48*time.Second, p.Delay(100, 1), kind)
		require.Equal(t, 800*time.Millisecond, p.Delay(1, 1), kind)
		require.Equal(t, time.Minute, p.Delay(p.MaxAttempts, 0), kind)
		require.GreaterOrEqual(t, p.MinSpan(), jobs.GiveUpAfter, kind)
		// ... and not much more than that: one attempt fewer is too short.
		q := p
		q.MaxAttempts--
		require.Less(t, q.MinSpan(), jobs.GiveUpAfter, kind)
	}
}

// Ten consecutive failures of one conversation are followed by a retry at
// most a minute later, whatever the jitter.
func TestTenFailuresWaitAtMostAMinute(t *testing.T) {
	t.Parallel()
	p := jobs.PolicyOf("deliver_inbound")
	for _, r := range []float64{0, 0.5, 0.999} {
		require.LessOrEqual(t, p.Delay(10, r), time.Minute)
	}
}

// A public-API delivery outlives the subscription's disabling: its last
// attempt comes after 72 hours.
func TestAPIEventSchedule(t *testing.T) {
	t.Parallel()
	p := jobs.PolicyOf("api_event_deliver")
	require.Equal(t, 20, p.MaxAttempts)
	require.Equal(t, time.Minute, p.Delay(1, 0))
	require.Equal(t, 12*time.Hour, p.Delay(19, 0))
	require.Greater(t, p.MinSpan(), 72*time.Hour)
}
