package connectortest

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
)

// Wire is how a helpdesk's fake answers around its handlers: its routes,
// its error bodies, the answers to injected failures and the guards in
// front of its API.
type Wire struct {
	// Helpdesk names the helpdesk in violations: "no such Zendesk
	// endpoint".
	Helpdesk string
	// Prefix starts the test errors: the fake's package name.
	Prefix string
	// Routes are the endpoints.
	Routes []Route
	// Fail answers an injected failure other than FailTimeout.
	Fail func(w http.ResponseWriter, kind Failure)
	// Refuse answers a request the routes refuse: 404 for an unknown
	// endpoint, 400 for a broken rule, with msg for the error body.
	Refuse func(w http.ResponseWriter, r *http.Request, status int, msg string)
	// Before, when set, runs first on every request (rate limits, headers
	// every answer carries); it returns false when it answered.
	Before func(w http.ResponseWriter, r *http.Request) bool
	// Guard, when set, runs after the route checks (authentication); it
	// returns false when it answered.
	Guard func(w http.ResponseWriter, r *http.Request) bool
	// Wrap, when set, wraps the whole handler (a load tool injecting
	// faults).
	Wrap func(http.Handler) http.Handler
}

// Server is the HTTP side every helpdesk fake shares: an httptest server
// that checks each request against its route as it arrives, injects the
// failures queued with FailNext, FailNextWith and FailMatching, and records
// violations. A fake embeds it and starts it with [Server.Start].
type Server struct {
	// URL is the base URL of the fake (scheme and host).
	URL string

	failures   Failures
	violations Violations
	router     *Router
	count      atomic.Int64
	stop       func()
}

// Start serves wire. When tb is not nil, violations fail the test and the
// server is closed at the test's cleanup.
func (s *Server) Start(tb testing.TB, wire Wire) {
	s.violations = Violations{TB: tb, Prefix: wire.Prefix}
	s.router = NewRouter(wire.Routes)
	var h http.Handler = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.count.Add(1)
		if wire.Before != nil && !wire.Before(w, r) {
			return
		}
		if s.failures.Inject(w, r, wire.Fail) {
			return
		}
		if status, msg := s.router.Check(r, &s.violations, wire.Helpdesk); status != 0 {
			wire.Refuse(w, r, status, msg)
			return
		}
		if wire.Guard != nil && !wire.Guard(w, r) {
			return
		}
		s.router.ServeHTTP(w, r)
	})
	if wire.Wrap != nil {
		h = wire.Wrap(h)
	}
	srv := httptest.NewServer(h)
	s.URL = srv.URL
	s.stop = sync.OnceFunc(func() {
		s.failures.Close()
		srv.Close()
	})
	if tb != nil {
		tb.Cleanup(s.stop)
	}
}

// Close stops the server, once however often it is called; requests held
// by FailTimeout are released.
func (s *Server) Close() { s.stop() }

// Violations returns the rule violations recorded so far.
func (s *Server) Violations() []string { return s.violations.All() }

// Violate records a violation.
func (s *Server) Violate(format string, args ...any) { s.violations.Addf(format, args...) }

// RequestCount returns how many requests the fake has received.
func (s *Server) RequestCount() int { return int(s.count.Load()) }

// Expect adds a check to the route with this pattern: the requests that
// follow must pass it, or they are refused with 400 as violations.
func (s *Server) Expect(pattern string, c Check) { s.router.Expect(pattern, c) }

// Hits returns how many requests the route with this pattern accepted.
func (s *Server) Hits(pattern string) int { return s.router.Hits(pattern) }

// FailNext implements Fake: the next n requests fail with kind.
func (s *Server) FailNext(n int, kind Failure) { s.failures.FailNext(n, kind) }

// FailNextWith makes the next request fail with this status, headers and
// body (Content-Type defaults to application/json).
func (s *Server) FailNextWith(status int, header http.Header, body string) {
	s.failures.FailNextWith(status, header, body)
}

// FailMatching makes the next request with this method whose path ends
// with suffix fail with kind; other requests go through.
func (s *Server) FailMatching(method, suffix string, kind Failure) {
	s.failures.FailMatching(method, suffix, kind)
}

// DecodeJSON reads r's JSON body strictly into v, as [DecodeJSON] does,
// recording violations.
func (s *Server) DecodeJSON(r *http.Request, v any, limit int64) ([]byte, *BodyError) {
	return DecodeJSON(&s.violations, r, v, limit)
}

func containsFold(s, sub string) bool {
	return strings.Contains(strings.ToLower(s), strings.ToLower(sub))
}
