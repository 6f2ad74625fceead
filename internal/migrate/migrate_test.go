package migrate_test

import (
	"context"
	"log/slog"
	"testing"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/stretchr/testify/require"
	"golang.org/x/sync/errgroup"

	"github.com/relaydesk/relaydesk/internal/migrate"
	"github.com/relaydesk/relaydesk/internal/testdb"
)

func tables(t *testing.T, pool *pgxpool.Pool) []string {
	t.Helper()
	rows, err := pool.Query(context.Background(),
		"SELECT tablename FROM pg_tables WHERE schemaname = 'public' ORDER BY tablename")
	require.NoError(t, err)
	var out []string
	for rows.Next() {
		var n string
		require.NoError(t, rows.Scan(&n))
		out = append(out, n)
	}
	require.NoError(t, rows.Err())
	return out
}

func TestUpDownUp(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	log := slog.New(slog.DiscardHandler)
	pool := testdb.Empty(t)

	st, err := migrate.Check(ctx, pool)
	require.ErrorIs(t, err, migrate.ErrPending)
	require.Zero(t, st.AppVersion)
	require.Zero(t, st.RiverVersion)
	require.Positive(t, st.AppLatest)
	require.Positive(t, st.RiverLatest)

	require.NoError(t, migrate.Up(ctx, pool, log))
	st, err = migrate.Check(ctx, pool)
	require.NoError(t, err)
	require.True(t, st.Current())
	got := tables(t, pool)
	for _, want := range []string{"whatsapp_accounts", "helpdesk_connections", "routes", "contacts",
		"conversations", "tickets", "messages", "webhook_events", "river_job", "river_migration"} {
		require.Contains(t, got, want)
	}

	t.Run("up again is a no-op", func(t *testing.T) {
		require.NoError(t, migrate.Up(ctx, pool, log))
	})

	require.NoError(t, migrate.Down(ctx, pool, log, 0))
	require.Equal(t, []string{migrate.VersionTable}, tables(t, pool), "down to 0 leaves only tern's version table")
	st, err = migrate.Get(ctx, pool)
	require.NoError(t, err)
	require.Zero(t, st.AppVersion)
	require.Zero(t, st.RiverVersion)

	require.NoError(t, migrate.Up(ctx, pool, log))
	_, err = migrate.Check(ctx, pool)
	require.NoError(t, err)
}

func TestConcurrentUp(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	pool := testdb.Empty(t)

	// Replicas starting together: every one succeeds, the schema is applied once.
	var g errgroup.Group
	for range 4 {
		g.Go(func() error { return migrate.Up(ctx, pool, slog.New(slog.DiscardHandler)) })
	}
	require.NoError(t, g.Wait())
	st, err := migrate.Check(ctx, pool)
	require.NoError(t, err)
	require.True(t, st.Current())
}
