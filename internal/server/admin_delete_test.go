package server_test

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/relaydesk/relaydesk/connectors/zendesk/zendesktest"
	"github.com/relaydesk/relaydesk/internal/whatsapp/whatsapptest"
)

func TestDeleteNumberAndHelpdesk(t *testing.T) {
	t.Parallel()
	b, a := setupLoggedIn(t)
	ctx := context.Background()
	form := b.numberForm("support-us", whatsapptest.FixturePhoneNumberID)
	accID := a.addNumber(form)
	zd := zendesktest.New(t)
	connID := a.addHelpdesk(zendeskForm(zd, "zendesk-main"))
	a.get("/admin/routes/new")
	requireRedirect(t, a.post("/admin/routes", url.Values{"account_id": {fmt.Sprint(accID)}, "connection_id": {fmt.Sprint(connID)},
		"match_kind": {"default"}, "reopen_window": {"72h"}}), "/admin/routes")
	convID, replyID := b.seedConversation(t, form.Get("app_secret"), "16505551234", "Kerry Fisher", "Where is my order?")
	// The reply came from the helpdesk and waits to be sent.
	_, err := b.pool.Exec(ctx, `UPDATE messages SET state = 'pending', error = NULL, connection_id = $2 WHERE id = $1`, replyID, connID)
	require.NoError(t, err)

	t.Run("a helpdesk: the page says what goes with it", func(t *testing.T) {
		path := "/admin/helpdesks/" + fmt.Sprint(connID)
		page := a.get(path + "/delete")
		require.Equal(t, http.StatusOK, page.code)
		require.Contains(t, page.body, "Delete zendesk-main?")
		require.Contains(t, page.body, "1 route to it")
		require.Contains(t, page.body, "agent replies not yet sent (1): they are marked failed, not sent")
		require.Equal(t, http.StatusForbidden, a.post(path+"/delete", url.Values{"_csrf": {""}}).code)
		requireRedirect(t, a.post(path+"/delete", nil), "/admin/helpdesks")
		require.Contains(t, a.get("/admin/helpdesks").body, "Helpdesk zendesk-main deleted.")
		require.Zero(t, b.count(t, "SELECT count(*) FROM helpdesk_connections")+b.count(t, "SELECT count(*) FROM routes"))
		require.Equal(t, 1, b.count(t, `SELECT count(*) FROM messages WHERE id = $1 AND state = 'failed'
			AND error->>'code' = 'connection_deleted'`, replyID), "the unsent reply is failed, visibly, not sent")
		require.Equal(t, 1, b.count(t, `SELECT count(*) FROM audit_log WHERE action = 'helpdesk.delete'
			AND (detail->>'routes')::int = 1 AND (detail->>'pending')::int = 1`))
	})
	t.Run("a number: conversations, messages and queued jobs go", func(t *testing.T) {
		path := "/admin/numbers/" + fmt.Sprint(accID)
		_, err := b.pool.Exec(ctx, `INSERT INTO river_job (kind, args, state, queue, max_attempts, priority)
			VALUES ('deliver_inbound', jsonb_build_object('conversation_id', $1::bigint), 'scheduled', 'default', 5, 1)`, convID)
		require.NoError(t, err)
		page := a.get(path + "/delete")
		require.Equal(t, http.StatusOK, page.code)
		require.Contains(t, page.body, "1 conversation with 2 messages")
		requireRedirect(t, a.post(path+"/delete", nil), "/admin/numbers")
		require.Zero(t, b.count(t, "SELECT count(*) FROM whatsapp_accounts")+b.count(t, "SELECT count(*) FROM conversations")+
			b.count(t, "SELECT count(*) FROM messages"))
		require.Zero(t, b.count(t, `SELECT count(*) FROM river_job WHERE args->>'conversation_id' = $1`, fmt.Sprint(convID)))
		require.Equal(t, 1, b.count(t, `SELECT count(*) FROM audit_log WHERE action = 'whatsapp.delete'
			AND (detail->>'conversations')::int = 1`))
		require.Equal(t, http.StatusNotFound, a.get(path+"/delete").code)
	})
	t.Run("entries of the file are not deleted here", func(t *testing.T) {
		acc := b.fileNumber(t, "from-file", "777")
		path := "/admin/numbers/" + fmt.Sprint(acc.ID)
		require.Equal(t, http.StatusForbidden, a.get(path+"/delete").code)
		require.Equal(t, http.StatusForbidden, a.post(path+"/delete", nil).code)
		require.Equal(t, 1, b.count(t, "SELECT count(*) FROM whatsapp_accounts"))
	})
}
