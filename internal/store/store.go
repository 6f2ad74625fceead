// Package store is relaydesk's PostgreSQL access: the only package that
// writes SQL.
//
// Every query is a method of Queries, defined once. A Store runs them on the
// pool; Store.InTx hands a Tx that runs the same methods in one transaction,
// so that a River job can be inserted (Tx.PgxTx) atomically with the rows it
// works on. Every string argument reaches PostgreSQL made storable (see
// storable.go): one customer's NUL byte never fails another's message.
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

// DBTX is what queries run on: *pgxpool.Pool or pgx.Tx. Begin starts a
// transaction on the pool, or a savepoint inside a transaction.
type DBTX interface {
	Exec(ctx context.Context, sql string, args ...any) (pgconn.CommandTag, error)
	Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error)
	QueryRow(ctx context.Context, sql string, args ...any) pgx.Row
	SendBatch(ctx context.Context, b *pgx.Batch) pgx.BatchResults
	Begin(ctx context.Context) (pgx.Tx, error)
}

// ErrNotFound is returned (wrapped) when a looked-up row does not exist.
var ErrNotFound = errors.New("not found")

// Queries holds every query; it runs them on the pool or on a transaction.
type Queries struct {
	db   DBTX
	keys *secret.Keyring
}

// Store runs queries on the pool and starts transactions.
type Store struct {
	Queries
	pool *pgxpool.Pool
}

// Tx runs the same queries inside one transaction.
type Tx struct {
	Queries
	tx pgx.Tx
}

// New returns a Store.
func New(pool *pgxpool.Pool, keys *secret.Keyring) *Store {
	return &Store{Queries: Queries{db: storableDB{pool}, keys: keys}, pool: pool}
}

// Pool returns the connection pool, for what is genuinely pool-level: the
// River client's driver (riverpgxv5.New) and the readiness ping. Queries go
// through the Store's methods instead.
func (s *Store) Pool() *pgxpool.Pool { return s.pool }

// Keys returns the keyring.
func (q *Queries) Keys() *secret.Keyring { return q.keys }

// InTx runs fn in a transaction, committing when it returns nil.
func (s *Store) InTx(ctx context.Context, fn func(tx *Tx) error) error {
	return pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		return fn(&Tx{Queries: Queries{db: storableDB{tx}, keys: s.keys}, tx: tx})
	})
}

// PgxTx returns the underlying transaction, for River's InsertTx and
// InsertManyTx.
func (t *Tx) PgxTx() pgx.Tx { return t.tx }

// inTx runs fn in a transaction of its own: a real one on the pool, a
// savepoint when q already runs in one.
func (q *Queries) inTx(ctx context.Context, fn func(tx *Queries) error) error {
	return pgx.BeginFunc(ctx, q.db, func(tx pgx.Tx) error {
		return fn(&Queries{db: storableDB{tx}, keys: q.keys})
	})
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
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("open pool: %w", err)
	}
	return pool, nil
}

// wrap says what was being done when err happened; pgx.ErrNoRows becomes
// ErrNotFound. It returns nil for a nil err, and refusals meant to be shown
// as they are (see passThrough) unchanged.
func wrap(err error, format string, args ...any) error {
	if err == nil || passThrough(err) {
		return err
	}
	if errors.Is(err, pgx.ErrNoRows) {
		err = ErrNotFound
	}
	return fmt.Errorf(format+": %w", append(args, err)...)
}

func isNoRows(err error) bool { return errors.Is(err, pgx.ErrNoRows) }

// scanner is a row: pgx.Row or pgx.Rows.
type scanner interface{ Scan(dest ...any) error }

// list runs a query and scans every row.
func list[T any](ctx context.Context, db DBTX, scan func(scanner) (T, error), sql string, args ...any) ([]T, error) {
	rows, err := db.Query(ctx, sql, args...)
	if err != nil {
		return nil, err
	}
	return pgx.CollectRows(rows, func(r pgx.CollectableRow) (T, error) { return scan(r) })
}

// pair is a row of two columns.
type pair[K, V any] struct {
	key K
	val V
}

// pairs lists the two columns of every row.
func pairs[K, V any](ctx context.Context, db DBTX, sql string, args ...any) ([]pair[K, V], error) {
	return list(ctx, db, func(r scanner) (pair[K, V], error) {
		var p pair[K, V]
		return p, r.Scan(&p.key, &p.val)
	}, sql, args...)
}

// column lists one column of every row.
func column[T any](ctx context.Context, db DBTX, sql string, args ...any) ([]T, error) {
	rows, err := db.Query(ctx, sql, args...)
	if err != nil {
		return nil, err
	}
	return pgx.CollectRows(rows, pgx.RowTo[T])
}

// exec runs a statement and returns how many rows it touched.
func (q *Queries) exec(ctx context.Context, sql string, args ...any) (int64, error) {
	tag, err := q.db.Exec(ctx, sql, args...)
	return tag.RowsAffected(), err
}

func nullTime(t time.Time) *time.Time {
	if t.IsZero() {
		return nil
	}
	return &t
}

// Begin starts a transaction the caller ends with PgxTx().Commit or
// Rollback, for when InTx's closure does not fit (a test that holds a
// transaction open while another runs).
func (s *Store) Begin(ctx context.Context) (*Tx, error) {
	tx, err := s.pool.Begin(ctx)
	if err != nil {
		return nil, fmt.Errorf("begin: %w", err)
	}
	return &Tx{Queries: Queries{db: storableDB{tx}, keys: s.keys}, tx: tx}, nil
}
