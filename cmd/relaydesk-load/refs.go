package main

import (
	"cmp"
	"context"
	"fmt"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/riverqueue/river"
	"github.com/riverqueue/river/riverdriver/riverpgxv5"
	"github.com/riverqueue/river/rivermigrate"

	"github.com/relaydesk/relaydesk/internal/store"
)

// PgbenchResult is the reference rate of single-row INSERT transactions.
type PgbenchResult struct {
	Clients   int     `json:"clients"`
	Seconds   int     `json:"seconds"`
	TPS       float64 `json:"tps"`
	LatencyMS float64 `json:"latency_avg_ms"`
	Error     string  `json:"error,omitempty"`
}

var (
	tpsRe = regexp.MustCompile(`tps = ([0-9.]+) \(without initial connection time\)`)
	latRe = regexp.MustCompile(`latency average = ([0-9.]+) ms`)
)

func findPgbench() string {
	if p, err := exec.LookPath("pgbench"); err == nil {
		return p
	}
	if d, err := pgBindir(); err == nil {
		if _, err := os.Stat(filepath.Join(d, "pgbench")); err == nil {
			return filepath.Join(d, "pgbench")
		}
	}
	return ""
}

// runPgbench runs pgbench with one single-row INSERT per transaction
// against a scratch table, with the given client count.
func runPgbench(ctx context.Context, adminURL, dir string, clients int, d time.Duration) PgbenchResult {
	res := PgbenchResult{Clients: clients, Seconds: int(d / time.Second)}
	bin := findPgbench()
	if bin == "" {
		res.Error = "pgbench not found (apt-get install -y postgresql-client)"
		return res
	}
	dbURL, err := recreateDatabase(ctx, adminURL, "relaydesk_load_pgbench")
	if err != nil {
		res.Error = err.Error()
		return res
	}
	defer dropDatabase(adminURL, "relaydesk_load_pgbench")
	conn, err := pgx.Connect(ctx, dbURL)
	if err != nil {
		res.Error = err.Error()
		return res
	}
	_, err = conn.Exec(ctx, `CREATE TABLE insert_bench (id bigserial PRIMARY KEY, body text NOT NULL, created_at timestamptz NOT NULL DEFAULT now())`)
	conn.Close(ctx)
	if err != nil {
		res.Error = err.Error()
		return res
	}
	script := filepath.Join(dir, "insert.sql")
	if err := os.WriteFile(script, []byte("INSERT INTO insert_bench (body) VALUES ('Hello, my order has not arrived yet');\n"), 0o644); err != nil {
		res.Error = err.Error()
		return res
	}
	cmd := exec.CommandContext(ctx, bin, "-n", "-T", strconv.Itoa(res.Seconds), "-c", strconv.Itoa(clients),
		"-j", strconv.Itoa(min(clients, 4)), "-f", script, dbURL)
	out, err := cmd.CombinedOutput()
	if err != nil {
		res.Error = fmt.Sprintf("%v: %s", err, out)
		return res
	}
	if m := tpsRe.FindSubmatch(out); m != nil {
		res.TPS, _ = strconv.ParseFloat(string(m[1]), 64)
	}
	if m := latRe.FindSubmatch(out); m != nil {
		res.LatencyMS, _ = strconv.ParseFloat(string(m[1]), 64)
	}
	return res
}

// RiverResult is River's own throughput with no-op jobs: the ceiling for
// any job-based work on this machine and database.
type RiverResult struct {
	Workers         int     `json:"workers"`
	FetchCooldownMS float64 `json:"fetch_cooldown_ms"`
	PoolConns       int32   `json:"pool_conns"`
	ContinuousJobsS float64 `json:"continuous_jobs_per_s"` // inserting and working at once
	BurnDownJobsS   float64 `json:"burn_down_jobs_per_s"`  // working a queue filled beforehand
	BurnDownJobs    int     `json:"burn_down_jobs"`
	Error           string  `json:"error,omitempty"`
}

type noopArgs struct {
	N int `json:"n"`
}

func (noopArgs) Kind() string { return "noop" }

type noopWorker struct {
	river.WorkerDefaults[noopArgs]
	done *atomic.Int64
}

func (w *noopWorker) Work(context.Context, *river.Job[noopArgs]) error {
	w.done.Add(1)
	return nil
}

// riverCfg is one River configuration measured by runRiverBench.
type riverCfg struct {
	workers       int
	fetchCooldown time.Duration // 0: River's default, 100 ms
	poolConns     int32
}

