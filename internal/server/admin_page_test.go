package server_test

import (
	"io/fs"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/relaydesk/relaydesk/web"
)

func TestJobsUI(t *testing.T) {
	t.Parallel()
	b := setupAdmin(t, adminOpts{baseURL: "http://relaydesk.test"})

	t.Run("not logged in", func(t *testing.T) {
		anon := b.agent(t)
		requireRedirect(t, anon.get("/admin/jobs/"), "/admin/login?next=%2Fadmin%2Fjobs%2F")
		require.Equal(t, http.StatusUnauthorized, anon.get("/admin/jobs/api/jobs?state=available").code)
		req := httptest.NewRequest(http.MethodPost, "http://relaydesk.test/admin/jobs/api/jobs/cancel", strings.NewReader(`{"ids":["1"]}`))
		req.Header.Set("Sec-Fetch-Site", "same-origin")
		require.Equal(t, http.StatusUnauthorized, anon.do(req).code)
	})

	a := b.loggedIn(t)
	t.Run("River UI behind the admin login", func(t *testing.T) {
		req := httptest.NewRequest(http.MethodGet, "http://relaydesk.test/admin/jobs/", nil)
		req.Header.Set("Accept", "text/html")
		res := a.do(req)
		require.Equal(t, http.StatusOK, res.code)
		require.Contains(t, res.body, "<title>River</title>")
		require.Contains(t, res.body, `<a id="back-to-admin" href="/admin/numbers"`, "a way back to the admin page")
		require.Contains(t, res.header.Get("Content-Security-Policy"), "script-src 'self'")
		api := a.get("/admin/jobs/api/features")
		require.Equal(t, http.StatusOK, api.code, api.body)
		require.NotContains(t, api.body, "back-to-admin", "the API answers stay as River wrote them")
	})
	t.Run("mutating API calls must come from this origin", func(t *testing.T) {
		call := func(headers map[string]string) int {
			req := httptest.NewRequest(http.MethodPost, "http://relaydesk.test/admin/jobs/api/jobs/cancel", strings.NewReader(`{"ids":["1"]}`))
			req.Header.Set("Content-Type", "application/json")
			for k, v := range headers {
				req.Header.Set(k, v)
			}
			return a.do(req).code
		}
		require.Equal(t, http.StatusForbidden, call(nil), "no Sec-Fetch-Site and no Origin: not provably same-origin")
		require.Equal(t, http.StatusForbidden, call(map[string]string{"Sec-Fetch-Site": "cross-site"}))
		require.Equal(t, http.StatusForbidden, call(map[string]string{"Origin": "https://evil.example"}))
		require.NotEqual(t, http.StatusForbidden, call(map[string]string{"Sec-Fetch-Site": "same-origin"}))
		require.NotEqual(t, http.StatusForbidden, call(map[string]string{"Origin": "http://relaydesk.test"}))
	})
}

func TestAdminPagesAndStatic(t *testing.T) {
	t.Parallel()
	b, a := setupLoggedIn(t)

	t.Run("every page renders", func(t *testing.T) {
		for _, p := range []string{"/admin/numbers", "/admin/numbers/new", "/admin/helpdesks", "/admin/helpdesks/new",
			"/admin/routes", "/admin/routes/new", "/admin/webhooks", "/admin/conversations", "/admin/audit"} {
			res := a.get(p)
			require.Equal(t, http.StatusOK, res.code, p)
			require.Contains(t, res.body, `aria-current="page"`, p)
			require.Equal(t, "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; frame-ancestors 'none'; form-action 'self'",
				res.header.Get("Content-Security-Policy"), p)
		}
		requireRedirect(t, a.get("/admin"), "/admin/numbers")
	})
	t.Run("unknown pages are HTML 404s", func(t *testing.T) {
		res := a.get("/admin/nope")
		require.Equal(t, http.StatusNotFound, res.code)
		require.Contains(t, res.body, "There is no such page.")
	})
	t.Run("unknown pages ask logged-out visitors to log in", func(t *testing.T) {
		requireRedirect(t, b.agent(t).get("/admin/nope"), "/admin/login?next=%2Fadmin%2Fnope")
	})
	t.Run("body limits: 256K for admin forms, 64K for the API-app pages", func(t *testing.T) {
		big := url.Values{"name": {strings.Repeat("x", 100<<10)}}
		require.Equal(t, http.StatusRequestEntityTooLarge, a.post("/admin/apps", big).code)
		requireRejected(t, a.post("/admin/numbers", big), "Use at most 64 characters.")
		huge := url.Values{"name": {strings.Repeat("x", 300<<10)}}
		require.Equal(t, http.StatusRequestEntityTooLarge, a.post("/admin/numbers", huge).code)
	})
	t.Run("the audit log lists changes", func(t *testing.T) {
		require.Contains(t, a.get("/admin/audit").body, "admin.create")
	})
	t.Run("static files are versioned and cached", func(t *testing.T) {
		page := a.get("/admin/numbers")
		m := regexp.MustCompile(`href="(/admin/static/admin\.css\?v=[0-9a-f]+)"`).FindStringSubmatch(page.body)
		require.NotNil(t, m)
		res := b.agent(t).get(m[1])
		require.Equal(t, http.StatusOK, res.code)
		require.Contains(t, res.header.Get("Content-Type"), "text/css")
		require.Equal(t, "public, max-age=31536000, immutable", res.header.Get("Cache-Control"))
		js := b.agent(t).get("/admin/static/admin.js")
		require.Equal(t, http.StatusOK, js.code)
		require.Equal(t, "no-cache", js.header.Get("Cache-Control"))
	})
}

// TestTemplatesFollowTheCSP keeps inline scripts, styles and event handlers
// out of the templates: the Content-Security-Policy would block them.
func TestTemplatesFollowTheCSP(t *testing.T) {
	t.Parallel()
	bad := regexp.MustCompile(`(?i)(\sstyle=|<style|<script>|<script\s+(?:[^>]*\s)?(?:type="module")?>|\son[a-z]+=|javascript:)`)
	err := fs.WalkDir(web.Templates, ".", func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := fs.ReadFile(web.Templates, path)
		require.NoError(t, err)
		require.Empty(t, bad.FindAllString(string(b), -1), "%s has inline script or style", path)
		return nil
	})
	require.NoError(t, err)
}
