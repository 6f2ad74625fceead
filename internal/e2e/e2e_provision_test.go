package e2e

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/riverqueue/river"
	"github.com/stretchr/testify/require"

	"github.com/relaydesk/relaydesk/connectors"
	"github.com/relaydesk/relaydesk/connectors/chatwoot/chatwoottest"
	"github.com/relaydesk/relaydesk/connectors/connectortest"
	"github.com/relaydesk/relaydesk/connectors/zammad/zammadtest"
	"github.com/relaydesk/relaydesk/connectors/zendesk/zendesktest"
	"github.com/relaydesk/relaydesk/internal/app"
	"github.com/relaydesk/relaydesk/internal/bridge"
	"github.com/relaydesk/relaydesk/internal/config"
	"github.com/relaydesk/relaydesk/internal/declare"
	"github.com/relaydesk/relaydesk/internal/jobs"
	"github.com/relaydesk/relaydesk/internal/secret"
	"github.com/relaydesk/relaydesk/internal/store"
	"github.com/relaydesk/relaydesk/internal/testdb"
	"github.com/relaydesk/relaydesk/internal/whatsapp/whatsapptest"
)

// served is relaydesk run by app.Serve, configured by the environment like
// a deployment, with every production default.
type served struct {
	t    *testing.T
	base string
	stop func() error
}

// serve starts relaydesk on dbName with file; env adds variables.
func serve(t *testing.T, dbName string, key string, file *config.File, env map[string]string) *served {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	base := "http://" + ln.Addr().String()
	vars := map[string]string{"DATABASE_URL": testdb.URLFor(dbName), "RELAYDESK_SECRET_KEY": key,
		"RELAYDESK_BASE_URL": base, "RELAYDESK_LISTEN": ln.Addr().String()}
	for k, v := range env {
		vars[k] = v
	}
	cfg, err := config.Load(func(k string) string { return vars[k] })
	require.NoError(t, err)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- app.Serve(ctx, cfg, file, slog.New(slog.DiscardHandler), ln) }()
	s := &served{t: t, base: base, stop: func() error { cancel(); return <-done }}
	require.Eventually(t, func() bool { return s.get("/healthz") != "" }, 20*time.Second, 20*time.Millisecond)
	return s
}

