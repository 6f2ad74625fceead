package server_test

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"html"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/relaydesk/relaydesk/connectors"
	"github.com/relaydesk/relaydesk/connectors/zendesk/zendesktest"
	"github.com/relaydesk/relaydesk/internal/store"
)

// zendeskForm is a valid API-token form for the fake Zendesk.
func zendeskForm(zd *zendesktest.Fake, name string) url.Values {
	cfg := zd.Config()
	return url.Values{
		"kind": {"zendesk"}, "name": {name}, "base_url": {cfg.BaseURL},
		"settings.auth_method": {"api_token"}, "settings.subdomain": {zendesktest.Subdomain},
		"credentials.email": {cfg.Credentials["email"]}, "credentials.api_token": {cfg.Credentials["api_token"]},
	}
}

// addHelpdesk creates a connection through the form and returns its id.
func (a *agent) addHelpdesk(form url.Values) store.ConnectionID {
	a.t.Helper()
	return created[store.ConnectionID](a, "/admin/helpdesks/new?kind="+form.Get("kind"), "/admin/helpdesks", form)
}

func (b *adminBundle) connection(t *testing.T, id store.ConnectionID) store.Connection {
	t.Helper()
	c, err := b.store.ConnectionByID(context.Background(), id)
	require.NoError(t, err)
	return c
}

