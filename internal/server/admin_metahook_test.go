package server_test

import (
	"bytes"
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/relaydesk/relaydesk/internal/whatsapp/whatsapptest"
)

// TestNumberPageShowsMetaWebhook: the number's page gives the callback URL
// and the verify token where the number is set up, and warns when Meta
// could not call the address (not HTTPS, or this machine).
func TestNumberPageShowsMetaWebhook(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		base, warn string
	}{
		{"http://localhost:8080", "not reachable from the internet (localhost)"},
		{"http://relaydesk.example.com", "This address is not HTTPS"},
		{"https://relaydesk.example.com", ""},
	} {
		t.Run(tc.base, func(t *testing.T) {
			t.Parallel()
			b := setupAdmin(t, adminOpts{baseURL: tc.base})
			a := b.loggedIn(t)
			newPage := a.get("/admin/numbers/new")
			require.Contains(t, newPage.body, tc.base+"/webhooks/whatsapp", "needed before saving too")
			form := b.numberForm("support-us", whatsapptest.FixturePhoneNumberID)
			form.Set("verify_token", "my-verify-token-1234")
			id := a.addNumber(form)
			page := a.get("/admin/numbers/" + idStr(id))
			require.Contains(t, page.body, `<code id="cb-url">`+tc.base+`/webhooks/whatsapp</code>`)
			require.Contains(t, page.body, `<code id="vt-token">my-verify-token-1234</code>`)
			require.NotContains(t, page.body, "never shown again</p>\n</div>\n\n<div class=\"field\">\n  <label for=\"f-graph_url\"",
				"the verify token is shown, so the page does not call it write-only")
			if tc.warn == "" {
				require.NotContains(t, page.body, `id="https-warning"`)
				return
			}
			require.Contains(t, page.body, `id="https-warning"`)
			require.Contains(t, page.body, tc.warn)
		})
	}
}

// TestSignedDeliveryVerifiesNumber: a number shows verified and healthy
// from its first signed delivery; Meta's dashboard "Test" sample (phone
// number id 123456123, which no number has) is listed among the recent
// deliveries as an unknown number, with whose app secret signed it.
func TestSignedDeliveryVerifiesNumber(t *testing.T) {
	t.Parallel()
	b, a := setupLoggedIn(t)
	form := b.numberForm("support-us", whatsapptest.FixturePhoneNumberID)
	id := a.addNumber(form)
	secret := []byte(form.Get("app_secret"))
	post := func(body []byte) {
		req := httptest.NewRequest(http.MethodPost, "/webhooks/whatsapp", bytes.NewReader(body))
		req.Header.Set("X-Hub-Signature-256", whatsapptest.SignBody(secret, body))
		rec := httptest.NewRecorder()
		b.handler.ServeHTTP(rec, req)
		require.Equal(t, http.StatusOK, rec.Code, rec.Body.String())
	}
	require.Contains(t, a.get("/admin/numbers").body, "not verified")

	post(whatsapptest.NewDelivery(whatsapptest.FixturePhoneNumberID).Name("16505551234", "Kerry").Text("16505551234", "Hi").Bytes())
	acc, err := b.store.AccountByID(context.Background(), id)
	require.NoError(t, err)
	require.NotNil(t, acc.VerifiedAt)
	require.Equal(t, "healthy", acc.Health)
	list := a.get("/admin/numbers")
	require.NotContains(t, list.body, "not verified")
	require.Contains(t, list.body, "Healthy")

	// Meta's "Test" button: a sample for phone number id 123456123.
	post(whatsapptest.NewDelivery("123456123").Name("16315551181", "test user name").Text("16315551181", "this is a text message").Bytes())
	hooks := a.get("/admin/webhooks")
	i := strings.Index(hooks.body, `id="deliveries"`)
	require.Positive(t, i, "the recent deliveries table")
	table := hooks.body[i:]
	require.Contains(t, table, "Unknown number")
	require.Contains(t, table, "123456123")
	require.Contains(t, table, "signed with the app secret of support-us")
	require.Contains(t, table, "not stored")
}
