package store

import (
	"context"
	"time"
)

// counts runs a "SELECT key, count(*) ... GROUP BY key" query into a map.
func (q *Queries) counts(ctx context.Context, sql string) (map[string]int64, error) {
	rows, err := pairs[string, int64](ctx, q.db, sql)
	if err != nil {
		return nil, err
	}
	out := make(map[string]int64, len(rows))
	for _, c := range rows {
		out[c.key] = c.val
	}
	return out, nil
}

// count runs a "SELECT count(*) ..." query.
func (q *Queries) count(ctx context.Context, sql string, args ...any) (int64, error) {
	var n int64
	err := q.db.QueryRow(ctx, sql, args...).Scan(&n)
	return n, err
}

// JobCounts returns how many River jobs are in each state, for metrics.
func (q *Queries) JobCounts(ctx context.Context) (map[string]int64, error) {
	out, err := q.counts(ctx, `SELECT state::text, count(*) FROM river_job GROUP BY state`)
	return out, wrap(err, "count jobs by state")
}

// AvailableJobs returns how many River jobs wait to be worked.
func (q *Queries) AvailableJobs(ctx context.Context) (int64, error) {
	n, err := q.count(ctx, `SELECT count(*) FROM river_job WHERE state = 'available'`)
	return n, wrap(err, "count available jobs")
}

// JobsWithWorkLeft counts the delivery and send jobs that are not finished
// although their conversation still has pending messages: after a drain it
// must be zero (the load tool's check that no job is stuck).
func (q *Queries) JobsWithWorkLeft(ctx context.Context) (int64, error) {
	n, err := q.count(ctx, `SELECT count(*) FROM river_job j WHERE j.state NOT IN ('completed', 'cancelled', 'discarded')
		AND j.kind IN ('deliver_inbound', 'send_outbound')
		AND EXISTS (SELECT 1 FROM messages m WHERE m.conversation_id = (j.args->>'conversation_id')::bigint AND m.state = 'pending')`)
	return n, wrap(err, "count jobs with work left")
}

// DeleteAllJobs empties River's job table. Only the load tool's queue
// benchmark uses it, on its own throw-away database.
func (q *Queries) DeleteAllJobs(ctx context.Context) error {
	_, err := q.db.Exec(ctx, `TRUNCATE river_job`)
	return wrap(err, "truncate jobs")
}

// ServerVersion returns PostgreSQL's version string.
func (q *Queries) ServerVersion(ctx context.Context) (string, error) {
	var v string
	err := q.db.QueryRow(ctx, `SELECT version()`).Scan(&v)
	return v, wrap(err, "server version")
}

// DatabaseSize returns the size of the current database in bytes.
func (q *Queries) DatabaseSize(ctx context.Context) (int64, error) {
	n, err := q.count(ctx, `SELECT pg_database_size(current_database())`)
	return n, wrap(err, "database size")
}

// PruneCompletedJobs deletes the completed runs of the given job kinds that
// finished more than keep ago. The frequent periodic jobs (the poll
// scheduler every 5 seconds, the sweep every 15) call it so River UI's job
// list is not filled with thousands of their runs a day (River keeps
// completed jobs 24 hours); failed or discarded runs stay for inspection.
func (q *Queries) PruneCompletedJobs(ctx context.Context, kinds []string, keep time.Duration) (int64, error) {
	tag, err := q.db.Exec(ctx, `DELETE FROM river_job WHERE state = 'completed' AND kind = ANY($1)
		AND finalized_at < now() - make_interval(secs => $2)`, kinds, keep.Seconds())
	return tag.RowsAffected(), wrap(err, "prune completed jobs")
}
