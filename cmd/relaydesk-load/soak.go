package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"math/rand/v2"
	"sync"
	"sync/atomic"
	"time"

	"github.com/relaydesk/relaydesk/internal/whatsapp/whatsapptest"
)

// soakOpts configures `relaydesk-load soak`.
type soakOpts struct {
	env          envOpts
	duration     time.Duration // load with faults
	rate         float64
	concurrency  int
	kills        int
	restartPG    bool
	drainTimeout time.Duration
	jsonPath     string
}

// SoakEvent is one fault, at seconds since the load started.
type SoakEvent struct {
	At   float64 `json:"at_s"`
	What string  `json:"what"`
}

// SoakReport is the soak's outcome.
type SoakReport struct {
	StartedAt      time.Time      `json:"started_at"`
	Settings       map[string]any `json:"settings"`
	Events         []SoakEvent    `json:"events"`
	Load           PhaseReport    `json:"load"`
	Closing        PhaseReport    `json:"closing_round"`
	ZendeskFaults  map[string]int `json:"zendesk_faults_applied"`
	Restarts       int            `json:"relaydesk_restarts"`
	DrainSeconds   float64        `json:"drain_seconds"`
	Drained        bool           `json:"drained"`
	OrphanedJobs   int64          `json:"orphaned_running_jobs"`
	Verification   Verification   `json:"verification"`
	RelaydeskExits []string       `json:"relaydesk_exits,omitempty"`
}

func soakCmd(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	var o soakOpts
	fs := flag.NewFlagSet("soak", flag.ContinueOnError)
	commonFlags(fs, &o.env, 50)
	fs.IntVar(&o.env.conversations, "conversations", 300, "number of customers")
	fs.DurationVar(&o.duration, "duration", 3*time.Minute, "length of the load with faults")
	fs.Float64Var(&o.rate, "rate", 100, "customer messages per second")
	fs.IntVar(&o.concurrency, "concurrency", 32, "senders")
	fs.IntVar(&o.kills, "kills", 3, "how many times relaydesk is killed with SIGKILL and started again (with -replicas, each kill takes the next replica)")
	fs.IntVar(&o.env.replicas, "replicas", 1, "relaydesk processes serving one database, the webhooks spread across them")
	fs.BoolVar(&o.restartPG, "restart-postgres", true, "restart PostgreSQL once (only the private cluster; ignored with -database-url)")
	fs.DurationVar(&o.drainTimeout, "drain-timeout", 3*time.Minute, "how long to wait for everything to arrive after the load stops")
	fs.StringVar(&o.jsonPath, "json", "", "also write the report as JSON to this file")
	if err := parse(fs, args, stderr); err != nil {
		return err
	}
	o.env.dbName = "relaydesk_soak"
	o.env.faults = true
	rep, err := runSoak(ctx, o, stderr)
	if err != nil {
		return err
	}
	if err := present(stdout, o.jsonPath, rep); err != nil {
		return err
	}
	if !rep.Verification.OK || !rep.Drained {
		return &failedError{"the soak found problems (see above)"}
	}
	return nil
}

