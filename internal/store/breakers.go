package store

import (
	"context"
	"time"

	"github.com/relaydesk/relaydesk/internal/metrics"
)

// BreakerTarget is what a circuit breaker guards.
type BreakerTarget string

const (
	// BreakerConnection guards a helpdesk connection (its id).
	BreakerConnection BreakerTarget = "connection"
	// BreakerAccount guards Graph for one WhatsApp number (its account id).
	BreakerAccount BreakerTarget = "account"
)

// Breaker states.
const (
	BreakerClosed   = "closed"
	BreakerOpen     = "open"
	BreakerHalfOpen = "half_open"
)

// Breaker is one circuit breaker's row; the zero value (with its target) is
// a closed breaker that never failed.
type Breaker struct {
	Target      BreakerTarget
	TargetID    int64
	State       string
	Failures    int
	Probes      int
	DownSince   *time.Time
	LastError   string
	NextProbeAt *time.Time
	ProbeUntil  *time.Time
	// Read-only: the target's name and how many messages wait for it
	// (Breakers only).
	Name    string
	Waiting int64
}

const breakerColumns = `target, target_id, state, failures, probes, down_since, last_error, next_probe_at, probe_until`

// fields are the scan destinations of breakerColumns.
func (b *Breaker) fields() []any {
	return []any{&b.Target, &b.TargetID, &b.State, &b.Failures, &b.Probes, &b.DownSince, &b.LastError, &b.NextProbeAt,
		&b.ProbeUntil}
}

func scanBreaker(r scanner, extra ...any) (Breaker, error) {
	var b Breaker
	err := r.Scan(append(b.fields(), extra...)...)
	return b, err
}

// BreakerOf reads a breaker; one without a row is closed.
func (q *Queries) BreakerOf(ctx context.Context, target BreakerTarget, id int64) (Breaker, error) {
	b, err := scanBreaker(q.db.QueryRow(ctx, `SELECT `+breakerColumns+` FROM breakers
		WHERE target = $1 AND target_id = $2`, target, id))
	if isNoRows(err) {
		return Breaker{Target: target, TargetID: id, State: BreakerClosed}, nil
	}
	return b, wrap(err, "read breaker %s %d", target, id)
}

// UpdateBreaker runs change on a breaker's row, locked, and stores what it
// returns: concurrent failures and successes of every replica are counted
// one after the other.
func (q *Queries) UpdateBreaker(ctx context.Context, target BreakerTarget, id int64, change func(Breaker) Breaker) (Breaker, error) {
	var out Breaker
	err := q.inTx(ctx, func(tx *Queries) error {
		if _, err := tx.db.Exec(ctx, `INSERT INTO breakers (target, target_id) VALUES ($1, $2)
			ON CONFLICT DO NOTHING`, target, id); err != nil {
			return err
		}
		b, err := scanBreaker(tx.db.QueryRow(ctx, `SELECT `+breakerColumns+` FROM breakers
			WHERE target = $1 AND target_id = $2 FOR UPDATE`, target, id))
		if err != nil {
			return err
		}
		out = change(b)
		_, err = tx.db.Exec(ctx, `UPDATE breakers SET state = $3, failures = $4, probes = $5, down_since = $6,
			last_error = $7, next_probe_at = $8, probe_until = $9, updated_at = now()
			WHERE target = $1 AND target_id = $2`, target, id, out.State, out.Failures, out.Probes, out.DownSince,
			out.LastError, out.NextProbeAt, out.ProbeUntil)
		return err
	})
	return out, wrap(err, "update breaker %s %d", target, id)
}

// TakeProbe takes an open breaker's probe slot until until, when its next
// probe is due (or a probe's slot expired): exactly one caller gets true.
func (q *Queries) TakeProbe(ctx context.Context, target BreakerTarget, id int64, until time.Time) (bool, error) {
	n, err := q.exec(ctx, `UPDATE breakers SET state = 'half_open', probe_until = $3, updated_at = now()
		WHERE target = $1 AND target_id = $2
		AND ((state = 'open' AND next_probe_at <= now()) OR (state = 'half_open' AND probe_until <= now()))`,
		target, id, until)
	return n == 1, wrap(err, "take probe of breaker %s %d", target, id)
}

