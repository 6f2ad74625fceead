package server

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/relaydesk/relaydesk/internal/store"
)

func TestGrowingDelay(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		failures int
		want     time.Duration
	}{
		{0, 0}, {2, 0}, {3, time.Second}, {4, 2 * time.Second}, {5, 4 * time.Second},
		{12, 512 * time.Second}, {13, 15 * time.Minute}, {1000, 15 * time.Minute},
	} {
		require.Equal(t, tc.want, growingDelay(tc.failures, pairFree, pairBase, pairCap), "%d failures", tc.failures)
	}
}

func TestLoginWait(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 12, 1, 12, 0, 0, 0, time.UTC)
	ago := func(d time.Duration) *time.Time { t := now.Add(-d); return &t }
	for _, tc := range []struct {
		name string
		th   store.LoginThrottle
		want time.Duration
	}{
		{"no failures", store.LoginThrottle{}, 0},
		{"three from this IP, just now", store.LoginThrottle{PairFailures: 3, PairLast: ago(0)}, time.Second},
		{"five from this IP, 3s ago", store.LoginThrottle{PairFailures: 5, PairLast: ago(3 * time.Second)}, time.Second},
		{"the delay has passed", store.LoginThrottle{PairFailures: 5, PairLast: ago(time.Minute)}, 0},
		{"many across IPs, new IP", store.LoginThrottle{AccountFailures: 12, AccountLast: ago(time.Second)}, 3 * time.Second},
		{"many across IPs, known IP", store.LoginThrottle{AccountFailures: 12, AccountLast: ago(time.Second), Known: true}, 0},
		{"a known IP still pays its own failures", store.LoginThrottle{PairFailures: 4, PairLast: ago(0), AccountFailures: 12,
			AccountLast: ago(0), Known: true}, 2 * time.Second},
		{"across IPs capped at a minute", store.LoginThrottle{AccountFailures: 500, AccountLast: ago(0)}, time.Minute},
	} {
		tc.th.Now = now
		require.Equal(t, tc.want, loginWait(tc.th), tc.name)
	}
}
