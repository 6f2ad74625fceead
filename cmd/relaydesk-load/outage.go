package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"time"

	"github.com/relaydesk/relaydesk/internal/store"
)

// outageOpts configures the outage scenario.
type outageOpts struct {
	env      envOpts
	messages int           // customer messages sent during the outage
	outage   time.Duration // how long the helpdesk stays down once marked down
	failures int           // consecutive 500s of the single-conversation case
	jsonPath string
}

// OutageReport is what the outage scenario measured, relaydesk running with
// every setting at its default.
type OutageReport struct {
	StartedAt     time.Time `json:"started_at"`
	Conversations int       `json:"conversations"`
	Messages      int       `json:"messages"`
	// MarkedDownAfterS is how long after the outage began the helpdesk was
	// marked down; CallsUnderWay the calls that reached it in the
	// inFlightGrace after that (jobs that passed the breaker before it
	// opened); CallsWhileDown the calls that reached it during OutageS
	// after those, against at most OutageS / probe cap + 1.
	MarkedDownAfterS float64 `json:"marked_down_after_s"`
	CallsUnderWay    int     `json:"calls_under_way"`
	OutageS          float64 `json:"outage_s"`
	CallsWhileDown   int     `json:"calls_while_down"`
	MaxCallsAllowed  int     `json:"max_calls_allowed"`
	WaitingShown     int64   `json:"waiting_shown"`
	// LastDeliveredAfterS is when, after the helpdesk came back, the last
	// of the messages was posted.
	LastDeliveredAfterS float64 `json:"last_delivered_after_s"`
	Drained             bool    `json:"drained"`
	// ConsecutiveFailures 500s on one conversation, then delivery
	// DeliveredAfterFailuresS after the last of them.
	ConsecutiveFailures     int     `json:"consecutive_failures"`
	DeliveredAfterFailuresS float64 `json:"delivered_after_failures_s"`
}

func outageCmd(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	var o outageOpts
	fs := flag.NewFlagSet("outage", flag.ContinueOnError)
	commonFlags(fs, &o.env, 50)
	fs.IntVar(&o.env.conversations, "conversations", 100, "number of customers (conversations)")
	fs.IntVar(&o.messages, "messages", 1000, "customer messages sent while the helpdesk is down")
	fs.DurationVar(&o.outage, "outage", 30*time.Second, "how long the helpdesk stays down after relaydesk marked it down")
	fs.IntVar(&o.failures, "failures", 10, "consecutive 500s on one conversation in the second case")
	fs.StringVar(&o.jsonPath, "json", "", "also write the report as JSON to this file")
	if err := parse(fs, args, stderr); err != nil {
		return err
	}
	o.env.dbName, o.env.faults = "relaydesk_outage", true
	rep, err := runOutage(ctx, o, stderr)
	if err != nil {
		return err
	}
	if err := present(stdout, o.jsonPath, rep); err != nil {
		return err
	}
	if !rep.Drained || rep.CallsWhileDown > rep.MaxCallsAllowed {
		return &failedError{"the outage scenario failed (see above)"}
	}
	return nil
}

// inFlightGrace is how long after the helpdesk was marked down the calls
// of jobs already past the breaker may still arrive; the helpdesk answers
// at once, so they arrive well within it (the first probe is due 1 s
// after the breaker opened).
const inFlightGrace = 500 * time.Millisecond

// probeCap is the bridge's longest wait between two probes of a target
// that is down (internal/bridge/breaker.go).
const probeCap = 5 * time.Second

