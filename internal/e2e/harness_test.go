// Package e2e tests relaydesk end to end: real PostgreSQL, a real River
// client working jobs, the HTTP server on a real socket, and fakes of Graph
// and of Zendesk that speak their wire formats.
package e2e

import (
	"bytes"
	"context"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/riverqueue/river"
	"github.com/stretchr/testify/require"

	"github.com/relaydesk/relaydesk/connectors/chatwoot/chatwoottest"
	"github.com/relaydesk/relaydesk/connectors/connectortest"
	"github.com/relaydesk/relaydesk/connectors/freshdesk/freshdesktest"
	"github.com/relaydesk/relaydesk/connectors/zendesk/zendesktest"
	"github.com/relaydesk/relaydesk/internal/app"
	"github.com/relaydesk/relaydesk/internal/bridge"
	"github.com/relaydesk/relaydesk/internal/config"
	"github.com/relaydesk/relaydesk/internal/declare"
	"github.com/relaydesk/relaydesk/internal/jobs"
	"github.com/relaydesk/relaydesk/internal/mediaconv"
	"github.com/relaydesk/relaydesk/internal/server"
	"github.com/relaydesk/relaydesk/internal/store"
	"github.com/relaydesk/relaydesk/internal/testdb"
	"github.com/relaydesk/relaydesk/internal/whatsapp"
	"github.com/relaydesk/relaydesk/internal/whatsapp/whatsapptest"
)

const (
	phoneID   = whatsapptest.FixturePhoneNumberID
	appSecret = "e2e-app-secret"
	customer  = "16505551234"
)

// clock is a settable clock shared by the bridge and the fake helpdesk.
type clock struct {
	mu     sync.Mutex
	offset time.Duration
}

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return time.Now().Add(c.offset)
}

func (c *clock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.offset += d
}

type harness struct {
	t     *testing.T
	pool  *pgxpool.Pool
	store *store.Store
	graph *whatsapptest.Server
	zd    *zendesktest.Fake
	fd    *freshdesktest.Fake // set when the route goes to Freshdesk
	cw    *chatwoottest.Fake  // set when the route goes to Chatwoot
	// desk is the helpdesk the route goes to (zd, fd or cw).
	desk   connectortest.Fake
	srv    *httptest.Server
	bridge *bridge.Bridge
	// replyStore is the reply lane's store (harnessOpts.replyLane), else
	// store.
	replyStore *store.Store
	clock      *clock
	publicID   string

	// otherApp: a second number of another WABA and Meta app, routed to
	// its own Zendesk (harnessOpts.otherApp).
	zdOther       *zendesktest.Fake
	otherPublicID string

	mu     sync.Mutex
	client *river.Client[pgx.Tx]
}

type harnessOpts struct {
	template  *config.TemplateRef
	freshdesk bool // route the number to a fake Freshdesk (a polling helpdesk) instead of Zendesk
	chatwoot  bool // route the number to a fake Chatwoot instead of Zendesk
	// spare adds a second number (before the one under test, so it takes
	// the lowest id) and a second helpdesk connection, neither routed.
	spare bool
	// otherApp adds a number of another business (WABA) and Meta app, with
	// its own app secret, routed to a second Zendesk (h.zdOther).
	otherApp bool
	// statusDisplay is the route's status_display ("" for the default).
	statusDisplay string
	// noFFmpeg runs the bridge as on a server without ffmpeg.
	noFFmpeg bool
	// replyLane gives agents' replies a pool of their own (h.replyStore),
	// as RELAYDESK_REPLY_DB_CONNS does.
	replyLane bool
	// intakeDeadline is RELAYDESK_INTAKE_DEADLINE (0: the default).
	intakeDeadline time.Duration
	// onSent is called for every message the fake Graph accepted, before
	// it answers.
	onSent func(whatsapptest.RecordedMessage)
}

// webhookClient delivers the webhooks: a request relaydesk leaves
// hanging fails the test instead of hanging it.
var webhookClient = &http.Client{Timeout: time.Minute}

// other number of harnessOpts.otherApp.
const (
	otherNumber    = "other"
	otherPhoneID   = "100000000000888"
	otherWABAID    = "200000000000888"
	otherAppSecret = "other-app-secret"
	otherDesk      = "other-zendesk"
)

