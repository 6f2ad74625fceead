package server_test

import (
	"context"
	"html"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/relaydesk/relaydesk/internal/whatsapp/whatsapptest"
)

var hiddenRe = regexp.MustCompile(`<input type="hidden" name="([^"]+)" value="([^"]*)">`)

// TestSessionExpiredOnSave: a form saved after the session expired lands
// on a login page that says so; after login the admin sees what they typed
// (secrets left out), sends it with the new session's CSRF token, and is
// back at the form with their input when it needs the secrets again.
func TestSessionExpiredOnSave(t *testing.T) {
	t.Parallel()
	b, a := setupLoggedIn(t)
	ctx := context.Background()
	a.get("/admin/numbers/new")
	_, err := b.pool.Exec(ctx, `UPDATE admin_sessions SET last_seen_at = now() - interval '3 hours'`)
	require.NoError(t, err)

	form := b.numberForm("support-us", whatsapptest.FixturePhoneNumberID)
	form.Set("_csrf", a.csrf)
	req := postForm("/admin/numbers", form)
	req.Header.Set("Sec-Fetch-Site", "same-origin")
	res := a.do(req)
	require.Equal(t, http.StatusSeeOther, res.code, res.body)
	require.True(t, strings.HasPrefix(res.location, "/admin/login?"), res.location)
	require.Zero(t, b.count(t, "SELECT count(*) FROM whatsapp_accounts"))

	login := a.get(res.location)
	require.Contains(t, login.body, "Your session expired.")
	require.Contains(t, login.body, "Your change was not saved yet, but it is kept")
	require.NotContains(t, login.body, form.Get("app_secret"))
	next := regexp.MustCompile(`name="next" value="([^"]*)"`).FindStringSubmatch(login.body)
	require.NotNil(t, next)
	res = a.post("/admin/login", url.Values{"email": {admEmail}, "password": {admPassword}, "next": {html.UnescapeString(next[1])}})
	requireRedirect(t, res, "/admin/resume")

	page := a.get("/admin/resume")
	require.Equal(t, http.StatusOK, page.code, page.body)
	require.Contains(t, page.body, `action="/admin/numbers"`)
	require.Contains(t, page.body, "support-us")
	require.NotContains(t, page.body, form.Get("app_secret"), "secrets are not kept outside the session")
	require.NotContains(t, page.body, b.graph.AccessToken())
	require.Contains(t, page.body, "access_token, app_secret")

	again := url.Values{}
	for _, m := range hiddenRe.FindAllStringSubmatch(page.body, -1) {
		again.Add(html.UnescapeString(m[1]), html.UnescapeString(m[2]))
	}
	require.Equal(t, a.csrf, again.Get("_csrf"), "the new session's token")
	res = requireRejected(t, a.postRaw("/admin/numbers", again), "Paste the system user access token.")
	require.Contains(t, res.body, `value="support-us"`, "back at the form with the input")
	require.Contains(t, res.body, `value="`+whatsapptest.FixturePhoneNumberID+`"`)

	// Shown once: a second visit has nothing to resume.
	requireRedirect(t, a.get("/admin/resume"), "/admin/numbers")

	// A post from another site is not kept.
	_, err = b.pool.Exec(ctx, `UPDATE admin_sessions SET last_seen_at = now() - interval '3 hours'`)
	require.NoError(t, err)
	req = postForm("/admin/numbers", form)
	req.Header.Set("Sec-Fetch-Site", "cross-site")
	res = a.do(req)
	require.Equal(t, http.StatusSeeOther, res.code)
	require.NotContains(t, res.location, "resume")
}

func postForm(path string, form url.Values) *http.Request {
	req := httptest.NewRequest(http.MethodPost, "http://relaydesk.test"+path, strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	return req
}
