package chatwoot_test

import (
	"net/http"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/relaydesk/relaydesk/connectors"
	"github.com/relaydesk/relaydesk/connectors/chatwoot"
	"github.com/relaydesk/relaydesk/connectors/chatwoot/chatwoottest"
	"github.com/relaydesk/relaydesk/connectors/connectortest"
)

// closedOnly are the conformance subtests that need a final ("closed")
// status. Chatwoot has none (open, pending, snoozed, resolved), so the
// connector never reports one; the follow-up subtest still runs, the fake
// resolving the conversation instead.
var closedOnly = []string{
	"/GetTicket/closed",
	"/AddMessage/a_closed_ticket_refuses_the_comment",
}

func TestConformance(t *testing.T) {
	t.Parallel()
	connectortest.Run(t, connectortest.Harness{
		New: func(t *testing.T, hc *http.Client) (connectors.Connector, connectortest.Fake) {
			for _, name := range closedOnly {
				if strings.HasSuffix(t.Name(), name) {
					t.Skip("Chatwoot has no closed status: a resolved conversation always takes new messages")
				}
			}
			f := chatwoottest.New(t)
			cfg := f.Config()
			cfg.HTTPClient = hc
			c, err := chatwoot.New(cfg)
			require.NoError(t, err)
			return c, f
		},
		Secrets: []string{chatwoottest.APIToken},
	})
}