func TestHelpdeskCreate(t *testing.T) {
	t.Parallel()
	b, a := setupLoggedIn(t)
	zd := zendesktest.New(t)

	t.Run("the kind picker lists every connector", func(t *testing.T) {
		page := a.get("/admin/helpdesks/new")
		require.Equal(t, http.StatusOK, page.code)
		require.Contains(t, page.body, `href="/admin/helpdesks/new?kind=zendesk"`)
	})
	t.Run("the form is generated from the description", func(t *testing.T) {
		page := a.get("/admin/helpdesks/new?kind=zendesk")
		require.Equal(t, http.StatusOK, page.code)
		for _, name := range []string{"settings.auth_method", "settings.subdomain", "credentials.email", "credentials.api_token",
			"settings.client_id", "credentials.client_secret"} {
			require.Contains(t, page.body, `name="`+name+`"`)
		}
		require.Contains(t, page.body, `data-auth="oauth2"`, "fields of one auth method are marked for the stylesheet")
		require.Contains(t, page.body, `type="password" name="credentials.api_token"`)
	})
	t.Run("every registered connector gets a form", func(t *testing.T) {
		for _, reg := range connectors.All() {
			d := reg.Description
			page := a.get("/admin/helpdesks/new?kind=" + d.Kind)
			require.Equal(t, http.StatusOK, page.code, d.Kind)
			require.Contains(t, page.body, "Connect "+html.EscapeString(d.DisplayName), d.Kind)
			for _, f := range d.Fields {
				require.Contains(t, page.body, `name="`+string(f.Group)+"."+f.Key+`"`, "%s: %s", d.Kind, f.Key)
			}
			// An empty form is refused with the description's own messages.
			res := a.post("/admin/helpdesks", url.Values{"kind": {d.Kind}, "name": {"empty-" + d.Kind}})
			require.Equal(t, http.StatusUnprocessableEntity, res.code, d.Kind)
			if slices.ContainsFunc(d.Fields, func(f connectors.Field) bool { return f.Required && len(f.AuthMethods) == 0 }) {
				require.Contains(t, res.body, "is required.", d.Kind)
			}
		}
	})
	t.Run("valid: saved, webhook installed, secret sealed", func(t *testing.T) {
		id := a.addHelpdesk(zendeskForm(zd, "zendesk-main"))
		conn := b.connection(t, id)
		page := a.get("/admin/helpdesks/" + fmt.Sprint(id))
		require.Contains(t, page.body, "relaydesk installed its webhook in Zendesk.")
		hooks := zd.Webhooks()
		require.Len(t, hooks, 1)
		require.Equal(t, "http://relaydesk.test/webhooks/helpdesk/"+conn.PublicID, hooks[0].Endpoint)
		secret, err := b.store.WebhookSecret(conn)
		require.NoError(t, err)
		require.Equal(t, zd.WebhookSecret(), secret)
		creds, err := b.store.Credentials(conn)
		require.NoError(t, err)
		require.Equal(t, zendesktest.APIToken, creds["api_token"])
		require.NotContains(t, page.body, zendesktest.APIToken, "secrets are write-only")
		require.Contains(t, page.body, "http://relaydesk.test/webhooks/helpdesk/"+conn.PublicID)
		require.Equal(t, "healthy", conn.Health)
		require.Equal(t, 1, b.count(t, "SELECT count(*) FROM audit_log WHERE action = 'helpdesk.create'"))
		require.Equal(t, 1, b.count(t, "SELECT count(*) FROM audit_log WHERE action = 'helpdesk.webhook_secret' AND detail->>'how' = 'installed'"))
		require.Zero(t, b.count(t, "SELECT count(*) FROM audit_log WHERE detail::text LIKE '%"+zendesktest.APIToken+"%'"))
	})
	t.Run("invalid: errors next to the fields", func(t *testing.T) {
		form := zendeskForm(zd, "")
		form.Set("settings.subdomain", "")
		form.Set("credentials.email", "not-an-email")
		form.Set("base_url", "ftp://x")
		res := requireRejected(t, a.post("/admin/helpdesks", form),
			"Give it a name.", "Subdomain is required (or give the connection&#39;s base_url).", "Agent email must be an email address.", "Enter an http(s) URL")
		require.Contains(t, res.body, `id="e-settings.subdomain"`)
		require.NotContains(t, res.body, zendesktest.APIToken)
	})
	t.Run("duplicate name", func(t *testing.T) {
		requireRejected(t, a.post("/admin/helpdesks", zendeskForm(zd, "zendesk-main")), "Another helpdesk connection already has this name.")
	})
	t.Run("unknown kind", func(t *testing.T) {
		form := zendeskForm(zd, "x")
		form.Set("kind", "nope")
		require.Equal(t, http.StatusUnprocessableEntity, a.post("/admin/helpdesks", form).code)
	})
	t.Run("CSRF token missing", func(t *testing.T) {
		form := zendeskForm(zd, "csrf")
		form.Set("_csrf", "")
		require.Equal(t, http.StatusForbidden, a.post("/admin/helpdesks", form).code)
		require.Zero(t, b.count(t, "SELECT count(*) FROM helpdesk_connections WHERE name = 'csrf'"))
	})
	t.Run("not logged in", func(t *testing.T) {
		requireRedirect(t, b.agent(t).postRaw("/admin/helpdesks", zendeskForm(zd, "anon")), "/admin/login")
		require.Zero(t, b.count(t, "SELECT count(*) FROM helpdesk_connections WHERE name = 'anon'"))
	})
}

