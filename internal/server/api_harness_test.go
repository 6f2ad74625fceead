package server_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/getkin/kin-openapi/routers"
	"github.com/getkin/kin-openapi/routers/legacy"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/riverqueue/river"
	"github.com/stretchr/testify/require"

	"github.com/relaydesk/relaydesk/connectors/zendesk/zendesktest"
	"github.com/relaydesk/relaydesk/internal/apiauth"
	"github.com/relaydesk/relaydesk/internal/apievents"
	"github.com/relaydesk/relaydesk/internal/app"
	"github.com/relaydesk/relaydesk/internal/bridge"
	"github.com/relaydesk/relaydesk/internal/config"
	"github.com/relaydesk/relaydesk/internal/jobs"
	"github.com/relaydesk/relaydesk/internal/server"
	"github.com/relaydesk/relaydesk/internal/server/openapi"
	"github.com/relaydesk/relaydesk/internal/store"
	"github.com/relaydesk/relaydesk/internal/testdb"
	"github.com/relaydesk/relaydesk/internal/whatsapp/whatsapptest"
)

const (
	apiPhoneID   = whatsapptest.FixturePhoneNumberID
	apiAppSecret = "api-test-app-secret"
	otherPhoneID = "209999999999999"
)

// testClock is a settable clock shared by the bridge and the fakes: the
// real time moved on by every Advance.
type testClock struct{ offset atomic.Int64 }

func (c *testClock) Now() time.Time          { return time.Now().Add(time.Duration(c.offset.Load())) }
func (c *testClock) Advance(d time.Duration) { c.offset.Add(int64(d)) }

// apiBundle is a full relaydesk for public API tests: real PostgreSQL, a
// River client working every job, fake Graph and Zendesk, the HTTP server
// on a socket, an admin with a session, and a receiver's HTTP client for
// event deliveries.
type apiBundle struct {
	t        testing.TB
	store    *store.Store
	graph    *whatsapptest.Server
	zd       *zendesktest.Fake
	srv      *httptest.Server
	clock    *testClock
	session  string          // the admin's session cookie value
	otherAcc store.AccountID // a second number the fake Graph does not serve
	mainAcc  store.AccountID
	router   routers.Router
	h        http.Handler
}

type apiOpts struct {
	// EventsClient sends event deliveries (a TLS receiver's client).
	EventsClient *http.Client
	DisableAfter time.Duration
}

func apiSetup(t testing.TB, o apiOpts) *apiBundle {
	t.Helper()
	ctx := context.Background()
	b := &apiBundle{t: t, store: testdb.NewStore(t), clock: &testClock{}}
	b.graph = whatsapptest.Start(t, whatsapptest.Options{})
	b.zd = zendesktest.New(t)
	b.zd.SetNow(b.clock.Now)
	zc := b.zd.Config()
	applyFile(t, b.store, &config.File{Path: "api-test",
		WhatsApp: []config.WhatsAppEntry{
			{Name: "support", PhoneNumberID: apiPhoneID, WABAID: whatsapptest.FixtureWABAID, DisplayPhoneNumber: "15550783881",
				AccessToken: b.graph.AccessToken(), AppSecret: apiAppSecret, VerifyToken: "v", GraphURL: b.graph.URL(),
				GraphVersion: b.graph.Version(), SendRate: 80},
			{Name: "sales", PhoneNumberID: otherPhoneID, WABAID: whatsapptest.FixtureWABAID, DisplayPhoneNumber: "15550000002",
				AccessToken: b.graph.AccessToken(), AppSecret: apiAppSecret, VerifyToken: "v2", GraphURL: b.graph.URL(),
				GraphVersion: b.graph.Version(), SendRate: 80},
		},
		Helpdesks: []config.HelpdeskEntry{{Name: "zendesk", Kind: "zendesk", BaseURL: zc.BaseURL, Settings: zc.Settings,
			Credentials: zc.Credentials, WebhookSecret: string(b.zd.WebhookSecret())}},
		Routes: []config.RouteEntry{{WhatsApp: "support", Helpdesk: "zendesk", Reopen: 72 * time.Hour}},
	})
	main, err := b.store.AccountByPhoneNumberID(ctx, apiPhoneID)
	require.NoError(t, err)
	other, err := b.store.AccountByPhoneNumberID(ctx, otherPhoneID)
	require.NoError(t, err)
	b.mainAcc, b.otherAcc = main.ID, other.ID

	log := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelError}))
	br := bridge.New(bridge.Opts{Store: b.store, Logger: log, Connectors: app.NewConnector, Now: b.clock.Now,
		CallTimeout: 2 * time.Second, APIBaseURL: "http://relaydesk.test"})
	events := apievents.New(apievents.Opts{Store: b.store, Logger: log, HTTPClient: o.EventsClient, DisableAfter: o.DisableAfter})
	client, err := jobs.NewClient(jobs.Opts{Store: b.store, Logger: slog.New(slog.DiscardHandler), MaxWorkers: 10,
		RegisterWorkers: func(ws *river.Workers) {
			jobs.AddBridgeWorkers(br)(ws)
			jobs.AddAPIWorkers(b.store, events)(ws)
		}})
	require.NoError(t, err)
	br.SetJobs(client)
	require.NoError(t, client.Start(ctx))
	t.Cleanup(func() {
		sctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		_ = client.StopAndCancel(sctx)
	})
	srv := server.New(server.Opts{Logger: log, Store: b.store, Bridge: br, Registry: prometheus.NewRegistry(), River: client,
		Connectors: app.NewConnector})
	b.h = srv.Handler()
	b.srv = httptest.NewServer(b.h)
	t.Cleanup(b.srv.Close)

	admin, err := b.store.CreateAdmin(ctx, admEmail, admPassword, store.Actor{Name: "cli"})
	require.NoError(t, err)
	b.session, _, err = b.store.CreateSession(ctx, admin.ID, time.Hour, "127.0.0.1", "test")
	require.NoError(t, err)

	doc, err := openapi3.NewLoader().LoadFromData(openapi.YAML)
	require.NoError(t, err)
	require.NoError(t, doc.Validate(ctx))
	doc.Servers = openapi3.Servers{{URL: b.srv.URL}}
	b.router, err = legacy.NewRouter(doc)
	require.NoError(t, err)
	return b
}

