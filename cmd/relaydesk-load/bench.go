package main

import (
	"context"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"runtime"
	"sort"
	"strings"
	"time"
)

// benchOpts configures `relaydesk-load bench`.
type benchOpts struct {
	env            envOpts
	concurrency    int           // intake phase and pgbench clients
	e2eConcurrency int           // senders in the end-to-end phase
	rate           float64       // end-to-end phase, customer messages per second
	duration       time.Duration // each load phase
	refDuration    time.Duration // pgbench and River
	videoMB        int           // 0 skips the large video
	riverJobs      int
	riverWorkers   int // River's reference at its best configuration found by river-sweep
	riverCooldown  time.Duration
	replyRatio     float64
	jsonPath       string
	profile        string // write a CPU profile of relaydesk during profilePhase here
	profilePhase   string // "intake" or "e2e"
	replicas       int    // 2: the end-to-end phase runs again with a second process
}

// Report is what `bench` prints and writes as JSON.
type Report struct {
	StartedAt time.Time      `json:"started_at"`
	Machine   Machine        `json:"machine"`
	Settings  map[string]any `json:"settings"`
	Pgbench   PgbenchResult  `json:"pgbench"`
	River     RiverResult    `json:"river"`
	Video     *VideoResult   `json:"video,omitempty"`
	WarmUp    PhaseReport    `json:"warm_up"`
	Intake    PhaseReport    `json:"intake"`
	EndToEnd  PhaseReport    `json:"end_to_end"`
	// EndToEndReplicas is the end-to-end phase again with a second
	// relaydesk process on the same database, the webhooks spread
	// round-robin over both (nil with -replicas 1).
	EndToEndReplicas *PhaseReport `json:"end_to_end_two_replicas,omitempty"`
	DB               DBReport     `json:"database"`
	Ratios           Ratios       `json:"ratios"`
	Targets          []Target     `json:"targets"`
	Verification     Verification `json:"verification"`
	// TopStatements are where PostgreSQL's execution time went, over the
	// whole run (pg_stat_statements).
	TopStatements []TopStatement `json:"top_statements,omitempty"`
}

// Machine describes where the figures were taken.
type Machine struct {
	CPUs       int     `json:"cpus"`
	MemTotalMB int64   `json:"mem_total_mb"`
	Kernel     string  `json:"kernel"`
	Go         string  `json:"go"`
	Postgres   string  `json:"postgres"`
	LoadAvg    string  `json:"load_avg_at_start"`
	Private    bool    `json:"private_postgres_cluster"`
	FsyncMS    float64 `json:"-"`
}

// PhaseReport is one load phase.
type PhaseReport struct {
	Seconds       float64   `json:"seconds"`
	Webhooks      int64     `json:"webhooks"`
	Messages      int64     `json:"customer_messages"`
	Redelivered   int64     `json:"redeliveries"`
	Statuses      int64     `json:"status_webhooks"`
	Replies       int64     `json:"agent_replies"`
	Errors        int64     `json:"failed_attempts"`
	Rejected      int64     `json:"rejected"`
	WebhooksPerS  float64   `json:"webhooks_per_s"`
	MessagesPerS  float64   `json:"messages_per_s"`
	Intake        Summary   `json:"intake_latency"`
	EndToEnd      Summary   `json:"webhook_to_comment_latency"`
	DeliveredPerS float64   `json:"delivered_per_s"` // comments created during the load window per second
	Reply         Summary   `json:"reply_to_whatsapp_latency"`
	DrainSeconds  float64   `json:"drain_seconds"`
	Drained       bool      `json:"drained"`
	Resources     Resources `json:"resources"`
	Database      *PhaseDB  `json:"database,omitempty"`
}

