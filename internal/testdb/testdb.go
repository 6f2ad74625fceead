// Package testdb gives tests their own PostgreSQL database.
//
// The first use in a test run builds a template database with every migration
// applied (its name carries a hash of the migrations, so a schema change
// builds a new one); each test then gets a fresh database cloned from it with
// CREATE DATABASE ... TEMPLATE, which takes a few tens of milliseconds, and
// the database is dropped when the test ends. Test packages run in parallel
// processes, so building the template is guarded by an advisory lock.
//
// TEST_DATABASE_URL names the server (default: postgres://postgres@127.0.0.1:5432/postgres).
package testdb

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io/fs"
	"log/slog"
	"net/url"
	"os"
	"sync"
	"testing"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/relaydesk/relaydesk/internal/migrate"
	"github.com/relaydesk/relaydesk/internal/secret"
	"github.com/relaydesk/relaydesk/internal/store"
	"github.com/relaydesk/relaydesk/migrations"
)

// ServerURL is the URL of the test server's maintenance database.
func ServerURL() string {
	if u := os.Getenv("TEST_DATABASE_URL"); u != "" {
		return u
	}
	return "postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable"
}

// URLFor returns the server URL pointed at database name.
func URLFor(name string) string {
	u, err := url.Parse(ServerURL())
	if err != nil {
		panic(fmt.Sprintf("testdb: TEST_DATABASE_URL: %v", err))
	}
	u.Path = "/" + name
	return u.String()
}

var (
	templateOnce sync.Once
	templateName string
	templateErr  error
)

// New returns a pool on a fresh, fully migrated database, dropped at cleanup.
func New(t testing.TB) *pgxpool.Pool {
	t.Helper()
	templateOnce.Do(func() { templateName, templateErr = buildTemplate() })
	if templateErr != nil {
		t.Fatalf("testdb: build template database: %v", templateErr)
	}
	return create(t, templateName)
}

// Empty returns a pool on a fresh database with no schema at all.
func Empty(t testing.TB) *pgxpool.Pool {
	t.Helper()
	return create(t, "template0")
}

// Name returns the database name a pool is connected to.
func Name(pool *pgxpool.Pool) string {
	return pool.Config().ConnConfig.Database
}

func create(t testing.TB, template string) *pgxpool.Pool {
	t.Helper()
	ctx := context.Background()
	name := "relaydesk_test_" + randomHex(6)

	admin, err := pgx.Connect(ctx, ServerURL())
	if err != nil {
		t.Fatalf("testdb: connect to %s (is PostgreSQL running? set TEST_DATABASE_URL): %v", redact(ServerURL()), err)
	}
	defer admin.Close(ctx)
	if _, err := admin.Exec(ctx, fmt.Sprintf("CREATE DATABASE %s TEMPLATE %s", name, pgx.Identifier{template}.Sanitize())); err != nil {
		t.Fatalf("testdb: create database: %v", err)
	}

	cfg, err := pgxpool.ParseConfig(URLFor(name))
	if err != nil {
		t.Fatalf("testdb: %v", err)
	}
	cfg.MaxConns = 10
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		t.Fatalf("testdb: %v", err)
	}
	t.Cleanup(func() {
		pool.Close()
		Drop(t, name)
	})
	return pool
}

// Drop removes a database, disconnecting whatever still uses it.
func Drop(t testing.TB, name string) {
	ctx := context.Background()
	admin, err := pgx.Connect(ctx, ServerURL())
	if err != nil {
		t.Errorf("testdb: drop %s: %v", name, err)
		return
	}
	defer admin.Close(ctx)
	if _, err := admin.Exec(ctx, fmt.Sprintf("DROP DATABASE IF EXISTS %s WITH (FORCE)", pgx.Identifier{name}.Sanitize())); err != nil {
		t.Errorf("testdb: drop %s: %v", name, err)
	}
}

func buildTemplate() (string, error) {
	ctx := context.Background()
	h := sha256.New()
	err := fs.WalkDir(migrations.FS, ".", func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := fs.ReadFile(migrations.FS, path)
		h.Write([]byte(path))
		h.Write(b)
		return err
	})
	if err != nil {
		return "", err
	}
	name := "relaydesk_tpl_" + hex.EncodeToString(h.Sum(nil))[:12]

	admin, err := pgx.Connect(ctx, ServerURL())
	if err != nil {
		return "", fmt.Errorf("connect to %s (is PostgreSQL running? set TEST_DATABASE_URL): %w", redact(ServerURL()), err)
	}
	defer admin.Close(ctx)
	// Serialise template builds across the test binaries running at once.
	if _, err := admin.Exec(ctx, "SELECT pg_advisory_lock(7263541)"); err != nil {
		return "", err
	}
	defer admin.Exec(ctx, "SELECT pg_advisory_unlock(7263541)") //nolint:errcheck

	var exists bool
	if err := admin.QueryRow(ctx, "SELECT EXISTS (SELECT 1 FROM pg_database WHERE datname = $1)", name).Scan(&exists); err != nil {
		return "", err
	}
	if exists {
		return name, nil
	}
	building := name + "_building"
	if _, err := admin.Exec(ctx, "DROP DATABASE IF EXISTS "+building+" WITH (FORCE)"); err != nil {
		return "", err
	}
	if _, err := admin.Exec(ctx, "CREATE DATABASE "+building+" TEMPLATE template0"); err != nil {
		return "", err
	}
	pool, err := pgxpool.New(ctx, URLFor(building))
	if err != nil {
		return "", err
	}
	err = migrate.Up(ctx, pool, slog.New(slog.DiscardHandler))
	pool.Close()
	if err != nil {
		return "", fmt.Errorf("migrate template: %w", err)
	}
	// Renaming makes the template visible only once it is complete.
	if _, err := admin.Exec(ctx, "ALTER DATABASE "+building+" RENAME TO "+name); err != nil {
		return "", err
	}
	return name, nil
}

func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

func redact(s string) string {
	u, err := url.Parse(s)
	if err != nil {
		return "(unparseable URL)"
	}
	return u.Redacted()
}

// NewStore returns a Store on a fresh migrated database with a random key.
func NewStore(t testing.TB) *store.Store {
	t.Helper()
	key, err := secret.ParseKey(secret.GenerateKey())
	if err != nil {
		t.Fatal(err)
	}
	kr, err := secret.NewKeyring(key, nil)
	if err != nil {
		t.Fatal(err)
	}
	return store.New(New(t), kr)
}