// app registers an application and returns its client id and secret.
func (b *apiBundle) app(n store.NewAPIClient) (store.APIClient, string) {
	b.t.Helper()
	if n.RateLimit == 0 {
		n.RateLimit = 6000
	}
	if n.Name == "" {
		n.Name = "app-" + strings.ReplaceAll(time.Now().Format("150405.000000"), ".", "")
	}
	c, secret, err := b.store.CreateAPIClient(context.Background(), n, store.Actor{Name: "test"})
	require.NoError(b.t, err)
	return c, secret
}

// fullAccessToken registers a client-credentials application with every
// scope and returns an access token of it.
func (b *apiBundle) fullAccessToken() string {
	b.t.Helper()
	app, secret := b.app(store.NewAPIClient{Scopes: allScopes, GrantTypes: []string{apiauth.GrantClientCredentials}})
	return b.clientToken(app, secret, "")
}

// clientToken gets a client-credentials token for scopes ("" = default).
func (b *apiBundle) clientToken(c store.APIClient, secret, scope string) string {
	b.t.Helper()
	form := url.Values{"grant_type": {"client_credentials"}}
	if scope != "" {
		form.Set("scope", scope)
	}
	resp, body := b.tokenRequest(c.ClientID, secret, form)
	require.Equal(b.t, http.StatusOK, resp.StatusCode, string(body))
	var tr struct {
		AccessToken string `json:"access_token"`
	}
	require.NoError(b.t, json.Unmarshal(body, &tr))
	return tr.AccessToken
}

// tokenRequest posts a form to the token endpoint with HTTP Basic.
func (b *apiBundle) tokenRequest(id, secret string, form url.Values) (*http.Response, []byte) {
	b.t.Helper()
	return b.formPost("/oauth/token", id, secret, form)
}

func (b *apiBundle) formPost(path, id, secret string, form url.Values) (*http.Response, []byte) {
	b.t.Helper()
	req, err := http.NewRequest(http.MethodPost, b.srv.URL+path, strings.NewReader(form.Encode()))
	require.NoError(b.t, err)
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	if id != "" {
		req.SetBasicAuth(url.QueryEscape(id), url.QueryEscape(secret))
	}
	return b.do(req)
}

func (b *apiBundle) do(req *http.Request) (*http.Response, []byte) {
	b.t.Helper()
	resp, err := noRedirects.Do(req)
	require.NoError(b.t, err)
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	require.NoError(b.t, err)
	return resp, body
}

var noRedirects = &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}

