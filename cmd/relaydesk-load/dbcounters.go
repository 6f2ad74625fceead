package main

import (
	"context"
	"time"
)

// PhaseDB is what a phase cost the database, from the start of its load
// to the end of its drain (so the deliveries of its messages are counted):
// statements and transactions from pg_stat_statements (when the extension
// can be loaded: the private cluster preloads it) and WAL bytes from the
// WAL position. These do not depend on how many cores the machine has or
// how busy it is. The load tool's own progress queries are a few per
// second and counted too.
type PhaseDB struct {
	Statements           int64   `json:"statements,omitempty"`
	Commits              int64   `json:"commits,omitempty"`
	WALBytes             int64   `json:"wal_bytes"`
	StatementsPerMessage float64 `json:"statements_per_message,omitempty"`
	CommitsPerWebhook    float64 `json:"commits_per_webhook,omitempty"`
	WALBytesPerMessage   float64 `json:"wal_bytes_per_message"`
}

type dbCounters struct {
	statements, commits, wal int64
	haveStatements           bool
}

// enableStatementCounts creates pg_stat_statements in relaydesk's
// database; false when the server does not preload it.
func (e *environment) enableStatementCounts(ctx context.Context) bool {
	if _, err := e.pool.Exec(ctx, `CREATE EXTENSION IF NOT EXISTS pg_stat_statements`); err != nil {
		return false
	}
	var n int64
	return e.pool.QueryRow(ctx, `SELECT count(*) FROM pg_stat_statements`).Scan(&n) == nil
}

func (e *environment) dbCounters(ctx context.Context, statements bool) dbCounters {
	var c dbCounters
	_ = e.pool.QueryRow(ctx, `SELECT (pg_current_wal_lsn() - '0/0'::pg_lsn)::bigint`).Scan(&c.wal)
	if statements {
		err := e.pool.QueryRow(ctx, `SELECT coalesce(sum(calls), 0)::bigint,
			coalesce(sum(calls) FILTER (WHERE query ILIKE 'commit%'), 0)::bigint
			FROM pg_stat_statements WHERE dbid = (SELECT oid FROM pg_database WHERE datname = current_database())`).
			Scan(&c.statements, &c.commits)
		c.haveStatements = err == nil
	}
	return c
}

// phaseDB is the difference of two readings, per message and webhook.
func phaseDB(before, after dbCounters, messages, webhooks int64) *PhaseDB {
	d := &PhaseDB{WALBytes: after.wal - before.wal}
	if before.haveStatements && after.haveStatements {
		d.Statements, d.Commits = after.statements-before.statements, after.commits-before.commits
	}
	if messages > 0 {
		d.WALBytesPerMessage = round2(float64(d.WALBytes) / float64(messages))
		d.StatementsPerMessage = round2(float64(d.Statements) / float64(messages))
	}
	if webhooks > 0 {
		d.CommitsPerWebhook = round2(float64(d.Commits) / float64(webhooks))
	}
	return d
}

// settleStats waits for the statistics of the last statements to be
// visible (pg_stat_statements is updated as each ends; the wait covers
// the drain's last job commits).
func settleStats() { time.Sleep(200 * time.Millisecond) }

// tableSizes returns the size of each table of relaydesk's database, with
// its indexes and TOAST.
func (e *environment) tableSizes(ctx context.Context) map[string]int64 {
	out := map[string]int64{}
	rows, err := e.pool.Query(ctx, `SELECT c.relname, pg_total_relation_size(c.oid) FROM pg_class c
		WHERE c.relkind = 'r' AND c.relnamespace = 'public'::regnamespace`)
	if err != nil {
		return out
	}
	defer rows.Close()
	for rows.Next() {
		var name string
		var n int64
		if rows.Scan(&name, &n) == nil {
			out[name] = n
		}
	}
	return out
}

// growthPerMessage is each table's growth divided by messages, for the
// tables that grew by at least a byte per message.
func growthPerMessage(before, after map[string]int64, messages int64) map[string]int64 {
	out := map[string]int64{}
	if messages <= 0 {
		return out
	}
	for name, n := range after {
		if g := (n - before[name]) / messages; g >= 1 {
			out[name] = g
		}
	}
	return out
}

// TopStatement is one of the statements PostgreSQL spent the most time
// executing during the whole run.
type TopStatement struct {
	Query   string  `json:"query"`
	Calls   int64   `json:"calls"`
	TotalMS float64 `json:"total_ms"`
	MeanMS  float64 `json:"mean_ms"`
	Share   float64 `json:"share"` // of all statements' execution time
}

// topStatements reads the statements of relaydesk's database that took
// the most execution time, their text shortened to one line.
func (e *environment) topStatements(ctx context.Context, n int) []TopStatement {
	rows, err := e.pool.Query(ctx, `SELECT regexp_replace(query, '\s+', ' ', 'g'), calls, total_exec_time, mean_exec_time,
			total_exec_time / nullif(sum(total_exec_time) OVER (), 0)
		FROM pg_stat_statements WHERE dbid = (SELECT oid FROM pg_database WHERE datname = current_database())
		ORDER BY total_exec_time DESC LIMIT $1`, n)
	if err != nil {
		return nil
	}
	defer rows.Close()
	var out []TopStatement
	for rows.Next() {
		var s TopStatement
		var share *float64
		if rows.Scan(&s.Query, &s.Calls, &s.TotalMS, &s.MeanMS, &share) != nil {
			return out
		}
		if share != nil {
			s.Share = round2(*share)
		}
		if len(s.Query) > 110 {
			s.Query = s.Query[:110] + "…"
		}
		s.TotalMS, s.MeanMS = round2(s.TotalMS), round2(s.MeanMS)
		out = append(out, s)
	}
	return out
}