func TestHelpdeskUpdateTestAndRotate(t *testing.T) {
	t.Parallel()
	b, a := setupLoggedIn(t)
	zd := zendesktest.New(t)
	id := a.addHelpdesk(zendeskForm(zd, "zendesk-main"))
	path := "/admin/helpdesks/" + fmt.Sprint(id)

	t.Run("test connection", func(t *testing.T) {
		requireRedirect(t, a.post(path+"/test", nil), path)
		require.Contains(t, a.get(path).body, "Connection works: Zendesk accepted relaydesk&#39;s credentials.")
	})
	t.Run("an empty secret keeps the stored token", func(t *testing.T) {
		form := zendeskForm(zd, "zendesk-renamed")
		form.Set("credentials.api_token", "")
		requireRedirect(t, a.post(path, form), path)
		conn := b.connection(t, id)
		require.Equal(t, "zendesk-renamed", conn.Name)
		creds, err := b.store.Credentials(conn)
		require.NoError(t, err)
		require.Equal(t, zendesktest.APIToken, creds["api_token"])
		require.Len(t, zd.Webhooks(), 1, "saving again reuses the installed webhook")
	})
	t.Run("a token Zendesk refuses is a field error and nothing is saved", func(t *testing.T) {
		form := zendeskForm(zd, "zendesk-renamed")
		form.Set("credentials.api_token", "wrong-token")
		res := requireRejected(t, a.post(path, form), "Zendesk refused these credentials: check them")
		require.Contains(t, res.body, `aria-describedby="e-credentials.email"`, "the credentials are marked")
		creds, err := b.store.Credentials(b.connection(t, id))
		require.NoError(t, err)
		require.Equal(t, zendesktest.APIToken, creds["api_token"])
		require.Zero(t, b.count(t, `SELECT count(*) FROM audit_log WHERE action = 'helpdesk.update'
			AND detail->'changed' ? 'credentials.api_token (replaced)'`))
	})
	t.Run("invalid", func(t *testing.T) {
		form := zendeskForm(zd, "zendesk-renamed")
		form.Set("settings.subdomain", "Not A Subdomain!")
		requireRejected(t, a.post(path, form), "Subdomain has an invalid format.")
	})
	t.Run("rotate the webhook secret", func(t *testing.T) {
		requireRedirect(t, a.post(path+"/webhook", nil), path)
		require.Contains(t, a.get(path).body, "Webhook secret rotated.")
		require.Len(t, zd.Webhooks(), 1, "the old webhook was replaced, not duplicated")
		require.Equal(t, 1, b.count(t, "SELECT count(*) FROM audit_log WHERE action = 'helpdesk.webhook_secret' AND detail->>'how' = 'rotated'"))
	})
	t.Run("disable", func(t *testing.T) {
		requireRedirect(t, a.post(path+"/enabled", url.Values{"enabled": {"false"}}), path)
		require.False(t, b.connection(t, id).Enabled)
		requireRedirect(t, a.post(path+"/enabled", url.Values{"enabled": {"true"}}), path)
	})
	t.Run("CSRF token missing", func(t *testing.T) {
		for _, p := range []string{path, path + "/test", path + "/webhook", path + "/enabled", path + "/connect"} {
			require.Equal(t, http.StatusForbidden, a.post(p, url.Values{"_csrf": {""}, "name": {"x"}}).code, p)
		}
		require.Equal(t, "zendesk-renamed", b.connection(t, id).Name)
	})
	t.Run("not logged in", func(t *testing.T) {
		for _, p := range []string{path, path + "/test", path + "/webhook", path + "/enabled", path + "/connect"} {
			requireRedirect(t, b.agent(t).postRaw(p, url.Values{"name": {"x"}}), "/admin/login")
		}
	})
}

func TestHelpdeskFromTheFileIsReadOnly(t *testing.T) {
	t.Parallel()
	b, a := setupLoggedIn(t)
	zd := zendesktest.New(t)
	conn, path := fileZendesk(t, b, zd, "file-secret")

	page := a.get(path)
	require.Contains(t, page.body, "Managed by the configuration file.")
	require.NotContains(t, page.body, `id="save"`)
	require.NotContains(t, page.body, `id="webhook-install"`)
	require.Contains(t, page.body, "The configuration file gives this connection's <code>webhook_secret</code>")
	for _, p := range []string{path, path + "/enabled"} {
		require.Equal(t, http.StatusForbidden, a.post(p, zendeskForm(zd, "renamed")).code, p)
	}
	requireRedirect(t, a.post(path+"/webhook", nil), path)
	require.Contains(t, a.get(path).body, "The configuration file gives this connection&#39;s webhook_secret, so relaydesk installs nothing in Zendesk.")
	got := b.connection(t, conn.ID)
	require.Equal(t, "zendesk-file", got.Name)
	secret, err := b.store.WebhookSecret(got)
	require.NoError(t, err)
	require.Equal(t, "file-secret", string(secret))
	require.Empty(t, zd.Webhooks())
	requireRedirect(t, a.post(path+"/test", nil), path) // reading is fine
}

