package server_test

import (
	"context"
	"crypto/sha256"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/relaydesk/relaydesk/internal/store"
)

func sessionCookie(t *testing.T, res response, name string) *http.Cookie {
	t.Helper()
	for _, c := range (&http.Response{Header: res.header}).Cookies() {
		if c.Name == name && c.Value != "" {
			return c
		}
	}
	return nil
}

func TestLogin(t *testing.T) {
	t.Parallel()
	b := setupAdmin(t, adminOpts{})

	t.Run("valid credentials start a session", func(t *testing.T) {
		a := b.agent(t)
		require.Equal(t, http.StatusOK, a.get("/admin/login").code)
		res := a.post("/admin/login", url.Values{"email": {"  ADMIN@example.com "}, "password": {admPassword}})
		requireRedirect(t, res, "/admin/numbers")
		ck := sessionCookie(t, res, "relaydesk_session")
		require.NotNil(t, ck)
		require.True(t, ck.HttpOnly)
		require.False(t, ck.Secure, "plain http: no Secure flag")
		require.Equal(t, http.SameSiteLaxMode, ck.SameSite)
		require.Equal(t, "/", ck.Path)
		sum := sha256.Sum256([]byte(ck.Value))
		require.Equal(t, 1, b.count(t, "SELECT count(*) FROM admin_sessions WHERE id_hash = $1", sum[:]),
			"the table holds the SHA-256 of the cookie, not the cookie")
		require.Equal(t, 0, b.count(t, "SELECT count(*) FROM admin_sessions WHERE id_hash = $1", []byte(ck.Value)))
		page := a.get("/admin/numbers")
		require.Equal(t, http.StatusOK, page.code)
		require.Contains(t, page.body, admEmail)
		require.Equal(t, "no-store", page.header.Get("Cache-Control"))
	})
	t.Run("login rotates a session the browser already had", func(t *testing.T) {
		victim := b.loggedIn(t) // a session whose cookie an attacker planted in another browser
		planted := victim.jar.Cookies(victim.base)
		a := b.agent(t)
		a.get("/admin/login")
		a.jar.SetCookies(a.base, planted)
		res := a.post("/admin/login", url.Values{"email": {admEmail}, "password": {admPassword}})
		requireRedirect(t, res, "/admin/numbers")
		fresh := sessionCookie(t, res, "relaydesk_session")
		require.NotNil(t, fresh)
		for _, c := range planted {
			if c.Name == "relaydesk_session" {
				require.NotEqual(t, c.Value, fresh.Value)
			}
		}
		requireRedirect(t, victim.get("/admin/numbers"), "/admin/login?expired=1&next=%2Fadmin%2Fnumbers")
	})
	t.Run("wrong password", func(t *testing.T) {
		a := b.agent(t)
		a.get("/admin/login")
		res := a.post("/admin/login", url.Values{"email": {admEmail}, "password": {"not the password"}})
		require.Equal(t, http.StatusUnauthorized, res.code)
		require.Contains(t, res.body, "do not match an admin account")
		require.Nil(t, sessionCookie(t, res, "relaydesk_session"))
	})
	t.Run("unknown email reads the same", func(t *testing.T) {
		a := b.agent(t)
		a.get("/admin/login")
		res := a.post("/admin/login", url.Values{"email": {"nobody@example.com"}, "password": {admPassword}})
		require.Equal(t, http.StatusUnauthorized, res.code)
		require.Contains(t, res.body, "do not match an admin account")
	})
	t.Run("empty form", func(t *testing.T) {
		a := b.agent(t)
		a.get("/admin/login")
		requireRejected(t, a.post("/admin/login", url.Values{"email": {""}, "password": {""}}), "Enter your email and password.")
	})
	t.Run("CSRF token missing", func(t *testing.T) {
		a := b.agent(t)
		a.get("/admin/login")
		res := a.postRaw("/admin/login", url.Values{"email": {admEmail}, "password": {admPassword}})
		require.Equal(t, http.StatusForbidden, res.code)
		require.Nil(t, sessionCookie(t, res, "relaydesk_session"))
	})
	t.Run("CSRF token not matching its cookie", func(t *testing.T) {
		a := b.agent(t)
		a.get("/admin/login")
		res := a.post("/admin/login", url.Values{"_csrf": {"forged-token-forged-token-forged-token"}, "email": {admEmail}, "password": {admPassword}})
		require.Equal(t, http.StatusForbidden, res.code)
	})
	t.Run("next stays inside the admin page", func(t *testing.T) {
		for next, want := range map[string]string{
			"/admin/routes":             "/admin/routes",
			"https://evil.example/":     "/admin/numbers",
			"//evil.example/admin":      "/admin/numbers",
			"/healthz":                  "/admin/numbers",
			"/admin/webhooks?source=x":  "/admin/webhooks?source=x",
			"/admin\\@evil.example":     "/admin/numbers",
			"/admin/login?next=/admin/": "/admin/numbers",
		} {
			a := b.agent(t)
			a.get("/admin/login")
			res := a.post("/admin/login", url.Values{"email": {admEmail}, "password": {admPassword}, "next": {next}})
			requireRedirect(t, res, want)
		}
	})
	t.Run("a page asks for login and comes back", func(t *testing.T) {
		a := b.agent(t)
		res := a.get("/admin/routes?x=1")
		requireRedirect(t, res, "/admin/login?next=%2Fadmin%2Froutes%3Fx%3D1")
		login := a.get(res.location)
		require.Contains(t, login.body, "Log in to continue.")
		res = a.post("/admin/login", url.Values{"email": {admEmail}, "password": {admPassword}, "next": {"/admin/routes?x=1"}})
		requireRedirect(t, res, "/admin/routes?x=1")
	})
}

