package store

import (
	"context"
	"fmt"
	"time"
)

// Direction names a conversation's work queue.
type Direction string

// The two directions.
const (
	DirIn  Direction = "inbound"  // customer -> helpdesk
	DirOut Direction = "outbound" // agent -> customer
)

// Conversation is one customer's chat with one number, with what the bridge
// needs to work on it.
type Conversation struct {
	ID            int64
	AccountID     int64
	ContactID     int64
	WaID          string
	ProfileName   string
	ChangedToWaID string
	LastInboundAt *time.Time
	ReengagedAt   *time.Time
}

// ConversationByID loads a conversation with its contact.
func (s *Store) ConversationByID(ctx context.Context, db DBTX, id int64) (Conversation, error) {
	var c Conversation
	var changed *string
	err := db.QueryRow(ctx, `
		SELECT c.id, c.account_id, c.contact_id, k.wa_id, k.profile_name, k.changed_to_wa_id, c.last_inbound_at, c.reengaged_at
		FROM conversations c JOIN contacts k ON k.id = c.contact_id WHERE c.id = $1`, id).
		Scan(&c.ID, &c.AccountID, &c.ContactID, &c.WaID, &c.ProfileName, &changed, &c.LastInboundAt, &c.ReengagedAt)
	if changed != nil {
		c.ChangedToWaID = *changed
	}
	return c, notFound(err)
}

// ClaimConversation takes a direction's lease on a conversation for d and
// clears its queued flag, so that work stored from now on enqueues a new
// job. It returns false when another worker holds the lease.
func (s *Store) ClaimConversation(ctx context.Context, id int64, dir Direction, d time.Duration) (bool, error) {
	tag, err := s.pool.Exec(ctx, fmt.Sprintf(`UPDATE conversations SET %[1]s_queued = false, %[1]s_lease_until = now() + $2
		WHERE id = $1 AND (%[1]s_lease_until IS NULL OR %[1]s_lease_until < now())`, dir), id, d)
	return tag.RowsAffected() == 1, err
}

// ExtendLease keeps a claimed conversation for another d.
func (s *Store) ExtendLease(ctx context.Context, id int64, dir Direction, d time.Duration) error {
	_, err := s.pool.Exec(ctx, fmt.Sprintf(`UPDATE conversations SET %[1]s_lease_until = now() + $2 WHERE id = $1`, dir), id, d)
	return err
}

// ReleaseConversation gives the lease back.
func (s *Store) ReleaseConversation(ctx context.Context, id int64, dir Direction) error {
	_, err := s.pool.Exec(ctx, fmt.Sprintf(`UPDATE conversations SET %[1]s_lease_until = NULL WHERE id = $1`, dir), id)
	return err
}

// MarkQueued sets a direction's queued flag and reports whether it was
// clear, that is whether the caller must enqueue a job in its transaction.
func (s *Store) MarkQueued(ctx context.Context, db DBTX, id int64, dir Direction) (bool, error) {
	tag, err := db.Exec(ctx, fmt.Sprintf(`UPDATE conversations SET %[1]s_queued = true WHERE id = $1 AND NOT %[1]s_queued`, dir), id)
	return tag.RowsAffected() == 1, err
}

// SetReengaged records that the re-engagement template was sent.
func (s *Store) SetReengaged(ctx context.Context, id int64, at time.Time) error {
	_, err := s.pool.Exec(ctx, `UPDATE conversations SET reengaged_at = $2 WHERE id = $1`, id, at)
	return err
}

// Stalled returns conversations with messages pending for longer than age
// and nobody working on them (no lease, or a lease left to expire by a
// crashed worker): the safety net for a job that was cancelled or discarded
// by hand or lost with its process, so no conversation waits forever.
func (s *Store) Stalled(ctx context.Context, age time.Duration, limit int) (in, out []int64, err error) {
	rows, err := s.pool.Query(ctx, `
		SELECT DISTINCT m.conversation_id, m.direction FROM messages m JOIN conversations c ON c.id = m.conversation_id
		WHERE m.state = 'pending' AND m.updated_at < now() - $1::interval
			AND coalesce(CASE m.direction WHEN 'in' THEN c.inbound_lease_until ELSE c.outbound_lease_until END, '-infinity') < now()
		LIMIT $2`, age, limit)
	if err != nil {
		return nil, nil, err
	}
	defer rows.Close()
	for rows.Next() {
		var id int64
		var dir string
		if err := rows.Scan(&id, &dir); err != nil {
			return nil, nil, err
		}
		if dir == "in" {
			in = append(in, id)
		} else {
			out = append(out, id)
		}
	}
	return in, out, rows.Err()
}
