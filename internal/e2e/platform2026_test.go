package e2e

import (
	"context"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/relaydesk/relaydesk/internal/store"
	"github.com/relaydesk/relaydesk/internal/whatsapp"
	"github.com/relaydesk/relaydesk/internal/whatsapp/whatsapptest"
)

// Ids in the 2026 fixtures (internal/whatsapp/whatsapptest/testdata/2026).
const (
	fixtureOriginal = "wamid.HBgLMTY1MDU1NTEyMzQVAgASGBRPUklHSU5BTDAwMDAwMDAwMDEA"
	fixturePlayed   = "wamid.HBgLMTY1MDU1NTEyMzQVAgARGBJWT0lDRU5PVEVQTEFZRUQwMQA="
	fixturePriced   = "wamid.HBgLMTY1MDU1NTEyMzQVAgARGBJQUklDSU5HU1RBVFVTMDAwMQA="
	fixtureEcho     = "wamid.HBgLMTY1MDU1NTEyMzQVAgARGBRTTUJFQ0hPQlVTSU5FU1NBUFAwMQA="
)

// hasNote waits for a note on the ticket containing every part.
func (h *harness) hasNote(ticketID string, parts ...string) string {
	h.t.Helper()
	var found string
	h.eventually(func() bool {
		for _, n := range h.notes(ticketID) {
			ok := true
			for _, p := range parts {
				ok = ok && strings.Contains(n, p)
			}
			if ok {
				found = n
				return true
			}
		}
		return false
	}, "note with %q", parts)
	return found
}

// TestStandbyTranscriptAndTakeBack: while Meta's AI holds the conversation,
// the customer's message (standby field) opens the ticket marked as handled
// by the AI, the AI's reply becomes a note, and an agent's reply is sent as
// usual, takes the conversation back (the fake Graph's thread owner becomes
// the app, as Meta documents for a service message) and says so in a note.
func TestStandbyTranscriptAndTakeBack(t *testing.T) {
	t.Parallel()
	h := newHarness(t, harnessOpts{})
	h.graph.SetThreadOwner(phoneID, customer, whatsapp.OwnerAI)

	h.postWhatsAppBody(whatsapptest.PlatformFixture(t, "standby-message.json"))
	h.eventually(func() bool { return len(h.zd.Tickets()) == 1 }, "ticket")
	ticket := h.zd.Tickets()[0].ID
	h.eventually(func() bool { return len(h.publicComments(ticket)) == 1 }, "customer comment")
	require.Equal(t, "[Handled by Meta's AI] Do you ship to Canada?", h.publicComments(ticket)[0].Body)

	h.postWhatsAppBody(whatsapptest.PlatformFixture(t, "standby-ai-reply.json"))
	h.hasNote(ticket, "Meta's AI replied to the customer", "Yes, we ship to Canada. Delivery takes 5 to 7 days.")
	h.postWhatsAppBody(whatsapptest.PlatformFixture(t, "standby-ai-reply.json")) // a redelivery
	require.Equal(t, 1, h.count(`SELECT count(*) FROM conversations WHERE ai_holds`))
	require.Empty(t, h.graph.Sent(), "nothing of the AI's is sent again")

	h.agentReplies(ticket, "Hi, this is Sam from support.")
	h.eventually(func() bool { return len(h.sentTexts()) == 1 }, "reply sent")
	require.Equal(t, []string{"Hi, this is Sam from support."}, h.sentTexts())
	require.Equal(t, whatsapp.OwnerApp, h.graph.ThreadOwner(phoneID, customer), "the service message took the thread back")
	h.hasNote(ticket, "took the conversation back from Meta's AI")
	require.Equal(t, 0, h.count(`SELECT count(*) FROM conversations WHERE ai_holds`))
	var aiReplies int
	for _, n := range h.notes(ticket) {
		if strings.Contains(n, "Meta's AI replied") {
			aiReplies++
		}
	}
	require.Equal(t, 1, aiReplies, "the redelivered AI reply is not noted twice")
	h.noViolations()
}

// TestHandoverNote: a messaging_handovers notification becomes a note on
// the customer's ticket and records who holds the conversation.
func TestHandoverNote(t *testing.T) {
	t.Parallel()
	h := newHarness(t, harnessOpts{})
	h.postWhatsAppBody(whatsapptest.PlatformFixture(t, "standby-message.json"))
	h.eventually(func() bool { return len(h.zd.Tickets()) == 1 }, "ticket")
	ticket := h.zd.Tickets()[0].ID
	require.Equal(t, 1, h.count(`SELECT count(*) FROM conversations WHERE ai_holds`))

	h.postWhatsAppBody(whatsapptest.PlatformFixture(t, "handover.json"))
	h.hasNote(ticket, "Meta's AI handed this conversation over to relaydesk", "ai_agent → app")
	h.eventually(func() bool { return h.count(`SELECT count(*) FROM conversations WHERE ai_holds`) == 0 }, "relaydesk holds it")
	h.postWhatsAppBody(whatsapptest.PlatformFixture(t, "handover.json")) // a redelivery
	h.eventually(func() bool {
		return h.count(`SELECT count(*) FROM messages WHERE kind = 'note' AND state = 'pending'`) == 0
	}, "posted")
	var handovers int
	for _, n := range h.notes(ticket) {
		if strings.Contains(n, "handed this conversation") {
			handovers++
		}
	}
	require.Equal(t, 1, handovers)
	require.Empty(t, h.graph.Sent())
}

