package bridge

import (
	"context"
	"errors"
	"time"

	"github.com/relaydesk/relaydesk/internal/msgconv"
	"github.com/relaydesk/relaydesk/internal/store"
)

// A circuit breaker per helpdesk connection and per WhatsApp number (Graph
// for that number), shared by the replicas through PostgreSQL. After
// breakerThreshold consecutive transient failures the target is down: the
// jobs of its conversations snooze until the next probe without calling it;
// one job at a time probes, backing off from probeBase to probeCap; the
// first success closes the breaker and wakes every waiting job at once.
// Rate limits and permanent refusals are not failures of the target.
const (
	breakerThreshold = 5
	probeBase        = time.Second
	probeCap         = 5 * time.Second
	// probeHold is how long a probe keeps its slot; a probe whose job died
	// is taken over after it.
	probeHold = time.Minute
)

// breakerRef names a breaker.
type breakerRef struct {
	target store.BreakerTarget
	id     int64
}

// probeDelay is the wait before the probe after failed probes: probeBase
// doubled for each, at most probeCap.
func probeDelay(probes int) time.Duration {
	d := probeBase
	for i := 0; i < probes && d < probeCap; i++ {
		d *= 2
	}
	return min(d, probeCap)
}

// afterFailure is a breaker after one more transient failure at now: it
// opens at the threshold, and a failed probe reopens it with a longer wait.
func afterFailure(b store.Breaker, now time.Time, reason string) store.Breaker {
	b.Failures++
	b.LastError = reason
	b.ProbeUntil = nil
	switch {
	case b.State == store.BreakerHalfOpen || b.State == store.BreakerOpen:
		b.Probes++
	case b.Failures >= breakerThreshold:
		b.DownSince, b.Probes = &now, 0
	default:
		b.State = store.BreakerClosed
		return b
	}
	b.State = store.BreakerOpen
	next := now.Add(probeDelay(b.Probes))
	b.NextProbeAt = &next
	return b
}

// afterSuccess is a breaker after a call its target answered: closed, with
// its last error kept for the admin page.
func afterSuccess(b store.Breaker) store.Breaker {
	return store.Breaker{Target: b.Target, TargetID: b.TargetID, State: store.BreakerClosed, LastError: b.LastError}
}

// gateOf decides, from a breaker read at now, whether a job may call its
// target: nil to go on (probe true when it must take the probe slot first),
// or how long to wait.
func gateOf(b store.Breaker, now time.Time) (probe bool, wait time.Duration) {
	switch b.State {
	case store.BreakerOpen:
		if b.NextProbeAt != nil && b.NextProbeAt.After(now) {
			return false, b.NextProbeAt.Sub(now)
		}
		return true, 0
	case store.BreakerHalfOpen:
		if b.ProbeUntil != nil && b.ProbeUntil.After(now) {
			return false, min(b.ProbeUntil.Sub(now), probeCap)
		}
		return true, 0
	}
	return false, 0
}

// passBreaker lets a job call its target, or returns the snooze that makes
// it wait. It reports whether the breaker has anything to reset on success.
// known is the breaker as the job's claim read it, used when it is ref's.
// The job calls giveBack when it is done with the target: a probe it took
// and left without an answer either way (a rate limit, a snooze, a
// cancelled job) is given back, so the next probe comes after probeBase
// instead of after probeHold.
func (b *Bridge) passBreaker(ctx context.Context, ref breakerRef, known *store.Breaker) (dirty bool, giveBack func(), err error) {
	noProbe := func() {}
	var br store.Breaker
	if known != nil && known.Target == ref.target && known.TargetID == ref.id {
		br = *known // read with the claim
	} else if br, err = b.store.BreakerOf(ctx, ref.target, ref.id); err != nil {
		return false, noProbe, err
	}
	now := time.Now()
	probe, wait := gateOf(br, now)
	if wait > 0 {
		return false, noProbe, &TargetDownError{SnoozeError: SnoozeError{After: wait}, Target: ref.target, Since: br.DownSince, LastError: br.LastError}
	}
	if !probe {
		return br.State != store.BreakerClosed || br.Failures > 0, noProbe, nil
	}
	until := now.Add(probeHold).Truncate(time.Microsecond) // as PostgreSQL stores it
	took, err := b.store.TakeProbe(ctx, ref.target, ref.id, until)
	if err != nil {
		return false, noProbe, err
	}
	if !took {
		return false, noProbe, b.snooze(probeDelay(br.Probes))
	}
	return true, func() {
		gctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
		defer cancel()
		if _, err := b.store.GiveProbeBack(gctx, ref.target, ref.id, until, time.Now().Add(probeBase)); err != nil {
			b.log.Warn("could not give a probe back (it is taken over after its hold)", "target", ref.target, "id", ref.id, "err", err)
		}
	}, nil
}

