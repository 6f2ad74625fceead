package store_test

import (
	"context"
	"slices"
	"testing"

	"github.com/jackc/pgx/v5"
	"github.com/stretchr/testify/require"

	"github.com/relaydesk/relaydesk/internal/secret"
	"github.com/relaydesk/relaydesk/internal/store"
	"github.com/relaydesk/relaydesk/internal/testdb"
)

func TestResealAfterKeyRotation(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	oldKey, err := secret.ParseKey(secret.GenerateKey())
	require.NoError(t, err)
	newKey, err := secret.ParseKey(secret.GenerateKey())
	require.NoError(t, err)
	pool := testdb.New(t)

	// Secrets stored under the old key.
	before, err := secret.NewKeyring(oldKey, nil)
	require.NoError(t, err)
	old := store.New(pool, before)
	who := store.Actor{Name: "test"}
	_, err = old.CreateAccount(ctx, store.NewAccount{Name: "support-us", PhoneNumberID: "106540352242922", WABAID: "1022",
		GraphURL: "https://graph.facebook.com", GraphVersion: "v23.0", SendRate: 80,
		AccessToken: "EAAG-plaintext-token", AppSecret: "app-secret-plain", VerifyToken: "verify-plain"}, who)
	require.NoError(t, err)
	conn, err := old.CreateConnection(ctx, store.NewConnection{Name: "zendesk-main", Kind: "zendesk",
		Credentials: map[string]string{"email": "agent@acme.test", "api_token": "zd-token-plain"}}, who)
	require.NoError(t, err)
	require.NoError(t, old.ReplaceWebhookSecret(ctx, conn.ID, []byte("zd-hook-plain"), "entered", who))

	// The rotation: new key current, old key still configured.
	during, err := secret.NewKeyring(newKey, oldKey)
	require.NoError(t, err)
	n, err := store.New(pool, during).Reseal(ctx)
	require.NoError(t, err)
	require.Equal(t, 5, n, "three account secrets, the connection's credentials and its webhook secret")
	n, err = store.New(pool, during).Reseal(ctx)
	require.NoError(t, err)
	require.Zero(t, n, "nothing left under the old key")

	// The old key can go: everything opens with the new key alone.
	after, err := secret.NewKeyring(newKey, nil)
	require.NoError(t, err)
	st := store.New(pool, after)
	a, err := st.AccountByName(ctx, "support-us")
	require.NoError(t, err)
	sec, err := st.Secrets(a)
	require.NoError(t, err)
	require.Equal(t, "EAAG-plaintext-token", sec.AccessToken)
	c, err := st.ConnectionByName(ctx, "zendesk-main")
	require.NoError(t, err)
	creds, err := st.Credentials(c)
	require.NoError(t, err)
	require.Equal(t, "zd-token-plain", creds["api_token"])
	hook, err := st.WebhookSecret(c)
	require.NoError(t, err)
	require.Equal(t, "zd-hook-plain", string(hook))
}

// TestEverySealedColumnIsResealed keeps the reseal list complete: every
// bytea column of the schema is either sealed (and listed) or a hash.
func TestEverySealedColumnIsResealed(t *testing.T) {
	t.Parallel()
	pool := testdb.New(t)
	rows, err := pool.Query(context.Background(), `SELECT table_name || '.' || column_name FROM information_schema.columns
		WHERE table_schema = 'public' AND data_type = 'bytea' AND table_name NOT LIKE 'river\_%' ORDER BY 1`)
	require.NoError(t, err)
	cols, err := pgx.CollectRows(rows, pgx.RowTo[string])
	require.NoError(t, err)

	sealed := store.SealedColumnNames()
	for _, col := range cols {
		switch {
		case slices.Contains(sealed, col):
		case col == "oauth_states.verifier": // sealed, lives ten minutes
		case col == "webhook_events.body": // raw deliveries, not secret
		case col == "api_idempotency.response": // a stored API answer, not secret
		default:
			require.Regexp(t, `(_hash|\.id_hash|\.token_hash)$`, col, "%s is neither a hash nor in the reseal list", col)
		}
	}
	for _, s := range sealed {
		require.Contains(t, cols, s, "the reseal list names a column the schema does not have")
	}
}