// DBReport is the database's growth.
type DBReport struct {
	SizeBeforeMB    float64 `json:"size_before_mb"`
	SizeAfterMB     float64 `json:"size_after_mb"`
	Messages        int64   `json:"messages"`
	BytesPerMessage int64   `json:"bytes_per_message"`
	// TableBytesPerMessage splits BytesPerMessage by table (indexes and
	// TOAST included); river_job and webhook_events are transient (River's
	// completed-job retention of 1 hour, RELAYDESK_WEBHOOK_RETENTION).
	TableBytesPerMessage map[string]int64 `json:"table_bytes_per_message"`
}

// Ratios compare relaydesk with the references.
type Ratios struct {
	IntakeVsPgbench float64 `json:"intake_webhooks_vs_pgbench_tps"`
	EndToEndVsRiver float64 `json:"end_to_end_vs_river_continuous"`
	// TwoReplicasVsOne is the two-replica end-to-end phase's delivered
	// rate over the one-replica phase's.
	TwoReplicasVsOne float64 `json:"end_to_end_two_replicas_vs_one,omitempty"`
}

// Target is one goal of the issue, met or not.
type Target struct {
	Name     string `json:"name"`
	Goal     string `json:"goal"`
	Measured string `json:"measured"`
	Met      bool   `json:"met"`
}

func phaseReport(p *phase, r Resources, drain time.Duration, drained bool) PhaseReport {
	secs := p.end().Sub(p.start).Seconds()
	pr := PhaseReport{
		Seconds: round2(secs), Webhooks: p.webhooks.Load(), Messages: p.messages.Load(), Redelivered: p.redelivered.Load(),
		Statuses: p.statuses.Load(), Replies: p.replies.Load(), Errors: p.errors.Load(), Rejected: p.rejected.Load(),
		Intake: p.intake.summary(), EndToEnd: p.e2e.summary(), Reply: p.reply.summary(),
		DrainSeconds: round2(drain.Seconds()), Drained: drained, Resources: r,
	}
	if secs > 0 {
		pr.WebhooksPerS = round2(float64(pr.Webhooks) / secs)
		pr.MessagesPerS = round2(float64(pr.Messages) / secs)
		pr.DeliveredPerS = round2(float64(p.inWindow.Load()) / secs)
	}
	return pr
}

func machine(ctx context.Context, e *environment) Machine {
	m := Machine{CPUs: runtime.NumCPU(), Go: runtime.Version(), Private: e.cluster != nil}
	if b, err := os.ReadFile("/proc/meminfo"); err == nil {
		var kb int64
		for _, line := range strings.Split(string(b), "\n") {
			if strings.HasPrefix(line, "MemTotal:") {
				fmt.Sscanf(strings.TrimPrefix(line, "MemTotal:"), "%d", &kb)
			}
		}
		m.MemTotalMB = kb >> 10
	}
	if b, err := os.ReadFile("/proc/sys/kernel/osrelease"); err == nil {
		m.Kernel = strings.TrimSpace(string(b))
	}
	if b, err := os.ReadFile("/proc/loadavg"); err == nil {
		m.LoadAvg = strings.Join(strings.Fields(string(b))[:3], " ")
	}
	m.Postgres, _ = e.st.ServerVersion(ctx)
	return m
}