// TestBusinessAppEcho: a message the business sent from the WhatsApp
// Business app shows on the ticket as the business's note, is stored as an
// outbound echo, is never sent by relaydesk and does not move the 24-hour
// window; its statuses apply to it.
func TestBusinessAppEcho(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	h := newHarness(t, harnessOpts{})
	ticket := h.openTicket("Where is my order?")
	var before string
	require.NoError(t, h.pool.QueryRow(ctx, `SELECT last_inbound_at::text FROM conversations`).Scan(&before))

	h.postWhatsAppBody(whatsapptest.PlatformFixture(t, "echo.json"))
	note := h.hasNote(ticket, "Sent by the business from the WhatsApp Business app", "Hi Kerry, your order left the warehouse today.")
	require.NotContains(t, note, "Where is my order")
	h.postWhatsAppBody(whatsapptest.PlatformFixture(t, "echo.json")) // a redelivery
	h.postWhatsApp(whatsapptest.NewDelivery(phoneID).Status(fixtureEcho, whatsapp.StatusRead, customer))
	h.eventually(func() bool {
		return h.count(`SELECT count(*) FROM messages WHERE wamid = $1 AND direction = 'out' AND echo AND state = 'done' AND status = 'read' AND author = $2`,
			fixtureEcho, store.AuthorBusinessApp) == 1
	}, "echo stored as outbound, with its status")
	require.Equal(t, 1, h.count(`SELECT count(*) FROM messages WHERE kind = 'note'`), "one note for the echo")

	var after string
	require.NoError(t, h.pool.QueryRow(ctx, `SELECT last_inbound_at::text FROM conversations`).Scan(&after))
	require.Equal(t, before, after, "an echo neither opens nor extends the window")
	require.Len(t, h.publicComments(ticket), 1, "the echo is not the customer's comment")
	require.Empty(t, h.graph.Sent(), "the fake Graph got no send")
	require.Equal(t, 0, h.graph.SentCount())
	h.noViolations()
}

// TestBusinessAppEchoOpensTicket: the business writes first from the
// WhatsApp Business app: the note opens the ticket (helpdesks need a first
// comment), saying who wrote it, and nothing is sent.
func TestBusinessAppEchoOpensTicket(t *testing.T) {
	t.Parallel()
	h := newHarness(t, harnessOpts{})
	h.postWhatsAppBody(whatsapptest.PlatformFixture(t, "echo.json"))
	h.eventually(func() bool { return len(h.zd.Tickets()) == 1 }, "ticket")
	ticket := h.zd.Tickets()[0].ID
	h.eventually(func() bool { return len(h.zd.Comments(ticket)) == 1 }, "first comment")
	require.True(t, strings.HasPrefix(h.zd.Comments(ticket)[0].Body,
		"[relaydesk] Sent by the business from the WhatsApp Business app"), h.zd.Comments(ticket)[0].Body)
	require.Contains(t, h.zd.Comments(ticket)[0].Body, "Hi Kerry, your order left the warehouse today.")
	require.Equal(t, 0, h.count(`SELECT count(*) FROM conversations WHERE last_inbound_at IS NOT NULL`), "no window opened")
	require.Empty(t, h.graph.Sent())
	h.noViolations()
}

// TestCustomerEditAndRevoke: an edit shows the new text with the previous
// kept; a revoke marks the message deleted for the agent; relaydesk keeps
// the original's content.
func TestCustomerEditAndRevoke(t *testing.T) {
	t.Parallel()
	h := newHarness(t, harnessOpts{})
	h.postWhatsApp(whatsapptest.NewDelivery(phoneID).Text(customer, "My order number is 4771").With("id", fixtureOriginal))
	h.eventually(func() bool { return len(h.zd.Tickets()) == 1 }, "ticket")
	ticket := h.zd.Tickets()[0].ID

	h.postWhatsAppBody(whatsapptest.PlatformFixture(t, "edit.json"))
	h.hasNote(ticket, `The customer edited a message. edited: "My order number is 4711" (was: "My order number is 4771")`)

	h.postWhatsAppBody(whatsapptest.PlatformFixture(t, "revoke.json"))
	h.hasNote(ticket, `The customer deleted a message for everyone: "My order number is 4771"`, "relaydesk keeps its content")
	require.Equal(t, 1, h.count(`SELECT count(*) FROM messages WHERE wamid = $1 AND body = 'My order number is 4771'`, fixtureOriginal),
		"the original is kept")
	require.Len(t, h.publicComments(ticket), 1, "edits and revokes are notes, not customer comments")
	h.noViolations()
}