// runRiverBench measures River with a no-op worker in a scratch database:
// continuous insert-and-work for d (skipped when d is 0), then a burn-down
// of n queued jobs.
func runRiverBench(ctx context.Context, adminURL string, rc riverCfg, n int, d time.Duration) RiverResult {
	rc.fetchCooldown = cmp.Or(rc.fetchCooldown, river.FetchCooldownDefault)
	rc.poolConns = cmp.Or(rc.poolConns, 20)
	workers := rc.workers
	res := RiverResult{Workers: workers, BurnDownJobs: n, FetchCooldownMS: float64(rc.fetchCooldown) / float64(time.Millisecond), PoolConns: rc.poolConns}
	fail := func(err error) RiverResult { res.Error = err.Error(); return res }
	dbURL, err := recreateDatabase(ctx, adminURL, "relaydesk_load_river")
	if err != nil {
		return fail(err)
	}
	defer dropDatabase(adminURL, "relaydesk_load_river")
	cfg, err := pgxpool.ParseConfig(dbURL)
	if err != nil {
		return fail(err)
	}
	cfg.MaxConns = rc.poolConns
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return fail(err)
	}
	defer pool.Close()
	// The scratch database holds River's tables only; the store's job
	// queries work on them all the same.
	st := store.New(pool, nil)
	migrator, err := rivermigrate.New(riverpgxv5.New(pool), nil)
	if err != nil {
		return fail(err)
	}
	if _, err := migrator.Migrate(ctx, rivermigrate.DirectionUp, nil); err != nil {
		return fail(err)
	}
	var done atomic.Int64
	ws := river.NewWorkers()
	river.AddWorker(ws, &noopWorker{done: &done})
	newClient := func() (*river.Client[pgx.Tx], error) {
		return river.NewClient(riverpgxv5.New(pool), &river.Config{
			Logger:            slog.New(slog.DiscardHandler),
			Queues:            map[string]river.QueueConfig{river.QueueDefault: {MaxWorkers: workers}},
			Workers:           ws,
			FetchCooldown:     rc.fetchCooldown,
			FetchPollInterval: max(time.Second, rc.fetchCooldown),
		})
	}
	client, err := newClient()
	if err != nil {
		return fail(err)
	}

	if d > 0 {
		if err := riverContinuous(ctx, client, st, &done, d, &res); err != nil {
			return fail(err)
		}
	}

	// Burn-down: fill the queue, then work it.
	if err := st.DeleteAllJobs(ctx); err != nil {
		return fail(err)
	}
	for i := 0; i < n; i += 1000 {
		batch := make([]river.InsertManyParams, min(1000, n-i))
		for j := range batch {
			batch[j] = river.InsertManyParams{Args: noopArgs{N: i + j}}
		}
		if _, err := client.InsertManyFast(ctx, batch); err != nil {
			return fail(err)
		}
	}
	done.Store(0)
	client2, err := newClient()
	if err != nil {
		return fail(err)
	}
	start := time.Now()
	if err := client2.Start(ctx); err != nil {
		return fail(err)
	}
	deadline := time.Now().Add(5 * time.Minute)
	for done.Load() < int64(n) && time.Now().Before(deadline) && ctx.Err() == nil {
		time.Sleep(5 * time.Millisecond)
	}
	res.BurnDownJobsS = float64(done.Load()) / time.Since(start).Seconds()
	sctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	_ = client2.Stop(sctx)
	cancel()
	return res
}

// riverContinuous keeps the queue fed from two inserters while the client
// works it, for d, and records the rate.
func riverContinuous(ctx context.Context, client *river.Client[pgx.Tx], st *store.Store, done *atomic.Int64, d time.Duration, res *RiverResult) error {
	if err := client.Start(ctx); err != nil {
		return err
	}
	ictx, stop := context.WithTimeout(ctx, d)
	var wg sync.WaitGroup
	for range 2 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			batch := make([]river.InsertManyParams, 100)
			for i := range batch {
				batch[i] = river.InsertManyParams{Args: noopArgs{N: i}}
			}
			for ictx.Err() == nil {
				// Keep a bounded backlog: insert only while the queue is short.
				if avail, _ := st.AvailableJobs(ictx); avail > 5000 {
					time.Sleep(5 * time.Millisecond)
					continue
				}
				_, _ = client.InsertMany(ictx, batch)
			}
		}()
	}
	start, before := time.Now(), done.Load()
	<-ictx.Done()
	res.ContinuousJobsS = float64(done.Load()-before) / time.Since(start).Seconds()
	stop()
	wg.Wait()
	sctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	_ = client.Stop(sctx)
	cancel()
	return nil
}