func TestLoginRateLimits(t *testing.T) {
	t.Parallel()
	b := setupAdmin(t, adminOpts{})
	from := func(ip string) func(email, password string) response {
		a := b.agent(t)
		a.ip = ip
		a.get("/admin/login")
		return func(email, password string) response {
			return a.post("/admin/login", url.Values{"email": {email}, "password": {password}})
		}
	}
	requireRedirect(t, from("192.0.2.10")(admEmail, admPassword), "/admin/numbers") // the owner's usual IP is known from now on

	t.Run("a guesser is slowed, the owner is not locked out", func(t *testing.T) {
		guesser := from("198.51.100.7")
		for i := 0; i < 3; i++ {
			require.Equal(t, http.StatusUnauthorized, guesser(admEmail, "wrong password").code, "attempt %d", i+1)
		}
		res := guesser(admEmail, admPassword)
		require.Equal(t, http.StatusTooManyRequests, res.code, "the guesser waits, even with the right password")
		require.Contains(t, res.body, "Too many login attempts. Try again in 1 second.")
		require.Equal(t, "1", res.header.Get("Retry-After"))
		require.Equal(t, 3, b.count(t, "SELECT tokens::integer FROM rate_buckets WHERE key = $1", "login-failures:"+admEmail+"|198.51.100.7"),
			"the refused attempt was not counted, and the count lives in PostgreSQL for every replica")

		requireRedirect(t, from("192.0.2.10")(admEmail, admPassword), "/admin/numbers")
		requireRedirect(t, from("203.0.113.5")(admEmail, admPassword), "/admin/numbers")
	})
	t.Run("a guesser spread over many IPs slows new IPs only", func(t *testing.T) {
		for i := 0; i < 10-3; i++ { // accountFree, less the three wrong passwords above
			require.Equal(t, http.StatusUnauthorized, from(fmt.Sprintf("198.51.100.%d", 100+i))(admEmail, "wrong").code)
		}
		require.Equal(t, http.StatusTooManyRequests, from("198.51.100.200")(admEmail, admPassword).code,
			"an IP the account never logged in from waits")
		requireRedirect(t, from("192.0.2.10")(admEmail, admPassword), "/admin/numbers")
		require.Positive(t, b.count(t, "SELECT tokens::integer FROM rate_buckets WHERE key = $1", "login-failures:"+admEmail),
			"the owner's login gives the guesser no fresh attempts")
	})
	t.Run("other accounts are not slowed", func(t *testing.T) {
		_, err := b.store.CreateAdmin(context.Background(), "second@example.com", admPassword, store.Actor{Name: "test"})
		require.NoError(t, err)
		requireRedirect(t, from("198.51.100.7")("second@example.com", admPassword), "/admin/numbers")
	})
	t.Run("the IP limit stops guessing across accounts", func(t *testing.T) {
		g := from("198.51.100.66")
		codes := map[int]int{}
		for i := 0; i < 21; i++ {
			codes[g("guess"+strings.Repeat("x", i)+"@example.com", "wrong password").code]++
		}
		require.Equal(t, map[int]int{http.StatusUnauthorized: 20, http.StatusTooManyRequests: 1}, codes)
	})
}

