package main

import (
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strconv"
	"sync"
	"sync/atomic"
	"time"
)

// zdFault is a way the fake Zendesk misbehaves for a period of time.
type zdFault int

const (
	zdOK          zdFault = iota
	zdServerError         // 500
	zdRateLimited         // 429 with Retry-After
	zdSlow                // answers, but late
	zdResetBefore         // connection reset before the request is handled
	zdResetAfter          // the request is handled, then the connection is reset (the answer is lost)
	zdDown                // 500 to every request: an outage
)

func (f zdFault) String() string {
	return [...]string{"none", "500", "429+Retry-After", "slow", "reset-before", "reset-after", "down"}[f]
}

// faultSwitch wraps the fake Zendesk's handler and applies the current
// fault to API requests (every other request while the fault is on, so
// work still trickles through and retries are exercised).
type faultSwitch struct {
	mode       atomic.Int32
	slow       time.Duration
	retryAfter time.Duration
	n          atomic.Int64
	mu         sync.Mutex
	applied    map[zdFault]int
	// failLeft makes that many next requests answer 500, whatever the
	// mode; lastFail is when the last of them was answered.
	failLeft atomic.Int64
	lastFail atomic.Int64
	downAt   []time.Time // when each zdDown request arrived, guarded by mu
}

// downBetween counts the zdDown requests that arrived in (from, to].
func (s *faultSwitch) downBetween(from, to time.Time) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	n := 0
	for _, at := range s.downAt {
		if at.After(from) && !at.After(to) {
			n++
		}
	}
	return n
}

func newFaultSwitch() *faultSwitch {
	return &faultSwitch{slow: 1500 * time.Millisecond, retryAfter: 2 * time.Second, applied: map[zdFault]int{}}
}

func (s *faultSwitch) set(f zdFault) { s.mode.Store(int32(f)) }

func (s *faultSwitch) counts() map[string]int {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := map[string]int{}
	for k, v := range s.applied {
		out[k.String()] = v
	}
	return out
}

func (s *faultSwitch) wrap(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		f := zdFault(s.mode.Load())
		if s.failLeft.Add(-1) >= 0 {
			s.lastFail.Store(time.Now().UnixNano())
			f = zdDown
		} else if f != zdDown && (f == zdOK || s.n.Add(1)%2 == 0) {
			next.ServeHTTP(w, r)
			return
		}
		s.mu.Lock()
		s.applied[f]++
		if f == zdDown {
			s.downAt = append(s.downAt, time.Now())
		}
		s.mu.Unlock()
		switch f {
		case zdServerError, zdDown:
			_, _ = io.Copy(io.Discard, r.Body)
			zdError(w, http.StatusInternalServerError, "InternalServerError", "Something went wrong")
		case zdRateLimited:
			_, _ = io.Copy(io.Discard, r.Body)
			w.Header().Set("Retry-After", strconv.Itoa(int(s.retryAfter/time.Second)))
			zdError(w, http.StatusTooManyRequests, "APIRateLimitExceeded", "Number of allowed API requests per minute exceeded")
		case zdSlow:
			select {
			case <-time.After(s.slow):
			case <-r.Context().Done():
				return
			}
			next.ServeHTTP(w, r)
		case zdResetBefore:
			reset(w)
		case zdResetAfter:
			rec := httptest.NewRecorder()
			next.ServeHTTP(rec, r)
			reset(w)
		}
	})
}

// reset closes the connection with an RST, without an answer.
func reset(w http.ResponseWriter) {
	hj, ok := w.(http.Hijacker)
	if !ok {
		panic(http.ErrAbortHandler)
	}
	conn, _, err := hj.Hijack()
	if err != nil {
		return
	}
	if tc, ok := conn.(*net.TCPConn); ok {
		_ = tc.SetLinger(0)
	}
	conn.Close()
}

func zdError(w http.ResponseWriter, status int, code, desc string) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(status)
	fmt.Fprintf(w, `{"error":%q,"description":%q}`, code, desc)
}