// runBench runs every measurement once, in order, and returns the report.
func runBench(ctx context.Context, o benchOpts, out io.Writer) (*Report, error) {
	log := newLogger(out)
	e, err := setup(ctx, log, o.env)
	if err != nil {
		return nil, err
	}
	defer e.close()
	rep := &Report{StartedAt: time.Now().UTC(), Machine: machine(ctx, e), Settings: map[string]any{
		"conversations": o.env.conversations, "intake_concurrency": o.concurrency, "e2e_concurrency": o.e2eConcurrency,
		"e2e_rate": o.rate, "phase_seconds": o.duration.Seconds(), "reference_seconds": o.refDuration.Seconds(),
		"relaydesk_workers": o.env.workers, "relaydesk_db_max_conns": o.env.dbConns, "reply_ratio": o.replyRatio,
		"mix": "80% text, 10% image (24-120 KB), 4% PDF (128-256 KB), 6% location; 20% of deliveries batch 2-4 messages; 3-5% redeliveries",
	}}
	// The second replica serves only the two-replica phase.
	for _, rd := range e.rds[1:] {
		rd.stop(30 * time.Second)
	}
	l := e.loader()
	l.useReplicas(e.baseURLs()[:1])
	statements := e.enableStatementCounts(ctx)
	rng := rand.New(rand.NewPCG(1, 2))
	l.addMedia(e.graph, rng)
	mon := &monitor{e: e, interval: 100 * time.Millisecond}
	bg, stopBG := context.WithCancel(ctx)
	defer stopBG()
	go mon.run(bg)
	for range 4 {
		go l.postStatuses(bg)
	}
	sizeBefore := e.dbSize(ctx)
	tablesBefore := e.tableSizes(ctx)

	log.Info("warm-up: one message in every conversation (opens the tickets)", "conversations", o.env.conversations)
	warm := &phase{name: "warm-up"}
	counted := func(p *phase, pr PhaseReport, before dbCounters) PhaseReport {
		settleStats()
		pr.Database = phaseDB(before, e.dbCounters(ctx, statements), p.messages.Load()+p.replies.Load(), p.webhooks.Load())
		return pr
	}
	snap := mon.begin()
	counters := e.dbCounters(ctx, statements)
	l.run(ctx, warm, phaseCfg{sweep: true, convs: e.t.convs, concurrency: o.concurrency, rate: 300, duration: 10 * time.Minute})
	res := mon.end(snap)
	d, ok := l.drain(ctx, e, 5*time.Minute)
	rep.WarmUp = counted(warm, phaseReport(warm, res, d, ok), counters)

	if o.videoMB > 0 {
		log.Info("large media: relaying one video", "mb", o.videoMB)
		v := videoTest(ctx, e, l, o.videoMB)
		rep.Video = &v
	}

	log.Info("reference: pgbench single-row inserts", "clients", o.concurrency, "seconds", o.refDuration.Seconds())
	rep.Pgbench = runPgbench(ctx, e.adminURL, e.dir, o.concurrency, o.refDuration)
	log.Info("reference: River no-op jobs", "workers", o.riverWorkers, "fetch_cooldown", o.riverCooldown)
	rep.River = runRiverBench(ctx, e.adminURL, riverCfg{workers: o.riverWorkers, fetchCooldown: o.riverCooldown}, o.riverJobs, o.refDuration)

	log.Info("intake: closed loop, every sender as fast as it can", "senders", o.concurrency, "seconds", o.duration.Seconds())
	intake := &phase{name: "intake"}
	var stopProfile func() error
	if o.profile != "" && o.env.pprofListen != "" && o.profilePhase == "intake" {
		stopProfile = startProfile(ctx, o.env.pprofListen, o.profile, o.duration)
	}
	snap = mon.begin()
	counters = e.dbCounters(ctx, statements)
	l.run(ctx, intake, phaseCfg{duration: o.duration, concurrency: o.concurrency, convs: e.t.convs, redeliver: 0.05, batch: 0.2, media: true})
	res = mon.end(snap)
	if stopProfile != nil {
		if err := stopProfile(); err != nil {
			log.Warn("cpu profile", "err", err)
		}
		stopProfile = nil
	}
	d, ok = l.drain(ctx, e, 5*time.Minute)
	rep.Intake = counted(intake, phaseReport(intake, res, d, ok), counters)

	log.Info("end to end: open loop with agent replies and statuses", "rate", o.rate, "senders", o.e2eConcurrency, "seconds", o.duration.Seconds())
	e.t.statusOn.Store(true)
	e2e := &phase{name: "end-to-end"}
	if o.profile != "" && o.env.pprofListen != "" && o.profilePhase != "intake" {
		stopProfile = startProfile(ctx, o.env.pprofListen, o.profile, o.duration)
	}
	e2eCfg := phaseCfg{duration: o.duration, rate: o.rate, concurrency: o.e2eConcurrency, convs: e.t.convs,
		replyRatio: o.replyRatio, redeliver: 0.03, batch: 0.2, media: true}
	snap = mon.begin()
	counters = e.dbCounters(ctx, statements)
	l.run(ctx, e2e, e2eCfg)
	res = mon.end(snap)
	if stopProfile != nil {
		if err := stopProfile(); err != nil {
			log.Warn("cpu profile", "err", err)
		}
	}
	d, ok = l.drain(ctx, e, 5*time.Minute)
	rep.EndToEnd = counted(e2e, phaseReport(e2e, res, d, ok), counters)

	if len(e.rds) > 1 {
		log.Info("end to end again, two relaydesk processes on the one database", "rate", o.rate)
		for _, rd := range e.rds[1:] {
			if err := rd.start(); err != nil {
				return nil, err
			}
			if err := rd.ready(ctx, 90*time.Second); err != nil {
				return nil, err
			}
		}
		l.useReplicas(e.baseURLs())
		two := &phase{name: "end-to-end, 2 replicas"}
		snap = mon.begin()
		counters = e.dbCounters(ctx, statements)
		l.run(ctx, two, e2eCfg)
		res = mon.end(snap)
		d, ok = l.drain(ctx, e, 5*time.Minute)
		pr := counted(two, phaseReport(two, res, d, ok), counters)
		rep.EndToEndReplicas = &pr
		if rep.EndToEnd.DeliveredPerS > 0 {
			rep.Ratios.TwoReplicasVsOne = round2(pr.DeliveredPerS / rep.EndToEnd.DeliveredPerS)
		}
	}

	if statements {
		rep.TopStatements = e.topStatements(ctx, 10)
	}
	rep.Verification = verify(ctx, e, true)
	sizeAfter := e.dbSize(ctx)
	msgs, _ := e.st.MessageCount(ctx)
	rep.DB = DBReport{SizeBeforeMB: mb(sizeBefore), SizeAfterMB: mb(sizeAfter), Messages: msgs}
	if msgs > 0 {
		rep.DB.BytesPerMessage = (sizeAfter - sizeBefore) / msgs
		rep.DB.TableBytesPerMessage = growthPerMessage(tablesBefore, e.tableSizes(ctx), msgs)
	}
	if rep.Pgbench.TPS > 0 {
		rep.Ratios.IntakeVsPgbench = round2(rep.Intake.WebhooksPerS / rep.Pgbench.TPS)
	}
	if rep.River.ContinuousJobsS > 0 {
		rep.Ratios.EndToEndVsRiver = round2(rep.EndToEnd.DeliveredPerS / rep.River.ContinuousJobsS)
	}
	rep.Targets = targets(rep)
	return rep, nil
}

