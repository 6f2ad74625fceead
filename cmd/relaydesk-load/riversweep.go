package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
	"time"
)

// SweepReport is the outcome of `relaydesk-load river-sweep`: River alone,
// with a no-op worker, burning down a queue filled beforehand, once per
// combination of MaxWorkers, FetchCooldown and pool size.
type SweepReport struct {
	StartedAt time.Time     `json:"started_at"`
	Jobs      int           `json:"jobs"`
	Runs      []RiverResult `json:"runs"`
	Best      RiverResult   `json:"best"`
}

func riverSweepCmd(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	var (
		adminURL, workers, cooldowns, pools, jsonPath string
		jobs                                          int
	)
	fs := flag.NewFlagSet("river-sweep", flag.ContinueOnError)
	fs.StringVar(&adminURL, "database-url", "", "maintenance URL of an existing PostgreSQL server (default: start a private cluster)")
	fs.StringVar(&workers, "workers", "50,200,1000", "MaxWorkers values, comma-separated")
	fs.StringVar(&cooldowns, "cooldowns", "100ms,20ms,5ms,1ms", "FetchCooldown values, comma-separated Go durations")
	fs.StringVar(&pools, "pools", "10,30", "connection pool sizes, comma-separated")
	fs.IntVar(&jobs, "jobs", 30000, "jobs burned down per run")
	fs.StringVar(&jsonPath, "json", "", "also write the report as JSON to this file")
	if err := parse(fs, args, stderr); err != nil {
		return err
	}
	ws, err := intList(workers)
	if err != nil {
		return fmt.Errorf("-workers: %w", err)
	}
	ps, err := intList(pools)
	if err != nil {
		return fmt.Errorf("-pools: %w", err)
	}
	var cs []time.Duration
	for _, f := range strings.Split(cooldowns, ",") {
		d, err := time.ParseDuration(strings.TrimSpace(f))
		if err != nil || d < time.Millisecond {
			return fmt.Errorf("-cooldowns: %q is not a duration of at least 1ms", f)
		}
		cs = append(cs, d)
	}
	log := newLogger(stderr)
	if adminURL == "" {
		dir, err := os.MkdirTemp("", "relaydesk-river-sweep-")
		if err != nil {
			return err
		}
		defer os.RemoveAll(dir)
		log.Info("starting a private PostgreSQL cluster", "dir", dir)
		c, err := startCluster(ctx, dir)
		if err != nil {
			return err
		}
		defer c.Stop()
		adminURL = c.URL()
	}
	rep := &SweepReport{StartedAt: time.Now().UTC(), Jobs: jobs}
	for _, p := range ps {
		for _, w := range ws {
			for _, c := range cs {
				log.Info("river-sweep", "workers", w, "fetch_cooldown", c, "pool", p)
				r := runRiverBench(ctx, adminURL, riverCfg{workers: w, fetchCooldown: c, poolConns: int32(p)}, jobs, 0)
				rep.Runs = append(rep.Runs, r)
				if r.Error == "" && r.BurnDownJobsS > rep.Best.BurnDownJobsS {
					rep.Best = r
				}
				if ctx.Err() != nil {
					return ctx.Err()
				}
			}
		}
	}
	return present(stdout, jsonPath, rep)
}

func intList(s string) ([]int, error) {
	var out []int
	for _, f := range strings.Split(s, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(f))
		if err != nil || n < 1 {
			return nil, fmt.Errorf("%q is not a positive integer", f)
		}
		out = append(out, n)
	}
	return out, nil
}

func (r *SweepReport) print(w io.Writer) {
	fmt.Fprintf(w, "\nRiver burn-down of %d no-op jobs, %s\n\n", r.Jobs, r.StartedAt.Format(time.RFC3339))
	fmt.Fprintln(w, "| pool | MaxWorkers | FetchCooldown | jobs/s |")
	fmt.Fprintln(w, "| ---: | ---: | ---: | ---: |")
	for _, x := range r.Runs {
		rate := fmt.Sprintf("%.0f", x.BurnDownJobsS)
		if x.Error != "" {
			rate = "error: " + x.Error
		}
		fmt.Fprintf(w, "| %d | %d | %g ms | %s |\n", x.PoolConns, x.Workers, x.FetchCooldownMS, rate)
	}
	fmt.Fprintf(w, "\nbest: pool %d, %d workers, %g ms cooldown: %.0f jobs/s\n", r.Best.PoolConns, r.Best.Workers, r.Best.FetchCooldownMS, r.Best.BurnDownJobsS)
}