// GiveProbeBack ends a probe taken with TakeProbe(until) that neither
// closed nor reopened the breaker (its job ended without an answer either
// way): the breaker is open again, probed next at next. It reports false
// when the probe was resolved already (or taken over after its hold).
func (q *Queries) GiveProbeBack(ctx context.Context, target BreakerTarget, id int64, until, next time.Time) (bool, error) {
	n, err := q.exec(ctx, `UPDATE breakers SET state = 'open', probe_until = NULL, next_probe_at = $4, updated_at = now()
		WHERE target = $1 AND target_id = $2 AND state = 'half_open' AND probe_until = $3`, target, id, until, next)
	return n == 1, wrap(err, "give back probe of breaker %s %d", target, id)
}

// waitingFor selects the conversations (c) whose messages wait for a
// breaker's target (the SQL expressions target and id): for a connection,
// those with a ticket on it or a number routed to it; for an account, its
// conversations.
func waitingFor(target, id string) string {
	return `((` + target + ` = 'account' AND c.account_id = ` + id + `) OR (` + target + ` = 'connection' AND (
	EXISTS (SELECT 1 FROM tickets t WHERE t.conversation_id = c.id AND t.connection_id = ` + id + `)
	OR EXISTS (SELECT 1 FROM routes r WHERE r.account_id = c.account_id AND r.connection_id = ` + id + `))))`
}

// jobKindFor is the job kind that works those messages.
func jobKindFor(target BreakerTarget) string {
	if target == BreakerAccount {
		return "send_outbound"
	}
	return "deliver_inbound"
}

// WakeWaiting makes every snoozed or retrying job of the conversations
// waiting for a target available at once (a breaker closed), and returns
// how many it woke.
func (q *Queries) WakeWaiting(ctx context.Context, target BreakerTarget, id int64) (int64, error) {
	n, err := q.exec(ctx, `UPDATE river_job j SET state = 'available', scheduled_at = now()
		WHERE j.state IN ('scheduled', 'retryable') AND j.kind = $3
		AND EXISTS (SELECT 1 FROM conversations c WHERE c.id = (j.args->>'conversation_id')::bigint AND `+waitingFor("$1", "$2")+`)`,
		string(target), id, jobKindFor(target))
	return n, wrap(err, "wake jobs waiting for %s %d", target, id)
}

// Breakers lists every breaker that is not closed or has failures, with its
// target's name and the messages waiting for it, for the admin pages and
// metrics.
func (q *Queries) Breakers(ctx context.Context) ([]Breaker, error) {
	out, err := list(ctx, q.db, func(r scanner) (Breaker, error) {
		var name string
		var waiting int64
		b, err := scanBreaker(r, &name, &waiting)
		b.Name, b.Waiting = name, waiting
		return b, err
	}, `SELECT `+breakerColumns+`,
		coalesce((SELECT name FROM helpdesk_connections WHERE target = 'connection' AND id = target_id),
			(SELECT name FROM whatsapp_accounts WHERE target = 'account' AND id = target_id), ''),
		(SELECT count(*) FROM messages m JOIN conversations c ON c.id = m.conversation_id
			WHERE m.state = 'pending' AND m.direction = CASE target WHEN 'account' THEN 'out' ELSE 'in' END
			AND `+waitingFor("b.target", "b.target_id")+`)
		FROM breakers b WHERE state <> 'closed' OR failures > 0 ORDER BY target, target_id`)
	return out, wrap(err, "list breakers")
}

// BreakerGauges lists the breakers for metrics; it is a
// metrics.BreakerLister.
func (q *Queries) BreakerGauges(ctx context.Context) ([]metrics.BreakerGauge, error) {
	bs, err := q.Breakers(ctx)
	if err != nil {
		return nil, err
	}
	out := make([]metrics.BreakerGauge, len(bs))
	for i, b := range bs {
		out[i] = metrics.BreakerGauge{Target: string(b.Target), Name: b.Name, Open: b.State != BreakerClosed,
			DownSince: b.DownSince, Waiting: b.Waiting, Failures: b.Failures}
	}
	return out, nil
}
