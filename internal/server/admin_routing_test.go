package server_test

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/relaydesk/relaydesk/connectors/zendesk/zendesktest"
	"github.com/relaydesk/relaydesk/internal/config"
	"github.com/relaydesk/relaydesk/internal/store"
	"github.com/relaydesk/relaydesk/internal/whatsapp/whatsapptest"
)

func routingRuleValues(accountID store.AccountID, connID store.ConnectionID) url.Values {
	return url.Values{
		"account_id": {fmt.Sprint(accountID)}, "connection_id": {fmt.Sprint(connID)},
		"match_kind": {"country"}, "match_value": {"49"}, "position": {"1"}, "reopen_window": {"3d"},
		"tags": {"whatsapp, vip, whatsapp"}, "template_name": {"hello_world"}, "template_language": {"en_US"},
	}
}

func TestRoutingRules(t *testing.T) {
	t.Parallel()
	b, a := setupLoggedIn(t)
	ctx := context.Background()

	t.Run("adding needs a number and a helpdesk", func(t *testing.T) {
		page := a.get("/admin/routes")
		require.Contains(t, page.body, "add a WhatsApp number")
		require.Contains(t, page.body, "connect a helpdesk")
	})
	accID := a.addNumber(b.numberForm("support-us", whatsapptest.FixturePhoneNumberID))
	zd := zendesktest.New(t)
	connID := a.addHelpdesk(zendeskForm(zd, "zendesk-main"))
	var ruleID store.RouteID

	t.Run("valid", func(t *testing.T) {
		a.get("/admin/routes/new")
		requireRedirect(t, a.post("/admin/routes", routingRuleValues(accID, connID)), "/admin/routes")
		routes, err := b.store.RoutesForAccount(ctx, accID)
		require.NoError(t, err)
		require.Len(t, routes, 1)
		r := routes[0]
		ruleID = r.ID
		require.Equal(t, store.RouteMatch{Kind: "country", Value: "49"}, r.Match)
		require.Equal(t, 72*time.Hour, r.ReopenWindow)
		require.Equal(t, []string{"whatsapp", "vip"}, r.Tags)
		require.Equal(t, &store.Template{Name: "hello_world", Language: "en_US"}, r.ReengagementTemplate)
		require.Equal(t, 1, r.Position)
		page := a.get("/admin/routes")
		require.Contains(t, page.body, "Route added.")
		require.Contains(t, page.body, "country +49")
		require.Contains(t, page.body, "3 days")
		require.Equal(t, 1, b.count(t, "SELECT count(*) FROM audit_log WHERE action = 'route.create' AND target_name = 'support-us -> zendesk-main'"))
	})
	t.Run("invalid", func(t *testing.T) {
		form := routingRuleValues(accID, 999)
		form.Set("match_value", "")
		form.Set("reopen_window", "soon")
		form.Set("template_language", "")
		requireRejected(t, a.post("/admin/routes", form),
			"Choose the helpdesk.", "Enter the calling code digits", "Write a duration such as 72h",
			"Give the template&#39;s language too")
	})
	t.Run("one route per number and helpdesk", func(t *testing.T) {
		requireRejected(t, a.post("/admin/routes", routingRuleValues(accID, connID)), "A route already joins this number and this helpdesk.")
	})
	t.Run("update", func(t *testing.T) {
		path := "/admin/routes/" + fmt.Sprint(ruleID)
		require.Equal(t, http.StatusOK, a.get(path).code)
		form := routingRuleValues(accID, connID)
		form.Set("match_kind", "default")
		form.Set("reopen_window", "0")
		form.Set("template_name", "")
		form.Set("template_language", "")
		requireRedirect(t, a.post(path, form), "/admin/routes")
		r, err := b.store.RouteViewByID(ctx, ruleID)
		require.NoError(t, err)
		require.Equal(t, store.RouteMatch{Kind: "default"}, r.Match)
		require.Zero(t, r.ReopenWindow)
		require.Nil(t, r.ReengagementTemplate)
	})
	t.Run("CSRF token missing", func(t *testing.T) {
		path := "/admin/routes/" + fmt.Sprint(ruleID)
		for _, p := range []string{"/admin/routes", path, path + "/delete"} {
			form := routingRuleValues(accID, connID)
			form.Set("_csrf", "")
			require.Equal(t, http.StatusForbidden, a.post(p, form).code, p)
		}
		require.Equal(t, 1, b.count(t, "SELECT count(*) FROM routes"))
	})
	t.Run("not logged in", func(t *testing.T) {
		path := "/admin/routes/" + fmt.Sprint(ruleID)
		for _, p := range []string{"/admin/routes", path, path + "/delete"} {
			requireRedirect(t, b.agent(t).postRaw(p, routingRuleValues(accID, connID)), "/admin/login")
		}
		require.Equal(t, 1, b.count(t, "SELECT count(*) FROM routes"))
	})
	t.Run("delete", func(t *testing.T) {
		requireRedirect(t, a.post("/admin/routes/"+fmt.Sprint(ruleID)+"/delete", nil), "/admin/routes")
		require.Zero(t, b.count(t, "SELECT count(*) FROM routes"))
		require.Equal(t, 1, b.count(t, "SELECT count(*) FROM audit_log WHERE action = 'route.delete'"))
	})
	t.Run("routes from the file are read-only", func(t *testing.T) {
		cfg := zd.Config()
		applyFile(t, b.store, &config.File{Path: "relaydesk.yaml",
			WhatsApp: []config.WhatsAppEntry{{Name: "file-number", PhoneNumberID: "777", WABAID: "1", AccessToken: "t",
				AppSecret: "s", VerifyToken: "v", GraphURL: b.graph.URL(), GraphVersion: "v23.0", SendRate: 80}},
			Helpdesks: []config.HelpdeskEntry{{Name: "file-zd", Kind: "zendesk", BaseURL: cfg.BaseURL, Settings: cfg.Settings,
				Credentials: cfg.Credentials}},
			Routes: []config.RouteEntry{{WhatsApp: "file-number", Helpdesk: "file-zd", Reopen: time.Hour}}})
		var id int64
		require.NoError(t, b.pool.QueryRow(ctx, "SELECT id FROM routes WHERE managed_by_file").Scan(&id))
		path := "/admin/routes/" + strconv.FormatInt(id, 10)
		page := a.get(path)
		require.Contains(t, page.body, "Managed by the configuration file.")
		require.NotContains(t, page.body, `id="delete-route"`)
		require.Equal(t, http.StatusForbidden, a.post(path, routingRuleValues(accID, connID)).code)
		require.Equal(t, http.StatusForbidden, a.post(path+"/delete", nil).code)
		require.Equal(t, 1, b.count(t, "SELECT count(*) FROM routes WHERE id = $1 AND reopen_window = interval '1 hour'", id))
	})
}
