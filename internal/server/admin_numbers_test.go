package server_test

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/relaydesk/relaydesk/internal/config"
	"github.com/relaydesk/relaydesk/internal/store"
	"github.com/relaydesk/relaydesk/internal/whatsapp/whatsapptest"
)

// numberForm is a valid number form for the fake Graph API.
func (b *adminBundle) numberForm(name, phoneID string) url.Values {
	return url.Values{
		"name": {name}, "phone_number_id": {phoneID}, "waba_id": {whatsapptest.FixtureWABAID},
		"display_phone_number": {"+1 555 078 3881"}, "access_token": {b.graph.AccessToken()}, "app_secret": {"app-secret-" + name},
		"verify_token": {""}, "graph_url": {b.graph.URL()}, "graph_version": {b.graph.Version()}, "send_rate": {"80"},
	}
}

// addNumber creates a number through the form and returns its id.
func (a *agent) addNumber(form url.Values) store.AccountID {
	a.t.Helper()
	return created[store.AccountID](a, "/admin/numbers/new", "/admin/numbers", form)
}

// fileNumber adds a number the way RELAYDESK_CONFIG does.
func (b *adminBundle) fileNumber(t *testing.T, name, phoneID string) store.Account {
	t.Helper()
	ctx := context.Background()
	applyFile(t, b.store, &config.File{Path: "relaydesk.yaml", WhatsApp: []config.WhatsAppEntry{{
		Name: name, PhoneNumberID: phoneID, WABAID: "1", AccessToken: "file-token", AppSecret: "file-secret",
		VerifyToken: "file-verify", GraphURL: b.graph.URL(), GraphVersion: b.graph.Version(), SendRate: 80,
	}}})
	acc, err := b.store.AccountByName(ctx, name)
	require.NoError(t, err)
	return acc
}

func TestNumberCreate(t *testing.T) {
	t.Parallel()
	b, a := setupLoggedIn(t)
	ctx := context.Background()

	t.Run("valid", func(t *testing.T) {
		form := b.numberForm("support-us", whatsapptest.FixturePhoneNumberID)
		id := a.addNumber(form)
		acc, err := b.store.AccountByID(ctx, id)
		require.NoError(t, err)
		require.Equal(t, "support-us", acc.Name)
		require.False(t, acc.ManagedByFile)
		sec, err := b.store.Secrets(acc)
		require.NoError(t, err)
		require.Equal(t, b.graph.AccessToken(), sec.AccessToken)
		require.Len(t, sec.VerifyToken, 32, "an empty verify token is generated")
		require.Zero(t, b.count(t, "SELECT count(*) FROM whatsapp_accounts WHERE position($1::bytea IN access_token) > 0",
			[]byte(b.graph.AccessToken())), "stored sealed")
		require.Equal(t, 1, b.count(t, "SELECT count(*) FROM audit_log WHERE action = 'whatsapp.create' AND actor = $1", admEmail))

		page := a.get("/admin/numbers/" + fmt.Sprint(id))
		require.Equal(t, http.StatusOK, page.code)
		require.Contains(t, page.body, "Number support-us added.")
		require.Contains(t, page.body, `<span class="badge ok">set</span>`)
		require.NotContains(t, page.body, b.graph.AccessToken(), "secrets are write-only")
		require.NotContains(t, page.body, "app-secret-support-us")
		// The verify token is pasted into Meta's form: shown beside the
		// callback URL, never as the field's value.
		require.Contains(t, page.body, `<code id="vt-token">`+sec.VerifyToken+`</code>`)
		require.Equal(t, 1, strings.Count(page.body, sec.VerifyToken))
		list := a.get("/admin/numbers")
		require.Contains(t, list.body, "support-us")
		require.Contains(t, list.body, "not verified")
	})
	t.Run("invalid", func(t *testing.T) {
		form := b.numberForm("", "12ab")
		form.Set("graph_version", "23")
		form.Set("send_rate", "0")
		res := requireRejected(t, a.post("/admin/numbers", form),
			"Give it a name.", "Enter the numeric phone number ID", "Write it like v26.0.",
			"from 1 to 1000 messages per second")
		require.Contains(t, res.body, `aria-invalid="true" aria-describedby="e-phone_number_id"`, "the error sits next to its field")
		require.NotContains(t, res.body, b.graph.AccessToken(), "a typed secret is not echoed back")
		require.Equal(t, 1, b.count(t, "SELECT count(*) FROM whatsapp_accounts"))
	})
	t.Run("secrets are required when adding", func(t *testing.T) {
		form := b.numberForm("other", "999")
		form.Set("access_token", "")
		form.Set("app_secret", "")
		requireRejected(t, a.post("/admin/numbers", form), "Paste the system user access token.", "Paste the app secret")
	})
	t.Run("duplicate phone number id", func(t *testing.T) {
		requireRejected(t, a.post("/admin/numbers", b.numberForm("another-name", whatsapptest.FixturePhoneNumberID)), "Another number already uses this phone number id.")
	})
	t.Run("CSRF token missing", func(t *testing.T) {
		form := b.numberForm("csrf", "123")
		form.Set("_csrf", "")
		require.Equal(t, http.StatusForbidden, a.post("/admin/numbers", form).code)
		require.Zero(t, b.count(t, "SELECT count(*) FROM whatsapp_accounts WHERE name = 'csrf'"))
	})
	t.Run("not logged in", func(t *testing.T) {
		requireRedirect(t, b.agent(t).postRaw("/admin/numbers", b.numberForm("anon", "123")), "/admin/login")
		require.Zero(t, b.count(t, "SELECT count(*) FROM whatsapp_accounts WHERE name = 'anon'"))
	})
}

