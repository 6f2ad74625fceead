// Command relaydesk-load proves relaydesk under load and faults, on
// loopback only.
//
//	relaydesk-load bench [flags]   throughput, latency, memory and references (pgbench, River); a report
//	relaydesk-load soak [flags]    steady load while relaydesk is killed, PostgreSQL restarted and the peers fail
//	relaydesk-load demo [flags]    relaydesk with a fake WhatsApp and a fake helpdesk you can look at
//
// Each command starts its own peers: a private PostgreSQL cluster (initdb
// under a temporary directory, its own port; or -database-url), the fake
// Graph API and the fake Zendesk, and relaydesk itself as a child process
// (built from ./cmd/relaydesk, or -relaydesk-bin) configured through its
// environment and a generated RELAYDESK_CONFIG. Every loop is bounded in
// count and time. See docs/performance.md.
package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"os/signal"
	"syscall"
	"time"
)

const usage = `usage: relaydesk-load <bench|soak|outage|demo> [flags]

  bench   measure intake and end-to-end throughput and latency, memory, a large video,
          against pgbench and River's own throughput; print a report (-json to save it)
  soak    steady load while relaydesk is killed (-9) and restarted, PostgreSQL restarted,
          Zendesk and Graph fail for periods; then verify nothing was lost, duplicated or reordered
  outage  the helpdesk down (500s) while 1,000 messages wait, then back: calls while down,
          time to the last delivery; then ten 500s on one conversation
  river-sweep  River alone with a no-op worker over a grid of MaxWorkers, FetchCooldown and pool
          sizes: the burn-down rate of each, to choose settings and the bench's River reference
  demo    relaydesk with a fake WhatsApp and a fake Zendesk with a web view, a few messages, until Ctrl-C

Run "relaydesk-load <command> -h" for the flags.
`

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

func newLogger(w io.Writer) *slog.Logger {
	return slog.New(slog.NewTextHandler(w, &slog.HandlerOptions{Level: slog.LevelInfo}))
}

func run(args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		fmt.Fprint(stderr, usage)
		return 2
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	var err error
	switch args[0] {
	case "bench":
		err = benchCmd(ctx, args[1:], stdout, stderr)
	case "soak":
		err = soakCmd(ctx, args[1:], stdout, stderr)
	case "demo":
		err = demoCmd(ctx, args[1:], stdout, stderr)
	case "outage":
		err = outageCmd(ctx, args[1:], stdout, stderr)
	case "river-sweep":
		err = riverSweepCmd(ctx, args[1:], stdout, stderr)
	case "serve-relaydesk": // the child of -relaydesk-bin self
		err = serveRelaydesk(ctx)
	case "help", "-h", "-help", "--help":
		fmt.Fprint(stdout, usage)
		return 0
	default:
		fmt.Fprintf(stderr, "relaydesk-load: unknown command %q\n\n%s", args[0], usage)
		return 2
	}
	var failed *failedError
	switch {
	case err == nil:
		return 0
	case errors.Is(err, flag.ErrHelp):
		return 0
	case errors.As(err, &failed):
		fmt.Fprintln(stderr, "relaydesk-load:", err)
		return 1
	default:
		fmt.Fprintln(stderr, "relaydesk-load:", err)
		return 1
	}
}

// failedError is a run that completed but whose checks failed.
type failedError struct{ msg string }

func (e *failedError) Error() string { return e.msg }

// commonFlags are shared by every command.
func commonFlags(fs *flag.FlagSet, o *envOpts, workers int) {
	fs.StringVar(&o.databaseURL, "database-url", "", "maintenance URL of an existing PostgreSQL server to create scratch databases on (default: start a private cluster)")
	fs.StringVar(&o.relaydeskBin, "relaydesk-bin", "", "relaydesk binary to run (default: go build ./cmd/relaydesk; \"self\": this binary serves relaydesk in-process, same code path as relaydesk serve)")
	fs.IntVar(&o.workers, "workers", workers, "RELAYDESK_WORKERS for relaydesk")
	fs.IntVar(&o.dbConns, "db-conns", 20, "RELAYDESK_DB_MAX_CONNS for relaydesk")
	fs.BoolVar(&o.keep, "keep", false, "keep the temporary directory, database and cluster for inspection")
	fs.StringVar(&o.pprofListen, "pprof", "", "RELAYDESK_PPROF_LISTEN for relaydesk, e.g. 127.0.0.1:6060")
}

