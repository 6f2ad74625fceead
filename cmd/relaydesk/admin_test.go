package main

import (
	"bytes"
	"context"
	"regexp"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/relaydesk/relaydesk/internal/password"
	"github.com/relaydesk/relaydesk/internal/store"
	"github.com/relaydesk/relaydesk/internal/testdb"
)

func TestAdminCommand(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	pool := testdb.New(t)
	st := store.New(pool, nil)
	env := map[string]string{"DATABASE_URL": testdb.URLFor(testdb.Name(pool)), "RELAYDESK_LOG_LEVEL": "error"}
	admin := func(stdin string, args ...string) (string, string, error) {
		var out, errb bytes.Buffer
		err := runAdmin(ctx, func(k string) string { return env[k] }, args, strings.NewReader(stdin), &out, &errb)
		return out.String(), errb.String(), err
	}

	t.Run("usage", func(t *testing.T) {
		for _, args := range [][]string{nil, {"delete"}, {"create"}, {"create", "--email"}, {"create", "--email", "a@b.example", "extra"}} {
			_, stderr, err := admin("", args...)
			require.ErrorIs(t, err, errUsage, "%v", args)
			require.Contains(t, stderr, "usage: relaydesk")
		}
		_, _, err := admin("", "create", "--email", "not an email")
		require.ErrorIs(t, err, store.ErrBadEmail)
	})
	t.Run("create with the password on stdin", func(t *testing.T) {
		out, _, err := admin("a long enough password\n", "create", "--email", "Ops@Example.com")
		require.NoError(t, err)
		require.Equal(t, "created admin ops@example.com\n", out, "a password given is not printed")
		_, err = st.Authenticate(ctx, "ops@example.com", "a long enough password")
		require.NoError(t, err)
		var actor string
		require.NoError(t, pool.QueryRow(ctx, "SELECT actor FROM audit_log WHERE action = 'admin.create'").Scan(&actor))
		require.Equal(t, "cli", actor)
	})
	t.Run("create with a generated password", func(t *testing.T) {
		out, _, err := admin("", "create", "--email", "second@example.com")
		require.NoError(t, err)
		m := regexp.MustCompile(`(?m)^password: (\S+)$`).FindStringSubmatch(out)
		require.NotNil(t, m, out)
		require.Contains(t, out, "shown once")
		_, err = st.Authenticate(ctx, "second@example.com", m[1])
		require.NoError(t, err)
	})
	t.Run("an existing admin", func(t *testing.T) {
		_, _, err := admin("another long password", "create", "--email", "ops@example.com")
		require.ErrorIs(t, err, store.ErrAdminExists)
		require.Contains(t, err.Error(), "relaydesk admin password --email ops@example.com")
	})
	t.Run("a weak password", func(t *testing.T) {
		_, _, err := admin("short", "create", "--email", "weak@example.com")
		require.ErrorIs(t, err, password.ErrWeak)
		_, _, err = admin("two\nlines", "create", "--email", "weak@example.com")
		require.Error(t, err)
	})
	t.Run("password replaces it and ends sessions", func(t *testing.T) {
		a, err := st.Authenticate(ctx, "ops@example.com", "a long enough password")
		require.NoError(t, err)
		_, _, err = st.CreateSession(ctx, a.ID, 3600e9, "", "")
		require.NoError(t, err)
		out, _, err := admin("the brand new password\n", "password", "--email", "ops@example.com")
		require.NoError(t, err)
		require.Contains(t, out, "new password set for ops@example.com")
		_, err = st.Authenticate(ctx, "ops@example.com", "the brand new password")
		require.NoError(t, err)
		_, err = st.Authenticate(ctx, "ops@example.com", "a long enough password")
		require.ErrorIs(t, err, store.ErrBadCredentials)
		var n int
		require.NoError(t, pool.QueryRow(ctx, "SELECT count(*) FROM admin_sessions WHERE admin_id = $1", a.ID).Scan(&n))
		require.Zero(t, n)
		_, _, err = admin("the brand new password", "password", "--email", "nobody@example.com")
		require.Error(t, err)
		require.Contains(t, err.Error(), "no admin has the email")
	})
	t.Run("an old schema is refused", func(t *testing.T) {
		empty := testdb.Empty(t)
		var out, errb bytes.Buffer
		err := runAdmin(ctx, func(k string) string {
			if k == "DATABASE_URL" {
				return testdb.URLFor(testdb.Name(empty))
			}
			return env[k]
		}, []string{"create", "--email", "x@example.com"}, strings.NewReader("a long enough password"), &out, &errb)
		require.Error(t, err)
		require.Contains(t, err.Error(), "relaydesk migrate up")
	})
}
