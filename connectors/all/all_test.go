package all_test

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/relaydesk/relaydesk/connectors"
	_ "github.com/relaydesk/relaydesk/connectors/all"
)

func TestEveryConnectorIsRegistered(t *testing.T) {
	t.Parallel()
	require.Equal(t, []string{"chatwoot", "freshdesk", "rt", "zammad", "zendesk"}, connectors.Kinds())
	for _, reg := range connectors.All() {
		require.NotEmpty(t, reg.Description.DisplayName, reg.Description.Kind)
		require.NotEmpty(t, reg.Description.WebhookHelp, reg.Description.Kind)
	}
}
