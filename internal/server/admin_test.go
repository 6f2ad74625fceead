package server_test

import (
	"context"
	"html"
	"io"
	"log/slog"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"os"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/riverqueue/river"
	"github.com/stretchr/testify/require"

	"github.com/relaydesk/relaydesk/internal/app"
	"github.com/relaydesk/relaydesk/internal/bridge"
	"github.com/relaydesk/relaydesk/internal/config"
	"github.com/relaydesk/relaydesk/internal/declare"
	"github.com/relaydesk/relaydesk/internal/jobs"
	"github.com/relaydesk/relaydesk/internal/secret"
	"github.com/relaydesk/relaydesk/internal/server"
	"github.com/relaydesk/relaydesk/internal/store"
	"github.com/relaydesk/relaydesk/internal/testdb"
	"github.com/relaydesk/relaydesk/internal/whatsapp/whatsapptest"
)

const (
	admEmail    = "admin@example.com"
	admPassword = "correct horse battery staple"
)

// adminBundle is a server with an admin account, a fake Graph API and a
// browser-like agent that keeps cookies.
type adminBundle struct {
	handler http.Handler
	server  *server.Server
	pool    *pgxpool.Pool
	store   *store.Store
	graph   *whatsapptest.Server
	river   *river.Client[pgx.Tx]
}

type adminOpts struct {
	baseURL string // RELAYDESK_BASE_URL; "" derives it from requests
	tls     bool
	noAdmin bool // start without an admin account (setup page)
	// publicURLsOnly leaves RELAYDESK_ALLOW_PRIVATE_URLS unset: loopback
	// Graph and helpdesk URLs are refused.
	publicURLsOnly bool
}

func setupAdmin(t *testing.T, o adminOpts) *adminBundle {
	t.Helper()
	ctx := context.Background()
	pool := testdb.New(t)
	key, err := secret.ParseKey(secret.GenerateKey())
	require.NoError(t, err)
	kr, err := secret.NewKeyring(key, nil)
	require.NoError(t, err)
	st := store.New(pool, kr)
	if !o.noAdmin {
		_, err = st.CreateAdmin(ctx, admEmail, admPassword, store.Actor{Name: "test"})
		require.NoError(t, err)
	}

	log := slog.New(slog.DiscardHandler)
	if os.Getenv("RELAYDESK_TEST_LOG") != "" {
		log = slog.New(slog.NewTextHandler(os.Stderr, nil))
	}
	base := o.baseURL
	if base == "" {
		base = "http://relaydesk.test"
	}
	br := bridge.New(bridge.Opts{Store: st, Logger: log, Connectors: app.ConnectorFactory(st, base)})
	client, err := jobs.NewClient(jobs.Opts{Store: st, Logger: log, InsertOnly: true, RegisterWorkers: jobs.AddBridgeWorkers(br)})
	require.NoError(t, err)
	br.SetJobs(client)
	opts := server.Opts{Logger: log, Store: st, Bridge: br, Registry: prometheus.NewRegistry(), WebhookMaxBytes: 64 << 10,
		River: client, Connectors: app.ConnectorFactory(st, base), TLS: o.tls,
		AllowPrivateURLs: !o.publicURLsOnly}
	if o.baseURL != "" {
		opts.BaseURL, err = url.Parse(o.baseURL)
		require.NoError(t, err)
	}
	srv := server.New(opts)
	sctx, cancel := context.WithCancel(ctx)
	t.Cleanup(cancel)
	require.NoError(t, srv.StartAdmin(sctx))
	return &adminBundle{handler: srv.Handler(), server: srv, pool: pool, store: st,
		graph: whatsapptest.Start(t, whatsapptest.Options{}), river: client}
}

// agent is a browser without JavaScript: it keeps cookies and reads the
// CSRF token of the last page.
type agent struct {
	t    *testing.T
	b    *adminBundle
	jar  *cookiejar.Jar
	base *url.URL
	csrf string
	ip   string // the client's address; "" is httptest's 192.0.2.1
}

func (b *adminBundle) agent(t *testing.T) *agent {
	t.Helper()
	jar, err := cookiejar.New(nil)
	require.NoError(t, err)
	base, _ := url.Parse("http://relaydesk.test")
	return &agent{t: t, b: b, jar: jar, base: base}
}