func (s *served) get(path string) string {
	resp, err := http.Get(s.base + path)
	if err != nil {
		return ""
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return string(b)
}

// A Zendesk connection declared in the file without webhook_secret gets its
// webhook installed after start, retried while Zendesk fails, and agent
// replies then reach WhatsApp. Restarts install nothing twice; a new base URL
// moves the webhook. It runs with every production default.
func TestFileDeclaredZendeskGetsItsWebhook(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	key := secret.GenerateKey()
	st := storeWithKey(t, key)
	dbName := testdb.Name(st.Pool())
	graph := whatsapptest.Start(t, whatsapptest.Options{})
	zd := zendesktest.New(t)
	zc := zd.Config()
	file := &config.File{Path: "relaydesk.yaml",
		WhatsApp: []config.WhatsAppEntry{{Name: "support", PhoneNumberID: phoneID, WABAID: whatsapptest.FixtureWABAID,
			AccessToken: graph.AccessToken(), AppSecret: appSecret, VerifyToken: "v", GraphURL: graph.URL(),
			GraphVersion: graph.Version(), SendRate: 80}},
		Helpdesks: []config.HelpdeskEntry{{Name: "zendesk", Kind: "zendesk", BaseURL: zc.BaseURL, Settings: zc.Settings,
			Credentials: zc.Credentials}},
		Routes: []config.RouteEntry{{WhatsApp: "support", Helpdesk: "zendesk", Reopen: 72 * time.Hour}},
	}
	zd.FailNext(1, connectortest.FailServerError) // the first attempt finds Zendesk down
	s := serve(t, dbName, key, file, nil)

	conn := waitWebhook(t, st, "zendesk", store.WebhookStateInstalled)
	endpoint := s.base + "/webhooks/helpdesk/" + conn.PublicID
	require.True(t, conn.Webhook.Current(endpoint))
	require.Equal(t, store.WebhookSourceInstalled, conn.Webhook.Source)
	hooks := zd.Webhooks()
	require.Len(t, hooks, 1)
	require.Equal(t, endpoint, hooks[0].Endpoint)
	metrics := s.get("/metrics")
	require.Contains(t, metrics, `relaydesk_helpdesk_webhook_installed{connection="zendesk",kind="zendesk"} 1`)
	require.Contains(t, metrics, `relaydesk_helpdesk_webhook_provision_total{kind="zendesk",outcome="retrying"}`)
	require.Contains(t, metrics, `relaydesk_helpdesk_webhook_provision_total{kind="zendesk",outcome="installed"}`)
	sealed, err := st.WebhookSecret(conn)
	require.NoError(t, err)
	require.Equal(t, zd.WebhookSecret(), sealed)
	var raw []byte
	require.NoError(t, st.Pool().QueryRow(ctx, `SELECT webhook_secret FROM helpdesk_connections WHERE id = $1`, conn.ID).Scan(&raw))
	require.NotContains(t, string(raw), string(zd.WebhookSecret()), "the secret is stored encrypted")

	t.Run("agent replies flow through the installed webhook", func(t *testing.T) {
		body := whatsapptest.NewDelivery(phoneID).Text(customer, "Where is my parcel?").Bytes()
		req, err := http.NewRequest(http.MethodPost, s.base+"/webhooks/whatsapp", strings.NewReader(string(body)))
		require.NoError(t, err)
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("X-Hub-Signature-256", whatsapptest.SignBody([]byte(appSecret), body))
		resp, err := http.DefaultClient.Do(req)
		require.NoError(t, err)
		resp.Body.Close()
		require.Equal(t, http.StatusOK, resp.StatusCode)
		require.Eventually(t, func() bool { return len(zd.Tickets()) == 1 }, 60*time.Second, 50*time.Millisecond)
		tk := zd.Tickets()[0].ID
		reply := zd.AgentReply(tk, "It ships today.")
		require.NoError(t, zd.Deliver(ctx, http.DefaultClient, zd.CommentDelivery(tk, reply)))
		require.Eventually(t, func() bool {
			for _, m := range graph.Sent() {
				if m.Text == "It ships today." {
					return true
				}
			}
			return false
		}, 60*time.Second, 50*time.Millisecond)
	})

	require.NoError(t, s.stop())
	t.Run("a restart installs nothing again", func(t *testing.T) {
		s := serve(t, dbName, key, file, nil)
		defer func() { require.NoError(t, s.stop()) }()
		_ = s.get("/healthz")
		again := waitWebhook(t, st, "zendesk", store.WebhookStateInstalled)
		require.Equal(t, conn.Webhook.InstalledAt, again.Webhook.InstalledAt)
		require.Len(t, zd.Webhooks(), 1)
	})
	t.Run("a new base URL moves the webhook", func(t *testing.T) {
		s := serve(t, dbName, key, file, nil) // another port: another RELAYDESK_BASE_URL
		defer func() { require.NoError(t, s.stop()) }()
		moved := s.base + "/webhooks/helpdesk/" + conn.PublicID
		require.Eventually(t, func() bool {
			hooks := zd.Webhooks()
			return len(hooks) == 1 && hooks[0].Endpoint == moved && connection(t, st, "zendesk").Webhook.Current(moved)
		}, 60*time.Second, 50*time.Millisecond, "one webhook, at the new endpoint")
	})
}

// storeWithKey is a store on a fresh database sealing with key, the
// RELAYDESK_SECRET_KEY the served relaydesk gets.
func storeWithKey(t *testing.T, key string) *store.Store {
	t.Helper()
	k, err := secret.ParseKey(key)
	require.NoError(t, err)
	kr, err := secret.NewKeyring(k, nil)
	require.NoError(t, err)
	return store.New(testdb.New(t), kr)
}

func connection(t *testing.T, st *store.Store, name string) store.Connection {
	t.Helper()
	c, err := st.ConnectionByName(context.Background(), name)
	require.NoError(t, err)
	return c
}

func waitWebhook(t *testing.T, st *store.Store, name string, state store.WebhookState) store.Connection {
	t.Helper()
	var c store.Connection
	require.Eventually(t, func() bool {
		c = connection(t, st, name)
		return c.Webhook.State == state
	}, 60*time.Second, 50*time.Millisecond, "webhook of %s %s", name, state)
	return c
}

// provisioner is relaydesk's bridge and a River client with River's default
// retry policy, working the provisioning jobs (a replica).
type provisioner struct {
	t      *testing.T
	st     *store.Store
	bridge *bridge.Bridge
	client *river.Client[pgx.Tx]
}

const callbackBase = "http://relaydesk.test"

func newProvisioner(t *testing.T, st *store.Store) *provisioner {
	t.Helper()
	br := bridge.New(bridge.Opts{Store: st, Logger: slog.New(slog.DiscardHandler), Connectors: app.NewConnector,
		APIBaseURL: callbackBase})
	c, err := jobs.NewClient(jobs.Opts{Store: st, Logger: slog.New(slog.DiscardHandler), MaxWorkers: 5,
		RegisterWorkers: jobs.AddBridgeWorkers(br)})
	require.NoError(t, err)
	br.SetJobs(c)
	require.NoError(t, c.Start(context.Background()))
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		_ = c.StopAndCancel(ctx)
	})
	return &provisioner{t: t, st: st, bridge: br, client: c}
}

