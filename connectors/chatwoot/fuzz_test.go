package chatwoot_test

import (
	"testing"

	"github.com/relaydesk/relaydesk/connectors/chatwoot"
	"github.com/relaydesk/relaydesk/connectors/chatwoot/chatwoottest"
	"github.com/relaydesk/relaydesk/connectors/connectortest"
)

func FuzzParseWebhook(f *testing.F) {
	connectortest.FuzzWebhook(f, chatwoottest.New(f), chatwoot.New)
}
