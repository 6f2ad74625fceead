package metrics_test

import (
	"context"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/stretchr/testify/require"

	"github.com/relaydesk/relaydesk/internal/metrics"
)

// A helpdesk marked down is exported with when, how many messages wait and
// its failures; a breaker with failures but still closed is not open.
func TestBreakerGauges(t *testing.T) {
	t.Parallel()
	down := time.Unix(1767225600, 0)
	reg := prometheus.NewRegistry()
	metrics.RegisterBreakers(reg, func(context.Context) ([]metrics.BreakerGauge, error) {
		return []metrics.BreakerGauge{
			{Target: "connection", Name: "zendesk", Open: true, DownSince: &down, Waiting: 1000, Failures: 9},
			{Target: "account", Name: "support", Failures: 2},
		}, nil
	})
	families, err := reg.Gather()
	require.NoError(t, err)
	got := map[string]float64{}
	for _, f := range families {
		for _, m := range f.GetMetric() {
			labels := map[string]string{}
			for _, l := range m.GetLabel() {
				labels[l.GetName()] = l.GetValue()
			}
			got[f.GetName()+" "+labels["target"]+"/"+labels["name"]] = m.GetGauge().GetValue()
		}
	}
	require.Equal(t, map[string]float64{
		"relaydesk_breaker_open connection/zendesk":                 1,
		"relaydesk_breaker_down_since_seconds connection/zendesk":   float64(down.Unix()),
		"relaydesk_breaker_waiting_messages connection/zendesk":     1000,
		"relaydesk_breaker_consecutive_failures connection/zendesk": 9,
		"relaydesk_breaker_open account/support":                    0,
		"relaydesk_breaker_waiting_messages account/support":        0,
		"relaydesk_breaker_consecutive_failures account/support":    2,
	}, got, "no down-since for a target that is up")
}
