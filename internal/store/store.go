// Package store is relaydesk's PostgreSQL access: the only package that
// writes SQL. Methods that must join a caller's transaction (for example to
// insert a River job atomically with the rows it works on) take a DBTX, which
// is satisfied by the pool and by a pgx.Tx alike.
package store

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/relaydesk/relaydesk/internal/secret"
)

// DBTX is what queries run on: *pgxpool.Pool or pgx.Tx.
type DBTX interface {
	Exec(ctx context.Context, sql string, args ...any) (pgconn.CommandTag, error)
	Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error)
	QueryRow(ctx context.Context, sql string, args ...any) pgx.Row
	SendBatch(ctx context.Context, b *pgx.Batch) pgx.BatchResults
}

// ErrNotFound is returned when a looked-up row does not exist.
var ErrNotFound = errors.New("not found")

// Store holds the pool and the keyring that seals secrets at rest.
type Store struct {
	pool *pgxpool.Pool
	keys *secret.Keyring
}

// New returns a Store.
func New(pool *pgxpool.Pool, keys *secret.Keyring) *Store {
	return &Store{pool: pool, keys: keys}
}

// Pool returns the connection pool.
func (s *Store) Pool() *pgxpool.Pool { return s.pool }

// Keys returns the keyring.
func (s *Store) Keys() *secret.Keyring { return s.keys }

// InTx runs fn in a transaction, committing when it returns nil.
func (s *Store) InTx(ctx context.Context, fn func(pgx.Tx) error) error {
	return pgx.BeginFunc(ctx, s.pool, fn)
}

// OpenPool connects to PostgreSQL with relaydesk's pool settings. It does not
// fail when the server is down: the pool connects lazily and /readyz reports it.
func OpenPool(ctx context.Context, url string, maxConns int32) (*pgxpool.Pool, error) {
	cfg, err := pgxpool.ParseConfig(url)
	if err != nil {
		return nil, fmt.Errorf("DATABASE_URL: %w", err)
	}
	if maxConns > 0 {
		cfg.MaxConns = maxConns
	}
	cfg.MaxConnIdleTime = 5 * time.Minute
	cfg.HealthCheckPeriod = 30 * time.Second
	cfg.ConnConfig.ConnectTimeout = 5 * time.Second
	cfg.ConnConfig.RuntimeParams["application_name"] = "relaydesk"
	return pgxpool.NewWithConfig(ctx, cfg)
}

func notFound(err error) error {
	if errors.Is(err, pgx.ErrNoRows) {
		return ErrNotFound
	}
	return err
}

func isNoRows(err error) bool { return errors.Is(err, pgx.ErrNoRows) }
