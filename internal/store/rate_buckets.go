package store

import (
	"context"
	"time"
)

// TakeToken takes one token from the bucket key, which refills at rate per
// second up to burst. It returns 0 when a token was taken, otherwise how long
// to wait before one is available (nothing is taken then). The bucket lives
// in PostgreSQL, so every replica shares it.
func (q *Queries) TakeToken(ctx context.Context, key string, rate, burst float64) (time.Duration, error) {
	_, wait, err := q.TakeTokenLeft(ctx, key, rate, burst)
	return wait, err
}

// TakeTokenLeft is TakeToken that also reports the tokens left in the
// bucket afterwards (for RateLimit-Remaining headers).
func (q *Queries) TakeTokenLeft(ctx context.Context, key string, rate, burst float64) (left float64, wait time.Duration, err error) {
	const refill = `least($3, b.tokens + $2 * extract(epoch FROM clock_timestamp() - b.updated_at))`
	err = q.db.QueryRow(ctx, `
		INSERT INTO rate_buckets AS b (key, tokens, updated_at) VALUES ($1, $3 - 1, clock_timestamp())
		ON CONFLICT (key) DO UPDATE SET tokens = `+refill+` - 1, updated_at = clock_timestamp()
		WHERE `+refill+` >= 1
		RETURNING tokens`, key, rate, burst).Scan(&left)
	if err == nil {
		return left, 0, nil
	}
	if !isNoRows(err) {
		return 0, 0, wrap(err, "take token from %s", key)
	}
	var have float64
	if err := q.db.QueryRow(ctx, `SELECT `+refill+` FROM rate_buckets b WHERE key = $1`, key, rate, burst).Scan(&have); err != nil {
		return 0, 0, wrap(err, "read bucket %s", key)
	}
	return have, time.Duration((1 - have) / rate * float64(time.Second)), nil
}

// ResetRateBucket forgets a bucket, refilling it (a successful login clears
// the account's failures).
func (q *Queries) ResetRateBucket(ctx context.Context, key string) error {
	_, err := q.db.Exec(ctx, `DELETE FROM rate_buckets WHERE key = $1`, key)
	return wrap(err, "reset bucket %s", key)
}