// TestPlayedStatusAndPricing: a voice note's "played" ranks after "read"
// (a late "read" does not overwrite it), and a status's pricing is kept on
// the message and counted per category and month.
func TestPlayedStatusAndPricing(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	h := newHarness(t, harnessOpts{})
	ticket := h.openTicket("Please send a voice note")
	h.agentReplies(ticket, "First answer")
	h.agentReplies(ticket, "Second answer")
	h.eventually(func() bool { return len(h.sentTexts()) == 2 }, "replies sent")
	sent := h.graph.Sent()
	first, second := sent[0].ID, sent[1].ID
	h.eventually(func() bool {
		return h.count(`SELECT count(*) FROM messages WHERE wamid = ANY($1) AND state = 'done'`, []string{first, second}) == 2
	}, "replies recorded")

	h.postWhatsAppBody(whatsapptest.PlatformFixture(t, "status-played.json", fixturePlayed, first))
	h.postWhatsApp(whatsapptest.NewDelivery(phoneID).Status(first, whatsapp.StatusRead, customer))
	h.postWhatsAppBody(whatsapptest.PlatformFixture(t, "status-pricing.json", fixturePriced, second))
	h.eventually(func() bool {
		return h.count(`SELECT count(*) FROM messages WHERE wamid = $1 AND status = 'played'`, first) == 1
	}, "played kept over a late read")
	require.Equal(t, 1, h.count(`SELECT count(*) FROM messages WHERE wamid = $1 AND status = 'delivered'
		AND pricing_category = 'utility' AND pricing_billable AND pricing_type = 'regular' AND pricing_model = 'PMP'`, second))

	acc, err := h.store.AccountByName(ctx, "support")
	require.NoError(t, err)
	counts, err := h.store.PricingByMonth(ctx, acc.ID, 12)
	require.NoError(t, err)
	require.Len(t, counts, 1)
	require.Equal(t, "utility", counts[0].Category)
	require.Equal(t, 1, counts[0].Messages)
	require.Equal(t, 1, counts[0].Billable)
	for _, n := range h.notes(ticket) {
		require.NotContains(t, n, "NOT sent", "no status made a failure note")
	}
	h.noViolations()
}

// TestReadPolicyOnReply: under the "on_reply" policy an agent's reply first
// marks the customer's last message read with the typing indicator (one
// Graph call), then goes out; when that call fails the reply still goes.
// Under "off" (the default) nothing is marked read.
func TestReadPolicyOnReply(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		policy string
		fail   bool
		reads  int
	}{
		{"off", store.ReadPolicyOff, false, 0},
		{"on reply", store.ReadPolicyOnReply, false, 1},
		{"on reply, Graph refuses the read", store.ReadPolicyOnReply, true, 0},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			h := newHarness(t, harnessOpts{})
			_, err := h.pool.Exec(context.Background(), `UPDATE whatsapp_accounts SET read_policy = $1`, tc.policy)
			require.NoError(t, err)
			if tc.fail {
				h.graph.Fail(whatsapptest.Fault{Op: whatsapptest.OpMarkRead, HTTPStatus: 500, Code: 1, Message: "(#1) An unknown error occurred"})
			}
			d := whatsapptest.NewDelivery(phoneID).Text(customer, "first").Text(customer, "second")
			h.postWhatsApp(d)
			h.eventually(func() bool { return len(h.zd.Tickets()) == 1 }, "ticket")
			ticket := h.zd.Tickets()[0].ID
			h.agentReplies(ticket, "On it")
			h.eventually(func() bool { return len(h.sentTexts()) == 1 }, "reply sent")
			reads := h.graph.Reads()
			require.Len(t, reads, tc.reads)
			if tc.reads > 0 {
				require.Equal(t, d.LastID(), reads[0].MessageID, "the customer's last message")
				require.True(t, reads[0].Typing, "with the typing indicator")
			}
			h.noViolations()
		})
	}
}

// TestCoexistenceSendCap: a coexistence number's send bucket holds at most
// 20 tokens (Meta's fixed 20 messages per second) whatever its send rate;
// another number's holds its send rate. After the first reply the bucket is
// created full less one token.
func TestCoexistenceSendCap(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name        string
		coexistence bool
		want        float64
	}{{"coexistence number", true, 19}, {"cloud API number", false, 79}} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			h := newHarness(t, harnessOpts{})
			_, err := h.pool.Exec(context.Background(), `UPDATE whatsapp_accounts SET coexistence = $1, send_rate = 80`, tc.coexistence)
			require.NoError(t, err)
			ticket := h.openTicket("hello")
			h.agentReplies(ticket, "hi")
			h.eventually(func() bool { return len(h.sentTexts()) == 1 }, "reply sent")
			var tokens float64
			require.NoError(t, h.pool.QueryRow(context.Background(), `SELECT tokens FROM rate_buckets WHERE key = $1`, "wa:"+phoneID).Scan(&tokens))
			require.InDelta(t, tc.want, tokens, 0.001)
		})
	}
}