func TestNumberUpdate(t *testing.T) {
	t.Parallel()
	b, a := setupLoggedIn(t)
	ctx := context.Background()
	id := a.addNumber(b.numberForm("support-us", whatsapptest.FixturePhoneNumberID))
	path := "/admin/numbers/" + fmt.Sprint(id)
	secrets := func() store.AccountSecrets {
		acc, err := b.store.AccountByID(ctx, id)
		require.NoError(t, err)
		sec, err := b.store.Secrets(acc)
		require.NoError(t, err)
		return sec
	}
	before := secrets()

	t.Run("empty secrets keep the stored ones", func(t *testing.T) {
		a.get(path)
		form := b.numberForm("support-renamed", whatsapptest.FixturePhoneNumberID)
		form.Set("access_token", "")
		form.Set("app_secret", "")
		requireRedirect(t, a.post(path, form), path)
		require.Equal(t, before, secrets())
		acc, err := b.store.AccountByID(ctx, id)
		require.NoError(t, err)
		require.Equal(t, "support-renamed", acc.Name)
	})
	t.Run("a typed secret replaces the stored one and the audit log names it", func(t *testing.T) {
		form := b.numberForm("support-renamed", whatsapptest.FixturePhoneNumberID)
		form.Set("access_token", "")
		form.Set("app_secret", "brand-new-app-secret")
		requireRedirect(t, a.post(path, form), path)
		require.Equal(t, "brand-new-app-secret", secrets().AppSecret)
		require.Equal(t, before.AccessToken, secrets().AccessToken)
		require.Equal(t, 1, b.count(t, `SELECT count(*) FROM audit_log WHERE action = 'whatsapp.update'
			AND detail->'changed' ? 'app_secret (replaced)'`))
		require.Zero(t, b.count(t, "SELECT count(*) FROM audit_log WHERE detail::text LIKE '%brand-new-app-secret%'"),
			"never a secret value in the audit log")
	})
	t.Run("invalid", func(t *testing.T) {
		form := b.numberForm("support-renamed", "")
		form.Set("graph_url", "ftp://graph")
		requireRejected(t, a.post(path, form), "Enter the numeric phone number ID", "Enter an http(s) URL")
	})
	t.Run("CSRF token missing", func(t *testing.T) {
		form := b.numberForm("csrf-rename", whatsapptest.FixturePhoneNumberID)
		form.Set("_csrf", "")
		require.Equal(t, http.StatusForbidden, a.post(path, form).code)
		require.Zero(t, b.count(t, "SELECT count(*) FROM whatsapp_accounts WHERE name = 'csrf-rename'"))
	})
	t.Run("not logged in", func(t *testing.T) {
		requireRedirect(t, b.agent(t).postRaw(path, b.numberForm("anon", "1")), "/admin/login")
	})
	t.Run("disable and enable", func(t *testing.T) {
		requireRedirect(t, a.post(path+"/enabled", url.Values{"enabled": {"false"}}), path)
		require.Contains(t, a.get(path).body, "is disabled.")
		require.Equal(t, 1, b.count(t, "SELECT count(*) FROM whatsapp_accounts WHERE id = $1 AND NOT enabled", id))
		requireRedirect(t, a.post(path+"/enabled", url.Values{"enabled": {"true"}}), path)
		require.Equal(t, 1, b.count(t, "SELECT count(*) FROM whatsapp_accounts WHERE id = $1 AND enabled", id))
		require.Equal(t, 1, b.count(t, "SELECT count(*) FROM audit_log WHERE action = 'whatsapp.disable'"))
		require.Equal(t, http.StatusForbidden, a.post(path+"/enabled", url.Values{"enabled": {"false"}, "_csrf": {""}}).code)
	})
	t.Run("unknown number", func(t *testing.T) {
		require.Equal(t, http.StatusNotFound, a.get("/admin/numbers/99999").code)
		require.Equal(t, http.StatusNotFound, a.get("/admin/numbers/abc").code)
	})
}

