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
	poolConns = prometheus.NewDesc("relaydesk_db_pool_connections", "Connections in the pool by state.", []string{"state"}, nil)
	poolMax   = prometheus.NewDesc("relaydesk_db_pool_max_connections", "Largest pool size.", nil, nil)
	poolAcq   = prometheus.NewDesc("relaydesk_db_pool_acquires_total", "Connections acquired from the pool.", nil, nil)
	poolEmpty = prometheus.NewDesc("relaydesk_db_pool_empty_acquires_total", "Acquires that had to wait for a connection.", nil, nil)
	poolWait  = prometheus.NewDesc("relaydesk_db_pool_acquire_seconds_total", "Time spent acquiring connections.", nil, nil)
	jobsDesc  = prometheus.NewDesc("relaydesk_river_jobs", "River jobs in the database by state.", []string{"state"}, nil)
)

type poolCollector struct{ pool *pgxpool.Pool }

// RegisterPool exports pgxpool statistics.
func RegisterPool(reg prometheus.Registerer, pool *pgxpool.Pool) {
	reg.MustRegister(poolCollector{pool})
}

func (p poolCollector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{poolConns, poolMax, poolAcq, poolEmpty, poolWait} {
		ch <- d
	}
}

func (p poolCollector) Collect(ch chan<- prometheus.Metric) {
	s := p.pool.Stat()
	ch <- prometheus.MustNewConstMetric(poolConns, prometheus.GaugeValue, float64(s.AcquiredConns()), "acquired")
	ch <- prometheus.MustNewConstMetric(poolConns, prometheus.GaugeValue, float64(s.IdleConns()), "idle")
	ch <- prometheus.MustNewConstMetric(poolConns, prometheus.GaugeValue, float64(s.ConstructingConns()), "constructing")
	ch <- prometheus.MustNewConstMetric(poolMax, prometheus.GaugeValue, float64(s.MaxConns()))
	ch <- prometheus.MustNewConstMetric(poolAcq, prometheus.CounterValue, float64(s.AcquireCount()))
	ch <- prometheus.MustNewConstMetric(poolEmpty, prometheus.CounterValue, float64(s.EmptyAcquireCount()))
	ch <- prometheus.MustNewConstMetric(poolWait, prometheus.CounterValue, s.AcquireDuration().Seconds())
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
