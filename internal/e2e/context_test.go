package e2e

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/relaydesk/relaydesk/connectors/connectortest"
	"github.com/relaydesk/relaydesk/internal/whatsapp/whatsapptest"
)

// commentOf is the id of the ticket's public comment whose body contains
// text (the comment relaydesk posted for a customer message).
func (h *harness) commentOf(ticketID, text string) string {
	h.t.Helper()
	for _, c := range h.desk.Comments(ticketID) {
		if c.Public && strings.Contains(c.Body, text) {
			return c.ID
		}
	}
	h.t.Fatalf("no comment with %q on ticket %s", text, ticketID)
	return ""
}

// deskPublic are the public comments of a ticket of the route's helpdesk.
func (h *harness) deskPublic(ticketID string) []connectortest.Comment {
	var out []connectortest.Comment
	for _, c := range h.desk.Comments(ticketID) {
		if c.Public {
			out = append(out, c)
		}
	}
	return out
}

// Context both ways in Chatwoot: an agent's "Reply to" a customer message
// goes to WhatsApp quoting that message (context.message_id, which the fake
// Graph checks is a message of this chat), and a customer reply quoting
// the agent's message shows its words with a link to it in Chatwoot.
func TestRepliesInContextWithChatwoot(t *testing.T) {
	t.Parallel()
	h := newHarness(t, harnessOpts{chatwoot: true})
	first := whatsapptest.NewDelivery(phoneID).At(h.clock.Now()).Text(customer, "my parcel never arrived")
	h.postWhatsApp(first)
	h.eventually(func() bool { return len(h.desk.Tickets()) == 1 }, "ticket")
	tk := h.desk.Tickets()[0].ID
	second := whatsapptest.NewDelivery(phoneID).At(h.clock.Now()).Text(customer, "and the invoice is wrong")
	h.postWhatsApp(second)
	h.eventually(func() bool { return len(h.deskPublic(tk)) == 2 }, "both customer messages")

	// The agent answers the first message, not the latest.
	target := h.commentOf(tk, "my parcel never arrived")
	reply := h.cw.AgentReplyTo(tk, target, "We are sending a new parcel today.")
	require.Equal(t, http.StatusOK, h.postHelpdesk(h.cw.CommentDelivery(tk, reply)))
	h.eventually(func() bool { return len(h.graph.Sent()) == 1 }, "the reply is sent; failures: %s", h.failures())
	sent := h.graph.Sent()[0]
	require.Equal(t, first.LastID(), sent.ReplyTo, "the reply quotes the message the agent answered")
	require.Equal(t, "We are sending a new parcel today.", sent.Text)

	// A plain reply goes without context.
	h.deskReply(tk, "Anything else?")
	h.eventually(func() bool { return len(h.graph.Sent()) == 2 }, "the second reply")
	require.Empty(t, h.graph.Sent()[1].ReplyTo)

	// The customer quotes the agent's first reply: its words and a link
	// to it in Chatwoot.
	h.postWhatsApp(whatsapptest.NewDelivery(phoneID).At(h.clock.Now()).Text(customer, "thanks!").ReplyingTo(sent.ID))
	h.eventually(func() bool { return len(h.deskPublic(tk)) == 5 }, "the customer's answer")
	body := h.deskPublic(tk)[4].Body
	require.Contains(t, body, `[Reply to our message: "We are sending a new parcel today.", `+
		h.cw.URL+"/app/accounts/3/conversations/"+tk+"?messageId="+reply+"]")
	h.noDeskViolations()
}

// An agent's reaction in Chatwoot reaches WhatsApp as a reaction to the
// message it reacts to; taking it back sends the empty emoji; a reaction to
// a message relaydesk never carried is a note, not a send.
func TestAgentReactionReachesWhatsApp(t *testing.T) {
	t.Parallel()
	h := newHarness(t, harnessOpts{chatwoot: true})
	first := whatsapptest.NewDelivery(phoneID).At(h.clock.Now()).Text(customer, "the new parcel arrived, thank you")
	h.postWhatsApp(first)
	h.eventually(func() bool { return len(h.desk.Tickets()) == 1 }, "ticket")
	tk := h.desk.Tickets()[0].ID
	target := h.commentOf(tk, "the new parcel arrived")

	react := func(emoji string) {
		id := h.cw.AgentReacts(tk, target, emoji)
		require.Equal(t, http.StatusOK, h.postHelpdesk(h.cw.CommentDelivery(tk, id)))
	}
	react("❤️")
	h.eventually(func() bool { return len(h.graph.Sent()) == 1 }, "the reaction is sent; failures: %s", h.failures())
	react("")
	h.eventually(func() bool { return len(h.graph.Sent()) == 2 }, "the removal is sent")
	for i, want := range []string{"❤️", ""} {
		s := h.graph.Sent()[i]
		require.Equal(t, "reaction", s.Type)
		var body struct {
			Reaction struct {
				MessageID string  `json:"message_id"`
				Emoji     *string `json:"emoji"`
			} `json:"reaction"`
		}
		require.NoError(t, json.Unmarshal(s.Body, &body))
		require.Equal(t, first.LastID(), body.Reaction.MessageID)
		require.NotNil(t, body.Reaction.Emoji)
		require.Equal(t, want, *body.Reaction.Emoji)
	}
	require.Empty(t, h.deskNotes(tk), "a reaction adds nothing to the conversation")

	// A reaction to an agent note (never a WhatsApp message) is not sent.
	note := h.cw.AgentNote(tk, "internal: customer is happy")
	id := h.cw.AgentReacts(tk, note, "👍")
	require.Equal(t, http.StatusOK, h.postHelpdesk(h.cw.CommentDelivery(tk, id)))
	h.eventually(func() bool { return len(h.deskNotes(tk)) == 2 }, "a note about the reaction")
	require.Contains(t, h.deskNotes(tk)[1], "Your reaction was NOT sent")
	require.Len(t, h.graph.Sent(), 2)
	h.noDeskViolations()
}