// spare number and connection of harnessOpts.spare.
const (
	spareNumber  = "spare"
	sparePhoneID = "100000000000999"
	spareDesk    = "spare-zendesk"
)

func newHarness(t *testing.T, o harnessOpts) *harness {
	t.Helper()
	ctx := context.Background()
	h := &harness{t: t, store: testdb.NewStore(t), clock: &clock{}}
	h.pool = h.store.Pool()

	gopts := whatsapptest.Options{OnSent: o.onSent}
	if o.otherApp {
		gopts.PhoneNumbers = []whatsapp.PhoneNumberInfo{
			{ID: phoneID, DisplayPhoneNumber: whatsapptest.FixtureDisplayPhoneNumber, VerifiedName: "Support", QualityRating: whatsapp.QualityGreen},
			{ID: otherPhoneID, DisplayPhoneNumber: "15550000888", VerifiedName: "Other", QualityRating: whatsapp.QualityGreen},
		}
	}
	h.graph = whatsapptest.Start(t, gopts)
	h.zd = zendesktest.New(t)
	h.zd.SetNow(h.clock.Now)
	zc := h.zd.Config()
	file := &config.File{Path: "e2e",
		WhatsApp: []config.WhatsAppEntry{{Name: "support", PhoneNumberID: phoneID, WABAID: whatsapptest.FixtureWABAID,
			AccessToken: h.graph.AccessToken(), AppSecret: appSecret, VerifyToken: "v", GraphURL: h.graph.URL(),
			GraphVersion: h.graph.Version(), SendRate: 80}},
		Helpdesks: []config.HelpdeskEntry{{Name: "zendesk", Kind: "zendesk", BaseURL: zc.BaseURL, Settings: zc.Settings,
			Credentials: zc.Credentials, WebhookSecret: string(h.zd.WebhookSecret())}},
		Routes: []config.RouteEntry{{WhatsApp: "support", Helpdesk: "zendesk", Reopen: 72 * time.Hour,
			Tags: []string{"whatsapp"}, ReengagementTemplate: o.template, StatusDisplay: o.statusDisplay}},
	}
	if o.freshdesk {
		h.fd = freshdesktest.New(t)
		h.fd.SetNow(h.clock.Now)
		fc := h.fd.Config()
		file.Helpdesks = append(file.Helpdesks, config.HelpdeskEntry{Name: "freshdesk", Kind: "freshdesk",
			BaseURL: fc.BaseURL, Settings: fc.Settings, Credentials: fc.Credentials})
		file.Routes[0].Helpdesk = "freshdesk"
	}
	h.desk = h.zd
	switch {
	case o.freshdesk:
		h.desk = h.fd
	case o.chatwoot:
		h.cw = chatwoottest.New(t)
		h.cw.SetNow(h.clock.Now)
		cc := h.cw.Config()
		settings := map[string]any{}
		for k, v := range cc.Settings {
			if k != "base_url" {
				settings[k] = v
			}
		}
		file.Helpdesks = append(file.Helpdesks, config.HelpdeskEntry{Name: "chatwoot", Kind: "chatwoot",
			BaseURL: cc.Settings["base_url"].(string), Settings: settings, Credentials: cc.Credentials,
			WebhookSecret: string(h.cw.WebhookSecret())})
		file.Routes[0].Helpdesk = "chatwoot"
		h.desk = h.cw
	}
	if o.spare {
		w := file.WhatsApp[0]
		w.Name, w.PhoneNumberID, w.AppSecret = spareNumber, sparePhoneID, "spare-app-secret"
		file.WhatsApp = append([]config.WhatsAppEntry{w}, file.WhatsApp...)
		sc := zendesktest.New(t).Config()
		file.Helpdesks = append(file.Helpdesks, config.HelpdeskEntry{Name: spareDesk, Kind: "zendesk", BaseURL: sc.BaseURL,
			Settings: sc.Settings, Credentials: sc.Credentials, WebhookSecret: "spare-webhook-secret"})
	}
	if o.otherApp {
		w := file.WhatsApp[0]
		w.Name, w.PhoneNumberID, w.WABAID, w.AppSecret = otherNumber, otherPhoneID, otherWABAID, otherAppSecret
		file.WhatsApp = append(file.WhatsApp, w)
		h.zdOther = zendesktest.New(t)
		h.zdOther.SetNow(h.clock.Now)
		oc := h.zdOther.Config()
		file.Helpdesks = append(file.Helpdesks, config.HelpdeskEntry{Name: otherDesk, Kind: "zendesk", BaseURL: oc.BaseURL,
			Settings: oc.Settings, Credentials: oc.Credentials, WebhookSecret: string(h.zdOther.WebhookSecret())})
		file.Routes = append(file.Routes, config.RouteEntry{WhatsApp: otherNumber, Helpdesk: otherDesk, Reopen: 72 * time.Hour})
	}
	_, err := declare.Apply(ctx, h.store, file)
	require.NoError(t, err)
	webhookDesk := "zendesk" // the helpdesk whose webhooks postHelpdesk delivers
	if o.chatwoot {
		webhookDesk = "chatwoot"
	}
	conn, err := h.store.ConnectionByName(ctx, webhookDesk)
	require.NoError(t, err)
	h.publicID = conn.PublicID
	if o.otherApp {
		oc, err := h.store.ConnectionByName(ctx, otherDesk)
		require.NoError(t, err)
		h.otherPublicID = oc.PublicID
	}

	log := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	var media *mediaconv.Converter // ffmpeg from PATH
	if o.noFFmpeg {
		media = &mediaconv.Converter{}
	}
	h.replyStore = h.store
	if o.replyLane {
		rp, err := store.OpenPool(ctx, testdb.URLFor(testdb.Name(h.pool)), 2)
		require.NoError(t, err)
		t.Cleanup(rp.Close) // before the database is dropped
		h.replyStore = store.New(rp, h.store.Keys())
	}
	h.bridge = bridge.New(bridge.Opts{Store: h.store, ReplyStore: h.replyStore, Logger: log, Connectors: app.NewConnector,
		Now: h.clock.Now, CallTimeout: 2 * time.Second, Media: media, IntakeDeadline: o.intakeDeadline})
	h.startWorkers()
	srv := server.New(server.Opts{Logger: log, Store: h.store, Bridge: h.bridge, Registry: prometheus.NewRegistry()})
	h.srv = httptest.NewServer(srv.Handler())
	t.Cleanup(h.srv.Close)
	return h
}

