package zendesk_test

import (
	"net/http"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/relaydesk/relaydesk/connectors"
	"github.com/relaydesk/relaydesk/connectors/connectortest"
	"github.com/relaydesk/relaydesk/connectors/zendesk"
	"github.com/relaydesk/relaydesk/connectors/zendesk/zendesktest"
)

func TestConformance(t *testing.T) {
	t.Parallel()
	connectortest.Run(t, connectortest.Harness{
		New: func(t *testing.T, hc *http.Client) (connectors.Connector, connectortest.Fake) {
			f := zendesktest.New(t)
			cfg := f.Config()
			cfg.HTTPClient = hc
			c, err := zendesk.New(cfg)
			require.NoError(t, err)
			return c, f
		},
		Secrets: []string{zendesktest.APIToken, zendesktest.OAuthToken},
	})
}
