package jobs

import (
	"context"
	"errors"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/riverqueue/river"
	"github.com/riverqueue/river/rivertype"
)

// jobMetrics records every worked job's kind, outcome and duration.
type jobMetrics struct {
	river.MiddlewareDefaults
	worked *prometheus.HistogramVec
}

func newJobMetrics(reg *prometheus.Registry) *jobMetrics {
	m := &jobMetrics{worked: prometheus.NewHistogramVec(prometheus.HistogramOpts{
		Name:    "relaydesk_river_job_duration_seconds",
		Help:    "River jobs worked by this process, by kind and outcome (ok, error, snooze, cancel).",
		Buckets: []float64{.005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10, 30, 60},
	}, []string{"kind", "outcome"})}
	if reg != nil {
		reg.MustRegister(m.worked)
	}
	return m
}

// Work implements rivertype.WorkerMiddleware.
func (m *jobMetrics) Work(ctx context.Context, job *rivertype.JobRow, doInner func(context.Context) error) error {
	start := time.Now()
	err := doInner(ctx)
	outcome := "ok"
	var snooze *rivertype.JobSnoozeError
	var cancel *rivertype.JobCancelError
	switch {
	case err == nil:
	case errors.As(err, &snooze):
		outcome = "snooze"
	case errors.As(err, &cancel):
		outcome = "cancel"
	default:
		outcome = "error"
	}
	m.worked.WithLabelValues(job.Kind, outcome).Observe(time.Since(start).Seconds())
	return err
}
