package server_test

import (
	"bytes"
	"context"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/relaydesk/relaydesk/internal/whatsapp/whatsapptest"
)

// seedConversation delivers a customer's text through the real webhook and
// adds a failed agent reply; it returns the conversation and reply ids.
func (b *adminBundle) seedConversation(t *testing.T, appSecret, waID, name, text string) (convID, replyID int64) {
	t.Helper()
	ctx := context.Background()
	body := whatsapptest.NewDelivery(whatsapptest.FixturePhoneNumberID).Name(waID, name).Text(waID, text).Bytes()
	req := httptest.NewRequest(http.MethodPost, "/webhooks/whatsapp", bytes.NewReader(body))
	req.Header.Set("X-Hub-Signature-256", whatsapptest.SignBody([]byte(appSecret), body))
	rec := httptest.NewRecorder()
	b.handler.ServeHTTP(rec, req)
	require.Equal(t, http.StatusOK, rec.Code, rec.Body.String())
	require.NoError(t, b.pool.QueryRow(ctx, `SELECT c.id FROM conversations c JOIN contacts k ON k.id = c.contact_id
		WHERE k.wa_id = $1`, waID).Scan(&convID))
	require.NoError(t, b.pool.QueryRow(ctx, `
		WITH seq AS (UPDATE conversations SET last_seq = last_seq + 1 WHERE id = $1 RETURNING last_seq)
		INSERT INTO messages (conversation_id, direction, seq, kind, body, state, status, error, author)
		SELECT $1, 'out', seq.last_seq, 'text', 'Your order ships tomorrow.', 'failed', 'failed',
			'[{"code":131047,"title":"Re-engagement message"}]', 'agent' FROM seq RETURNING id`, convID).Scan(&replyID))
	return convID, replyID
}

