package server_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strconv"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/relaydesk/relaydesk/internal/whatsapp/whatsapptest"
)

func TestWebhooksPage(t *testing.T) {
	t.Parallel()
	b, a := setupLoggedIn(t)
	ctx := context.Background()
	id := a.addNumber(b.numberForm("support-us", whatsapptest.FixturePhoneNumberID))
	acc, err := b.store.AccountByID(ctx, id)
	require.NoError(t, err)
	sec, err := b.store.Secrets(acc)
	require.NoError(t, err)
	deliver := func(body []byte, sig string) int { return postWhatsApp(b.handler, body, sig).Code }

	t.Run("what to paste into Meta's App Dashboard", func(t *testing.T) {
		page := a.get("/admin/webhooks")
		require.Equal(t, http.StatusOK, page.code)
		require.Contains(t, page.body, "http://relaydesk.test/webhooks/whatsapp")
		require.Contains(t, page.body, sec.VerifyToken, "the verify token is shown here, to be copied")
		require.Contains(t, page.body, `data-copy="vt-`+fmt.Sprint(id)+`"`)
		for _, f := range []string{"messages", "standby", "messaging_handovers", "smb_message_echoes", "account_update"} {
			require.Contains(t, page.body, "<code>"+f+"</code>", "every field to subscribe is listed")
		}
		require.Contains(t, page.body, "not verified yet")
		require.NotContains(t, page.body, sec.AppSecret)
		require.NotContains(t, page.body, sec.AccessToken)
	})
	t.Run("verification shows once Meta called it", func(t *testing.T) {
		rec := httptest.NewRecorder()
		b.handler.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/webhooks/whatsapp?hub.mode=subscribe&hub.verify_token="+
			url.QueryEscape(sec.VerifyToken)+"&hub.challenge=42", nil))
		require.Equal(t, http.StatusOK, rec.Code)
		page := a.get("/admin/webhooks")
		require.Contains(t, page.body, "succeeded")
	})
	t.Run("send test event", func(t *testing.T) {
		res := a.post("/admin/numbers/"+fmt.Sprint(id)+"/test-event", nil)
		requireRedirect(t, res, "/admin/webhooks")
		page := a.get("/admin/webhooks")
		m := regexp.MustCompile(`Test event for support-us accepted: signature verified, stored as event #(\d+) \(outcome: duplicate\)`).
			FindStringSubmatch(page.body)
		require.NotNil(t, m, page.body)
		require.Contains(t, page.body, "no ticket was opened")
		require.Equal(t, 1, b.count(t, "SELECT count(*) FROM webhook_events WHERE id = $1 AND account_id = $2", m[1], id))
		for _, tbl := range []string{"contacts", "conversations", "messages", "river_job"} {
			require.Zero(t, b.count(t, "SELECT count(*) FROM "+tbl), "a test event opens nothing (%s)", tbl)
		}
		require.Contains(t, page.body, `<span class="badge info plain">test</span>`)
		require.Contains(t, page.body, "#"+m[1])
		require.Regexp(t, `Last signed delivery</dt><dd>none yet`, page.body, "test events do not count as Meta's deliveries")
		require.Equal(t, 1, b.count(t, "SELECT count(*) FROM audit_log WHERE action = 'webhook.test_event'"))
	})
	t.Run("a real signed delivery", func(t *testing.T) {
		body := whatsapptest.NewDelivery(whatsapptest.FixturePhoneNumberID).Text("16505551234", "hello").Bytes()
		require.Equal(t, http.StatusOK, deliver(body, whatsapptest.SignBody([]byte(sec.AppSecret), body)))
		page := a.get("/admin/webhooks")
		require.NotRegexp(t, `Last signed delivery</dt><dd>none yet`, page.body)
		require.Contains(t, page.body, "new: 1")
	})
	t.Run("filters", func(t *testing.T) {
		page := a.get("/admin/webhooks?outcome=new")
		require.Contains(t, page.body, "new: 1")
		require.NotContains(t, page.body, `<span class="badge info plain">test</span>`)
		page = a.get("/admin/webhooks?source=helpdesk-none")
		require.Contains(t, page.body, "No deliveries match this filter.")
	})
	t.Run("rejected deliveries: reason and size, never the body", func(t *testing.T) {
		body := []byte(`{"object":"whatsapp_business_account","secret-looking":"do-not-show"}`)
		require.Equal(t, http.StatusUnauthorized, deliver(body, ""))
		page := a.get("/admin/webhooks")
		require.Contains(t, page.body, `<span class="badge bad">Unsigned</span>`)
		require.Contains(t, page.body, strconv.Itoa(len(body))+" B")
		require.NotContains(t, page.body, "do-not-show")
	})
	t.Run("a disabled number drops its test event", func(t *testing.T) {
		path := "/admin/numbers/" + fmt.Sprint(id)
		requireRedirect(t, a.post(path+"/enabled", url.Values{"enabled": {"false"}}), path)
		a.get(path)
		requireRedirect(t, a.post(path+"/test-event", nil), "/admin/webhooks")
		require.Contains(t, a.get("/admin/webhooks").body, "acknowledged but not stored")
		requireRedirect(t, a.post(path+"/enabled", url.Values{"enabled": {"true"}}), path)
	})
	t.Run("CSRF token missing", func(t *testing.T) {
		before := b.count(t, "SELECT count(*) FROM webhook_events")
		require.Equal(t, http.StatusForbidden, a.post("/admin/numbers/"+fmt.Sprint(id)+"/test-event", url.Values{"_csrf": {""}}).code)
		require.Equal(t, before, b.count(t, "SELECT count(*) FROM webhook_events"))
	})
	t.Run("not logged in", func(t *testing.T) {
		requireRedirect(t, b.agent(t).postRaw("/admin/numbers/"+fmt.Sprint(id)+"/test-event", nil), "/admin/login")
		requireRedirect(t, b.agent(t).get("/admin/webhooks"), "/admin/login?next=%2Fadmin%2Fwebhooks")
	})
}