// startWorkers starts a River client working relaydesk's jobs (a replica).
func (h *harness) startWorkers() {
	h.t.Helper()
	c, err := jobs.NewClient(jobs.Opts{Store: h.store, Logger: slog.New(slog.DiscardHandler), MaxWorkers: 10,
		RegisterWorkers: jobs.AddBridgeWorkers(h.bridge)})
	require.NoError(h.t, err)
	h.bridge.SetJobs(c)
	require.NoError(h.t, c.Start(context.Background()))
	h.mu.Lock()
	h.client = c
	h.mu.Unlock()
	h.t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		_ = c.StopAndCancel(ctx)
	})
}

// killWorkers stops the replica abruptly: running jobs are cancelled mid-way.
func (h *harness) killWorkers() {
	h.mu.Lock()
	c := h.client
	h.mu.Unlock()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	require.NoError(h.t, c.StopAndCancel(ctx))
}

func (h *harness) postWhatsApp(d *whatsapptest.Delivery) {
	h.t.Helper()
	h.graph.Received(d) // replies may quote these messages and react to them
	h.postWhatsAppBody(d.Bytes())
}

func (h *harness) postWhatsAppBody(body []byte) {
	h.t.Helper()
	h.postSignedWhatsApp(appSecret, body)
}

// postSignedWhatsApp delivers a body signed with secret (the app secret
// of some Meta app) and expects 200.
func (h *harness) postSignedWhatsApp(secret string, body []byte) {
	h.t.Helper()
	require.Equal(h.t, http.StatusOK, h.postSignedWhatsAppCode(secret, body))
}

