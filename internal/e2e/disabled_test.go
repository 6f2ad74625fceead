package e2e

import (
	"context"
	"net/http"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/relaydesk/relaydesk/internal/whatsapp/whatsapptest"
)

// setEnabled enables or disables the Zendesk connection (declared by the
// file, so the admin page's store method would refuse it).
func (h *harness) setEnabled(enabled bool) {
	h.t.Helper()
	_, err := h.pool.Exec(context.Background(), `UPDATE helpdesk_connections SET enabled = $1 WHERE name = 'zendesk'`, enabled)
	require.NoError(h.t, err)
}

func TestDisabledConnectionReceivesNothingAndSendsNothing(t *testing.T) {
	t.Parallel()
	h := newHarness(t, harnessOpts{})
	ctx := context.Background()
	tk := h.openTicket("hi")
	h.eventually(func() bool { return h.count(`SELECT count(*) FROM messages WHERE state <> 'done'`) == 0 }, "first message done")

	// A reply already queued when the connection is disabled.
	h.killWorkers()
	h.agentReplies(tk, "queued before the switch")
	h.setEnabled(false)
	late := h.zd.CommentDelivery(tk, h.zd.AgentReply(tk, "written while disabled"))
	require.Equal(t, http.StatusForbidden, h.postHelpdesk(late), "the webhook of a disabled connection is refused")
	h.postWhatsApp(whatsapptest.NewDelivery(phoneID).Text(customer, "still there?"))
	const other = "447700900123"
	h.postWhatsApp(whatsapptest.NewDelivery(phoneID).Text(other, "new customer"))
	h.startWorkers()

	h.eventually(func() bool { return h.count(`SELECT count(*) FROM messages WHERE state = 'held'`) == 3 },
		"the queued reply and both customer messages are held: %s", h.failures())
	require.Empty(t, h.sentTexts(), "no reply of a disabled connection reaches WhatsApp")
	require.Len(t, h.zd.Tickets(), 1, "no ticket is opened in a disabled connection")
	require.NotContains(t, h.commentBodies(tk), "still there?", "nothing is posted to it")
	require.Equal(t, 0, h.count(`SELECT count(*) FROM messages WHERE body = 'written while disabled'`))
	var reason string
	require.NoError(t, h.pool.QueryRow(ctx, `SELECT error->>'reason' FROM messages WHERE state = 'held' AND direction = 'out'`).Scan(&reason))
	require.Equal(t, "This reply comes from the helpdesk connection zendesk, which is disabled. "+
		"It is sent when the connection is enabled again.", reason)

	h.setEnabled(true)
	n, err := h.bridge.ReleaseHeld(ctx)
	require.NoError(t, err)
	require.Equal(t, 3, n, "two conversations inbound, one outbound")
	h.eventually(func() bool { return h.count(`SELECT count(*) FROM messages WHERE state <> 'done'`) == 0 },
		"everything held goes on: %s", h.failures())
	require.Equal(t, []string{"queued before the switch"}, h.sentTexts())
	require.Len(t, h.zd.Tickets(), 2, "the new customer's ticket is opened now")
	require.Contains(t, h.commentBodies(tk), "still there?")
}

func (h *harness) commentBodies(ticketID string) []string {
	var out []string
	for _, c := range h.publicComments(ticketID) {
		out = append(out, c.Body)
	}
	return out
}
