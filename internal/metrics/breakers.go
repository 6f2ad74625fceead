package metrics

import (
	"context"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

var (
	breakerLabels = []string{"target", "name"}
	breakerOpen   = prometheus.NewDesc("relaydesk_breaker_open",
		"1 while a helpdesk connection (target=connection) or Graph for a number (target=account) is marked down.", breakerLabels, nil)
	breakerDown = prometheus.NewDesc("relaydesk_breaker_down_since_seconds",
		"When the target was marked down (Unix time); absent while it is up.", breakerLabels, nil)
	breakerWaiting = prometheus.NewDesc("relaydesk_breaker_waiting_messages",
		"Messages waiting for a target that failed.", breakerLabels, nil)
	breakerFailures = prometheus.NewDesc("relaydesk_breaker_consecutive_failures",
		"Consecutive transient failures of the target.", breakerLabels, nil)
)

// BreakerGauge is one circuit breaker that is open or has failures.
type BreakerGauge struct {
	Target, Name string
	Open         bool
	DownSince    *time.Time
	Waiting      int64
	Failures     int
}

// BreakerLister lists the circuit breakers that are open or have failures.
type BreakerLister func(ctx context.Context) ([]BreakerGauge, error)

type breakerCollector struct{ list BreakerLister }

// RegisterBreakers exports the circuit breakers, read from the database at
// scrape time (so every replica reports the same).
func RegisterBreakers(reg prometheus.Registerer, list BreakerLister) {
	reg.MustRegister(breakerCollector{list})
}

func (c breakerCollector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{breakerOpen, breakerDown, breakerWaiting, breakerFailures} {
		ch <- d
	}
}

func (c breakerCollector) Collect(ch chan<- prometheus.Metric) {
	for _, g := range scrape(ch, breakerOpen, c.list) {
		open := 0.0
		if g.Open {
			open = 1
		}
		ch <- prometheus.MustNewConstMetric(breakerOpen, prometheus.GaugeValue, open, g.Target, g.Name)
		ch <- prometheus.MustNewConstMetric(breakerWaiting, prometheus.GaugeValue, float64(g.Waiting), g.Target, g.Name)
		ch <- prometheus.MustNewConstMetric(breakerFailures, prometheus.GaugeValue, float64(g.Failures), g.Target, g.Name)
		if g.DownSince != nil {
			ch <- prometheus.MustNewConstMetric(breakerDown, prometheus.GaugeValue, float64(g.DownSince.Unix()), g.Target, g.Name)
		}
	}
}
