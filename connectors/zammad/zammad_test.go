package zammad_test

import (
	"net/http"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/relaydesk/relaydesk/connectors"
	"github.com/relaydesk/relaydesk/connectors/connectortest"
	"github.com/relaydesk/relaydesk/connectors/zammad"
	"github.com/relaydesk/relaydesk/connectors/zammad/zammadtest"
)

func TestConformance(t *testing.T) {
	t.Parallel()
	connectortest.Run(t, connectortest.Harness{
		New: func(t *testing.T, hc *http.Client) (connectors.Connector, connectortest.Fake) {
			f := zammadtest.New(t)
			cfg := f.Config()
			cfg.HTTPClient = hc
			c, err := zammad.New(cfg)
			require.NoError(t, err)
			return c, f
		},
		Secrets: []string{zammadtest.APIToken},
	})
}
