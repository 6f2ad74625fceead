// Package migrate applies relaydesk's schema: the SQL files embedded from
// migrations/ through tern, then River's tables through rivermigrate.
//
// tern was chosen over goose because it is built on pgx (which we use
// anyway), pulls few dependencies, reads an embedded fs.FS, supports down
// migrations in the same file, and holds a PostgreSQL advisory lock while it
// migrates. relaydesk takes one more advisory lock of its own around the
// whole run (app + River), so replicas starting together migrate one at a
// time and the later ones find nothing to do.
package migrate

import (
	"context"
	"errors"
	"fmt"
	"log/slog"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/jackc/tern/v2/migrate"
	"github.com/riverqueue/river/riverdriver/riverpgxv5"
	"github.com/riverqueue/river/rivermigrate"

	"github.com/relaydesk/relaydesk/migrations"
)

// VersionTable records the applied app migration.
const VersionTable = "relaydesk_schema_version"

// lockID is the advisory lock held while migrating ("relaydesk" in ASCII).
const lockID int64 = 0x72656c61796465

// Status is the schema's state.
type Status struct {
	AppVersion   int32 // applied app migration
	AppLatest    int32 // newest app migration in this binary
	RiverVersion int   // applied River migration (0: none)
	RiverLatest  int
}

// Current reports whether nothing is pending.
func (s Status) Current() bool {
	return s.AppVersion == s.AppLatest && s.RiverVersion == s.RiverLatest
}

func (s Status) String() string {
	return fmt.Sprintf("app schema %d/%d, river schema %d/%d", s.AppVersion, s.AppLatest, s.RiverVersion, s.RiverLatest)
}

// ErrPending is returned by Check when migrations are pending.
var ErrPending = errors.New("the database schema is not current: run `relaydesk migrate up` (or start serve with RELAYDESK_AUTO_MIGRATE=true)")

// Up applies every pending migration, app first, then River.
func Up(ctx context.Context, pool *pgxpool.Pool, log *slog.Logger) error {
	return locked(ctx, pool, func(conn *pgx.Conn) error {
		m, err := newTern(ctx, conn)
		if err != nil {
			return err
		}
		m.OnStart = func(seq int32, name, direction, _ string) {
			log.Info("applying migration", "version", seq, "name", name, "direction", direction)
		}
		if err := m.Migrate(ctx); err != nil {
			return fmt.Errorf("app migrations: %w", err)
		}
		rm, err := newRiver(pool, log)
		if err != nil {
			return err
		}
		if _, err := rm.Migrate(ctx, rivermigrate.DirectionUp, nil); err != nil {
			return fmt.Errorf("river migrations: %w", err)
		}
		return nil
	})
}

// Down rolls the app schema back to version to. At 0 it also removes River's
// tables, leaving the database as it was before relaydesk.
func Down(ctx context.Context, pool *pgxpool.Pool, log *slog.Logger, to int32) error {
	return locked(ctx, pool, func(conn *pgx.Conn) error {
		m, err := newTern(ctx, conn)
		if err != nil {
			return err
		}
		m.OnStart = func(seq int32, name, direction, _ string) {
			log.Info("reverting migration", "version", seq, "name", name, "direction", direction)
		}
		if err := m.MigrateTo(ctx, to); err != nil {
			return fmt.Errorf("app migrations: %w", err)
		}
		if to > 0 {
			return nil
		}
		rm, err := newRiver(pool, log)
		if err != nil {
			return err
		}
		if _, err := rm.Migrate(ctx, rivermigrate.DirectionDown, &rivermigrate.MigrateOpts{TargetVersion: -1}); err != nil {
			return fmt.Errorf("river migrations: %w", err)
		}
		return nil
	})
}

// Get returns the schema status without changing anything.
func Get(ctx context.Context, pool *pgxpool.Pool) (Status, error) {
	conn, err := pool.Acquire(ctx)
	if err != nil {
		return Status{}, err
	}
	defer conn.Release()

	var st Status
	// A migrator without a connection only loads files: Get must not write.
	m, err := migrate.NewMigratorEx(ctx, nil, VersionTable, &migrate.MigratorOptions{})
	if err != nil {
		return st, err
	}
	if err := m.LoadMigrations(migrations.FS); err != nil {
		return st, err
	}
	st.AppLatest = int32(len(m.Migrations))
	var exists bool
	if err := conn.QueryRow(ctx, "SELECT to_regclass($1) IS NOT NULL", VersionTable).Scan(&exists); err != nil {
		return st, err
	}
	if exists {
		if err := conn.QueryRow(ctx, "SELECT version FROM "+VersionTable).Scan(&st.AppVersion); err != nil {
			return st, err
		}
	}

	rm, err := newRiver(pool, slog.New(slog.DiscardHandler))
	if err != nil {
		return st, err
	}
	all := rm.AllVersions()
	st.RiverLatest = all[len(all)-1].Version
	if err := conn.QueryRow(ctx, "SELECT to_regclass('river_migration') IS NOT NULL").Scan(&exists); err != nil {
		return st, err
	}
	if exists {
		applied, err := rm.ExistingVersions(ctx)
		if err != nil {
			return st, err
		}
		if len(applied) > 0 {
			st.RiverVersion = applied[len(applied)-1].Version
		}
	}
	return st, nil
}

// Check returns ErrPending (wrapped with the status) unless the schema is current.
func Check(ctx context.Context, pool *pgxpool.Pool) (Status, error) {
	st, err := Get(ctx, pool)
	if err != nil {
		return st, err
	}
	if !st.Current() {
		return st, fmt.Errorf("%w (%s)", ErrPending, st)
	}
	return st, nil
}

func newTern(ctx context.Context, conn *pgx.Conn) (*migrate.Migrator, error) {
	m, err := migrate.NewMigratorEx(ctx, conn, VersionTable, &migrate.MigratorOptions{})
	if err != nil {
		return nil, err
	}
	if err := m.LoadMigrations(migrations.FS); err != nil {
		return nil, fmt.Errorf("load migrations: %w", err)
	}
	return m, nil
}

func newRiver(pool *pgxpool.Pool, log *slog.Logger) (*rivermigrate.Migrator[pgx.Tx], error) {
	return rivermigrate.New(riverpgxv5.New(pool), &rivermigrate.Config{Logger: log})
}

// locked runs fn on one connection holding relaydesk's migration lock.
func locked(ctx context.Context, pool *pgxpool.Pool, fn func(*pgx.Conn) error) error {
	conn, err := pool.Acquire(ctx)
	if err != nil {
		return fmt.Errorf("connect: %w", err)
	}
	defer conn.Release()
	if _, err := conn.Exec(ctx, "SELECT pg_advisory_lock($1)", lockID); err != nil {
		return fmt.Errorf("take migration lock: %w", err)
	}
	defer func() {
		// A fresh context: the lock must be released even if ctx was cancelled.
		_, _ = conn.Exec(context.Background(), "SELECT pg_advisory_unlock($1)", lockID)
	}()
	return fn(conn.Conn())
}
