package server_test

import (
	"context"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/relaydesk/relaydesk/connectors/zendesk/zendesktest"
	"github.com/relaydesk/relaydesk/internal/whatsapp/whatsapptest"
)

// TestAdminNULBytes: a NUL byte (or bytes that are not UTF-8) typed into
// the admin page is a field error or ignored, never a 500, and nothing is
// saved with it.
func TestAdminNULBytes(t *testing.T) {
	t.Parallel()
	b, a := setupLoggedIn(t)
	zd := zendesktest.New(t)

	for _, q := range []string{"Kerry\x00", "\x00", "bad \xff"} {
		res := a.get("/admin/conversations?q=" + url.QueryEscape(q))
		require.Equal(t, http.StatusOK, res.code, "search %q", q)
	}

	for _, name := range []string{"support\x00us", "bad \xff name", "two\nlines"} {
		a.get("/admin/numbers/new")
		res := requireRejected(t, a.post("/admin/numbers", b.numberForm(name, whatsapptest.FixturePhoneNumberID)),
			"Use letters, digits, spaces and punctuation only")
		require.Contains(t, res.body, `aria-describedby="e-name"`, "the field is marked")

		a.get("/admin/helpdesks/new?kind=zendesk")
		res = requireRejected(t, a.post("/admin/helpdesks", zendeskForm(zd, name)), "Use letters, digits, spaces and punctuation only")
		require.Contains(t, res.body, `aria-describedby="e-name"`)
	}
	form := zendeskForm(zd, "zendesk-nul")
	form.Set("settings.subdomain", "acme\x00")
	a.get("/admin/helpdesks/new?kind=zendesk")
	res := requireRejected(t, a.post("/admin/helpdesks", form), "This contains a NUL byte")
	require.Contains(t, res.body, `aria-describedby="e-settings.subdomain"`)
	require.Zero(t, b.count(t, "SELECT count(*) FROM whatsapp_accounts"))
	require.Zero(t, b.count(t, "SELECT count(*) FROM helpdesk_connections"))

	// Editing too: the stored name stays.
	id := a.addNumber(b.numberForm("support-us", whatsapptest.FixturePhoneNumberID))
	edit := b.numberForm("support\x00us", whatsapptest.FixturePhoneNumberID)
	a.get("/admin/numbers/" + idStr(id))
	requireRejected(t, a.post("/admin/numbers/"+idStr(id), edit), "control character")
	acc, err := b.store.AccountByID(context.Background(), id)
	require.NoError(t, err)
	require.Equal(t, "support-us", acc.Name)
}

// TestAdminSentences: what the admin page says about failures is made of
// sentences: a DNS failure is said once, in words, without Go's error chain;
// audit entries list what changed as words.
func TestAdminSentences(t *testing.T) {
	t.Parallel()
	b, a := setupLoggedIn(t)
	form := b.numberForm("support-us", whatsapptest.FixturePhoneNumberID)
	id := a.addNumber(form)

	// Point the number at a name that does not exist (.invalid never
	// resolves, RFC 2606) and test it.
	form.Set("graph_url", "https://graph.relaydesk.invalid")
	a.get("/admin/numbers/" + idStr(id))
	res := a.post("/admin/numbers/"+idStr(id)+"/test", form)
	require.Equal(t, http.StatusOK, res.code, res.body)
	require.Contains(t, res.body, "the name graph.relaydesk.invalid does not exist in DNS")
	require.NotContains(t, res.body, "dial tcp", "no Go error chain")
	require.Equal(t, 1, strings.Count(res.body, "does not exist in DNS"), "said once")

	// The stored values fail the same way: the flash and the status card
	// do not repeat each other.
	_, err := b.pool.Exec(context.Background(), `UPDATE whatsapp_accounts SET graph_url = 'https://graph.relaydesk.invalid' WHERE id = $1`, id)
	require.NoError(t, err)
	res = a.post("/admin/numbers/"+idStr(id)+"/test", url.Values{})
	require.Equal(t, http.StatusSeeOther, res.code, res.body)
	page := a.get(res.location)
	require.Equal(t, 1, strings.Count(page.body, "does not exist in DNS"), "said once: %s", page.body)
	acc, err := b.store.AccountByID(context.Background(), id)
	require.NoError(t, err)
	require.Equal(t, "unreachable", acc.Health)
	require.NotContains(t, acc.HealthDetail, "The test failed.")

	// An audit entry of a change lists the fields as words.
	_, err = b.pool.Exec(context.Background(), `UPDATE whatsapp_accounts SET graph_url = $2 WHERE id = $1`, id, b.graph.URL())
	require.NoError(t, err)
	edit := b.numberForm("support-main", whatsapptest.FixturePhoneNumberID)
	a.get("/admin/numbers/" + idStr(id))
	requireRedirect(t, a.post("/admin/numbers/"+idStr(id), edit), "/admin/numbers/"+idStr(id))
	audit := a.get("/admin/audit")
	require.Contains(t, audit.body, "app secret (replaced)")
	require.NotContains(t, audit.body, "(replaced)]", "a list is words, not Go's [a b] formatting")
	require.NotContains(t, audit.body, "changed: [")
}

func idStr[T ~int64](id T) string { return strconv.FormatInt(int64(id), 10) }