func runOutage(ctx context.Context, o outageOpts, out io.Writer) (*OutageReport, error) {
	log := newLogger(out)
	e, err := setup(ctx, log, o.env)
	if err != nil {
		return nil, err
	}
	defer e.close()
	rep := &OutageReport{StartedAt: time.Now().UTC(), Conversations: o.env.conversations, Messages: o.messages,
		ConsecutiveFailures: o.failures}
	l := e.loader()

	log.Info("warm-up: one message in every conversation (opens the tickets)")
	l.run(ctx, &phase{name: "warm-up"}, phaseCfg{sweep: true, convs: e.t.convs, concurrency: 16, rate: 300, duration: 10 * time.Minute})
	if _, ok := l.drain(ctx, e, 5*time.Minute); !ok {
		return nil, fmt.Errorf("warm-up did not drain")
	}

	log.Info("outage: the helpdesk answers 500 to everything", "messages", o.messages)
	began := time.Now()
	e.faults.set(zdDown)
	ph := &phase{name: "outage"}
	l.run(ctx, ph, phaseCfg{convs: e.t.convs, concurrency: 16, maxMessages: o.messages, duration: 10 * time.Minute})
	down, err := waitDown(ctx, e)
	if err != nil {
		return nil, err
	}
	rep.MarkedDownAfterS = secs(down.Sub(began))
	from := down.Add(inFlightGrace)
	sleep(ctx, time.Until(from.Add(o.outage)))
	rep.OutageS = secs(o.outage)
	rep.CallsUnderWay = e.faults.downBetween(down, from)
	rep.CallsWhileDown = e.faults.downBetween(from, from.Add(o.outage))
	rep.MaxCallsAllowed = int(o.outage/probeCap) + 1
	if bs, err := e.st.Breakers(ctx); err == nil && len(bs) > 0 {
		rep.WaitingShown = bs[0].Waiting
	}

	back := time.Now()
	e.faults.set(zdOK)
	_, rep.Drained = l.drain(ctx, e, 5*time.Minute)
	rep.LastDeliveredAfterS = secs(time.Unix(0, ph.lastAt.Load()).Sub(back))

	log.Info("one conversation: consecutive 500s, then the helpdesk answers", "failures", o.failures)
	e.faults.failLeft.Store(int64(o.failures))
	one := &phase{name: "failures"}
	l.run(ctx, one, phaseCfg{convs: e.t.convs[:1], concurrency: 1, maxMessages: 1, duration: time.Minute})
	_, ok := l.drain(ctx, e, 10*time.Minute)
	rep.Drained = rep.Drained && ok
	rep.DeliveredAfterFailuresS = secs(time.Unix(0, one.lastAt.Load()).Sub(time.Unix(0, e.faults.lastFail.Load())))
	return rep, nil
}

// waitDown waits until relaydesk marks the helpdesk down and returns when
// it did (the breaker's down_since): calls that reach the helpdesk after it
// are the probes.
func waitDown(ctx context.Context, e *environment) (time.Time, error) {
	deadline := time.Now().Add(5 * time.Minute)
	for time.Now().Before(deadline) && ctx.Err() == nil {
		bs, err := e.st.Breakers(ctx)
		if err != nil {
			return time.Time{}, err
		}
		for _, b := range bs {
			if b.State != store.BreakerClosed && b.DownSince != nil {
				return *b.DownSince, nil
			}
		}
		sleep(ctx, 100*time.Millisecond)
	}
	return time.Time{}, fmt.Errorf("the helpdesk was never marked down")
}

func sleep(ctx context.Context, d time.Duration) {
	select {
	case <-ctx.Done():
	case <-time.After(d):
	}
}

func secs(d time.Duration) float64 {
	return float64(d.Round(10*time.Millisecond)) / float64(time.Second)
}

func (r *OutageReport) print(w io.Writer) {
	fmt.Fprintf(w, "relaydesk outage recovery (every setting at its default), %d messages across %d conversations\n",
		r.Messages, r.Conversations)
	fmt.Fprintf(w, "  marked down after:                 %.2f s\n", r.MarkedDownAfterS)
	fmt.Fprintf(w, "  calls already under way then:      %d (arrived within %s of it)\n", r.CallsUnderWay, inFlightGrace)
	fmt.Fprintf(w, "  calls to the helpdesk while down:  %d in the next %.0f s (at most %d allowed: one per probe interval)\n",
		r.CallsWhileDown, r.OutageS, r.MaxCallsAllowed)
	fmt.Fprintf(w, "  messages shown waiting:            %d\n", r.WaitingShown)
	fmt.Fprintf(w, "  last message delivered after back: %.2f s (target 10 s)\n", r.LastDeliveredAfterS)
	fmt.Fprintf(w, "  %d consecutive 500s, delivered:    %.2f s after the last (target 60 s)\n",
		r.ConsecutiveFailures, r.DeliveredAfterFailuresS)
	fmt.Fprintf(w, "  drained:                           %s\n", yesNo(r.Drained))
}
