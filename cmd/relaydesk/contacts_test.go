package main

import (
	"bytes"
	"context"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/relaydesk/relaydesk/internal/secret"
	"github.com/relaydesk/relaydesk/internal/testdb"
)

func TestContactsEraseCommand(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	pool := testdb.New(t)
	env := map[string]string{"DATABASE_URL": testdb.URLFor(testdb.Name(pool)), "RELAYDESK_LOG_LEVEL": "error",
		"RELAYDESK_SECRET_KEY": secret.GenerateKey(), "RELAYDESK_BASE_URL": "http://localhost:8080"}
	run := func(args ...string) (string, string, error) {
		var out, errb bytes.Buffer
		err := runContacts(ctx, func(k string) string { return env[k] }, args, &out, &errb)
		return out.String(), errb.String(), err
	}
	for _, args := range [][]string{nil, {"delete"}, {"erase"}, {"erase", "--wa-id"}, {"erase", "--wa-id", "1", "extra"}} {
		_, stderr, err := run(args...)
		require.ErrorIs(t, err, errUsage, "%v", args)
		require.Contains(t, stderr, "usage: relaydesk")
	}
	_, _, err := run("erase", "--wa-id", "4915100000000")
	require.ErrorContains(t, err, "no contact has the WhatsApp id 4915100000000: nothing erased")

	var contact int64
	require.NoError(t, pool.QueryRow(ctx, `INSERT INTO contacts (waba_id, wa_id, profile_name) VALUES ('', '4915100000001', 'Ana') RETURNING id`).Scan(&contact))
	out, _, err := run("erase", "--wa-id", "4915100000001")
	require.NoError(t, err)
	require.Contains(t, out, "erased contact")
	var n int
	require.NoError(t, pool.QueryRow(ctx, `SELECT count(*) FROM contacts`).Scan(&n))
	require.Zero(t, n)
	require.NoError(t, pool.QueryRow(ctx, `SELECT count(*) FROM audit_log WHERE action = 'contact.erased' AND actor = 'cli'`).Scan(&n))
	require.Equal(t, 1, n)
}
