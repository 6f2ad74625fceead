package migrate_test

import (
	"context"
	"log/slog"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/relaydesk/relaydesk/internal/migrate"
	"github.com/relaydesk/relaydesk/internal/testdb"
)

// TestContactIdentityMigration runs 010 on a database holding 009's schema
// with data: a customer on numbers of two WABAs is split into one contact
// per WABA, every conversation keeps its messages and tickets' rows, and
// the number-change note goes with each copy.
func TestContactIdentityMigration(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	log := slog.New(slog.DiscardHandler)
	pool := testdb.Empty(t)
	require.NoError(t, migrate.Up(ctx, pool, log))
	require.NoError(t, migrate.Down(ctx, pool, log, 9))

	_, err := pool.Exec(ctx, `
		INSERT INTO whatsapp_accounts (name, phone_number_id, waba_id, access_token, app_secret, verify_token) VALUES
			('a1', 'P1', 'WABA-A', '\x00', '\x00', '\x00'),
			('a2', 'P2', 'WABA-A', '\x00', '\x00', '\x00'),
			('b1', 'P3', 'WABA-B', '\x00', '\x00', '\x00');
		INSERT INTO contacts (wa_id, profile_name, changed_to_wa_id, changed_at) VALUES
			('4915100000001', 'Shared', '4915100000099', '2026-11-01T00:00:00Z'),
			('4915100000002', 'OnlyA', NULL, NULL),
			('4915100000003', 'Orphan', '4915100000004', '2026-11-01T00:00:00Z');
		INSERT INTO conversations (account_id, contact_id, last_seq)
			SELECT a.id, k.id, 1 FROM whatsapp_accounts a, contacts k
			WHERE (k.wa_id = '4915100000001') OR (k.wa_id = '4915100000002' AND a.name = 'a1');
		INSERT INTO messages (conversation_id, direction, seq, wamid, kind, body)
			SELECT c.id, 'in', 1, 'wamid.' || c.id, 'text', 'hello ' || a.name
			FROM conversations c JOIN whatsapp_accounts a ON a.id = c.account_id;`)
	require.NoError(t, err)
	var convs, msgs int
	require.NoError(t, pool.QueryRow(ctx, `SELECT (SELECT count(*) FROM conversations), (SELECT count(*) FROM messages)`).Scan(&convs, &msgs))
	require.Equal(t, 4, convs)

	require.NoError(t, migrate.Up(ctx, pool, log))

	type row struct {
		Account, WABA, WaID, Name, ChangedTo, Body string
	}
	rows, err := pool.Query(ctx, `SELECT a.name, k.waba_id, k.wa_id, k.profile_name, coalesce(k.changed_to_wa_id, ''), m.body
		FROM conversations c JOIN whatsapp_accounts a ON a.id = c.account_id JOIN contacts k ON k.id = c.contact_id
		JOIN messages m ON m.conversation_id = c.id ORDER BY a.name, k.wa_id`)
	require.NoError(t, err)
	var got []row
	for rows.Next() {
		var r row
		require.NoError(t, rows.Scan(&r.Account, &r.WABA, &r.WaID, &r.Name, &r.ChangedTo, &r.Body))
		got = append(got, r)
	}
	require.NoError(t, rows.Err())
	require.Equal(t, []row{
		{"a1", "WABA-A", "4915100000001", "Shared", "4915100000099", "hello a1"},
		{"a1", "WABA-A", "4915100000002", "OnlyA", "", "hello a1"},
		{"a2", "WABA-A", "4915100000001", "Shared", "4915100000099", "hello a2"},
		{"b1", "WABA-B", "4915100000001", "Shared", "4915100000099", "hello b1"},
	}, got, "every conversation keeps its messages, on the contact of its number's WABA")

	var shared, sharedA int
	require.NoError(t, pool.QueryRow(ctx, `SELECT count(*), count(*) FILTER (WHERE waba_id = 'WABA-A')
		FROM contacts WHERE wa_id = '4915100000001'`).Scan(&shared, &sharedA))
	require.Equal(t, 2, shared, "the shared customer is split in one contact per WABA")
	require.Equal(t, 1, sharedA, "the two numbers of one WABA share one contact")
	var orphanWABA string
	require.NoError(t, pool.QueryRow(ctx, `SELECT waba_id FROM contacts WHERE wa_id = '4915100000003'`).Scan(&orphanWABA))
	require.Empty(t, orphanWABA, "a contact without conversations is kept, in no WABA")
	var after int
	require.NoError(t, pool.QueryRow(ctx, `SELECT count(*) FROM messages`).Scan(&after))
	require.Equal(t, msgs, after)

	_, err = pool.Exec(ctx, `INSERT INTO contacts (waba_id, wa_id) VALUES ('WABA-B', '4915100000001')`)
	require.ErrorContains(t, err, "contacts_waba_wa_id_key", "one contact per phone per WABA")
	_, err = pool.Exec(ctx, `INSERT INTO contacts (waba_id, user_id, username) VALUES ('WABA-B', 'US.123', 'ana')`)
	require.NoError(t, err, "a contact may have a BSUID and no phone")
	_, err = pool.Exec(ctx, `INSERT INTO contacts (waba_id) VALUES ('WABA-B')`)
	require.ErrorContains(t, err, "contacts_has_id")

	t.Run("down merges the copies back", func(t *testing.T) {
		require.NoError(t, migrate.Down(ctx, pool, log, 9))
		var contacts, convs2, msgs2 int
		require.NoError(t, pool.QueryRow(ctx, `SELECT (SELECT count(*) FROM contacts WHERE wa_id = '4915100000001'),
			(SELECT count(*) FROM conversations), (SELECT count(*) FROM messages)`).Scan(&contacts, &convs2, &msgs2))
		require.Equal(t, 1, contacts)
		require.Equal(t, convs, convs2)
		require.Equal(t, msgs, msgs2)
		require.NoError(t, migrate.Up(ctx, pool, log))
	})
}
