package freshdesk_test

import (
	"testing"

	"github.com/relaydesk/relaydesk/connectors/connectortest"
	"github.com/relaydesk/relaydesk/connectors/freshdesk"
	"github.com/relaydesk/relaydesk/connectors/freshdesk/freshdesktest"
)

func FuzzParseWebhook(f *testing.F) {
	connectortest.FuzzWebhook(f, freshdesktest.New(f), freshdesk.New)
}
