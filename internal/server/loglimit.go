package server

import (
	"sync"
	"time"
)

// logLimit lets one log line through per interval and counts the others,
// so a flood of requests (anyone can post a delivery for an unknown number)
// cannot flood the logs.
type logLimit struct {
	mu         sync.Mutex
	interval   time.Duration
	last       time.Time
	suppressed int
}

// allow reports whether a line may be written at now, with how many were
// held back since the last one written.
func (l *logLimit) allow(now time.Time) (suppressed int, ok bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if !l.last.IsZero() && now.Sub(l.last) < l.interval {
		l.suppressed++
		return 0, false
	}
	suppressed, l.last, l.suppressed = l.suppressed, now, 0
	return suppressed, true
}