func targets(r *Report) []Target {
	var ts []Target
	ts = append(ts, Target{
		Name: "intake throughput", Goal: "≥ 0.5 × pgbench single-row INSERT tps at the same concurrency",
		Measured: fmt.Sprintf("%.0f webhooks/s = %.2f × pgbench %.0f tps (%d clients)", r.Intake.WebhooksPerS, r.Ratios.IntakeVsPgbench, r.Pgbench.TPS, r.Pgbench.Clients),
		Met:      r.Ratios.IntakeVsPgbench >= 0.5,
	}, Target{
		Name: "intake latency", Goal: "p99 < 25 ms", Measured: fmt.Sprintf("p50 %.1f ms, p95 %.1f ms, p99 %.1f ms", r.Intake.Intake.P50, r.Intake.Intake.P95, r.Intake.Intake.P99),
		Met: r.Intake.Intake.Count > 0 && r.Intake.Intake.P99 < 25,
	}, Target{
		Name: "end-to-end throughput", Goal: "≥ 1,000 customer messages/s delivered to the helpdesk",
		Measured: fmt.Sprintf("%.0f/s delivered while %.0f/s were offered (%.2f × River's no-op %.0f jobs/s)", r.EndToEnd.DeliveredPerS, r.EndToEnd.MessagesPerS, r.Ratios.EndToEndVsRiver, r.River.ContinuousJobsS),
		Met:      r.EndToEnd.DeliveredPerS >= 1000,
	}, Target{
		// Every first message of a burst waits the settle window
		// (RELAYDESK_INBOUND_SETTLE, 1 s by default, which the bench keeps)
		// for WhatsApp's late webhooks: the goal is the window plus 250 ms.
		Name: "end-to-end latency", Goal: "p99 < settle window (1 s) + 250 ms webhook → helpdesk comment",
		Measured: fmt.Sprintf("p50 %.0f ms, p95 %.0f ms, p99 %.0f ms", r.EndToEnd.EndToEnd.P50, r.EndToEnd.EndToEnd.P95, r.EndToEnd.EndToEnd.P99),
		Met:      r.EndToEnd.EndToEnd.Count > 0 && r.EndToEnd.EndToEnd.P99 < 1250,
	}, Target{
		Name: "reply latency", Goal: "p99 < 250 ms agent reply webhook → WhatsApp",
		Measured: fmt.Sprintf("p50 %.0f ms, p95 %.0f ms, p99 %.0f ms", r.EndToEnd.Reply.P50, r.EndToEnd.Reply.P95, r.EndToEnd.Reply.P99),
		Met:      r.EndToEnd.Reply.Count > 0 && r.EndToEnd.Reply.P99 < 250,
	}, Target{
		Name: "memory under load", Goal: "relaydesk RSS < 150 MB", Measured: fmt.Sprintf("peak %.0f MB", max(r.EndToEnd.Resources.RSSPeakMB, r.Intake.Resources.RSSPeakMB)),
		Met: max(r.EndToEnd.Resources.RSSPeakMB, r.Intake.Resources.RSSPeakMB) < 150,
	})
	if v := r.Video; v != nil {
		ts = append(ts, Target{
			Name: "large media", Goal: fmt.Sprintf("%d MB video relayed with RSS growth < 20 MB", v.SizeMB),
			Measured: fmt.Sprintf("arrived=%v intact=%v in %.1f s, RSS %.0f → %.0f MB (+%.1f MB)", v.Arrived, v.Intact, v.Seconds, v.RSSBeforeMB, v.RSSPeakMB, v.GrowthMB),
			Met:      v.Arrived && v.Intact && v.GrowthMB < 20,
		})
	}
	ts = append(ts, Target{
		Name: "correctness", Goal: "every accepted message and reply delivered exactly once, in order",
		Measured: fmt.Sprintf("inbound %d/%d, missing %d, duplicated %d, out of order %d; replies %d/%d, missing %d, duplicated %d, out of order %d",
			r.Verification.InboundDelivered, r.Verification.InboundAccepted, r.Verification.InboundMissing, r.Verification.InboundDuplicated, r.Verification.InboundOutOfOrder,
			r.Verification.RepliesSent, r.Verification.RepliesAccepted, r.Verification.RepliesMissing, r.Verification.RepliesDuplicated, r.Verification.RepliesOutOfOrder),
		Met: r.Verification.OK,
	})
	return ts
}

