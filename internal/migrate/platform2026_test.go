package migrate_test

import (
	"context"
	"log/slog"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/relaydesk/relaydesk/internal/migrate"
	"github.com/relaydesk/relaydesk/internal/testdb"
)

// TestPlatform2026Migration runs the 2026 platform migration on a database
// holding 011's schema with data: existing numbers keep their Graph version
// and get the defaults (not coexistence, read policy off), messages are
// not echoes, conversations not held by Meta's AI, and "played" ranks after
// "read". Down keeps a played message as read.
func TestPlatform2026Migration(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	log := slog.New(slog.DiscardHandler)
	pool := testdb.Empty(t)
	require.NoError(t, migrate.Up(ctx, pool, log))
	require.NoError(t, migrate.Down(ctx, pool, log, 11))

	_, err := pool.Exec(ctx, `
		INSERT INTO whatsapp_accounts (name, phone_number_id, waba_id, graph_version, access_token, app_secret, verify_token)
			VALUES ('a1', 'P1', 'WABA-A', 'v21.0', '\x00', '\x00', '\x00');
		INSERT INTO contacts (waba_id, wa_id, profile_name) VALUES ('WABA-A', '4915100000001', 'Kim');
		INSERT INTO conversations (account_id, contact_id, last_seq) SELECT a.id, k.id, 2 FROM whatsapp_accounts a, contacts k;
		INSERT INTO messages (conversation_id, direction, seq, wamid, kind, body, status)
			SELECT c.id, 'out', 1, 'wamid.OUT', 'text', 'voice note sent', 'read' FROM conversations c;
		INSERT INTO messages (conversation_id, direction, seq, wamid, kind, body)
			SELECT c.id, 'in', 2, 'wamid.IN', 'text', 'hello' FROM conversations c;`)
	require.NoError(t, err)

	require.NoError(t, migrate.Up(ctx, pool, log))
	var version, policy string
	var coexistence, aiHolds bool
	var echoes, msgs int
	require.NoError(t, pool.QueryRow(ctx, `SELECT graph_version, read_policy, coexistence FROM whatsapp_accounts`).Scan(&version, &policy, &coexistence))
	require.Equal(t, "v21.0", version, "an existing number keeps its version")
	require.Equal(t, "off", policy)
	require.False(t, coexistence)
	require.NoError(t, pool.QueryRow(ctx, `SELECT ai_holds FROM conversations`).Scan(&aiHolds))
	require.False(t, aiHolds)
	require.NoError(t, pool.QueryRow(ctx, `SELECT count(*) FILTER (WHERE echo), count(*) FROM messages`).Scan(&echoes, &msgs))
	require.Equal(t, 0, echoes)
	require.Equal(t, 2, msgs, "every message kept")

	var rank, readRank int
	require.NoError(t, pool.QueryRow(ctx, `SELECT relaydesk_status_rank('played'), relaydesk_status_rank('read')`).Scan(&rank, &readRank))
	require.Greater(t, rank, readRank, "played ranks after read")
	_, err = pool.Exec(ctx, `UPDATE messages SET status = 'played' WHERE wamid = 'wamid.OUT'`)
	require.NoError(t, err)
	var def string
	_, err = pool.Exec(ctx, `INSERT INTO whatsapp_accounts (name, phone_number_id, waba_id, access_token, app_secret, verify_token)
		VALUES ('a2', 'P2', 'WABA-A', '\x00', '\x00', '\x00')`)
	require.NoError(t, err)
	require.NoError(t, pool.QueryRow(ctx, `SELECT graph_version FROM whatsapp_accounts WHERE name = 'a2'`).Scan(&def))
	require.Equal(t, "v26.0", def, "a new number defaults to the current version")

	require.NoError(t, migrate.Down(ctx, pool, log, 11))
	var status string
	require.NoError(t, pool.QueryRow(ctx, `SELECT status FROM messages WHERE wamid = 'wamid.OUT'`).Scan(&status))
	require.Equal(t, "read", status, "down keeps a played message as read")
	require.NoError(t, migrate.Up(ctx, pool, log))
}
