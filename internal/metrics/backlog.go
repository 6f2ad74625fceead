package metrics

import (
	"context"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// Backlog is the state of relaydesk's queues and targets, read from the
// database at scrape time (every replica reports the same).
type Backlog struct {
	// OldestWaiting is the age of the oldest message waiting for delivery,
	// by direction ("in" to the helpdesk, "out" to WhatsApp); absent when
	// none waits.
	OldestWaiting map[string]time.Duration
	Numbers       []TargetBacklog
	Connections   []TargetBacklog
}

// TargetBacklog is one number's or helpdesk connection's messages and
// health. Waiting and Failed are by direction for numbers; connections
// count under "" (their messages, both directions).
type TargetBacklog struct {
	Name          string
	Health        string
	Waiting       map[string]int64
	Failed        map[string]int64
	LastInboundAt *time.Time // numbers only
}

// BacklogReader reads the Backlog.
type BacklogReader func(ctx context.Context) (Backlog, error)

var (
	oldestDesc = prometheus.NewDesc("relaydesk_oldest_waiting_message_age_seconds",
		"Age of the oldest message waiting for delivery, by direction (in: to the helpdesk, out: to WhatsApp); 0 when none waits.",
		[]string{"direction"}, nil)
	numWaitingDesc = prometheus.NewDesc("relaydesk_number_messages_waiting",
		"Messages of a WhatsApp number waiting for delivery, by direction.", []string{"number", "direction"}, nil)
	numFailedDesc = prometheus.NewDesc("relaydesk_number_messages_failed",
		"Messages of a WhatsApp number that failed for good (until retried or dismissed), by direction.", []string{"number", "direction"}, nil)
	numHealthDesc = prometheus.NewDesc("relaydesk_number_health",
		"1 for a WhatsApp number's current health (healthy, degraded, attention, token_expired, unknown...).", []string{"number", "health"}, nil)
	numLastInDesc = prometheus.NewDesc("relaydesk_number_last_inbound_timestamp_seconds",
		"When a WhatsApp number last received a customer message (Unix time); absent before the first.", []string{"number"}, nil)
	connWaitingDesc = prometheus.NewDesc("relaydesk_connection_messages_waiting",
		"Messages waiting for delivery through a helpdesk connection (inbound by the number's route, replies by their connection).",
		[]string{"connection"}, nil)
	connFailedDesc = prometheus.NewDesc("relaydesk_connection_messages_failed",
		"Messages of a helpdesk connection that failed for good.", []string{"connection"}, nil)
	connHealthDesc = prometheus.NewDesc("relaydesk_connection_health",
		"1 for a helpdesk connection's current health (healthy, degraded, auth_failed, token_expired, unknown...).",
		[]string{"connection", "health"}, nil)
)

// backlogCacheFor is how long a read Backlog is reused: several Prometheus
// servers scraping every few seconds cost one query a period.
const backlogCacheFor = 10 * time.Second

type backlogCollector struct {
	read BacklogReader
	mu   sync.Mutex
	at   time.Time
	last Backlog
}

// RegisterBacklog exports the Backlog, read with a 2-second timeout and
// cached briefly.
func RegisterBacklog(reg prometheus.Registerer, read BacklogReader) {
	reg.MustRegister(&backlogCollector{read: read})
}

func (c *backlogCollector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{oldestDesc, numWaitingDesc, numFailedDesc, numHealthDesc, numLastInDesc,
		connWaitingDesc, connFailedDesc, connHealthDesc} {
		ch <- d
	}
}

func (c *backlogCollector) get() (Backlog, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if !c.at.IsZero() && time.Since(c.at) < backlogCacheFor {
		return c.last, nil
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	b, err := c.read(ctx)
	if err != nil {
		return Backlog{}, err
	}
	c.at, c.last = time.Now(), b
	return b, nil
}

func (c *backlogCollector) Collect(ch chan<- prometheus.Metric) {
	b, err := c.get()
	if err != nil {
		ch <- prometheus.NewInvalidMetric(oldestDesc, err)
		return
	}
	gauge := func(d *prometheus.Desc, v float64, labels ...string) {
		ch <- prometheus.MustNewConstMetric(d, prometheus.GaugeValue, v, labels...)
	}
	for _, dir := range []string{"in", "out"} {
		gauge(oldestDesc, b.OldestWaiting[dir].Seconds(), dir)
	}
	for _, n := range b.Numbers {
		for _, dir := range []string{"in", "out"} {
			gauge(numWaitingDesc, float64(n.Waiting[dir]), n.Name, dir)
			gauge(numFailedDesc, float64(n.Failed[dir]), n.Name, dir)
		}
		gauge(numHealthDesc, 1, n.Name, n.Health)
		if n.LastInboundAt != nil {
			gauge(numLastInDesc, float64(n.LastInboundAt.Unix()), n.Name)
		}
	}
	for _, cn := range b.Connections {
		gauge(connWaitingDesc, float64(cn.Waiting[""]), cn.Name)
		gauge(connFailedDesc, float64(cn.Failed[""]), cn.Name)
		gauge(connHealthDesc, 1, cn.Name, cn.Health)
	}
}

// CallMetrics records the latency and outcome class of calls to Graph and
// to helpdesks.
type CallMetrics struct{ calls *prometheus.HistogramVec }

// NewCallMetrics registers relaydesk_outbound_call_duration_seconds.
func NewCallMetrics(reg prometheus.Registerer) *CallMetrics {
	m := &CallMetrics{calls: prometheus.NewHistogramVec(prometheus.HistogramOpts{
		Name: "relaydesk_outbound_call_duration_seconds",
		Help: "HTTP calls to Graph (target=graph, name=number) and helpdesks (target=helpdesk, name=connection), " +
			"by outcome class (ok, auth, rate_limited, client_error, server_error, timeout, network); time to the answer's headers.",
		Buckets: []float64{.025, .05, .1, .25, .5, 1, 2.5, 5, 10, 30},
	}, []string{"target", "name", "outcome"})}
	reg.MustRegister(m.calls)
	return m
}

// Observe records one call.
func (m *CallMetrics) Observe(target, name, outcome string, took time.Duration) {
	m.calls.WithLabelValues(target, name, outcome).Observe(took.Seconds())
}