func yesNo(b bool) string {
	if b {
		return "MET"
	}
	return "not met"
}

// print writes the report for people.
func (r *Report) print(w io.Writer) {
	fmt.Fprintf(w, "\nrelaydesk load report, %s\n", r.StartedAt.Format(time.RFC3339))
	m := r.Machine
	fmt.Fprintf(w, "machine: %d CPUs, %d MB RAM, Linux %s, %s, load average at start %s\n", m.CPUs, m.MemTotalMB, m.Kernel, m.Go, m.LoadAvg)
	fmt.Fprintf(w, "postgres: %s (private cluster: %v)\n", firstWords(m.Postgres, 2), m.Private)
	fmt.Fprintf(w, "settings: %v\n\n", r.Settings)
	fmt.Fprintf(w, "pgbench single-row INSERT: %.0f tps with %d clients (avg %.2f ms)%s\n", r.Pgbench.TPS, r.Pgbench.Clients, r.Pgbench.LatencyMS, errSuffix(r.Pgbench.Error))
	fmt.Fprintf(w, "River no-op jobs (%d workers, %g ms fetch cooldown): %.0f jobs/s continuous, %.0f jobs/s burning down %d%s\n", r.River.Workers, r.River.FetchCooldownMS, r.River.ContinuousJobsS, r.River.BurnDownJobsS, r.River.BurnDownJobs, errSuffix(r.River.Error))
	for _, p := range []struct {
		name string
		r    PhaseReport
	}{{"warm-up", r.WarmUp}, {"intake", r.Intake}, {"end-to-end", r.EndToEnd}, {"end-to-end, 2 replicas", deref(r.EndToEndReplicas)}} {
		if p.r.Seconds == 0 {
			continue
		}
		fmt.Fprintf(w, "\n%s (%.0f s): %d webhooks (%.0f/s), %d customer messages (%.0f/s), %d redeliveries, %d replies, %d statuses, %d failed attempts, %d rejected\n",
			p.name, p.r.Seconds, p.r.Webhooks, p.r.WebhooksPerS, p.r.Messages, p.r.MessagesPerS, p.r.Redelivered, p.r.Replies, p.r.Statuses, p.r.Errors, p.r.Rejected)
		fmt.Fprintf(w, "  webhook → 200:            %s\n", fmtSummary(p.r.Intake))
		fmt.Fprintf(w, "  webhook → helpdesk comment: %s; %.0f/s delivered during the window\n", fmtSummary(p.r.EndToEnd), p.r.DeliveredPerS)
		if p.r.Reply.Count > 0 {
			fmt.Fprintf(w, "  agent reply → WhatsApp:   %s\n", fmtSummary(p.r.Reply))
		}
		fmt.Fprintf(w, "  drained in %.1f s (%v); relaydesk RSS peak %.0f MB, end %.0f MB; CPU cores: relaydesk %.2f, postgres %.2f, load tool %.2f\n",
			p.r.DrainSeconds, p.r.Drained, p.r.Resources.RSSPeakMB, p.r.Resources.RSSEndMB, p.r.Resources.RelaydeskCores, p.r.Resources.PostgresCores, p.r.Resources.LoadToolCores)
		if db := p.r.Database; db != nil {
			fmt.Fprintf(w, "  database, load and drain: %d statements (%.1f per message or reply), %d commits (%.2f per webhook), %.1f MB WAL (%.0f bytes per message or reply)\n",
				db.Statements, db.StatementsPerMessage, db.Commits, db.CommitsPerWebhook, float64(db.WALBytes)/(1<<20), db.WALBytesPerMessage)
		}
	}
	if v := r.Video; v != nil {
		fmt.Fprintf(w, "\nvideo %d MB: arrived %v, intact %v, %.1f s, RSS %.0f → peak %.0f MB (+%.1f MB)%s\n", v.SizeMB, v.Arrived, v.Intact, v.Seconds, v.RSSBeforeMB, v.RSSPeakMB, v.GrowthMB, errSuffix(v.Error))
	}
	fmt.Fprintf(w, "\ndatabase: %.1f MB → %.1f MB, %d messages, %d bytes per message (all tables, jobs and webhook log included)\n",
		r.DB.SizeBeforeMB, r.DB.SizeAfterMB, r.DB.Messages, r.DB.BytesPerMessage)
	if len(r.DB.TableBytesPerMessage) > 0 {
		names := make([]string, 0, len(r.DB.TableBytesPerMessage))
		for n := range r.DB.TableBytesPerMessage {
			names = append(names, n)
		}
		sort.Slice(names, func(i, j int) bool { return r.DB.TableBytesPerMessage[names[i]] > r.DB.TableBytesPerMessage[names[j]] })
		var parts []string
		for _, n := range names {
			parts = append(parts, fmt.Sprintf("%s %d", n, r.DB.TableBytesPerMessage[n]))
		}
		fmt.Fprintf(w, "  bytes per message by table: %s\n", strings.Join(parts, ", "))
	}
	fmt.Fprintf(w, "ratios: intake = %.2f × pgbench; end-to-end = %.2f × River continuous", r.Ratios.IntakeVsPgbench, r.Ratios.EndToEndVsRiver)
	if r.EndToEndReplicas != nil {
		fmt.Fprintf(w, "; end-to-end with 2 replicas = %.2f × 1 replica (the processes share these cores: overhead, not speed-up)", r.Ratios.TwoReplicasVsOne)
	}
	fmt.Fprintln(w)
	if len(r.TopStatements) > 0 {
		fmt.Fprintf(w, "\nwhere PostgreSQL's execution time went (whole run, pg_stat_statements):\n")
		for _, s := range r.TopStatements {
			fmt.Fprintf(w, "  %4.0f%%  %7d calls  %6.2f ms each  %s\n", s.Share*100, s.Calls, s.MeanMS, s.Query)
		}
	}
	printVerification(w, r.Verification)
	fmt.Fprintf(w, "\ntargets:\n")
	for _, t := range r.Targets {
		fmt.Fprintf(w, "  [%s] %s: %s — %s\n", yesNo(t.Met), t.Name, t.Goal, t.Measured)
	}
}

