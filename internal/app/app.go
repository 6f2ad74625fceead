// Package app wires relaydesk's components into the running service. It is
// the only package besides cmd/relaydesk that knows every other one.
package app

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/http/pprof"
	"os"
	"strings"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/riverqueue/river"

	"github.com/relaydesk/relaydesk/internal/apievents"
	"github.com/relaydesk/relaydesk/internal/bridge"
	"github.com/relaydesk/relaydesk/internal/config"
	"github.com/relaydesk/relaydesk/internal/declare"
	"github.com/relaydesk/relaydesk/internal/jobs"
	"github.com/relaydesk/relaydesk/internal/metrics"
	"github.com/relaydesk/relaydesk/internal/migrate"
	"github.com/relaydesk/relaydesk/internal/server"
	"github.com/relaydesk/relaydesk/internal/store"
)

// NewLogger builds the process logger from the configuration.
func NewLogger(level slog.Level, format string) *slog.Logger {
	opts := &slog.HandlerOptions{Level: level}
	if format == "text" {
		return slog.New(slog.NewTextHandler(os.Stderr, opts))
	}
	return slog.New(slog.NewJSONHandler(os.Stderr, opts))
}

// LoadFile reads the declarative file named by the configuration, if any.
func LoadFile(cfg *config.Config, getenv config.Getenv) (*config.File, error) {
	if cfg.ConfigFile == "" {
		return nil, nil
	}
	return config.LoadFile(cfg.ConfigFile, getenv, CheckKind)
}

// Serve runs the HTTP service and the River workers until ctx ends, then
// shuts down gracefully. When ln is nil it listens on cfg.Listen.
func Serve(ctx context.Context, cfg *config.Config, file *config.File, log *slog.Logger, ln net.Listener) error {
	keys, err := cfg.Keyring()
	if err != nil {
		return err
	}
	pool, err := store.OpenPool(ctx, cfg.DatabaseURL, cfg.DBMaxConns-cfg.ReplyDBConns)
	if err != nil {
		return err
	}
	defer pool.Close()
	// Agents' replies are sent on connections of their own: under a backlog
	// of customer messages every connection of the main pool is busy.
	replyPool := pool
	if cfg.ReplyDBConns > 0 {
		if replyPool, err = store.OpenPool(ctx, cfg.DatabaseURL, cfg.ReplyDBConns); err != nil {
			return err
		}
		defer replyPool.Close()
	}

	if err := prepareSchema(ctx, pool, cfg.AutoMigrate, log); err != nil {
		return err
	}
	st := store.New(pool, keys)
	replyStore := st
	if replyPool != pool {
		replyStore = store.New(replyPool, keys)
	}
	if file != nil {
		res, err := declare.Apply(ctx, st, file)
		if err != nil {
			return fmt.Errorf("apply %s: %w", file.Path, err)
		}
		log.Info("applied configuration file", "path", file.Path, "created", res.Created, "updated", res.Updated, "unchanged", res.Unchanged)
	}

	reg := metrics.NewRegistry()
	pools := []metrics.Pool{{Name: "main", Pool: pool}}
	if replyPool != pool {
		pools = append(pools, metrics.Pool{Name: "replies", Pool: replyPool})
	}
	metrics.RegisterPools(reg, pools...)
	metrics.RegisterJobs(reg, st)
	metrics.RegisterWebhooks(reg, st.WebhookGauges)
	metrics.RegisterBacklog(reg, st.Backlog)
	calls := metrics.NewCallMetrics(reg)

	factory := ConnectorFactory(st, cfg.BaseURL.String())
	br := bridge.New(bridge.Opts{Store: st, ReplyStore: replyStore, Logger: log.With("component", "bridge"),
		Connectors: factory, APIBaseURL: strings.TrimRight(cfg.BaseURL.String(), "/"),
		InboundSettle: &cfg.InboundSettle, CallTimeout: cfg.CallTimeout, ObserveCall: calls.Observe,
		IntakeWindow: &cfg.IntakeWindow, IntakeBatch: cfg.IntakeBatch, IntakeDeadline: cfg.IntakeDeadline})
	events := apievents.New(apievents.Opts{Store: st, Logger: log.With("component", "api_events")})
	periodic := []*river.PeriodicJob{jobs.SweepPeriodic(), jobs.SchedulePollsPeriodic(), jobs.APICleanupPeriodic(), jobs.TemplatesPeriodic()}
	if cfg.MessageRetention > 0 {
		periodic = append(periodic, jobs.RetentionPeriodic())
	}
	client, err := jobs.NewClient(jobs.Opts{
		Store: st, Logger: riverLogger(log, cfg.LogLevel), Registry: reg,
		MaxWorkers: cfg.Workers, ReplyWorkers: cfg.ReplyWorkers, FetchCooldown: cfg.FetchCooldown, FetchPollInterval: cfg.FetchPollInterval,
		WebhookRetention: cfg.WebhookRetention,
		RegisterWorkers: func(ws *river.Workers) {
			jobs.AddBridgeWorkers(br)(ws)
			jobs.AddAPIWorkers(st, events)(ws)
			if cfg.MessageRetention > 0 {
				river.AddWorker(ws, &jobs.RetentionWorker{Bridge: br, Retention: cfg.MessageRetention})
			}
		},
		Periodic: periodic,
	})
	if err != nil {
		return fmt.Errorf("river: %w", err)
	}
	br.SetJobs(client)

	srv := server.New(server.Opts{
		Logger: log, Store: st, Bridge: br, Registry: reg, TrustedProxies: cfg.TrustedProxies,
		WebhookMaxBytes: cfg.WebhookMaxBytes,
		TLS:             cfg.TLSCert != "" || cfg.BaseURL.Scheme == "https",
		Ready:           func(ctx context.Context) error { return ready(ctx, pool) },
		BaseURL:         cfg.BaseURL, River: client, Connectors: factory, AllowPrivateURLs: cfg.AllowPrivateURLs,
	})
	if err := srv.StartAdmin(ctx); err != nil {
		return err
	}

	if ln == nil {
		if ln, err = net.Listen("tcp", cfg.Listen); err != nil {
			return fmt.Errorf("listen on %s (RELAYDESK_LISTEN): %w", cfg.Listen, err)
		}
	}

	if cfg.PprofListen != "" {
		stopPprof, err := servePprof(cfg.PprofListen, log)
		if err != nil {
			return err
		}
		defer stopPprof()
	}

	// Jobs run on their own context: on shutdown they get the grace period
	// to finish instead of being cancelled with the signal.
	if err := client.Start(context.WithoutCancel(ctx)); err != nil {
		return fmt.Errorf("start river: %w", err)
	}
	scheme := "http"
	if cfg.TLSCert != "" {
		scheme = "https"
	}
	go provisionWebhooks(context.WithoutCancel(ctx), br, log)
	log.Info("relaydesk is serving", "listen", fmt.Sprintf("%s://%s", scheme, ln.Addr()), "base_url", cfg.BaseURL.String())

	httpErr := srv.Serve(ctx, ln, cfg.TLSCert, cfg.TLSKey, cfg.ShutdownTimeout)
	log.Info("shutting down: http stopped, stopping jobs")

	stopCtx, cancel := context.WithTimeout(context.Background(), cfg.ShutdownTimeout)
	defer cancel()
	jobErr := jobs.Stop(stopCtx, client, log)
	if err := errors.Join(httpErr, jobErr); err != nil {
		return err
	}
	log.Info("shutdown complete")
	return nil
}