func TestNumbersFromTheFileAreReadOnly(t *testing.T) {
	t.Parallel()
	b, a := setupLoggedIn(t)
	acc := b.fileNumber(t, "from-file", "555")
	path := "/admin/numbers/" + fmt.Sprint(acc.ID)

	page := a.get(path)
	require.Equal(t, http.StatusOK, page.code)
	require.Contains(t, page.body, "Managed by the configuration file.")
	require.NotContains(t, page.body, `id="save"`, "no save button")
	require.Contains(t, page.body, ` readonly`)
	require.Contains(t, a.get("/admin/numbers").body, `badge file plain">file<`)

	form := b.numberForm("renamed", "555")
	res := a.post(path, form)
	require.Equal(t, http.StatusForbidden, res.code, "enforced on the server, not only hidden")
	require.Contains(t, res.body, "managed by the configuration file")
	require.Equal(t, http.StatusForbidden, a.post(path+"/enabled", url.Values{"enabled": {"false"}}).code)
	got, err := b.store.AccountByID(context.Background(), acc.ID)
	require.NoError(t, err)
	require.Equal(t, "from-file", got.Name)
	require.True(t, got.Enabled)

	t.Run("the store refuses too", func(t *testing.T) {
		err := b.store.UpdateAccount(context.Background(), acc.ID, store.NewAccount{Name: "x"}, store.Actor{Name: "test"})
		require.ErrorIs(t, err, store.ErrManagedByFile)
	})
	t.Run("testing it is allowed", func(t *testing.T) {
		requireRedirect(t, a.post(path+"/test", nil), path)
	})
}

func TestNumberTestConnection(t *testing.T) {
	t.Parallel()
	b, a := setupLoggedIn(t)
	ctx := context.Background()
	health := func(id store.AccountID) (string, string) {
		acc, err := b.store.AccountByID(ctx, id)
		require.NoError(t, err)
		return acc.Health, acc.HealthDetail
	}

	t.Run("valid", func(t *testing.T) {
		id := a.addNumber(b.numberForm("good", whatsapptest.FixturePhoneNumberID))
		path := "/admin/numbers/" + fmt.Sprint(id)
		requireRedirect(t, a.post(path+"/test", nil), path)
		page := a.get(path)
		require.Contains(t, page.body, "Connection works: WhatsApp knows this number as")
		h, _ := health(id)
		require.Equal(t, "healthy", h)
	})
	t.Run("expired token", func(t *testing.T) {
		form := b.numberForm("expired", "2222")
		form.Set("access_token", "revoked-token")
		id := a.addNumber(form)
		path := "/admin/numbers/" + fmt.Sprint(id)
		requireRedirect(t, a.post(path+"/test", nil), path)
		page := a.get(path)
		require.Contains(t, page.body, "The test failed.")
		require.Contains(t, page.body, "WhatsApp refused the access token")
		h, detail := health(id)
		require.Equal(t, "token_expired", h)
		require.NotContains(t, detail, "revoked-token")
	})
	t.Run("unknown phone number id", func(t *testing.T) {
		id := a.addNumber(b.numberForm("unknown", "3333"))
		path := "/admin/numbers/" + fmt.Sprint(id)
		requireRedirect(t, a.post(path+"/test", nil), path)
		require.Contains(t, a.get(path).body, "WhatsApp does not know phone number ID 3333")
		h, _ := health(id)
		require.Equal(t, "attention", h)
	})
	t.Run("CSRF token missing", func(t *testing.T) {
		require.Equal(t, http.StatusForbidden, a.post("/admin/numbers/1/test", url.Values{"_csrf": {""}}).code)
	})
	t.Run("not logged in", func(t *testing.T) {
		requireRedirect(t, b.agent(t).postRaw("/admin/numbers/1/test", nil), "/admin/login")
	})
}
