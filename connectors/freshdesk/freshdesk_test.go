package freshdesk_test

import (
	"context"
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/relaydesk/relaydesk/connectors"
	"github.com/relaydesk/relaydesk/connectors/connectortest"
	"github.com/relaydesk/relaydesk/connectors/freshdesk"
	"github.com/relaydesk/relaydesk/connectors/freshdesk/freshdesktest"
)

// polled is the connector under test with ParseWebhook answered by polling
// (see connectortest.PollDelivery): Freshdesk pushes no signed comment
// events, so the suite's webhook checks exercise Poll from the cursor taken
// when the harness was built. The real ParseWebhook has its own tests.
type polled struct {
	*freshdesk.Client
	ctx   context.Context
	start string
}

// ParseWebhook answers a fake delivery by polling.
func (p *polled) ParseWebhook(h http.Header, body, secret []byte, now time.Time) ([]connectors.Event, error) {
	return connectortest.PollDelivery(p.ctx, p.Client, p.start, h, body, secret, now)
}

func TestConformance(t *testing.T) {
	t.Parallel()
	connectortest.Run(t, connectortest.Harness{
		New: func(t *testing.T, hc *http.Client) (connectors.Connector, connectortest.Fake) {
			f := freshdesktest.New(t)
			cfg := f.Config()
			cfg.HTTPClient = hc
			c, err := freshdesk.New(cfg)
			require.NoError(t, err)
			_, start, err := c.Poll(t.Context(), "")
			require.NoError(t, err)
			return &polled{Client: c, ctx: t.Context(), start: start}, f
		},
		Secrets: []string{freshdesktest.APIKey},
	})
}

func TestRegistered(t *testing.T) {
	t.Parallel()
	reg, ok := connectors.Lookup(freshdesk.Kind)
	require.True(t, ok)
	require.Equal(t, "Freshdesk", reg.Description.DisplayName)
	f, ok := reg.Description.Field(freshdesk.SettingPollInterval)
	require.True(t, ok)
	require.Equal(t, connectors.FieldInt, f.Type)
	require.Contains(t, reg.Description.WebhookHelp, freshdesk.WebhookSecretHeader)

	require.Equal(t, 60*time.Second, freshdesk.PollInterval(nil))
	require.Equal(t, 90*time.Second, freshdesk.PollInterval(map[string]any{"poll_interval_seconds": float64(90)}))
	require.Equal(t, 15*time.Second, freshdesk.PollInterval(map[string]any{"poll_interval_seconds": "3"}))

	_, err := freshdesk.New(connectors.Config{Settings: map[string]any{"domain": "Not A Domain"}, Credentials: map[string]string{"api_key": "k"}})
	require.Error(t, err)
}
