package server_test

import (
	"net/http"
	"net/url"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/relaydesk/relaydesk/connectors/zendesk/zendesktest"
)

func TestHelpdeskIsCheckedBeforeSaving(t *testing.T) {
	t.Parallel()
	b, a := setupLoggedIn(t)
	for _, tc := range []struct {
		name  string
		form  url.Values
		field string
		want  string
	}{
		{"Freshdesk priority 9", url.Values{"kind": {"freshdesk"}, "name": {"fd"}, "settings.domain": {"acme"},
			"credentials.api_key": {"key"}, "settings.ticket_priority": {"9"}},
			"settings.ticket_priority", "Ticket priority must be 1 to 4."},
		{"Zammad URL with a fragment", url.Values{"kind": {"zammad"}, "name": {"zm"}, "settings.base_url": {"https://192.0.2.1/#help"},
			"settings.group": {"Users"}, "credentials.api_token": {"tok"}},
			"settings.base_url", "Base URL must be an absolute http(s) URL without query, fragment or credentials."},
		{"RT with no credentials", url.Values{"kind": {"rt"}, "name": {"rt"}, "settings.url": {"https://192.0.2.1/rt"},
			"settings.queue": {"General"}},
			"credentials.token", "Give an auth token, or a username and password."},
	} {
		t.Run(tc.name, func(t *testing.T) {
			a.get("/admin/helpdesks/new?kind=" + tc.form.Get("kind"))
			res := requireRejected(t, a.post("/admin/helpdesks", tc.form), tc.want)
			require.Contains(t, res.body, `aria-describedby="e-`+tc.field+`"`, "the field is marked")
			require.NotContains(t, res.body, tc.form.Get("kind")+": ", "no raw connector string")
		})
	}
	require.Zero(t, b.count(t, "SELECT count(*) FROM helpdesk_connections"), "nothing was saved")

	t.Run("credentials Zendesk refuses", func(t *testing.T) {
		zd := zendesktest.New(t)
		form := zendeskForm(zd, "zd")
		form.Set("credentials.api_token", "wrong")
		a.get("/admin/helpdesks/new?kind=zendesk")
		requireRejected(t, a.post("/admin/helpdesks", form), "Zendesk refused these credentials")
		require.Zero(t, b.count(t, "SELECT count(*) FROM helpdesk_connections"))
	})
	t.Run("an unreachable helpdesk is saved only when asked", func(t *testing.T) {
		zd := zendesktest.New(t)
		form := zendeskForm(zd, "zd-down")
		form.Set("base_url", "http://127.0.0.1:1")
		a.get("/admin/helpdesks/new?kind=zendesk")
		res := requireRejected(t, a.post("/admin/helpdesks", form), "relaydesk could not reach Zendesk", "or tick this box")
		require.Contains(t, res.body, `name="save_anyway"`)
		require.Zero(t, b.count(t, "SELECT count(*) FROM helpdesk_connections"))
		form.Set("save_anyway", "on")
		res = a.post("/admin/helpdesks", form)
		require.Equal(t, http.StatusSeeOther, res.code, res.body)
		require.Equal(t, 1, b.count(t, "SELECT count(*) FROM helpdesk_connections WHERE name = 'zd-down'"))
	})
}
