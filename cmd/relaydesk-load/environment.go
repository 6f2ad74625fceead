package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/relaydesk/relaydesk/connectors/zendesk"
	"github.com/relaydesk/relaydesk/connectors/zendesk/zendesktest"
	"github.com/relaydesk/relaydesk/internal/secret"
	"github.com/relaydesk/relaydesk/internal/store"
	"github.com/relaydesk/relaydesk/internal/whatsapp/whatsapptest"
)

// envOpts says how to build the environment.
type envOpts struct {
	databaseURL   string // an existing server's maintenance URL; "" starts a private cluster
	dbName        string
	relaydeskBin  string // "" builds ./cmd/relaydesk
	childArgs     []string
	workers       int
	dbConns       int
	pprofListen   string
	extraEnv      []string
	keep          bool
	conversations int
	faults        bool // put the Zendesk fault switch in front of the fake
	appSecret     string
	logLevel      string
	listen        string // relaydesk's host:port; "" picks a free port
	replicas      int    // relaydesk processes on the one database (0 or 1: one)
	demo          bool   // keep uploaded files and sent messages (the demo's web view shows them)
}

// environment is relaydesk with its peers on loopback: PostgreSQL, the fake
// Graph API and the fake Zendesk.
type environment struct {
	opts     envOpts
	log      *slog.Logger
	dir      string
	cluster  *cluster
	adminURL string
	dbURL    string
	pool     *pgxpool.Pool
	st       *store.Store // relaydesk's database, read to check its state
	graph    *whatsapptest.Server
	zd       *zendesktest.Fake
	faults   *faultSwitch
	rd       *relaydesk   // the first replica
	rds      []*relaydesk // every replica, rd first
	t        *tracker
	publicID string
	cancel   context.CancelFunc
}

const loadPhoneID = whatsapptest.FixturePhoneNumberID

func setup(ctx context.Context, log *slog.Logger, o envOpts) (*environment, error) {
	e := &environment{opts: o, log: log}
	if o.appSecret == "" {
		o.appSecret = "load-app-secret"
		e.opts.appSecret = o.appSecret
	}
	var err error
	if e.dir, err = os.MkdirTemp("", "relaydesk-load-"); err != nil {
		return nil, err
	}
	ok := false
	defer func() {
		if !ok {
			e.close()
		}
	}()

	// PostgreSQL.
	if o.databaseURL != "" {
		e.adminURL = o.databaseURL
	} else {
		log.Info("starting a private PostgreSQL cluster", "dir", e.dir)
		if e.cluster, err = startCluster(ctx, e.dir); err != nil {
			return nil, err
		}
		e.adminURL = e.cluster.URL()
	}
	if e.dbURL, err = recreateDatabase(ctx, e.adminURL, o.dbName); err != nil {
		return nil, err
	}

	// The fakes.
	e.t = newTracker(o.conversations)
	e.graph, err = whatsapptest.NewServer(whatsapptest.Options{
		SkipValidation: true, DisableRecording: !o.demo, DiscardUploads: !o.demo, OnSent: e.t.onSent,
	})
	if err != nil {
		return nil, err
	}
	// The 100 MB video is over Zendesk's 50 MB attachment limit: the fake's
	// limit is raised to measure relaydesk's streaming, not Zendesk's rule.
	zo := zendesktest.Options{DiscardUploads: !o.demo, MaxUploadBytes: 128 << 20, OnComment: e.t.onComment}
	if o.faults {
		e.faults = newFaultSwitch()
		zo.Wrap = e.faults.wrap
	}
	if e.zd, err = zendesktest.NewServer(zo); err != nil {
		return nil, err
	}
	e.t.agentID = e.zd.AgentID()

	// relaydesk.
	cfgPath := filepath.Join(e.dir, "relaydesk.json")
	if err := e.writeConfig(cfgPath); err != nil {
		return nil, err
	}
	bin := o.relaydeskBin
	if bin == "self" {
		if bin, o.childArgs, err = selfChild(); err != nil {
			return nil, err
		}
	}
	if bin == "" {
		if bin, err = buildRelaydesk(ctx, e.dir, log); err != nil {
			return nil, err
		}
	}
	// Every replica shares the database, the configuration and the secret
	// key, as replicas behind a load balancer do; each listens on its own
	// port. The first one migrates and applies the configuration file
	// before the others start.
	key := secret.GenerateKey()
	args := o.childArgs
	if len(args) == 0 {
		args = []string{"serve"}
	}
	for i := range max(1, o.replicas) {
		listen := o.listen
		if listen == "" || i > 0 {
			port, err := freePort()
			if err != nil {
				return nil, err
			}
			listen = "127.0.0.1:" + strconv.Itoa(port)
		}
		base := "http://" + listen
		env := append(os.Environ(),
			"DATABASE_URL="+e.dbURL,
			"RELAYDESK_LISTEN="+listen,
			"RELAYDESK_BASE_URL="+base,
			"RELAYDESK_SECRET_KEY="+key,
			"RELAYDESK_CONFIG="+cfgPath,
			"RELAYDESK_AUTO_MIGRATE=true",
			"RELAYDESK_ALLOW_PRIVATE_URLS=true", // the fakes of Graph and Zendesk listen on 127.0.0.1
			"RELAYDESK_LOG_FORMAT=text",
			"RELAYDESK_LOG_LEVEL="+cmpOr(o.logLevel, "warn"),
			"RELAYDESK_WORKERS="+strconv.Itoa(o.workers),
			"RELAYDESK_DB_MAX_CONNS="+strconv.Itoa(o.dbConns),
		)
		if o.pprofListen != "" && i == 0 {
			env = append(env, "RELAYDESK_PPROF_LISTEN="+o.pprofListen)
		}
		env = append(env, o.extraEnv...)
		logName := "relaydesk.log"
		if i > 0 {
			logName = fmt.Sprintf("relaydesk-%d.log", i+1)
		}
		rd := &relaydesk{bin: bin, args: args, env: env, logPath: filepath.Join(e.dir, logName), baseURL: base}
		e.rds = append(e.rds, rd)
		if err := rd.start(); err != nil {
			return nil, err
		}
		if err := rd.ready(ctx, 90*time.Second); err != nil {
			return nil, err
		}
	}
	e.rd = e.rds[0]

	if e.pool, err = pgxpool.New(ctx, e.dbURL); err != nil {
		return nil, err
	}
	e.st = store.New(e.pool, nil)
	conn, err := e.st.ConnectionByName(ctx, "zendesk-load")
	if err != nil {
		return nil, fmt.Errorf("read the helpdesk connection's public id: %w", err)
	}
	e.publicID = conn.PublicID
	bg, cancel := context.WithCancel(context.Background())
	e.cancel = cancel
	go e.t.refreshKnown(bg, e.st)
	ok = true
	return e, nil
}