// apply applies the file and enqueues what it needs, as start does.
func (p *provisioner) apply(file *config.File) int {
	p.t.Helper()
	_, err := declare.Apply(context.Background(), p.st, file)
	require.NoError(p.t, err)
	n, err := p.bridge.ProvisionWebhooks(context.Background())
	require.NoError(p.t, err)
	return n
}

// Zendesk, Chatwoot and Zammad: provisioning, a second replica running the
// job again, a restart and a re-applied file with changed settings end with
// exactly one webhook (and Zammad's triggers once).
func TestProvisioningAdoptsTheWebhook(t *testing.T) {
	t.Parallel()
	st := testdb.NewStore(t)
	zd, cw, zm := zendesktest.New(t), chatwoottest.New(t), zammadtest.New(t)
	entry := func(kind string, cfg connectors.Config) config.HelpdeskEntry {
		return config.HelpdeskEntry{Name: kind, Kind: kind, BaseURL: cfg.BaseURL, Settings: cfg.Settings, Credentials: cfg.Credentials}
	}
	file := &config.File{Path: "relaydesk.yaml", Helpdesks: []config.HelpdeskEntry{
		entry("zendesk", zd.Config()), entry("chatwoot", cw.Config()), entry("zammad", zm.Config())}}
	counts := func() [4]int {
		return [4]int{len(zd.Webhooks()), len(cw.Webhooks()), len(zm.Webhooks()), len(zm.Triggers())}
	}
	installed := func() {
		for _, name := range []string{"zendesk", "chatwoot", "zammad"} {
			waitWebhook(t, st, name, store.WebhookStateInstalled)
		}
	}

	p := newProvisioner(t, st)
	require.Equal(t, 3, p.apply(file))
	installed()
	require.Equal(t, [4]int{1, 1, 1, 2}, counts())
	triggers := zm.Triggers()

	replica := newProvisioner(t, st)
	ctx := context.Background()
	for _, name := range []string{"zendesk", "chatwoot", "zammad"} {
		id := connection(t, st, name).ID
		done := make(chan error, 1)
		go func() { _, err := replica.bridge.ProvisionWebhook(ctx, id, bridge.Provision{}); done <- err }()
		_, err := p.bridge.ProvisionWebhook(ctx, id, bridge.Provision{})
		require.NoError(t, err)
		require.NoError(t, <-done)
	}
	require.Equal(t, [4]int{1, 1, 1, 2}, counts(), "two replicas running the job again")

	require.Zero(t, newProvisioner(t, st).apply(file), "a restart finds every webhook current")

	for i := range file.Helpdesks {
		file.Helpdesks[i].WebhookSecret = "given-by-the-file"
	}
	require.Zero(t, p.apply(file), "a secret given by the file installs nothing")
	for _, name := range []string{"zendesk", "chatwoot", "zammad"} {
		c := connection(t, st, name)
		require.Equal(t, store.WebhookSourceFile, c.Webhook.Source)
		res, err := p.bridge.ProvisionWebhook(ctx, c.ID, bridge.Provision{})
		require.NoError(t, err)
		require.Equal(t, bridge.ProvisionSkipped, res.Outcome)
		require.True(t, res.FromFile)
	}
	for i := range file.Helpdesks {
		file.Helpdesks[i].WebhookSecret = ""
	}
	require.Equal(t, 3, replica.apply(file), "without the file's secret, relaydesk installs again")
	installed()
	require.Equal(t, [4]int{1, 1, 1, 2}, counts(), "a re-applied file")
	require.ElementsMatch(t, triggers, zm.Triggers(), "the same triggers, updated in place")
}

