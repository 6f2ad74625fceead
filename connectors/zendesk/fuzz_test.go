package zendesk_test

import (
	"testing"

	"github.com/relaydesk/relaydesk/connectors/connectortest"
	"github.com/relaydesk/relaydesk/connectors/zendesk"
	"github.com/relaydesk/relaydesk/connectors/zendesk/zendesktest"
)

func FuzzParseWebhook(f *testing.F) {
	connectortest.FuzzWebhook(f, zendesktest.New(f), zendesk.New)
}