// response is a finished request.
type response struct {
	code     int
	body     string
	location string
	header   http.Header
}

var csrfRe = regexp.MustCompile(`name="_csrf" value="([^"]+)"`)

func (a *agent) do(req *http.Request) response {
	a.t.Helper()
	for _, c := range a.jar.Cookies(a.base) {
		req.AddCookie(c)
	}
	if a.ip != "" {
		req.RemoteAddr = a.ip + ":40000"
	}
	rec := httptest.NewRecorder()
	a.b.handler.ServeHTTP(rec, req)
	res := rec.Result()
	a.jar.SetCookies(a.base, res.Cookies())
	body, err := io.ReadAll(res.Body)
	require.NoError(a.t, err)
	if m := csrfRe.FindStringSubmatch(string(body)); m != nil {
		a.csrf = html.UnescapeString(m[1])
	}
	return response{code: res.StatusCode, body: string(body), location: res.Header.Get("Location"), header: res.Header}
}

func (a *agent) get(path string) response {
	a.t.Helper()
	return a.do(httptest.NewRequest(http.MethodGet, "http://relaydesk.test"+path, nil))
}

// post sends a form with the current CSRF token (unless form sets _csrf).
func (a *agent) post(path string, form url.Values) response {
	a.t.Helper()
	if form == nil {
		form = url.Values{}
	}
	if _, ok := form["_csrf"]; !ok {
		form.Set("_csrf", a.csrf)
	}
	return a.postRaw(path, form)
}

// postRaw sends a form as is.
func (a *agent) postRaw(path string, form url.Values) response {
	a.t.Helper()
	req := httptest.NewRequest(http.MethodPost, "http://relaydesk.test"+path, strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	return a.do(req)
}

// applyFile applies a configuration file the way RELAYDESK_CONFIG does.
func applyFile(t testing.TB, st *store.Store, f *config.File) {
	t.Helper()
	_, err := declare.Apply(context.Background(), st, f)
	require.NoError(t, err)
}

// created loads the page of a creation form, posts form to path and
// returns the id of the new entry, which the answer redirects to
// (path/{id}).
func created[T ~int64](a *agent, page, path string, form url.Values) T {
	a.t.Helper()
	a.get(page)
	res := a.post(path, form)
	require.Equal(a.t, http.StatusSeeOther, res.code, res.body)
	id, err := strconv.ParseInt(strings.TrimPrefix(res.location, path+"/"), 10, 64)
	require.NoError(a.t, err)
	return T(id)
}

// login logs in as the bundle's admin and loads a page for its CSRF token.
func (a *agent) login() {
	a.t.Helper()
	require.Equal(a.t, http.StatusOK, a.get("/admin/login").code)
	res := a.post("/admin/login", url.Values{"email": {admEmail}, "password": {admPassword}})
	require.Equal(a.t, http.StatusSeeOther, res.code, res.body)
	require.Equal(a.t, http.StatusOK, a.get("/admin/numbers").code)
}

// setupLoggedIn is setupAdmin with default options and an agent logged in
// as the admin.
func setupLoggedIn(t *testing.T) (*adminBundle, *agent) {
	t.Helper()
	b := setupAdmin(t, adminOpts{})
	return b, b.loggedIn(t)
}

// loggedIn returns an agent logged in as the admin.
func (b *adminBundle) loggedIn(t *testing.T) *agent {
	t.Helper()
	a := b.agent(t)
	a.login()
	return a
}

func (b *adminBundle) count(t *testing.T, sql string, args ...any) int {
	t.Helper()
	var n int
	require.NoError(t, b.pool.QueryRow(context.Background(), sql, args...).Scan(&n))
	return n
}

// requireRejected checks that a form was refused with 422, shown again
// with each of the messages want, and returns the response.
func requireRejected(t *testing.T, res response, want ...string) response {
	t.Helper()
	require.Equal(t, http.StatusUnprocessableEntity, res.code, res.body)
	for _, msg := range want {
		require.Contains(t, res.body, msg)
	}
	return res
}

// requireRedirect checks a 303 to path.
func requireRedirect(t *testing.T, res response, path string) {
	t.Helper()
	require.Equal(t, http.StatusSeeOther, res.code, res.body)
	require.Equal(t, path, res.location)
}