func printVerification(w io.Writer, v Verification) {
	fmt.Fprintf(w, "\nverification: ok=%v\n", v.OK)
	fmt.Fprintf(w, "  inbound: %d accepted, %d delivered, %d missing, %d duplicated, %d conversations out of order, %d unconfirmed, %d tickets (%d conversations with more than one)\n",
		v.InboundAccepted, v.InboundDelivered, v.InboundMissing, v.InboundDuplicated, v.InboundOutOfOrder, v.InboundUnconfirmed, v.Tickets, v.ExtraTickets)
	fmt.Fprintf(w, "  media: %d checked, %d mismatched\n", v.MediaChecked, v.MediaMismatched)
	fmt.Fprintf(w, "  replies: %d accepted, %d sent, %d missing, %d duplicated, %d conversations out of order, %d without a read status\n",
		v.RepliesAccepted, v.RepliesSent, v.RepliesMissing, v.RepliesDuplicated, v.RepliesOutOfOrder, v.StatusNotRead)
	fmt.Fprintf(w, "  messages by state %v; failed without reason %d; held without reason %d\n", v.MessageStates, v.FailedWithoutReason, v.WaitingWithoutReason)
	fmt.Fprintf(w, "  jobs by state %v; jobs whose conversation still has work %d\n", v.JobStates, v.JobsWithWorkLeft)
	for _, p := range v.HelpdeskViolations {
		fmt.Fprintf(w, "  fake Zendesk violation: %s\n", p)
	}
	for _, p := range v.Problems {
		fmt.Fprintf(w, "  problem: %s\n", p)
	}
}

func fmtSummary(s Summary) string {
	if s.Count == 0 {
		return "(none)"
	}
	return fmt.Sprintf("n=%d p50 %.1f ms, p95 %.1f ms, p99 %.1f ms, max %.0f ms", s.Count, s.P50, s.P95, s.P99, s.Max)
}

func errSuffix(e string) string {
	if e == "" {
		return ""
	}
	return " (error: " + e + ")"
}

func firstWords(s string, n int) string {
	f := strings.Fields(s)
	if len(f) > n {
		f = f[:n]
	}
	return strings.Join(f, " ")
}

func deref(p *PhaseReport) PhaseReport {
	if p == nil {
		return PhaseReport{}
	}
	return *p
}
