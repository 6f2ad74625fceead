package server_test

import (
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/relaydesk/relaydesk/internal/bridge"
	"github.com/relaydesk/relaydesk/internal/whatsapp/whatsapptest"
)

func TestUnroutedPage(t *testing.T) {
	t.Parallel()
	b, a := setupLoggedIn(t)
	form := b.numberForm("support-us", whatsapptest.FixturePhoneNumberID)
	accID := a.addNumber(form)
	convID, _ := b.seedConversation(t, form.Get("app_secret"), "16505551234", "Kerry Fisher", "Is anyone there?")

	page := a.get("/admin/unrouted")
	require.Equal(t, http.StatusOK, page.code)
	require.Contains(t, page.body, "No held messages")

	// The delivery job found no route: the message is held, its job done.
	_, err := b.pool.Exec(t.Context(), `UPDATE messages SET state = 'unrouted' WHERE direction = 'in'`)
	require.NoError(t, err)
	_, err = b.pool.Exec(t.Context(), `UPDATE conversations SET inbound_queued = false`)
	require.NoError(t, err)
	jobs := `SELECT count(*) FROM river_job WHERE kind = 'deliver_inbound' AND args->>'conversation_id' = $1`
	before := b.count(t, jobs, strconv.FormatInt(convID, 10))

	page = a.get("/admin/unrouted")
	require.Contains(t, page.body, "support-us")
	require.Contains(t, page.body, "Kerry Fisher")
	require.Contains(t, page.body, "Is anyone there?")
	button := `id="route-` + strconv.FormatInt(int64(accID), 10) + `"`
	require.Contains(t, page.body, button)

	metrics := a.get("/metrics")
	require.Contains(t, metrics.body, `relaydesk_unrouted_messages{number="support-us"} 1`)

	res := a.post("/admin/unrouted/"+strconv.FormatInt(int64(accID), 10)+"/route", nil)
	requireRedirect(t, res, "/admin/unrouted")
	require.Equal(t, 0, b.count(t, `SELECT count(*) FROM messages WHERE state = 'unrouted'`))
	require.Equal(t, 1, b.count(t, `SELECT count(*) FROM messages WHERE direction = 'in' AND state = 'pending'`))
	require.Equal(t, before+1, b.count(t, jobs, strconv.FormatInt(convID, 10)), "its conversation is queued again")
	page = a.get("/admin/unrouted")
	require.Contains(t, page.body, "queued for routing (1 conversations)")
	require.Equal(t, 1, b.count(t, `SELECT count(*) FROM audit_log WHERE action = 'unrouted.route'`))

	t.Run("not logged in", func(t *testing.T) {
		requireRedirect(t, b.agent(t).postRaw("/admin/unrouted/1/route", nil), "/admin/login")
		require.Equal(t, 1, b.count(t, `SELECT count(*) FROM messages WHERE direction = 'in' AND state = 'pending'`))
	})
}

func TestMediaLinkRefusesBadTokens(t *testing.T) {
	t.Parallel()
	b := setupAdmin(t, adminOpts{})
	a := b.agent(t)
	for _, tok := range []string{"x", "not-base64!", strings.Repeat("A", 120)} {
		res := a.get("/media/" + tok)
		require.Equal(t, http.StatusNotFound, res.code, tok)
		require.Contains(t, res.body, "This link is not valid.")
		require.Equal(t, "private, no-store", res.header.Get("Cache-Control"))
	}
	res := a.get("/media/" + bridge.New(bridge.Opts{Store: b.store}).MediaLinkToken(1, "123", time.Now().Add(-time.Second)))
	require.Equal(t, http.StatusGone, res.code)
	require.Contains(t, res.body, "expired")
}
