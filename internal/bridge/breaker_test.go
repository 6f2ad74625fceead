package bridge

// Unit tests of the circuit breaker's rules, without PostgreSQL.

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/relaydesk/relaydesk/internal/store"
)

// The breaker opens at the threshold of consecutive failures, a failed probe
// backs off from 1 s to at most 5 s, and a success closes it.
func TestBreakerOpensAtThresholdAndBacksOff(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	b := store.Breaker{Target: store.BreakerConnection, TargetID: 7, State: store.BreakerClosed}
	for i := 1; i < breakerThreshold; i++ {
		b = afterFailure(b, now, "500")
		require.Equal(t, store.BreakerClosed, b.State, "failure %d", i)
		probe, wait := gateOf(b, now)
		require.False(t, probe)
		require.Zero(t, wait, "a closed breaker lets every job call")
	}
	b = afterFailure(b, now, "503 Service Unavailable")
	require.Equal(t, store.BreakerOpen, b.State)
	require.Equal(t, now, *b.DownSince)
	require.Equal(t, "503 Service Unavailable", b.LastError)
	require.Equal(t, now.Add(time.Second), *b.NextProbeAt)

	probe, wait := gateOf(b, now)
	require.False(t, probe)
	require.Equal(t, time.Second, wait, "the jobs wait for the probe without calling")
	probe, wait = gateOf(b, now.Add(time.Second))
	require.True(t, probe, "the next probe is due")
	require.Zero(t, wait)

	var waits []time.Duration
	at := now
	for range 5 {
		b.State = store.BreakerHalfOpen
		at = at.Add(10 * time.Second)
		b = afterFailure(b, at, "timeout")
		require.Equal(t, store.BreakerOpen, b.State)
		require.Equal(t, now, *b.DownSince, "down since the breaker opened, not since the last probe")
		waits = append(waits, b.NextProbeAt.Sub(at))
	}
	require.Equal(t, []time.Duration{2 * time.Second, 4 * time.Second, 5 * time.Second, 5 * time.Second, 5 * time.Second}, waits)

	closed := afterSuccess(b)
	require.Equal(t, store.BreakerClosed, closed.State)
	require.Zero(t, closed.Failures)
	require.Nil(t, closed.DownSince)
	require.Equal(t, "timeout", closed.LastError, "the last error stays for the admin page")
}

// While a probe runs, the other jobs wait; a probe whose job died frees its
// slot when its hold ends.
func TestBreakerHalfOpenGate(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	until := now.Add(probeHold)
	b := store.Breaker{State: store.BreakerHalfOpen, ProbeUntil: &until}
	probe, wait := gateOf(b, now)
	require.False(t, probe)
	require.Equal(t, probeCap, wait)
	probe, wait = gateOf(b, until)
	require.True(t, probe)
	require.Zero(t, wait)
}

// A customer message given up on is named in the ticket's note with the
// reason.
func TestInboundGiveUpNote(t *testing.T) {
	t.Parallel()
	require.Equal(t, `A customer message was NOT posted to this ticket ("where is my order?"): relaydesk gave up after repeated failures: 500`,
		inboundGiveUpNote("  where is my order? ", "relaydesk gave up after repeated failures: 500"))
}
