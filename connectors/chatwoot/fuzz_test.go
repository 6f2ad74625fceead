package chatwoot_test

import (
	"testing"

	"github.com/relaydesk/relaydesk/connectors/connectortest"
	"github.com/relaydesk/relaydesk/connectors/chatwoot"
	"github.com/relaydesk/relaydesk/connectors/chatwoot/chatwoottest"
)

func FuzzParseWebhook(f *testing.F) {
	connectortest.FuzzWebhook(f, chatwoottest.New(f), chatwoot.New)
}