// TargetDownError is the snooze of a job whose target's breaker is open: it
// waits without calling. It says since when and why, for the note of a
// message given up after waiting too long (jobs.GiveUpAfter).
type TargetDownError struct {
	SnoozeError
	Target    store.BreakerTarget
	Since     *time.Time
	LastError string
}

func (e *TargetDownError) Error() string {
	what := "the helpdesk"
	if e.Target == store.BreakerAccount {
		what = "WhatsApp (Graph) for this number"
	}
	s := what + " has been unreachable"
	if e.Since != nil {
		s += " since " + e.Since.UTC().Format("2006-01-02 15:04 MST")
	}
	if e.LastError != "" {
		s += "; last error: " + e.LastError
	}
	return s
}

// Unwrap makes the wait a SnoozeError for the job.
func (e *TargetDownError) Unwrap() error { return &e.SnoozeError }

// breakerSucceeded records that the target answered: the breaker closes
// and, if it was not closed, every waiting conversation resumes at once.
func (b *Bridge) breakerSucceeded(ctx context.Context, ref breakerRef) error {
	var was string
	if _, err := b.store.UpdateBreaker(ctx, ref.target, ref.id, func(br store.Breaker) store.Breaker {
		was = br.State
		return afterSuccess(br)
	}); err != nil {
		return err
	}
	if was == store.BreakerClosed {
		return nil
	}
	n, err := b.store.WakeWaiting(ctx, ref.target, ref.id)
	if err == nil {
		b.log.Info("target is back; waiting conversations resume", "target", ref.target, "id", ref.id, "jobs", n)
	}
	return err
}

// breakerFailed records a transient failure of the target (not one of a
// job cancelled by shutdown).
func (b *Bridge) breakerFailed(ctx context.Context, ref breakerRef, cause error) {
	if ctx.Err() != nil && errors.Is(cause, ctx.Err()) {
		return
	}
	br, err := b.store.UpdateBreaker(context.WithoutCancel(ctx), ref.target, ref.id, func(br store.Breaker) store.Breaker {
		return afterFailure(br, time.Now(), cause.Error())
	})
	if err != nil {
		b.log.Warn("could not record a failure on the breaker", "target", ref.target, "id", ref.id, "err", err)
		return
	}
	if br.State == store.BreakerOpen && br.Probes == 0 {
		b.log.Warn("target is down; its conversations wait for a probe", "target", ref.target, "id", ref.id, "err", cause)
	}
}

// breakerOf is the breaker a conversation's queue of one direction depends
// on: Graph for its number (replies), else the helpdesk connection of its
// active ticket or, without one, of the route its next message will take.
func (b *Bridge) breakerOf(ctx context.Context, cc *convCtx, dir store.Direction) (*breakerRef, error) {
	if dir == store.DirOut {
		return &breakerRef{target: store.BreakerAccount, id: int64(cc.account.ID)}, nil
	}
	t, err := b.activeTicket(ctx, cc)
	if err == nil {
		return connRef(t.ConnectionID), nil
	}
	if !errors.Is(err, store.ErrNotFound) {
		return nil, err
	}
	routes, err := b.routesOf(ctx, cc)
	if err != nil || len(routes) == 0 {
		return nil, err
	}
	if oneConnection(routes) {
		return connRef(routes[0].ConnectionID), nil
	}
	m, err := b.store.NextPending(ctx, cc.conv.ID, directionOf(dir))
	if errors.Is(err, store.ErrNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	if r := pickRoute(routes, cc.conv.WaID, msgconv.Render(inboundOf(m))); r != nil {
		return connRef(r.ConnectionID), nil
	}
	return nil, nil // unrouted: held without a call
}

// oneConnection reports whether every route goes to the same connection.
func oneConnection(routes []store.Route) bool {
	for _, r := range routes[1:] {
		if r.ConnectionID != routes[0].ConnectionID {
			return false
		}
	}
	return true
}

func connRef(id store.ConnectionID) *breakerRef {
	return &breakerRef{target: store.BreakerConnection, id: int64(id)}
}