// postSignedWhatsAppCode delivers a body signed with secret and returns
// the answer's status code.
func (h *harness) postSignedWhatsAppCode(secret string, body []byte) int {
	h.t.Helper()
	req, err := http.NewRequest(http.MethodPost, h.srv.URL+"/webhooks/whatsapp", bytes.NewReader(body))
	require.NoError(h.t, err)
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("X-Hub-Signature-256", whatsapptest.SignBody([]byte(secret), body))
	resp, err := webhookClient.Do(req)
	require.NoError(h.t, err)
	resp.Body.Close()
	return resp.StatusCode
}

// postHelpdesk delivers a Zendesk webhook to relaydesk's callback URL.
func (h *harness) postHelpdesk(d connectortest.Delivery) int {
	h.t.Helper()
	return h.postHelpdeskTo(h.publicID, d)
}

// postHelpdeskTo delivers a helpdesk webhook to a connection's callback URL.
func (h *harness) postHelpdeskTo(publicID string, d connectortest.Delivery) int {
	h.t.Helper()
	req, err := http.NewRequest(http.MethodPost, h.srv.URL+"/webhooks/helpdesk/"+publicID, bytes.NewReader(d.Body))
	require.NoError(h.t, err)
	req.Header = d.Header.Clone()
	resp, err := webhookClient.Do(req)
	require.NoError(h.t, err)
	resp.Body.Close()
	return resp.StatusCode
}

// agentReplies has an agent answer publicly in Zendesk and Zendesk deliver
// the webhook; it returns the delivery for redelivery tests.
func (h *harness) agentReplies(ticketID, body string) connectortest.Delivery {
	h.t.Helper()
	id := h.zd.AgentReply(ticketID, body)
	d := h.zd.CommentDelivery(ticketID, id)
	require.Equal(h.t, http.StatusOK, h.postHelpdesk(d))
	return d
}

// openTicket has the customer write text and waits for the ticket relaydesk
// opens in Zendesk; it returns the ticket's id.
func (h *harness) openTicket(text string) string {
	h.t.Helper()
	h.postWhatsApp(whatsapptest.NewDelivery(phoneID).Text(customer, text))
	h.eventually(func() bool { return len(h.zd.Tickets()) == 1 }, "ticket")
	return h.zd.Tickets()[0].ID
}

func (h *harness) eventually(cond func() bool, msg string, args ...any) {
	h.t.Helper()
	require.Eventually(h.t, cond, 60*time.Second, 50*time.Millisecond, append([]any{msg}, args...)...)
}

// publicBodies returns the public comments of a ticket, in order.
func (h *harness) publicComments(ticketID string) []connectortest.Comment {
	var out []connectortest.Comment
	for _, c := range h.zd.Comments(ticketID) {
		if c.Public {
			out = append(out, c)
		}
	}
	return out
}

func (h *harness) notes(ticketID string) []string {
	var out []string
	for _, c := range h.zd.Comments(ticketID) {
		if !c.Public {
			out = append(out, c.Body)
		}
	}
	return out
}

func (h *harness) count(sql string, args ...any) int {
	h.t.Helper()
	var n int
	require.NoError(h.t, h.pool.QueryRow(context.Background(), sql, args...).Scan(&n))
	return n
}

// sentTexts returns the text messages the fake Graph accepted.
func (h *harness) sentTexts() []string {
	var out []string
	for _, m := range h.graph.Sent() {
		if m.Type == "text" {
			out = append(out, m.Text)
		}
	}
	return out
}

// noViolations checks that neither fake saw a malformed request.
func (h *harness) noViolations() {
	h.t.Helper()
	require.Empty(h.t, h.zd.Violations(), "requests Zendesk's documented API would refuse")
	require.Empty(h.t, h.graph.ValidationErrors(), "requests that do not match Graph's OpenAPI description")
}

// failures lists failed messages with their reasons, for test messages.
func (h *harness) failures() string {
	rows, err := h.pool.Query(context.Background(), `SELECT kind || ': ' || coalesce(error::text, '') FROM messages WHERE state = 'failed'`)
	require.NoError(h.t, err)
	out, err := pgx.CollectRows(rows, pgx.RowTo[string])
	require.NoError(h.t, err)
	return strings.Join(out, "\n")
}
