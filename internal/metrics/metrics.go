// Package metrics exposes the connection pool and the job queue to Prometheus.
// HTTP and per-job metrics are recorded where they happen (server, jobs).
package metrics

import (
	"context"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
)

// NewRegistry returns a registry with the Go runtime and process collectors.
func NewRegistry() *prometheus.Registry {
	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return reg
}

var (
	poolConns = prometheus.NewDesc("relaydesk_db_pool_connections", "Connections in the pool by state.", []string{"pool", "state"}, nil)
	poolMax   = prometheus.NewDesc("relaydesk_db_pool_max_connections", "Largest pool size.", []string{"pool"}, nil)
	poolAcq   = prometheus.NewDesc("relaydesk_db_pool_acquires_total", "Connections acquired from the pool.", []string{"pool"}, nil)
	poolEmpty = prometheus.NewDesc("relaydesk_db_pool_empty_acquires_total", "Acquires that had to wait for a connection.", []string{"pool"}, nil)
	poolWait  = prometheus.NewDesc("relaydesk_db_pool_acquire_seconds_total", "Time spent acquiring connections.", []string{"pool"}, nil)
	jobsDesc  = prometheus.NewDesc("relaydesk_river_jobs", "River jobs in the database by state.", []string{"state"}, nil)
)

// Pool is a connection pool with the name its metrics carry in the pool
// label: "main", or "replies" for the agents' replies' own connections.
type Pool struct {
	Name string
	Pool *pgxpool.Pool
}

type poolCollector []Pool

// RegisterPools exports pgxpool statistics, one series a pool.
func RegisterPools(reg prometheus.Registerer, pools ...Pool) {
	reg.MustRegister(poolCollector(pools))
}

func (p poolCollector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{poolConns, poolMax, poolAcq, poolEmpty, poolWait} {
		ch <- d
	}
}

func (p poolCollector) Collect(ch chan<- prometheus.Metric) {
	for _, pl := range p {
		s, n := pl.Pool.Stat(), pl.Name
		ch <- prometheus.MustNewConstMetric(poolConns, prometheus.GaugeValue, float64(s.AcquiredConns()), n, "acquired")
		ch <- prometheus.MustNewConstMetric(poolConns, prometheus.GaugeValue, float64(s.IdleConns()), n, "idle")
		ch <- prometheus.MustNewConstMetric(poolConns, prometheus.GaugeValue, float64(s.ConstructingConns()), n, "constructing")
		ch <- prometheus.MustNewConstMetric(poolMax, prometheus.GaugeValue, float64(s.MaxConns()), n)
		ch <- prometheus.MustNewConstMetric(poolAcq, prometheus.CounterValue, float64(s.AcquireCount()), n)
		ch <- prometheus.MustNewConstMetric(poolEmpty, prometheus.CounterValue, float64(s.EmptyAcquireCount()), n)
		ch <- prometheus.MustNewConstMetric(poolWait, prometheus.CounterValue, s.AcquireDuration().Seconds(), n)
	}
}

// JobCounter counts River jobs by state.
type JobCounter interface {
	JobCounts(ctx context.Context) (map[string]int64, error)
}

type jobCollector struct{ jobs JobCounter }

// RegisterJobs exports River's queue depth by state, read at scrape time.
func RegisterJobs(reg prometheus.Registerer, jobs JobCounter) {
	reg.MustRegister(jobCollector{jobs})
}

func (j jobCollector) Describe(ch chan<- *prometheus.Desc) { ch <- jobsDesc }

func (j jobCollector) Collect(ch chan<- prometheus.Metric) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	counts, err := j.jobs.JobCounts(ctx)
	if err != nil {
		ch <- prometheus.NewInvalidMetric(jobsDesc, err)
		return
	}
	for _, state := range []string{"available", "cancelled", "completed", "discarded", "pending", "retryable", "running", "scheduled"} {
		ch <- prometheus.MustNewConstMetric(jobsDesc, prometheus.GaugeValue, float64(counts[state]), state)
	}
}

// WebhookProvisions counts the installs of helpdesk webhooks by connector
// kind and outcome (installed, rotated, skipped, retrying, rate_limited,
// failed). The bridge increments it; RegisterWebhooks exports it.
var WebhookProvisions = prometheus.NewCounterVec(prometheus.CounterOpts{
	Name: "relaydesk_helpdesk_webhook_provision_total",
	Help: "Attempts to install a helpdesk's webhook, by connector kind and outcome.",
}, []string{"kind", "outcome"})

var webhookDesc = prometheus.NewDesc("relaydesk_helpdesk_webhook_installed",
	"1 when relaydesk's webhook is installed in the connection's helpdesk, 0 when it is pending or failed.",
	[]string{"connection", "kind"}, nil)

// WebhookGauge is one connection whose webhook relaydesk installs.
type WebhookGauge struct {
	Connection, Kind string
	Installed        bool
}

// WebhookLister lists the connections whose webhook relaydesk installs.
type WebhookLister func(ctx context.Context) ([]WebhookGauge, error)

type webhookCollector struct{ list WebhookLister }

// RegisterWebhooks exports the webhook gauge, read from the database at
// scrape time (so every replica reports the same), and the provision
// counter.
func RegisterWebhooks(reg prometheus.Registerer, list WebhookLister) {
	reg.MustRegister(webhookCollector{list}, WebhookProvisions)
}

func (w webhookCollector) Describe(ch chan<- *prometheus.Desc) { ch <- webhookDesc }

// scrape reads a collector's rows at scrape time, within 2 seconds; a
// failure is reported as desc's invalid metric and gives no rows.
func scrape[T any](ch chan<- prometheus.Metric, desc *prometheus.Desc, list func(context.Context) ([]T, error)) []T {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	rows, err := list(ctx)
	if err != nil {
		ch <- prometheus.NewInvalidMetric(desc, err)
		return nil
	}
	return rows
}

func (w webhookCollector) Collect(ch chan<- prometheus.Metric) {
	for _, g := range scrape(ch, webhookDesc, w.list) {
		v := 0.0
		if g.Installed {
			v = 1
		}
		ch <- prometheus.MustNewConstMetric(webhookDesc, prometheus.GaugeValue, v, g.Connection, g.Kind)
	}
}
