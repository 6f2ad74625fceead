package bridge

import (
	"context"
	"errors"
	"net/http"
	"time"
)

// Targets of the calls Opts.ObserveCall is told about.
const (
	CallGraph    = "graph"
	CallHelpdesk = "helpdesk"
)

// CallOutcome classes an HTTP call's result for metrics and alerts: "ok"
// (2xx, 3xx), "auth" (401, 403: credentials refused or a token expired),
// "rate_limited" (429), "client_error" (other 4xx), "server_error" (5xx),
// "timeout" (the call's deadline passed) or "network" (no answer).
func CallOutcome(resp *http.Response, err error) string {
	switch {
	case err != nil && (errors.Is(err, context.DeadlineExceeded) || isTimeout(err)):
		return "timeout"
	case err != nil:
		return "network"
	case resp.StatusCode == http.StatusUnauthorized, resp.StatusCode == http.StatusForbidden:
		return "auth"
	case resp.StatusCode == http.StatusTooManyRequests:
		return "rate_limited"
	case resp.StatusCode >= 500:
		return "server_error"
	case resp.StatusCode >= 400:
		return "client_error"
	}
	return "ok"
}

func isTimeout(err error) bool {
	var t interface{ Timeout() bool }
	return errors.As(err, &t) && t.Timeout()
}

// callClient is the HTTP client for calls to one number's Graph or one
// helpdesk connection: b.http, observed when Opts.ObserveCall is set.
func (b *Bridge) callClient(target, name string) *http.Client {
	if b.observe == nil {
		return b.http
	}
	c := *b.http
	inner := c.Transport
	if inner == nil {
		inner = http.DefaultTransport
	}
	c.Transport = observedTransport{inner: inner, target: target, name: name, observe: b.observe}
	return &c
}

type observedTransport struct {
	inner        http.RoundTripper
	target, name string
	observe      func(target, name, outcome string, took time.Duration)
}

func (t observedTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	start := time.Now()
	resp, err := t.inner.RoundTrip(req)
	t.observe(t.target, t.name, CallOutcome(resp, err), time.Since(start))
	return resp, err
}