func parse(fs *flag.FlagSet, args []string, stderr io.Writer) error {
	fs.SetOutput(stderr)
	return fs.Parse(args)
}

func benchCmd(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	var o benchOpts
	fs := flag.NewFlagSet("bench", flag.ContinueOnError)
	// River fetches at most MaxWorkers jobs per 100 ms (its FetchCooldown),
	// so 50 workers cap a process near 500 jobs/s: 1,000 messages/s needs more.
	commonFlags(fs, &o.env, 200)
	fs.IntVar(&o.env.conversations, "conversations", 2000, "number of customers (conversations)")
	fs.IntVar(&o.concurrency, "concurrency", 16, "senders in the intake phase, and pgbench clients")
	fs.IntVar(&o.e2eConcurrency, "e2e-concurrency", 64, "senders in the end-to-end phase")
	fs.Float64Var(&o.rate, "rate", 1000, "customer messages per second offered in the end-to-end phase")
	fs.DurationVar(&o.duration, "duration", 30*time.Second, "length of each load phase")
	fs.DurationVar(&o.refDuration, "ref-duration", 20*time.Second, "length of the pgbench and River runs")
	fs.IntVar(&o.videoMB, "video-mb", 100, "size of the large video relayed (0 skips it)")
	fs.IntVar(&o.riverJobs, "river-jobs", 50000, "jobs in River's burn-down run")
	fs.IntVar(&o.riverWorkers, "river-workers", 1000, "River reference: MaxWorkers (the best found by river-sweep on the 2-core machine)")
	fs.DurationVar(&o.riverCooldown, "river-cooldown", 5*time.Millisecond, "River reference: FetchCooldown (the best found by river-sweep)")
	fs.Float64Var(&o.replyRatio, "reply-ratio", 0.1, "share of actions that are agent replies in the end-to-end phase")
	fs.StringVar(&o.jsonPath, "json", "", "also write the report as JSON to this file")
	fs.StringVar(&o.profile, "cpuprofile", "", "with -pprof: save relaydesk's CPU profile of one phase to this file")
	fs.StringVar(&o.profilePhase, "cpuprofile-phase", "e2e", "the phase -cpuprofile covers: intake or e2e")
	fs.IntVar(&o.replicas, "replicas", 2, "2: run the end-to-end phase again with two relaydesk processes on the one database (1: skip it)")
	if err := parse(fs, args, stderr); err != nil {
		return err
	}
	if o.replicas < 1 || o.replicas > 2 {
		return fmt.Errorf("-replicas: 1 or 2")
	}
	o.env.replicas = o.replicas
	o.env.dbName = "relaydesk_load"
	rep, err := runBench(ctx, o, stderr)
	if err != nil {
		return err
	}
	if err := present(stdout, o.jsonPath, rep); err != nil {
		return err
	}
	if !rep.Verification.OK {
		return &failedError{"the correctness checks failed (see above)"}
	}
	return nil
}

// report is a command's result: printed, and saved as JSON on request.
type report interface{ print(w io.Writer) }

// present prints a report and, when jsonPath is set, saves it there.
func present(stdout io.Writer, jsonPath string, rep report) error {
	rep.print(stdout)
	if jsonPath == "" {
		return nil
	}
	if err := saveJSON(jsonPath, rep); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "\nwrote %s\n", jsonPath)
	return nil
}

// saveJSON writes a report as indented JSON.
func saveJSON(path string, rep any) error {
	b, err := json.MarshalIndent(rep, "", "  ")
	if err != nil {
		return fmt.Errorf("encode report: %w", err)
	}
	return os.WriteFile(path, b, 0o644)
}

// startProfile fetches relaydesk's CPU profile for d in the background.
func startProfile(ctx context.Context, addr, path string, d time.Duration) func() error {
	done := make(chan error, 1)
	go func() {
		url := fmt.Sprintf("http://%s/debug/pprof/profile?seconds=%d", addr, int(d/time.Second))
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			done <- err
			return
		}
		defer resp.Body.Close()
		f, err := os.Create(path)
		if err != nil {
			done <- err
			return
		}
		_, err = io.Copy(f, resp.Body)
		if cerr := f.Close(); err == nil {
			err = cerr
		}
		done <- err
	}()
	return func() error { return <-done }
}
