package connectortest

// Checks the connectors' own tests share.

import (
	"fmt"
	"net/http"
	"slices"
	"sync/atomic"
	"testing"

	"github.com/relaydesk/relaydesk/connectors"
	"github.com/stretchr/testify/require"
)

// ConfigProblems is a configuration a connector's New must refuse, with the
// texts its error must contain.
type ConfigProblems struct {
	Name     string
	Config   connectors.Config
	Problems []string
}

// RequireConfigProblems runs a parallel subtest per case: newConnector must
// refuse the case's configuration with an error that contains each of its
// problems.
func RequireConfigProblems[C any](t *testing.T, newConnector func(connectors.Config) (C, error), cases []ConfigProblems) {
	t.Helper()
	for _, tt := range cases {
		t.Run(tt.Name, func(t *testing.T) {
			t.Parallel()
			_, err := newConnector(tt.Config)
			require.Error(t, err)
			for _, p := range tt.Problems {
				require.Contains(t, err.Error(), p)
			}
		})
	}
}

// Expecter is a fake that checks the requests to its routes as they
// arrive: [Server.Expect].
type Expecter interface {
	Expect(pattern string, c Check)
}

// ExpectFields makes f refuse a request to pattern whose body fields (the
// multipart parts in order, or the JSON object's keys sorted) are not want.
func ExpectFields(f Expecter, pattern string, want ...string) {
	f.Expect(pattern, func(r *http.Request) string {
		got := FormFields(r)
		if got == nil {
			got = JSONKeys(PeekBody(r))
		}
		if !slices.Equal(got, want) {
			return fmt.Sprintf("body fields %q, want %q", got, want)
		}
		return ""
	})
}

// CountQuery counts the requests to pattern that carry the query parameter
// param (the pages after the first of a listing).
func CountQuery(f Expecter, pattern, param string) *atomic.Int64 {
	var n atomic.Int64
	f.Expect(pattern, func(r *http.Request) string {
		if r.URL.Query().Has(param) {
			n.Add(1)
		}
		return ""
	})
	return &n
}

// RecordLength keeps the Content-Length of the last request to pattern (-1
// when it was sent chunked).
func RecordLength(f Expecter, pattern string) *atomic.Int64 {
	var n atomic.Int64
	f.Expect(pattern, func(r *http.Request) string {
		n.Store(r.ContentLength)
		return ""
	})
	return &n
}

// Configured is a fake that configures the connectors pointing at it.
type Configured interface {
	Fake
	Config() connectors.Config
}

// Connect builds a connector with newConnector for fake's configuration,
// with hc as its HTTP client.
func Connect[F Configured, C any](t *testing.T, fake F, hc *http.Client, newConnector func(connectors.Config) (C, error)) C {
	t.Helper()
	cfg := fake.Config()
	cfg.HTTPClient = hc
	c, err := newConnector(cfg)
	require.NoError(t, err)
	return c
}

// NewWith is a [Harness] New for a connector built by newConnector against
// a fake built by newFake.
func NewWith[F Configured, C connectors.Connector](newFake func(testing.TB) F, newConnector func(connectors.Config) (C, error)) func(*testing.T, *http.Client) (connectors.Connector, Fake) {
	return func(t *testing.T, hc *http.Client) (connectors.Connector, Fake) {
		f := newFake(t)
		return Connect(t, f, hc, newConnector), f
	}
}
