package server_test

import (
	"bytes"
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/relaydesk/relaydesk/internal/apiauth"
	"github.com/relaydesk/relaydesk/internal/store"
	"github.com/relaydesk/relaydesk/internal/whatsapp/whatsapptest"
)

// TestNumberPlatformSettings: the number form keeps the coexistence flag
// and the read receipt policy, refuses an unknown policy, and the number's
// page lists every webhook field to subscribe and warns about a Graph
// version relaydesk does not know.
func TestNumberPlatformSettings(t *testing.T) {
	t.Parallel()
	b, a := setupLoggedIn(t)
	ctx := context.Background()

	bad := b.numberForm("bad-policy", "106540352242999")
	bad.Set("read_policy", "always")
	r := a.post("/admin/numbers", bad)
	require.Equal(t, http.StatusUnprocessableEntity, r.code)
	require.Contains(t, r.body, "Choose one of the listed policies.")
	require.Equal(t, 0, b.count(t, `SELECT count(*) FROM whatsapp_accounts WHERE name = 'bad-policy'`))

	form := b.numberForm("coexist", whatsapptest.FixturePhoneNumberID)
	form.Set("coexistence", "on")
	form.Set("read_policy", store.ReadPolicyOnReply)
	id := a.addNumber(form)
	acc, err := b.store.AccountByID(ctx, id)
	require.NoError(t, err)
	require.True(t, acc.Coexistence)
	require.Equal(t, store.ReadPolicyOnReply, acc.ReadPolicy)
	require.Equal(t, 20, acc.EffectiveSendRate(), "a coexistence number sends at most 20 per second")

	page := a.get("/admin/numbers/" + idStr(id))
	require.Equal(t, http.StatusOK, page.code)
	for _, f := range []string{"messages", "standby", "messaging_handovers", "smb_message_echoes", "account_update",
		"message_template_status_update", "phone_number_quality_update"} {
		require.Contains(t, page.body, "<code>"+f+"</code>", f)
	}
	require.NotContains(t, page.body, `id="version-warning"`, "the fake serves a known version")
	require.Contains(t, page.body, `id="pricing"`)
	require.Contains(t, page.body, "No priced messages in the last 3 months.")

	// Unchecking coexistence and choosing off are kept too.
	edit := b.numberForm("coexist", whatsapptest.FixturePhoneNumberID)
	edit.Set("app_secret", "")
	edit.Set("access_token", "")
	edit.Set("read_policy", store.ReadPolicyOff)
	edit.Set("graph_version", "v99.0")
	r = a.post("/admin/numbers/"+idStr(id), edit)
	require.Less(t, r.code, 400, r.body)
	acc, err = b.store.AccountByID(ctx, id)
	require.NoError(t, err)
	require.False(t, acc.Coexistence)
	require.Equal(t, store.ReadPolicyOff, acc.ReadPolicy)
	page = a.get("/admin/numbers/" + idStr(id))
	require.Contains(t, page.body, `id="version-warning"`)
	require.Contains(t, page.body, "relaydesk does not know Graph API version v99.0")
}

// TestNumberPricingAPI: GET /api/v1/numbers/{number}/pricing counts a
// number's priced messages per month and category, for applications that
// may see the number.
func TestNumberPricingAPI(t *testing.T) {
	t.Parallel()
	b := apiSetup(t, apiOpts{})
	chatID, _ := b.world()
	tok := b.fullAccessToken()
	ctx := context.Background()
	for i, p := range []struct {
		category string
		billable bool
	}{{"utility", true}, {"utility", false}, {"marketing", true}} {
		_, err := b.store.Pool().Exec(ctx, `INSERT INTO messages (conversation_id, direction, seq, kind, body, state, status,
			pricing_category, pricing_billable, pricing_model) VALUES ($1, 'out', $2, 'text', 'x', 'done', 'delivered', $3, $4, 'PMP')`,
			chatID, 100000+i, p.category, p.billable)
		require.NoError(t, err)
	}

	resp, body := b.api(http.MethodGet, "/api/v1/numbers/"+apiPhoneID+"/pricing", tok, nil)
	require.Equal(t, http.StatusOK, resp.StatusCode, string(body))
	out := decode[struct {
		Number struct {
			PhoneNumberID string `json:"phone_number_id"`
		} `json:"number"`
		Data []struct {
			Month    string `json:"month"`
			Category string `json:"category"`
			Messages int    `json:"messages"`
			Billable int    `json:"billable"`
		} `json:"data"`
	}](t, body)
	require.Equal(t, apiPhoneID, out.Number.PhoneNumberID)
	month := time.Now().UTC().Format("2006-01")
	require.Len(t, out.Data, 2)
	require.Equal(t, month, out.Data[0].Month)
	require.Equal(t, "marketing", out.Data[0].Category)
	require.Equal(t, 1, out.Data[0].Messages)
	require.Equal(t, "utility", out.Data[1].Category)
	require.Equal(t, 2, out.Data[1].Messages)
	require.Equal(t, 1, out.Data[1].Billable)

	resp, _ = b.api(http.MethodGet, "/api/v1/numbers/"+apiPhoneID+"/pricing?months=0", tok, nil)
	require.Equal(t, http.StatusBadRequest, resp.StatusCode)
	resp, _ = b.api(http.MethodGet, "/api/v1/numbers/999/pricing", tok, nil)
	require.Equal(t, http.StatusNotFound, resp.StatusCode)
	narrow, secret := b.app(store.NewAPIClient{Scopes: allScopes, GrantTypes: []string{apiauth.GrantClientCredentials},
		AccountIDs: []store.AccountID{b.otherAcc}})
	resp, _ = b.api(http.MethodGet, "/api/v1/numbers/"+apiPhoneID+"/pricing", b.clientToken(narrow, secret, ""), nil)
	require.Equal(t, http.StatusNotFound, resp.StatusCode, "another number's application does not see it")
}

// TestTimelineNamesTheNewAuthors: on the conversation page, a message sent
// from the WhatsApp Business app is labelled as such.
func TestTimelineNamesTheNewAuthors(t *testing.T) {
	t.Parallel()
	b, a := setupLoggedIn(t)
	form := b.numberForm("support-us", whatsapptest.FixturePhoneNumberID)
	a.addNumber(form)
	convID, _ := b.seedConversation(t, form.Get("app_secret"), "16505551234", "Kerry Fisher", "Where is my order?")
	body := whatsapptest.PlatformFixture(t, "echo.json")
	req := httptest.NewRequest(http.MethodPost, "/webhooks/whatsapp", bytes.NewReader(body))
	req.Header.Set("X-Hub-Signature-256", whatsapptest.SignBody([]byte(form.Get("app_secret")), body))
	rec := httptest.NewRecorder()
	b.handler.ServeHTTP(rec, req)
	require.Equal(t, http.StatusOK, rec.Code, rec.Body.String())
	page := a.get("/admin/conversations/" + fmt.Sprint(convID))
	require.Equal(t, http.StatusOK, page.code)
	require.Contains(t, page.body, "Hi Kerry, your order left the warehouse today.")
	require.Contains(t, page.body, "sent from the WhatsApp Business app (never sent by relaydesk)")
}