func TestConversations(t *testing.T) {
	t.Parallel()
	b, a := setupLoggedIn(t)
	form := b.numberForm("support-us", whatsapptest.FixturePhoneNumberID)
	a.addNumber(form)
	convID, replyID := b.seedConversation(t, form.Get("app_secret"), "16505551234", "Kerry Fisher", "Where is my order?")
	b.seedConversation(t, form.Get("app_secret"), "4915112345678", "Jonas", "Hallo")

	t.Run("search by name or number", func(t *testing.T) {
		page := a.get("/admin/conversations?q=kerry")
		require.Contains(t, page.body, "Kerry Fisher")
		require.NotContains(t, page.body, "Jonas")
		page = a.get("/admin/conversations?q=" + url.QueryEscape("+49 151"))
		require.Contains(t, page.body, "Jonas")
		require.NotContains(t, page.body, "Kerry Fisher")
		page = a.get("/admin/conversations?q=nobody")
		require.Contains(t, page.body, "Nothing found")
		page = a.get("/admin/conversations")
		require.Contains(t, page.body, "Kerry Fisher")
		require.Contains(t, page.body, "Jonas")
		require.Contains(t, page.body, "1 failed")
	})
	t.Run("a customer without a phone is shown by username", func(t *testing.T) {
		body := whatsapptest.Testdata(t, "2026/identity-bsuid-only.json")
		req := httptest.NewRequest(http.MethodPost, "/webhooks/whatsapp", bytes.NewReader(body))
		req.Header.Set("X-Hub-Signature-256", whatsapptest.SignBody([]byte(form.Get("app_secret")), body))
		rec := httptest.NewRecorder()
		b.handler.ServeHTTP(rec, req)
		require.Equal(t, http.StatusOK, rec.Code, rec.Body.String())
		var id int64
		require.NoError(t, b.pool.QueryRow(context.Background(), `SELECT c.id FROM conversations c JOIN contacts k ON k.id = c.contact_id
			WHERE k.user_id = 'US.13491208655302741918'`).Scan(&id))
		for _, path := range []string{"/admin/conversations", "/admin/conversations?q=maria.s", "/admin/conversations?q=US.13491208655302741918",
			"/admin/conversations/" + strconv.FormatInt(id, 10)} {
			page := a.get(path)
			require.Contains(t, page.body, "@maria.s", path)
			require.NotContains(t, page.body, `<span class="mono">+</span>`, path)
			require.NotContains(t, page.body, `class="sub mono">+</span>`, path)
		}
	})
	t.Run("timeline", func(t *testing.T) {
		page := a.get("/admin/conversations/" + strconv.FormatInt(convID, 10))
		require.Equal(t, http.StatusOK, page.code)
		require.Contains(t, page.body, "Where is my order?")
		require.Contains(t, page.body, "Your order ships tomorrow.")
		require.Contains(t, page.body, "The customer&#39;s last message is older than 24 hours")
		require.Contains(t, page.body, "WhatsApp error 131047")
		require.Contains(t, page.body, `id="retry-`+strconv.FormatInt(replyID, 10)+`"`)
		require.Contains(t, page.body, "WhatsApp: failed")
		require.Equal(t, http.StatusNotFound, a.get("/admin/conversations/424242").code)
	})
	retry := "/admin/messages/" + strconv.FormatInt(replyID, 10) + "/retry"
	back := "/admin/conversations/" + strconv.FormatInt(convID, 10)
	t.Run("CSRF token missing", func(t *testing.T) {
		require.Equal(t, http.StatusForbidden, a.post(retry, url.Values{"_csrf": {""}}).code)
		require.Equal(t, 1, b.count(t, "SELECT count(*) FROM messages WHERE id = $1 AND state = 'failed'", replyID))
	})
	t.Run("not logged in", func(t *testing.T) {
		requireRedirect(t, b.agent(t).postRaw(retry, nil), "/admin/login")
		require.Equal(t, 1, b.count(t, "SELECT count(*) FROM messages WHERE id = $1 AND state = 'failed'", replyID))
	})
	t.Run("retry", func(t *testing.T) {
		a.get(back)
		requireRedirect(t, a.post(retry, nil), back)
		require.Contains(t, a.get(back).body, "Message queued again.")
		require.Equal(t, 1, b.count(t, "SELECT count(*) FROM messages WHERE id = $1 AND state = 'pending'", replyID))
		require.Equal(t, 1, b.count(t, "SELECT count(*) FROM river_job WHERE kind = 'send_outbound'"))
		require.Equal(t, 1, b.count(t, "SELECT count(*) FROM audit_log WHERE action = 'message.retry'"))
	})
	t.Run("retry of a message that is not failed", func(t *testing.T) {
		requireRedirect(t, a.post(retry, nil), back)
		require.Contains(t, a.get(back).body, "nothing to retry")
	})
	erase := back + "/erase"
	t.Run("erase needs the confirmation and CSRF", func(t *testing.T) {
		require.Contains(t, a.get(back).body, `id="erase-submit"`)
		require.Equal(t, http.StatusForbidden, a.post(erase, url.Values{"_csrf": {""}, "confirm": {"1"}}).code)
		requireRedirect(t, a.post(erase, nil), back)
		require.Contains(t, a.get(back).body, "Nothing was erased.")
		require.Equal(t, 1, b.count(t, "SELECT count(*) FROM conversations WHERE id = $1", convID))
	})
	t.Run("erase the customer", func(t *testing.T) {
		requireRedirect(t, a.post(erase, url.Values{"confirm": {"1"}}), "/admin/conversations")
		page := a.get("/admin/conversations")
		require.Contains(t, page.body, "Customer erased.")
		require.Contains(t, page.body, "1 conversations, 2 messages")
		require.NotContains(t, page.body, "Kerry Fisher")
		require.Contains(t, page.body, "Jonas", "the other customer stays")
		require.Zero(t, b.count(t, "SELECT count(*) FROM contacts WHERE wa_id = '16505551234'"))
		require.Zero(t, b.count(t, "SELECT count(*) FROM messages WHERE body = 'Where is my order?'"))
		require.Equal(t, 1, b.count(t, "SELECT count(*) FROM audit_log WHERE action = 'contact.erased' AND detail::text NOT LIKE '%order%'"))
		require.Equal(t, http.StatusNotFound, a.get(back).code)
	})
}
