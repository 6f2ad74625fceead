package e2e

import (
	"slices"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/relaydesk/relaydesk/connectors/chatwoot/chatwoottest"
	"github.com/relaydesk/relaydesk/connectors/zendesk/zendesktest"
	"github.com/relaydesk/relaydesk/internal/whatsapp/whatsapptest"
)

// deskTags are the tags (Chatwoot: labels) of a ticket of the route's
// helpdesk.
func (h *harness) deskTags(ticketID string) []string {
	for _, t := range h.desk.Tickets() {
		if t.ID == ticketID {
			return t.Tags
		}
	}
	return nil
}

// sentReplies has the agent write n replies and waits for WhatsApp to take
// them; it returns their wamids.
func (h *harness) sentReplies(ticketID string, bodies ...string) []string {
	h.t.Helper()
	before := len(h.graph.Sent())
	for _, b := range bodies {
		h.deskReply(ticketID, b)
	}
	h.eventually(func() bool { return len(h.graph.Sent()) == before+len(bodies) }, "the replies are sent; failures: %s", h.failures())
	var ids []string
	for _, s := range h.graph.Sent()[before:] {
		ids = append(ids, s.ID)
	}
	h.eventually(func() bool {
		return h.count(`SELECT count(*) FROM messages WHERE direction = 'out' AND wamid = ANY($1)`, ids) == len(ids)
	}, "relaydesk recorded the wamids")
	return ids
}

// Chatwoot shows a status natively: the agent's latest message gets
// WhatsApp's status through Chatwoot's message status API, and a burst of
// five statuses costs at most two updates (one per coalescing period the
// burst touches), with no message added to the conversation.
func TestDeliveryStatusInChatwootIsTheMessagesOwn(t *testing.T) {
	t.Parallel()
	h := newHarness(t, harnessOpts{chatwoot: true})
	tk := h.deskTicket("hello?")
	ids := h.sentReplies(tk, "Hi! Checking now.", "Found it: it ships today.")
	latest := h.desk.Comments(tk)[len(h.desk.Comments(tk))-1].ID
	comments := len(h.desk.Comments(tk))
	const patch = chatwoottest.PatternMessageStatus

	h.postWhatsApp(whatsapptest.NewDelivery(phoneID).Status(ids[0], "sent", customer).Status(ids[1], "sent", customer))
	h.postWhatsApp(whatsapptest.NewDelivery(phoneID).Status(ids[0], "delivered", customer).Status(ids[1], "delivered", customer))
	h.postWhatsApp(whatsapptest.NewDelivery(phoneID).Status(ids[1], "read", customer))
	h.eventually(func() bool { return h.cw.MessageStatus(latest) == "read" }, "the latest reply shows read; failures: %s", h.failures())
	require.Positive(t, h.cw.Hits(patch))
	require.LessOrEqual(t, h.cw.Hits(patch), 2, "five statuses, coalesced")
	require.Len(t, h.desk.Comments(tk), comments, "no comment is added")
	require.Equal(t, []string{"whatsapp"}, h.deskTags(tk), "native: no status label")

	// The same status again changes nothing.
	hits := h.cw.Hits(patch)
	h.postWhatsApp(whatsapptest.NewDelivery(phoneID).Status(ids[0], "read", customer))
	h.eventually(func() bool {
		return h.count(`SELECT count(*) FROM river_job WHERE kind = 'show_status' AND state <> 'completed'`) == 0 &&
			h.count(`SELECT count(*) FROM messages WHERE wamid = $1 AND status = 'read'`, ids[0]) == 1
	}, "the earlier reply's read is worked")
	require.Equal(t, hits, h.cw.Hits(patch), "read was shown already")
	h.noDeskViolations()
}

// Zendesk shows a status as a ticket tag that replaces the previous
// status's tag and keeps the route's own tags; with status_display off
// nothing changes.
func TestDeliveryStatusAsATicketTag(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		name, display string
		desk          harnessOpts
	}{
		{"zendesk", "", harnessOpts{}},
		{"chatwoot labels", "tag", harnessOpts{chatwoot: true, statusDisplay: "tag"}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			h := newHarness(t, tt.desk)
			tk := h.deskTicket("hello?")
			ids := h.sentReplies(tk, "Hi! Checking now.")
			comments := len(h.desk.Comments(tk))

			h.postWhatsApp(whatsapptest.NewDelivery(phoneID).Status(ids[0], "sent", customer))
			h.eventually(func() bool { return slices.Contains(h.deskTags(tk), "whatsapp-sent") }, "whatsapp-sent; failures: %s", h.failures())
			h.postWhatsApp(whatsapptest.NewDelivery(phoneID).Status(ids[0], "delivered", customer))
			h.postWhatsApp(whatsapptest.NewDelivery(phoneID).Status(ids[0], "read", customer))
			h.eventually(func() bool { return slices.Contains(h.deskTags(tk), "whatsapp-read") }, "whatsapp-read")
			tags := h.deskTags(tk)
			require.NotContains(t, tags, "whatsapp-sent")
			require.NotContains(t, tags, "whatsapp-delivered")
			require.Contains(t, tags, "whatsapp", "the route's own tag stays")
			require.Len(t, h.desk.Comments(tk), comments, "no comment is added")
			h.noDeskViolations()
		})
	}

	t.Run("off", func(t *testing.T) {
		t.Parallel()
		h := newHarness(t, harnessOpts{statusDisplay: "off"})
		tk := h.deskTicket("hello?")
		ids := h.sentReplies(tk, "Hi! Checking now.")
		h.postWhatsApp(whatsapptest.NewDelivery(phoneID).Status(ids[0], "read", customer))
		h.eventually(func() bool {
			return h.count(`SELECT count(*) FROM river_job WHERE kind = 'show_status' AND state = 'completed'`) == 1
		}, "the status job ran")
		require.Equal(t, []string{"whatsapp"}, h.deskTags(tk))
		require.Zero(t, h.zd.Hits(zendesktest.PatternUpdateTicket), "no ticket update")
	})
}
