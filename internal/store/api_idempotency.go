package store

import (
	"context"
	"crypto/subtle"
)

// Idempotency-Key outcomes.
var (
	// ErrIdempotencyMismatch: the key was used for a different request in
	// the last 24 hours.
	ErrIdempotencyMismatch = refusal("this Idempotency-Key was used for a different request")
	// ErrIdempotencyInProgress: the key's first request has not finished.
	ErrIdempotencyInProgress = refusal("a request with this Idempotency-Key is still being processed")
)

// StoredResponse is a response kept for an Idempotency-Key.
type StoredResponse struct {
	Status int
	Body   []byte
}

// BeginIdempotent claims an Idempotency-Key for a request, on a Tx (hash is
// the request's fingerprint). It returns nil when the caller must process
// the request (and then call FinishIdempotent in the same transaction), the
// stored response when the same request was already answered in the last 24
// hours, or ErrIdempotencyMismatch for another request under the key. A
// concurrent request with the same key waits on the row until the first
// commits or rolls back.
func (q *Queries) BeginIdempotent(ctx context.Context, clientID ClientID, key string, hash []byte) (*StoredResponse, error) {
	var claimed bool
	err := q.db.QueryRow(ctx, `INSERT INTO api_idempotency AS i (client_id, key, request_hash) VALUES ($1, $2, $3)
		ON CONFLICT (client_id, key) DO UPDATE SET request_hash = excluded.request_hash, status = NULL, response = NULL,
			created_at = now()
		WHERE i.created_at < now() - interval '24 hours'
		RETURNING true`, clientID, key, hash).Scan(&claimed)
	if err == nil {
		return nil, nil
	}
	if !isNoRows(err) {
		return nil, wrap(err, "claim idempotency key")
	}
	var stored []byte
	var status *int
	var body []byte
	if err := q.db.QueryRow(ctx, `SELECT request_hash, status, response FROM api_idempotency WHERE client_id = $1 AND key = $2`,
		clientID, key).Scan(&stored, &status, &body); err != nil {
		return nil, wrap(err, "read idempotency key")
	}
	if subtle.ConstantTimeCompare(stored, hash) != 1 {
		return nil, ErrIdempotencyMismatch
	}
	if status == nil {
		return nil, ErrIdempotencyInProgress
	}
	return &StoredResponse{Status: *status, Body: body}, nil
}

// FinishIdempotent records the response of a request claimed with
// BeginIdempotent, in the same transaction.
func (q *Queries) FinishIdempotent(ctx context.Context, clientID ClientID, key string, r StoredResponse) error {
	_, err := q.db.Exec(ctx, `UPDATE api_idempotency SET status = $3, response = $4 WHERE client_id = $1 AND key = $2`,
		clientID, key, r.Status, r.Body)
	return wrap(err, "finish idempotency key")
}