func TestSessionExpiry(t *testing.T) {
	t.Parallel()
	b := setupAdmin(t, adminOpts{})
	ctx := context.Background()

	t.Run("idle", func(t *testing.T) {
		a := b.loggedIn(t)
		_, err := b.pool.Exec(ctx, `UPDATE admin_sessions SET last_seen_at = now() - interval '3 hours'`)
		require.NoError(t, err)
		requireRedirect(t, a.get("/admin/numbers"), "/admin/login?expired=1&next=%2Fadmin%2Fnumbers")
	})
	t.Run("absolute", func(t *testing.T) {
		a := b.loggedIn(t)
		_, err := b.pool.Exec(ctx, `UPDATE admin_sessions SET expires_at = now() - interval '1 second'`)
		require.NoError(t, err)
		requireRedirect(t, a.get("/admin/helpdesks"), "/admin/login?expired=1&next=%2Fadmin%2Fhelpdesks")
	})
	t.Run("a forged cookie is no session", func(t *testing.T) {
		a := b.agent(t)
		a.jar.SetCookies(a.base, []*http.Cookie{{Name: "relaydesk_session", Value: "forged"}})
		requireRedirect(t, a.get("/admin/numbers"), "/admin/login?expired=1&next=%2Fadmin%2Fnumbers")
	})
}

func TestLogout(t *testing.T) {
	t.Parallel()
	b := setupAdmin(t, adminOpts{})

	t.Run("valid", func(t *testing.T) {
		a := b.loggedIn(t)
		before := b.count(t, "SELECT count(*) FROM admin_sessions")
		requireRedirect(t, a.post("/admin/logout", nil), "/admin/login?bye=1")
		require.Equal(t, before-1, b.count(t, "SELECT count(*) FROM admin_sessions"))
		require.Contains(t, a.get("/admin/login?bye=1").body, "You are logged out.")
		requireRedirect(t, a.get("/admin/numbers"), "/admin/login?next=%2Fadmin%2Fnumbers")
	})
	t.Run("CSRF token missing", func(t *testing.T) {
		a := b.loggedIn(t)
		res := a.post("/admin/logout", url.Values{"_csrf": {""}})
		require.Equal(t, http.StatusForbidden, res.code)
		require.Equal(t, http.StatusOK, a.get("/admin/numbers").code, "still logged in")
	})
	t.Run("not logged in", func(t *testing.T) {
		requireRedirect(t, b.agent(t).postRaw("/admin/logout", nil), "/admin/login")
	})
}