// oauthStub stands in front of the fake Zendesk: it answers the OAuth
// token endpoint (checking the PKCE verifier against the challenge sent to
// the authorization URL) and proxies everything else to the fake.
type oauthStub struct {
	*httptest.Server
	mu        sync.Mutex
	challenge string
	exchanges int
}

func newOAuthStub(t *testing.T, zd *zendesktest.Fake) *oauthStub {
	t.Helper()
	target, err := url.Parse(zd.URL)
	require.NoError(t, err)
	proxy := httputil.NewSingleHostReverseProxy(target)
	s := &oauthStub{}
	mux := http.NewServeMux()
	mux.HandleFunc("POST /oauth/tokens", func(w http.ResponseWriter, r *http.Request) {
		require.NoError(t, r.ParseForm())
		s.mu.Lock()
		challenge := s.challenge
		s.exchanges++
		s.mu.Unlock()
		sum := sha256.Sum256([]byte(r.PostForm.Get("code_verifier")))
		ok := r.PostForm.Get("grant_type") == "authorization_code" && r.PostForm.Get("code") == "the-code" &&
			r.PostForm.Get("client_id") == "relaydesk-test" && r.PostForm.Get("client_secret") == "client-secret" &&
			r.PostForm.Get("redirect_uri") == "http://relaydesk.test/admin/oauth/callback" &&
			base64.RawURLEncoding.EncodeToString(sum[:]) == challenge
		w.Header().Set("Content-Type", "application/json")
		if !ok {
			w.WriteHeader(http.StatusBadRequest)
			_ = json.NewEncoder(w).Encode(map[string]string{"error": "invalid_grant", "error_description": "bad code or verifier"})
			return
		}
		_ = json.NewEncoder(w).Encode(map[string]any{"access_token": zendesktest.OAuthToken, "token_type": "bearer",
			"refresh_token": "refresh-1", "expires_in": 3600, "scope": "read write"})
	})
	mux.Handle("/", proxy)
	s.Server = httptest.NewServer(mux)
	t.Cleanup(s.Close)
	return s
}