// runSoak runs the load with the fault schedule, the closing round, the
// drain and the verification.
func runSoak(ctx context.Context, o soakOpts, logw io.Writer) (*SoakReport, error) {
	log := newLogger(logw)
	e, err := setup(ctx, log, o.env)
	if err != nil {
		return nil, err
	}
	defer e.close()
	rep := &SoakReport{StartedAt: time.Now().UTC(), Settings: map[string]any{
		"duration_s": o.duration.Seconds(), "rate": o.rate, "concurrency": o.concurrency, "conversations": o.env.conversations,
		"kills": o.kills, "restart_postgres": o.restartPG && e.cluster != nil, "workers": o.env.workers,
		"replicas": len(e.rds),
	}}
	l := e.loader()
	l.retryFor = 5 * time.Minute
	l.addMedia(e.graph, rand.New(rand.NewPCG(3, 4)))
	e.t.statusOn.Store(true)
	bg, stopBG := context.WithCancel(ctx)
	defer stopBG()
	for range 4 {
		go l.postStatuses(bg)
	}

	// The fault schedule, as fractions of the load's duration.
	var mu sync.Mutex
	start := time.Now()
	note := func(what string) {
		mu.Lock()
		rep.Events = append(rep.Events, SoakEvent{At: round2(time.Since(start).Seconds()), What: what})
		mu.Unlock()
		log.Info("soak: "+what, "at", time.Since(start).Round(100*time.Millisecond))
	}
	zd := func(f zdFault) func() {
		return func() { e.faults.set(f); note("zendesk: " + f.String()) }
	}
	graph := func(code int) func() {
		return func() {
			f := whatsapptest.ErrorFault(code)
			f.Op = whatsapptest.OpSendMessage
			e.graph.Fail(f)
			note(fmt.Sprintf("graph: error %d on every send", code))
		}
	}
	graphOff := func() { e.graph.ClearFaults(); note("graph: faults off") }
	var kills atomic.Int64
	kill := func() {
		i := int(kills.Add(1)-1) % len(e.rds)
		rd, name := e.rds[i], "relaydesk"
		if len(e.rds) > 1 {
			name = fmt.Sprintf("relaydesk replica %d", i+1)
		}
		note(name + ": kill -9")
		rd.kill9()
		if len(e.rds) > 1 {
			// The other replica carries the load alone for a while.
			time.Sleep(o.duration / 20)
		}
		if err := rd.start(); err != nil {
			note(name + ": restart failed: " + err.Error())
			return
		}
		if err := rd.ready(ctx, 90*time.Second); err != nil {
			note(name + ": not ready after restart: " + err.Error())
			return
		}
		mu.Lock()
		rep.Restarts++
		mu.Unlock()
		note(name + ": ready again")
	}
	type event struct {
		at float64
		do func()
	}
	sched := []event{
		{0.04, zd(zdServerError)}, {0.10, zd(zdOK)},
		{0.14, zd(zdRateLimited)}, {0.20, zd(zdOK)},
		{0.24, graph(130429)}, {0.29, graphOff},
		{0.33, zd(zdSlow)}, {0.39, zd(zdOK)},
		{0.44, zd(zdResetAfter)}, {0.50, zd(zdResetBefore)}, {0.54, zd(zdOK)},
		{0.58, graph(131056)}, {0.63, graphOff},
	}
	for i := range o.kills {
		// Spread the kills over the first 70% of the load.
		at := 0.02 + 0.68*float64(i)/float64(max(1, o.kills-1))
		if o.kills == 1 {
			at = 0.02
		}
		sched = append(sched, event{at, kill})
	}
	if o.restartPG && e.cluster != nil {
		sched = append(sched, event{0.47, func() {
			note("postgres: restart (immediate)")
			if err := e.cluster.Restart(ctx); err != nil {
				note("postgres: restart failed: " + err.Error())
				return
			}
			note("postgres: up again")
		}})
	}
	schedCtx, stopSched := context.WithCancel(ctx)
	var sw sync.WaitGroup
	for _, ev := range sched {
		sw.Add(1)
		go func() {
			defer sw.Done()
			select {
			case <-time.After(time.Duration(ev.at * float64(o.duration))):
				ev.do()
			case <-schedCtx.Done():
			}
		}()
	}

	load := &phase{name: "soak"}
	l.run(ctx, load, phaseCfg{duration: o.duration, rate: o.rate, concurrency: o.concurrency, convs: e.t.convs,
		replyRatio: 0.1, redeliver: 0.05, batch: 0.2, media: true})
	stopSched()
	sw.Wait()
	e.faults.set(zdOK)
	e.graph.ClearFaults()
	rep.Load = phaseReport(load, Resources{}, 0, true)

	// Customers keep writing and agents keep answering: work stranded by a
	// killed process (its job stays "running" until River's rescuer, after
	// the worker's timeout) is picked up by the next job of its conversation.
	note("closing round: one more message and reply in every conversation")
	closing := &phase{name: "closing"}
	l.run(ctx, closing, phaseCfg{sweep: true, sweepReplies: true, convs: e.t.convs, concurrency: o.concurrency, rate: o.rate, duration: 5 * time.Minute})
	rep.Closing = phaseReport(closing, Resources{}, 0, true)
	note("load stopped; draining")
	d, ok := l.drain(ctx, e, o.drainTimeout)
	rep.DrainSeconds, rep.Drained = round2(d.Seconds()), ok
	note(fmt.Sprintf("drained=%v", ok))
	rep.ZendeskFaults = e.faults.counts()
	rep.Verification = verify(ctx, e, true)
	rep.OrphanedJobs = rep.Verification.JobStates["running"]
	for _, rd := range e.rds {
		rd.mu.Lock()
		rep.RelaydeskExits = append(rep.RelaydeskExits, rd.exitErrs...)
		rd.mu.Unlock()
	}
	return rep, nil
}

func (r *SoakReport) print(w io.Writer) {
	fmt.Fprintf(w, "\nrelaydesk soak, %s, settings %v\n", r.StartedAt.Format(time.RFC3339), r.Settings)
	for _, ev := range r.Events {
		fmt.Fprintf(w, "  %7.1f s  %s\n", ev.At, ev.What)
	}
	p := r.Load
	fmt.Fprintf(w, "load: %d webhooks, %d customer messages (%.0f/s), %d redeliveries, %d replies, %d statuses, %d failed attempts (retried), %d rejected\n",
		p.Webhooks, p.Messages, p.MessagesPerS, p.Redelivered, p.Replies, p.Statuses, p.Errors, p.Rejected)
	fmt.Fprintf(w, "  webhook → 200: %s\n  webhook → comment: %s\n  reply → WhatsApp: %s\n", fmtSummary(p.Intake), fmtSummary(p.EndToEnd), fmtSummary(p.Reply))
	fmt.Fprintf(w, "closing round: %d messages, %d replies\n", r.Closing.Messages, r.Closing.Replies)
	fmt.Fprintf(w, "zendesk faults applied: %v; relaydesk restarts: %d\n", r.ZendeskFaults, r.Restarts)
	fmt.Fprintf(w, "drained in %.1f s: %v; running jobs orphaned by kill -9 (rescued by River after the worker timeout; their conversations have no work left): %d\n",
		r.DrainSeconds, r.Drained, r.OrphanedJobs)
	printVerification(w, r.Verification)
	fmt.Fprintf(w, "\nRESULT: lost %d, duplicated %d (inbound %d, replies %d), out of order %d, stuck %d, ok=%v\n",
		r.Verification.InboundMissing+r.Verification.RepliesMissing,
		r.Verification.InboundDuplicated+r.Verification.RepliesDuplicated, r.Verification.InboundDuplicated, r.Verification.RepliesDuplicated,
		r.Verification.InboundOutOfOrder+r.Verification.RepliesOutOfOrder, r.Verification.JobsWithWorkLeft, r.Verification.OK && r.Drained)
}
