package store

import (
	"context"
	"time"

	"github.com/relaydesk/relaydesk/internal/metrics"
)

// Backlog reads the queues' state and the targets' health for metrics; it
// is a metrics.BacklogReader. Waiting means queued for delivery (state
// pending); replies held for the customer's 24-hour window are not counted.
func (q *Queries) Backlog(ctx context.Context) (metrics.Backlog, error) {
	b := metrics.Backlog{OldestWaiting: map[string]time.Duration{}}
	ages, err := pairs[string, float64](ctx, q.db, `SELECT direction, extract(epoch FROM now() - min(created_at))::float8
		FROM messages WHERE state = 'pending' GROUP BY direction`)
	if err != nil {
		return b, wrap(err, "backlog: oldest waiting")
	}
	for _, p := range ages {
		b.OldestWaiting[p.key] = time.Duration(p.val * float64(time.Second))
	}

	byName := map[string]int{}
	err = q.eachRow(ctx, func(row scanner) error {
		var name, health string
		var dir *string
		var last *time.Time
		var waiting, failed int64
		if err := row.Scan(&name, &health, &last, &dir, &waiting, &failed); err != nil {
			return err
		}
		i, ok := byName[name]
		if !ok {
			i, byName[name] = len(b.Numbers), len(b.Numbers)
			b.Numbers = append(b.Numbers, metrics.TargetBacklog{Name: name, Health: health, LastInboundAt: last,
				Waiting: map[string]int64{}, Failed: map[string]int64{}})
		}
		if dir != nil {
			b.Numbers[i].Waiting[*dir], b.Numbers[i].Failed[*dir] = waiting, failed
		}
		return nil
	}, `SELECT a.name, a.health, a.last_inbound_at, m.direction,
			count(m.id) FILTER (WHERE m.state = 'pending'), count(m.id) FILTER (WHERE m.state = 'failed')
		FROM whatsapp_accounts a
		LEFT JOIN conversations c ON c.account_id = a.id
		LEFT JOIN messages m ON m.conversation_id = c.id AND m.state IN ('pending', 'failed')
		GROUP BY a.id, a.name, a.health, a.last_inbound_at, m.direction ORDER BY a.id`)
	if err != nil {
		return b, wrap(err, "backlog: numbers")
	}

	err = q.eachRow(ctx, func(row scanner) error {
		var t metrics.TargetBacklog
		var waiting, failed int64
		if err := row.Scan(&t.Name, &t.Health, &waiting, &failed); err != nil {
			return err
		}
		t.Waiting, t.Failed = map[string]int64{"": waiting}, map[string]int64{"": failed}
		b.Connections = append(b.Connections, t)
		return nil
	}, `SELECT h.name, h.health, count(x.state) FILTER (WHERE x.state = 'pending'), count(x.state) FILTER (WHERE x.state = 'failed')
		FROM helpdesk_connections h
		LEFT JOIN (
			SELECT coalesce(m.connection_id, (SELECT r.connection_id FROM routes r WHERE r.account_id = c.account_id
				ORDER BY r.position, r.id LIMIT 1)) AS connection_id, m.state
			FROM messages m JOIN conversations c ON c.id = m.conversation_id
			WHERE m.state IN ('pending', 'failed')
		) x ON x.connection_id = h.id
		GROUP BY h.id, h.name, h.health ORDER BY h.id`)
	return b, wrap(err, "backlog: connections")
}

// eachRow runs a query and calls fn on every row.
func (q *Queries) eachRow(ctx context.Context, fn func(scanner) error, sql string, args ...any) error {
	rows, err := q.db.Query(ctx, sql, args...)
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		if err := fn(rows); err != nil {
			return err
		}
	}
	return rows.Err()
}