func TestHelpdeskOAuth(t *testing.T) {
	t.Parallel()
	b := setupAdmin(t, adminOpts{baseURL: "http://relaydesk.test"})
	a := b.loggedIn(t)
	zd := zendesktest.New(t)
	stub := newOAuthStub(t, zd)

	form := url.Values{"kind": {"zendesk"}, "name": {"zendesk-oauth"}, "base_url": {stub.URL},
		"settings.auth_method": {"oauth2"}, "settings.subdomain": {zendesktest.Subdomain},
		"settings.client_id": {"relaydesk-test"}, "credentials.client_secret": {"client-secret"}}
	id := a.addHelpdesk(form)
	path := "/admin/helpdesks/" + fmt.Sprint(id)
	page := a.get(path)
	require.Contains(t, page.body, "Now press “Connect with Zendesk”")
	require.Contains(t, page.body, "http://relaydesk.test/admin/oauth/callback")
	require.Empty(t, zd.Webhooks(), "no webhook before the connection is authorised")

	connect := func(a *agent) url.Values {
		t.Helper()
		res := a.post(path+"/connect", nil)
		require.Equal(t, http.StatusOK, res.code, "a page, not a redirect the form-action policy would block")
		u, err := url.Parse(leaveTarget(t, res.body))
		require.NoError(t, err)
		require.Equal(t, stub.URL+"/oauth/authorizations/new", u.Scheme+"://"+u.Host+u.Path)
		q := u.Query()
		require.Equal(t, "code", q.Get("response_type"))
		require.Equal(t, "relaydesk-test", q.Get("client_id"))
		require.Equal(t, "http://relaydesk.test/admin/oauth/callback", q.Get("redirect_uri"))
		require.Equal(t, "S256", q.Get("code_challenge_method"))
		require.NotEmpty(t, q.Get("code_challenge"))
		require.GreaterOrEqual(t, len(q.Get("state")), 40)
		stub.mu.Lock()
		stub.challenge = q.Get("code_challenge")
		stub.mu.Unlock()
		return q
	}

	t.Run("the state is kept server-side, hashed", func(t *testing.T) {
		q := connect(a)
		require.Equal(t, 1, b.count(t, "SELECT count(*) FROM oauth_states"))
		require.Zero(t, b.count(t, "SELECT count(*) FROM oauth_states WHERE state_hash = $1", []byte(q.Get("state"))))
	})
	t.Run("a state from another session is refused", func(t *testing.T) {
		q := connect(a)
		other := b.loggedIn(t)
		res := other.get("/admin/oauth/callback?code=the-code&state=" + url.QueryEscape(q.Get("state")))
		require.Equal(t, http.StatusBadRequest, res.code)
		require.Contains(t, res.body, "started in another browser session")
		require.False(t, b.connection(t, id).HasOAuthToken())
	})
	t.Run("the helpdesk denies access", func(t *testing.T) {
		q := connect(a)
		res := a.get("/admin/oauth/callback?error=access_denied&error_description=The+admin+said+no&state=" + url.QueryEscape(q.Get("state")))
		requireRedirect(t, res, path)
		require.Contains(t, a.get(path).body, "Zendesk did not grant access.")
	})
	t.Run("valid: code exchanged with the PKCE verifier, token sealed, webhook installed", func(t *testing.T) {
		q := connect(a)
		cb := "/admin/oauth/callback?code=the-code&state=" + url.QueryEscape(q.Get("state"))
		requireRedirect(t, a.get(cb), path)
		page := a.get(path)
		require.Contains(t, page.body, "Connected to Zendesk.")
		require.Contains(t, page.body, "valid until")
		require.Contains(t, page.body, "automatic (relaydesk refreshes")
		conn := b.connection(t, id)
		tok, err := b.store.OAuthToken(conn)
		require.NoError(t, err)
		require.Equal(t, zendesktest.OAuthToken, tok.AccessToken)
		require.Equal(t, "refresh-1", tok.RefreshToken)
		require.Zero(t, b.count(t, "SELECT count(*) FROM helpdesk_connections WHERE position($1::bytea IN oauth_token) > 0",
			[]byte(zendesktest.OAuthToken)), "stored sealed")
		require.Len(t, zd.Webhooks(), 1, "the webhook is installed with the new token")
		require.Equal(t, 1, b.count(t, "SELECT count(*) FROM audit_log WHERE action = 'helpdesk.oauth_connect'"))

		t.Run("the state works once", func(t *testing.T) {
			res := a.get(cb)
			require.Equal(t, http.StatusBadRequest, res.code)
			require.Contains(t, res.body, "already used")
		})
		t.Run("test connection uses the token", func(t *testing.T) {
			requireRedirect(t, a.post(path+"/test", nil), path)
			require.Contains(t, a.get(path).body, "Connection works")
		})
	})
	t.Run("an expired state is refused", func(t *testing.T) {
		q := connect(a)
		_, err := b.pool.Exec(context.Background(), "UPDATE oauth_states SET expires_at = now() - interval '1 second'")
		require.NoError(t, err)
		require.Equal(t, http.StatusBadRequest, a.get("/admin/oauth/callback?code=the-code&state="+url.QueryEscape(q.Get("state"))).code)
	})
	t.Run("not logged in", func(t *testing.T) {
		res := b.agent(t).get("/admin/oauth/callback?code=x&state=y")
		require.Equal(t, http.StatusSeeOther, res.code)
		require.True(t, strings.HasPrefix(res.location, "/admin/login?next="))
	})
}
