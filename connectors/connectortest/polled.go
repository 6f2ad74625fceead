package connectortest

import (
	"context"
	"net/http"
	"testing"
	"time"

	"github.com/relaydesk/relaydesk/connectors"
	"github.com/stretchr/testify/require"
)

// Polled answers a notice delivery by polling ([PollDelivery]) from the
// cursor taken when it was built. The conformance test of a helpdesk that
// pushes nothing signed wraps its client with it, so that the suite's
// webhook checks exercise Poll; the client's own ParseWebhook has its own
// tests.
type Polled struct {
	poller connectors.Poller
	ctx    context.Context
	start  string
}

// ParseWebhook answers a fake delivery by polling.
func (p Polled) ParseWebhook(h http.Header, body, secret []byte, now time.Time) ([]connectors.Event, error) {
	return PollDelivery(p.ctx, p.poller, p.start, h, body, secret, now)
}

// PolledConnector is a connector that polls.
type PolledConnector interface {
	connectors.Connector
	connectors.Poller
}

// NewPolled is a [Harness] New for a polled helpdesk: the connector built
// by newConnector against a fake built by newFake, given by wrap a
// [Polled] that starts now.
func NewPolled[F Configured, C PolledConnector](newFake func(testing.TB) F, newConnector func(connectors.Config) (C, error), wrap func(C, Polled) connectors.Connector) func(*testing.T, *http.Client) (connectors.Connector, Fake) {
	return func(t *testing.T, hc *http.Client) (connectors.Connector, Fake) {
		f := newFake(t)
		c := Connect(t, f, hc, newConnector)
		_, start, err := c.Poll(t.Context(), "")
		require.NoError(t, err)
		return wrap(c, Polled{poller: c, ctx: t.Context(), start: start}), f
	}
}
