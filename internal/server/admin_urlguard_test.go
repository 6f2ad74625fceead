package server_test

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/relaydesk/relaydesk/connectors/zendesk/zendesktest"
	"github.com/relaydesk/relaydesk/internal/whatsapp/whatsapptest"
)

// catcher is a host an admin could point a URL at to read stored secrets:
// it counts the requests that reach it.
func catcher(t *testing.T) (*httptest.Server, *atomic.Int64) {
	t.Helper()
	var hits atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hits.Add(1)
		http.Error(w, "caught", http.StatusUnauthorized)
	}))
	t.Cleanup(srv.Close)
	return srv, &hits
}

const movedMsg = "You changed where relaydesk connects, so enter the "

func TestChangedURLNeedsTheSecretsAgain(t *testing.T) {
	t.Parallel()
	b, a := setupLoggedIn(t)
	evil, hits := catcher(t)

	t.Run("number", func(t *testing.T) {
		id := a.addNumber(b.numberForm("support-us", whatsapptest.FixturePhoneNumberID))
		path := "/admin/numbers/" + fmt.Sprint(id)
		a.get(path)
		form := b.numberForm("support-us", whatsapptest.FixturePhoneNumberID)
		form.Set("graph_url", evil.URL)
		form.Set("access_token", "")
		form.Set("app_secret", "")
		res := requireRejected(t, a.post(path, form), movedMsg+"access token again", movedMsg+"app secret again")
		require.Contains(t, res.body, `aria-describedby="e-access_token"`, "the field is marked")
		requireRedirect(t, a.post(path+"/test", nil), path)
		require.Zero(t, hits.Load(), "the stored token never went to the new host")
		require.Equal(t, 1, b.count(t, "SELECT count(*) FROM whatsapp_accounts WHERE graph_url = $1", b.graph.URL()))

		form.Set("graph_url", b.graph.URL()+"/") // same host: the stored secrets are kept
		requireRedirect(t, a.post(path, form), path)
		form.Set("graph_url", evil.URL)
		form.Set("access_token", "typed-again")
		form.Set("app_secret", "typed-again")
		requireRedirect(t, a.post(path, form), path)
	})
	t.Run("helpdesk", func(t *testing.T) {
		zd := zendesktest.New(t)
		id := a.addHelpdesk(zendeskForm(zd, "zendesk-main"))
		path := "/admin/helpdesks/" + fmt.Sprint(id)
		a.get(path)
		form := zendeskForm(zd, "zendesk-main")
		form.Set("base_url", evil.URL)
		form.Set("credentials.api_token", "")
		res := requireRejected(t, a.post(path, form), movedMsg+"“API token” again")
		require.Contains(t, res.body, `aria-describedby="e-credentials.api_token"`)
		requireRedirect(t, a.post(path+"/test", nil), path)
		require.Zero(t, hits.Load(), "the stored token never went to the new host")
		require.Equal(t, zd.Config().BaseURL, b.connection(t, id).BaseURL)

		form.Set("credentials.api_token", "typed-again")
		requireRejected(t, a.post(path, form), "Zendesk refused these credentials")
		require.Equal(t, int64(1), hits.Load(), "only the secret typed for it reached the new host (the test on save)")
		require.Equal(t, zd.Config().BaseURL, b.connection(t, id).BaseURL, "credentials it refuses are not saved")
	})
}

func TestLocalURLsAreRefused(t *testing.T) {
	t.Parallel()
	b := setupAdmin(t, adminOpts{publicURLsOnly: true})
	a := b.loggedIn(t)
	const refused = "This address is on this machine or its local link, where relaydesk does not send credentials."
	for _, u := range []string{"http://127.0.0.1:9", "http://localhost:8080", "http://169.254.169.254", "http://[::1]:80", "http://0.0.0.0"} {
		a.get("/admin/numbers/new")
		form := b.numberForm("n", "123")
		form.Set("graph_url", u)
		res := requireRejected(t, a.post("/admin/numbers", form), refused)
		require.Contains(t, res.body, `aria-describedby="e-graph_url"`, u)

		zd := zendesktest.New(t)
		form = zendeskForm(zd, "z")
		form.Set("base_url", u)
		res = requireRejected(t, a.post("/admin/helpdesks", form), refused)
		require.Contains(t, res.body, `aria-describedby="e-base_url"`, u)
	}
	require.Zero(t, b.count(t, "SELECT count(*) FROM whatsapp_accounts")+b.count(t, "SELECT count(*) FROM helpdesk_connections"))
}