// api calls /api/v1 with a bearer token and validates the response against
// the OpenAPI document.
func (b *apiBundle) api(method, path, token string, body any, headers ...string) (*http.Response, []byte) {
	b.t.Helper()
	var rd io.Reader
	var raw []byte
	if body != nil {
		switch v := body.(type) {
		case string:
			raw = []byte(v)
		default:
			var err error
			raw, err = json.Marshal(v)
			require.NoError(b.t, err)
		}
		rd = bytes.NewReader(raw)
	}
	req, err := http.NewRequest(method, b.srv.URL+path, rd)
	require.NoError(b.t, err)
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Set(headers[i], headers[i+1])
	}
	resp, respBody := b.do(req)
	b.validate(req, raw, resp, respBody)
	return resp, respBody
}

// validate checks a response against the OpenAPI document.
func (b *apiBundle) validate(req *http.Request, reqBody []byte, resp *http.Response, body []byte) {
	b.t.Helper()
	vreq := req.Clone(context.Background())
	if reqBody != nil {
		vreq.Body = io.NopCloser(bytes.NewReader(reqBody))
	}
	route, params, err := b.router.FindRoute(vreq)
	require.NoError(b.t, err, "%s %s is not in the OpenAPI document", req.Method, req.URL.Path)
	in := &openapi3filter.RequestValidationInput{Request: vreq, PathParams: params, Route: route,
		Options: &openapi3filter.Options{AuthenticationFunc: openapi3filter.NoopAuthenticationFunc}}
	err = openapi3filter.ValidateResponse(context.Background(), &openapi3filter.ResponseValidationInput{
		RequestValidationInput: in, Status: resp.StatusCode, Header: resp.Header, Body: io.NopCloser(bytes.NewReader(body)),
		Options: &openapi3filter.Options{IncludeResponseStatus: true, MultiError: true},
	})
	require.NoError(b.t, err, "%s %s answered %d %s, which the OpenAPI document does not describe", req.Method, req.URL.Path,
		resp.StatusCode, string(body))
}

// postWhatsApp delivers a signed webhook.
func (b *apiBundle) postWhatsApp(d *whatsapptest.Delivery) {
	b.t.Helper()
	body := d.Bytes()
	req, err := http.NewRequest(http.MethodPost, b.srv.URL+"/webhooks/whatsapp", bytes.NewReader(body))
	require.NoError(b.t, err)
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("X-Hub-Signature-256", whatsapptest.SignBody([]byte(apiAppSecret), body))
	resp, respBody := b.do(req)
	require.Equal(b.t, http.StatusOK, resp.StatusCode, string(respBody))
}

// admin sends a request as the logged-in admin.
func (b *apiBundle) admin(method, path string, form url.Values) (*http.Response, []byte) {
	b.t.Helper()
	var rd io.Reader
	if form != nil {
		rd = strings.NewReader(form.Encode())
	}
	req, err := http.NewRequest(method, b.srv.URL+path, rd)
	require.NoError(b.t, err)
	if form != nil {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	req.AddCookie(&http.Cookie{Name: "relaydesk_session", Value: b.session})
	return b.do(req)
}

// csrf returns the admin session's CSRF token.
func (b *apiBundle) csrf() string {
	b.t.Helper()
	sess, err := b.store.SessionByToken(context.Background(), b.session, time.Hour)
	require.NoError(b.t, err)
	return sess.CSRFToken
}

func (b *apiBundle) eventually(cond func() bool, msg string) {
	b.t.Helper()
	require.Eventually(b.t, cond, 30*time.Second, 50*time.Millisecond, msg)
}

func (b *apiBundle) count(sql string, args ...any) int {
	b.t.Helper()
	var n int
	require.NoError(b.t, b.store.Pool().QueryRow(context.Background(), sql, args...).Scan(&n))
	return n
}

// chatOf returns the chat id of a customer on the main number.
func (b *apiBundle) chatOf(waID string) store.ConversationID {
	b.t.Helper()
	ch, err := b.store.APIChatByNumber(context.Background(), b.mainAcc, waID)
	require.NoError(b.t, err)
	return ch.ID
}

func decode[T any](t testing.TB, body []byte) T {
	t.Helper()
	var v T
	require.NoError(t, json.Unmarshal(body, &v), string(body))
	return v
}

// handler returns the server's root handler (the Echo instance).
func (b *apiBundle) handler() http.Handler { return b.h }

func init() {
	// The reference page is HTML: validate its status and type, not its body.
	openapi3filter.RegisterBodyDecoder("text/html", openapi3filter.FileBodyDecoder)
}
