package zammad_test

import (
	"testing"

	"github.com/relaydesk/relaydesk/connectors/connectortest"
	"github.com/relaydesk/relaydesk/connectors/zammad"
	"github.com/relaydesk/relaydesk/connectors/zammad/zammadtest"
)

func FuzzParseWebhook(f *testing.F) {
	connectortest.FuzzWebhook(f, zammadtest.New(f), zammad.New)
}
