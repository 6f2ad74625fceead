package rt_test

import (
	"context"
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/relaydesk/relaydesk/connectors"
	"github.com/relaydesk/relaydesk/connectors/connectortest"
	"github.com/relaydesk/relaydesk/connectors/rt"
	"github.com/relaydesk/relaydesk/connectors/rt/rttest"
)

// polled is the connector under test with ParseWebhook answered by polling
// (see connectortest.PollDelivery): RT pushes nothing, so the suite's webhook
// checks exercise Poll from the cursor taken when the harness was built.
// The real ParseWebhook refuses every request (TestParseWebhookRefuses).
type polled struct {
	*rt.Client
	ctx   context.Context
	start string
}

// ParseWebhook answers a fake delivery by polling.
func (p *polled) ParseWebhook(h http.Header, body, secret []byte, now time.Time) ([]connectors.Event, error) {
	return connectortest.PollDelivery(p.ctx, p.Client, p.start, h, body, secret, now)
}

// TestConformance runs the shared suite against a real Request Tracker
// (scripts/rt-test-server), with injected failures from a proxy.
func TestConformance(t *testing.T) {
	t.Parallel()
	rttest.Require(t)
	connectortest.Run(t, connectortest.Harness{
		New: func(t *testing.T, hc *http.Client) (connectors.Connector, connectortest.Fake) {
			f := rttest.New(t)
			cfg := f.Config()
			cfg.HTTPClient = hc
			c, err := rt.New(cfg)
			require.NoError(t, err)
			_, start, err := c.Poll(t.Context(), "")
			require.NoError(t, err)
			return &polled{Client: c, ctx: t.Context(), start: start}, f
		},
		Secrets: []string{rttest.Require(t).Token},
	})
}
