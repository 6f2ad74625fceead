package store

import (
	"context"
	"time"
)

// Silence is an enabled number that stopped receiving after regular
// traffic: its latest customer message is older than the quiet period,
// and the day before that message brought at least the busy count. A
// webhook subscription removed in Meta's dashboard, an app secret rotated
// there, or a number moved to another app all look like this from here.
type Silence struct {
	AccountID     AccountID
	LastInboundAt time.Time
	DayBefore     int // customer messages in the 24 hours before LastInboundAt
}

// SilentAccounts returns the numbers that went quiet (see Silence), by
// account. It reads each candidate's last day of inbound messages through
// the messages_inbound_time index; numbers heard from recently cost nothing.
func (q *Queries) SilentAccounts(ctx context.Context, quiet time.Duration, busy int) (map[AccountID]Silence, error) {
	rows, err := q.db.Query(ctx, `
		SELECT a.id, a.last_inbound_at, (SELECT count(*) FROM conversations c JOIN messages m ON m.conversation_id = c.id
			WHERE c.account_id = a.id AND m.direction = 'in'
				AND m.wa_timestamp > a.last_inbound_at - interval '1 day' AND m.wa_timestamp <= a.last_inbound_at) AS day_before
		FROM whatsapp_accounts a
		WHERE a.enabled AND a.last_inbound_at < now() - $1::interval`, quiet)
	if err != nil {
		return nil, wrap(err, "silent numbers")
	}
	defer rows.Close()
	out := map[AccountID]Silence{}
	for rows.Next() {
		var s Silence
		if err := rows.Scan(&s.AccountID, &s.LastInboundAt, &s.DayBefore); err != nil {
			return nil, wrap(err, "silent numbers")
		}
		if s.DayBefore >= busy {
			out[s.AccountID] = s
		}
	}
	return out, wrap(rows.Err(), "silent numbers")
}