// A refusal (401) is final: the job is cancelled and the connection shows
// Zendesk's reason in plain words. An unreachable helpdesk is retried with
// River's default backoff, the reason shown meanwhile.
func TestProvisioningFailures(t *testing.T) {
	t.Parallel()
	st := testdb.NewStore(t)
	zd := zendesktest.New(t)
	zc := zd.Config()
	closed := httptestClosedURL(t)
	p := newProvisioner(t, st)
	zd.FailNext(1, connectortest.FailUnauthorized)
	require.Equal(t, 2, p.apply(&config.File{Path: "relaydesk.yaml", Helpdesks: []config.HelpdeskEntry{
		{Name: "refused", Kind: "zendesk", BaseURL: zc.BaseURL, Settings: zc.Settings, Credentials: zc.Credentials},
		{Name: "down", Kind: "zendesk", BaseURL: closed, Settings: zc.Settings, Credentials: zc.Credentials},
	}}))

	refused := waitWebhook(t, st, "refused", store.WebhookStateFailed)
	require.Contains(t, refused.Webhook.Error, "Zendesk refused the credentials: they are wrong, were revoked, or lack admin rights.")
	require.Empty(t, zd.Webhooks())
	require.Eventually(t, func() bool {
		var state string
		_ = st.Pool().QueryRow(context.Background(), `SELECT state FROM river_job WHERE args->>'connection_id' = $1`,
			fmt.Sprint(refused.ID)).Scan(&state)
		return state == "cancelled"
	}, 60*time.Second, 50*time.Millisecond, "a refusal is not retried")

	require.Eventually(t, func() bool {
		c := connection(t, st, "down")
		return c.Webhook.State == store.WebhookStatePending && strings.Contains(c.Webhook.Error, "relaydesk could not reach Zendesk") &&
			strings.Contains(c.Webhook.Error, "relaydesk keeps retrying.")
	}, 60*time.Second, 50*time.Millisecond)
	require.Eventually(t, func() bool {
		var state string
		var attempt int
		_ = st.Pool().QueryRow(context.Background(), `SELECT state, attempt FROM river_job WHERE args->>'connection_id' = $1`,
			fmt.Sprint(connection(t, st, "down").ID)).Scan(&state, &attempt)
		return state == "retryable" || attempt > 1
	}, 60*time.Second, 50*time.Millisecond, "an unreachable helpdesk is retried")
}

// httptestClosedURL is the URL of a port nothing listens on any more.
func httptestClosedURL(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	u := "http://" + ln.Addr().String()
	require.NoError(t, ln.Close())
	return u
}