// provisionWebhooks enqueues the webhook installs that the connections
// need (declared or changed since the last install, or a new base URL),
// without delaying start.
func provisionWebhooks(ctx context.Context, br *bridge.Bridge, log *slog.Logger) {
	ctx, cancel := context.WithTimeout(ctx, time.Minute)
	defer cancel()
	n, err := br.ProvisionWebhooks(ctx)
	if err != nil {
		log.Warn("could not queue the helpdesk webhook installs; they are queued again at the next start", "err", err)
		return
	}
	if n > 0 {
		log.Info("queued helpdesk webhook installs", "connections", n)
	}
}

// servePprof serves Go's profiling handlers on their own loopback listener
// (RELAYDESK_PPROF_LISTEN), apart from the public server.
func servePprof(addr string, log *slog.Logger) (stop func(), err error) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("listen on %s (RELAYDESK_PPROF_LISTEN): %w", addr, err)
	}
	mux := http.NewServeMux()
	mux.HandleFunc("/debug/pprof/", pprof.Index)
	mux.HandleFunc("/debug/pprof/cmdline", pprof.Cmdline)
	mux.HandleFunc("/debug/pprof/profile", pprof.Profile)
	mux.HandleFunc("/debug/pprof/symbol", pprof.Symbol)
	mux.HandleFunc("/debug/pprof/trace", pprof.Trace)
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	go func() { _ = srv.Serve(ln) }()
	log.Info("serving pprof", "listen", "http://"+ln.Addr().String()+"/debug/pprof/")
	return func() { _ = srv.Close() }, nil
}

// prepareSchema migrates when allowed, otherwise refuses an old schema.
func prepareSchema(ctx context.Context, pool *pgxpool.Pool, auto bool, log *slog.Logger) error {
	if auto {
		if err := migrate.Up(ctx, pool, log); err != nil {
			return fmt.Errorf("migrate: %w", err)
		}
		return nil
	}
	if _, err := migrate.Check(ctx, pool); err != nil {
		return err
	}
	return nil
}

func ready(ctx context.Context, pool *pgxpool.Pool) error {
	pctx, cancel := context.WithTimeout(ctx, 2*time.Second)
	defer cancel()
	if err := pool.Ping(pctx); err != nil {
		return fmt.Errorf("database unreachable: %w", err)
	}
	if _, err := migrate.Check(ctx, pool); err != nil {
		return err
	}
	return nil
}

// riverLogger quiets River's routine info lines (producer counts every few
// seconds) unless debug logging is on.
func riverLogger(log *slog.Logger, level slog.Level) *slog.Logger {
	min := slog.LevelWarn
	if level <= slog.LevelDebug {
		min = level
	}
	return slog.New(minLevel{log.Handler(), min}).With("component", "river")
}

type minLevel struct {
	slog.Handler
	min slog.Level
}

func (h minLevel) Enabled(ctx context.Context, l slog.Level) bool {
	return l >= h.min && h.Handler.Enabled(ctx, l)
}

func (h minLevel) WithAttrs(attrs []slog.Attr) slog.Handler {
	return minLevel{h.Handler.WithAttrs(attrs), h.min}
}

func (h minLevel) WithGroup(name string) slog.Handler {
	return minLevel{h.Handler.WithGroup(name), h.min}
}
