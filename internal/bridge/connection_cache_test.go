package bridge

import (
	"context"
	"log/slog"
	"net/http"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/relaydesk/relaydesk/connectors"
	"github.com/relaydesk/relaydesk/internal/store"
	"github.com/relaydesk/relaydesk/internal/testdb"
)

// TestConnectorKeptUntilItsRowChanges: a connection's connector is built
// (its credentials decrypted) once, then reused by every job until the
// connection's row changes; the row each job sees is always the current
// one.
func TestConnectorKeptUntilItsRowChanges(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	st := testdb.NewStore(t)
	var builds []map[string]string
	b := New(Opts{Store: st, Logger: slog.New(slog.DiscardHandler),
		Connectors: func(c store.Connection, creds map[string]string, hc *http.Client) (connectors.Connector, error) {
			builds = append(builds, creds)
			return nil, nil
		}})
	who := store.Actor{Name: "test"}
	conn, err := st.CreateConnection(ctx, store.NewConnection{Name: "desk", Kind: "zendesk", BaseURL: "https://acme.zendesk.com",
		Settings: map[string]any{"subdomain": "acme"}, Credentials: map[string]string{"api_token": "one"}}, who)
	require.NoError(t, err)

	for range 3 {
		_, err := b.connection(ctx, conn.ID)
		require.NoError(t, err)
	}
	require.Len(t, builds, 1, "built once for three jobs")

	require.NoError(t, st.SetConnectionEnabled(ctx, conn.ID, false, who))
	c, err := b.connection(ctx, conn.ID)
	require.NoError(t, err)
	require.False(t, c.row.Enabled, "the current row, not the one it was built from")
	require.Len(t, builds, 1, "enabling or disabling does not change what the connector is built from")

	require.NoError(t, st.UpdateConnection(ctx, conn.ID, store.NewConnection{Name: "desk", Kind: "zendesk", BaseURL: "https://acme.zendesk.com",
		Settings: map[string]any{"subdomain": "acme"}, Credentials: map[string]string{"api_token": "two"}}, who))
	_, err = b.connection(ctx, conn.ID)
	require.NoError(t, err)
	require.Len(t, builds, 2, "new credentials: built again")
	require.Equal(t, "two", builds[1]["api_token"])
}