func TestSetupPage(t *testing.T) {
	t.Parallel()
	b := setupAdmin(t, adminOpts{noAdmin: true})
	ctx := context.Background()
	require.Equal(t, 1, b.count(t, "SELECT count(*) FROM admin_setup_tokens"), "StartAdmin made a token while no admin exists")
	tok, err := b.store.NewSetupToken(ctx, 0)
	require.NoError(t, err)
	_, err = b.pool.Exec(ctx, `UPDATE admin_setup_tokens SET expires_at = now() + interval '1 hour'`)
	require.NoError(t, err)

	a := b.agent(t)
	require.Contains(t, a.get("/admin/login").body, "No admin account exists yet")
	form := func(password, confirm string) url.Values {
		return url.Values{"token": {tok}, "email": {"first@example.com"}, "password": {password}, "confirm": {confirm}}
	}

	t.Run("wrong token", func(t *testing.T) {
		res := a.get("/admin/setup?token=wrong")
		require.Equal(t, http.StatusForbidden, res.code)
		require.Contains(t, res.body, "setup link is wrong or has expired")
		a.get("/admin/setup?token=" + url.QueryEscape(tok))
		res = a.post("/admin/setup", url.Values{"token": {"wrong"}, "email": {"x@example.com"}, "password": {admPassword}, "confirm": {admPassword}})
		require.Equal(t, http.StatusForbidden, res.code)
		require.Zero(t, b.count(t, "SELECT count(*) FROM admin_users"))
	})
	t.Run("CSRF token missing", func(t *testing.T) {
		res := a.postRaw("/admin/setup", form(admPassword, admPassword))
		require.Equal(t, http.StatusForbidden, res.code)
		require.Zero(t, b.count(t, "SELECT count(*) FROM admin_users"))
	})
	t.Run("invalid", func(t *testing.T) {
		require.Equal(t, http.StatusOK, a.get("/admin/setup?token="+url.QueryEscape(tok)).code)
		res := requireRejected(t, a.post("/admin/setup", form("short", "short")), "Use 12 to 256 characters.")
		require.NotContains(t, res.body, "Use a password needs", "a sentence, not an error string glued to a verb")
		require.Contains(t, res.body, `aria-describedby="e-password"`, "the field is marked")
		bad := form(admPassword, admPassword)
		bad.Set("email", "not an email")
		res = requireRejected(t, a.post("/admin/setup", bad), "Enter an email address such as admin@example.com.")
		res = a.get("/admin/setup?token=wrong")
		require.NotContains(t, res.body, "`", "no literal backticks")
		res = a.post("/admin/setup", form(admPassword, admPassword+"!"))
		require.Contains(t, res.body, "The two passwords differ.")
		require.Zero(t, b.count(t, "SELECT count(*) FROM admin_users"))
	})
	t.Run("valid", func(t *testing.T) {
		a.get("/admin/setup?token=" + url.QueryEscape(tok))
		res := a.post("/admin/setup", form(admPassword, admPassword))
		requireRedirect(t, res, "/admin/numbers")
		page := a.get("/admin/numbers")
		require.Equal(t, http.StatusOK, page.code)
		require.Contains(t, page.body, "Welcome! Your admin account is ready.")
		require.Equal(t, 1, b.count(t, "SELECT count(*) FROM admin_users WHERE email = 'first@example.com'"))
		require.Zero(t, b.count(t, "SELECT count(*) FROM admin_setup_tokens"), "setup closes for good")
		require.Equal(t, 1, b.count(t, "SELECT count(*) FROM audit_log WHERE action = 'admin.create' AND actor = 'setup'"))
	})
	t.Run("closed once an admin exists", func(t *testing.T) {
		requireRedirect(t, b.agent(t).get("/admin/setup?token="+url.QueryEscape(tok)), "/admin/login")
		newTok, err := b.store.NewSetupToken(ctx, 3600e9)
		require.NoError(t, err)
		require.Empty(t, newTok, "no new setup token once an admin exists")
	})
}

func TestCookiesOverHTTPS(t *testing.T) {
	t.Parallel()
	b := setupAdmin(t, adminOpts{baseURL: "https://relaydesk.test", tls: true})
	a := b.agent(t)
	res := a.get("/admin/login")
	ck := sessionCookie(t, res, "__Host-relaydesk_csrf")
	require.NotNil(t, ck)
	require.True(t, ck.Secure)
	a.base, _ = url.Parse("https://relaydesk.test")
	a.jar.SetCookies(a.base, []*http.Cookie{ck})
	res = a.post("/admin/login", url.Values{"email": {admEmail}, "password": {admPassword}})
	require.Equal(t, http.StatusSeeOther, res.code, res.body)
	sess := sessionCookie(t, res, "__Host-relaydesk_session")
	require.NotNil(t, sess)
	require.True(t, sess.Secure)
	require.True(t, sess.HttpOnly)
	require.Equal(t, http.SameSiteLaxMode, sess.SameSite)
}

func TestCrossSiteRequestsAreRefused(t *testing.T) {
	t.Parallel()
	_, a := setupLoggedIn(t)
	for name, h := range map[string][2]string{
		"Sec-Fetch-Site cross-site": {"Sec-Fetch-Site", "cross-site"},
		"Sec-Fetch-Site same-site":  {"Sec-Fetch-Site", "same-site"},
		"foreign Origin":            {"Origin", "https://evil.example"},
	} {
		t.Run(name, func(t *testing.T) {
			form := url.Values{"_csrf": {a.csrf}}
			req := newFormRequest("/admin/logout", form)
			req.Header.Set(h[0], h[1])
			res := a.do(req)
			require.Equal(t, http.StatusForbidden, res.code)
		})
	}
	t.Run("same origin passes", func(t *testing.T) {
		req := newFormRequest("/admin/logout", url.Values{"_csrf": {a.csrf}})
		req.Header.Set("Sec-Fetch-Site", "same-origin")
		req.Header.Set("Origin", "http://relaydesk.test")
		requireRedirect(t, a.do(req), "/admin/login?bye=1")
	})
}

func newFormRequest(path string, form url.Values) *http.Request {
	req := httptest.NewRequest(http.MethodPost, "http://relaydesk.test"+path, strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	return req
}
