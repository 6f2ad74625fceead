package jobs

import (
	"context"
	"math/rand/v2"
	"time"

	"github.com/riverqueue/river"
	"github.com/riverqueue/river/rivertype"
)

// Policy is one job kind's retry rule: after the n-th failed attempt the
// job waits Base doubled n-1 times, at most Cap, less up to Jitter of it
// (so replicas that failed together do not retry together, and the cap is
// never exceeded), and it gets MaxAttempts attempts in all.
type Policy struct {
	Base, Cap   time.Duration
	Jitter      float64 // the fraction of the delay that may be removed, in [0, 1)
	MaxAttempts int
}

// Delay is the wait after the failed attempt number attempt (1 for the
// first); r in [0, 1) picks the jitter.
func (p Policy) Delay(attempt int, r float64) time.Duration {
	d := p.Base
	for i := 1; i < attempt && d < p.Cap; i++ {
		d *= 2
	}
	d = min(d, p.Cap)
	return d - time.Duration(float64(d)*p.Jitter*r)
}

// MinSpan is the shortest time from the first attempt to the last: every
// wait with the most jitter.
func (p Policy) MinSpan() time.Duration {
	var span time.Duration
	for a := 1; a < p.MaxAttempts; a++ {
		span += p.Delay(a, 1)
	}
	return span
}

// attemptsFor is the number of attempts p needs for its shortest span to
// reach span.
func attemptsFor(p Policy, span time.Duration) int {
	p.MaxAttempts = 1
	for p.MinSpan() < span {
		p.MaxAttempts++
	}
	return p.MaxAttempts
}

// GiveUpAfter is how long a transient failure is retried before the bridge
// gives up on a message (with a note, or a failure the admin page shows).
const GiveUpAfter = 72 * time.Hour

var (
	// transient is the rule of the work that must not be lost: 1 s doubling
	// to 60 s, for at least GiveUpAfter.
	transient = withSpan(Policy{Base: time.Second, Cap: time.Minute, Jitter: 0.2}, GiveUpAfter)
	// periodic is the rule of jobs the leader inserts again on schedule: a
	// few quick retries, then the next run takes over.
	periodic = Policy{Base: time.Second, Cap: 10 * time.Second, Jitter: 0.2, MaxAttempts: 3}
	// apiEvents retries a subscriber's endpoint from a minute to 12 hours
	// apart; its last attempt comes after apievents.DefaultDisableAfter, so
	// a dead endpoint is disabled before its deliveries run out.
	apiEvents = Policy{Base: time.Minute, Cap: 12 * time.Hour, Jitter: 0.2, MaxAttempts: 20}
)

func withSpan(p Policy, span time.Duration) Policy {
	p.MaxAttempts = attemptsFor(p, span)
	return p
}

// Policies is every job kind's retry rule; a kind missing here is a bug
// (TestEveryJobKindHasAPolicy), and falls back to transient.
var Policies = map[string]Policy{
	"deliver_inbound":        transient,
	"send_outbound":          transient,
	"add_note":               transient,
	"status_failed":          transient,
	"show_status":            transient,
	"provision_webhook":      transient,
	"poll_connection":        periodic,
	"schedule_polls":         periodic,
	"sweep_stalled":          periodic,
	"cleanup_webhook_events": periodic,
	"api_cleanup":            periodic,
	"api_event_deliver":      apiEvents,
	"message_retention":      periodic,
	"refresh_templates":      periodic,
}

// PolicyOf is a job kind's retry rule.
func PolicyOf(kind string) Policy {
	if p, ok := Policies[kind]; ok {
		return p
	}
	return transient
}

// retryPolicy is River's ClientRetryPolicy over Policies.
type retryPolicy struct{}

// NextRetry schedules a failed job's next attempt by its kind's policy.
func (retryPolicy) NextRetry(job *rivertype.JobRow) time.Time {
	return time.Now().Add(PolicyOf(job.Kind).Delay(max(job.Attempt, 1), rand.Float64()))
}

// attemptsMiddleware gives every inserted job its kind's MaxAttempts.
type attemptsMiddleware struct{ river.MiddlewareDefaults }

// InsertMany implements rivertype.JobInsertMiddleware.
func (attemptsMiddleware) InsertMany(ctx context.Context, params []*rivertype.JobInsertParams,
	doInner func(context.Context) ([]*rivertype.JobInsertResult, error)) ([]*rivertype.JobInsertResult, error) {
	for _, p := range params {
		p.MaxAttempts = PolicyOf(p.Kind).MaxAttempts
	}
	return doInner(ctx)
}