func cmpOr(a, b string) string {
	if a != "" {
		return a
	}
	return b
}

// writeConfig writes RELAYDESK_CONFIG (JSON is valid YAML) pointing the
// WhatsApp number at the fake Graph and the helpdesk at the fake Zendesk.
func (e *environment) writeConfig(path string) error {
	zc := e.zd.Config()
	// The address is given once, as base_url (the fake): the subdomain
	// would name another.
	settings := maps.Clone(zc.Settings)
	delete(settings, zendesk.SettingSubdomain)
	cfg := map[string]any{
		"whatsapp": []map[string]any{{
			"name": "load", "phone_number_id": loadPhoneID, "waba_id": whatsapptest.FixtureWABAID,
			"display_phone_number": whatsapptest.FixtureDisplayPhoneNumber, "access_token": e.graph.AccessToken(),
			"app_secret": e.opts.appSecret, "verify_token": "load-verify", "graph_url": e.graph.URL(),
			"graph_version": e.graph.Version(), "send_rate": 1000,
		}},
		"helpdesks": []map[string]any{{
			"name": "zendesk-load", "kind": "zendesk", "base_url": zc.BaseURL, "settings": settings,
			"credentials": zc.Credentials, "webhook_secret": string(e.zd.WebhookSecret()),
		}},
		"routes": []map[string]any{{"whatsapp": "load", "helpdesk": "zendesk-load", "tags": []string{"whatsapp"}}},
	}
	b, err := json.MarshalIndent(cfg, "", "  ")
	if err != nil {
		return err
	}
	return os.WriteFile(path, b, 0o600)
}

// buildRelaydesk compiles ./cmd/relaydesk of the module around the working
// directory.
func buildRelaydesk(ctx context.Context, dir string, log *slog.Logger) (string, error) {
	root, err := moduleRoot()
	if err != nil {
		return "", err
	}
	out := filepath.Join(dir, "relaydesk")
	log.Info("building relaydesk", "module", root)
	cmd := exec.CommandContext(ctx, "go", "build", "-trimpath", "-o", out, "./cmd/relaydesk")
	cmd.Dir = root
	if b, err := cmd.CombinedOutput(); err != nil {
		return "", fmt.Errorf("go build ./cmd/relaydesk: %v: %s", err, b)
	}
	return out, nil
}

func moduleRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", errors.New("no go.mod above the working directory: pass -relaydesk-bin")
		}
		dir = parent
	}
}

// loader returns a loader for this environment.
func (e *environment) loader() *loader {
	t := http.DefaultTransport.(*http.Transport).Clone()
	t.MaxIdleConnsPerHost = 512
	t.MaxConnsPerHost = 0
	l := &loader{
		t: e.t, log: e.log, hc: &http.Client{Transport: t, Timeout: 15 * time.Second},
		publicID: e.publicID, appSecret: []byte(e.opts.appSecret), pnid: loadPhoneID, zd: e.zd, retryFor: 2 * time.Minute,
	}
	l.useReplicas(e.baseURLs())
	return l
}

// baseURLs returns every replica's address.
func (e *environment) baseURLs() []string {
	urls := make([]string, len(e.rds))
	for i, rd := range e.rds {
		urls[i] = rd.baseURL
	}
	return urls
}

// dbSize returns pg_database_size of relaydesk's database.
func (e *environment) dbSize(ctx context.Context) int64 {
	n, _ := e.st.DatabaseSize(ctx)
	return n
}

func (e *environment) close() {
	if e.cancel != nil {
		e.cancel()
	}
	for _, rd := range e.rds {
		rd.stop(40 * time.Second)
	}
	if e.pool != nil {
		e.pool.Close()
	}
	if e.graph != nil {
		e.graph.Close()
	}
	if e.zd != nil {
		e.zd.Close()
	}
	if e.opts.keep {
		e.log.Info("kept the environment", "dir", e.dir, "database", redactURL(e.dbURL))
		return
	}
	if e.cluster != nil {
		e.cluster.Stop()
	} else if e.adminURL != "" {
		dropDatabase(e.adminURL, e.opts.dbName)
	}
	if e.dir != "" {
		_ = os.RemoveAll(e.dir)
	}
}
