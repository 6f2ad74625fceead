package main

import (
	"math"
	"slices"
	"sync"
	"time"
)

// latencies collects durations; percentiles are exact (sorted samples).
type latencies struct {
	mu sync.Mutex
	ms []float64
}

func (l *latencies) add(d time.Duration) {
	l.mu.Lock()
	l.ms = append(l.ms, float64(d)/float64(time.Millisecond))
	l.mu.Unlock()
}

// Summary is a latency distribution in milliseconds.
type Summary struct {
	Count int     `json:"count"`
	P50   float64 `json:"p50_ms"`
	P95   float64 `json:"p95_ms"`
	P99   float64 `json:"p99_ms"`
	Max   float64 `json:"max_ms"`
	Mean  float64 `json:"mean_ms"`
}

func (l *latencies) summary() Summary {
	l.mu.Lock()
	v := slices.Clone(l.ms)
	l.mu.Unlock()
	if len(v) == 0 {
		return Summary{}
	}
	slices.Sort(v)
	var sum float64
	for _, x := range v {
		sum += x
	}
	q := func(p float64) float64 {
		i := int(math.Ceil(p*float64(len(v)))) - 1
		return round2(v[max(0, min(i, len(v)-1))])
	}
	return Summary{Count: len(v), P50: q(0.50), P95: q(0.95), P99: q(0.99), Max: round2(v[len(v)-1]), Mean: round2(sum / float64(len(v)))}
}

func round2(x float64) float64 { return math.Round(x*100) / 100 }

// pacer hands out permits at a steady rate (open-loop load): permit n is
// due at start + n/rate, whoever takes it.
type pacer struct {
	mu    sync.Mutex
	start time.Time
	per   time.Duration
	n     int64
}

func newPacer(rate float64) *pacer {
	if rate <= 0 {
		return nil
	}
	return &pacer{start: time.Now(), per: time.Duration(float64(time.Second) / rate)}
}

// wait blocks until k more permits are due (nil pacer: no wait).
func (p *pacer) wait(k int, deadline time.Time) bool {
	if p == nil {
		return time.Now().Before(deadline)
	}
	p.mu.Lock()
	p.n += int64(k)
	due := p.start.Add(time.Duration(p.n) * p.per)
	p.mu.Unlock()
	if due.After(deadline) {
		return false
	}
	if d := time.Until(due); d > 0 {
		time.Sleep(d)
	}
	return true
}
