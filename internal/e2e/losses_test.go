package e2e

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/relaydesk/relaydesk/connectors/connectortest"
	"github.com/relaydesk/relaydesk/internal/bridge"
	"github.com/relaydesk/relaydesk/internal/store"
	"github.com/relaydesk/relaydesk/internal/whatsapp/whatsapptest"
)

// Nothing lost without a word (issue 14, item 3): every test runs with the
// production defaults of the path it exercises (Zendesk's documented 50 MiB
// attachment limit, WhatsApp's media rules, the 7-day link lifetime).

var mediaLinkRe = regexp.MustCompile(`/media/[A-Za-z0-9_-]+`)

func (h *harness) fetch(path string) (int, []byte) {
	h.t.Helper()
	resp, err := http.Get(h.srv.URL + path)
	require.NoError(h.t, err)
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	require.NoError(h.t, err)
	return resp.StatusCode, body
}

func TestMediaTheHelpdeskRefusesArrivesAsTextWithALink(t *testing.T) {
	t.Parallel()
	h := newHarness(t, harnessOpts{})
	// One byte over Zendesk's documented attachment limit (the fake's
	// default, as Zendesk answers: 413).
	big := bytes.Repeat([]byte("%PDF-1.7 relaydesk "), (50<<20)/19+1)
	bigID := h.graph.AddMedia(whatsapptest.Media{MimeType: "application/pdf", Data: big})
	h.postWhatsApp(whatsapptest.NewDelivery(phoneID).Name(customer, "Kerry Fisher").
		Document(customer, bigID, "application/pdf", "invoice-march.pdf", "Here is the invoice"))

	h.eventually(func() bool { return len(h.zd.Tickets()) == 1 }, "a ticket: %s", h.failures())
	cs := h.publicComments(h.zd.Tickets()[0].ID)
	require.Len(t, cs, 1)
	body := cs[0].Body
	require.True(t, strings.HasPrefix(body, "Here is the invoice\n\n"), body)
	require.Contains(t, body, "The file invoice-march.pdf could not be attached: it is larger than the helpdesk accepts")
	require.Empty(t, cs[0].Attachments)
	h.eventually(func() bool { return h.count(`SELECT count(*) FROM messages WHERE state <> 'done'`) == 0 }, "all done: %s", h.failures())

	link := mediaLinkRe.FindString(body)
	require.NotEmpty(t, link, body)
	code, got := h.fetch(link)
	require.Equal(t, http.StatusOK, code)
	require.True(t, bytes.Equal(big, got), "the link serves the customer's file unchanged (%d bytes, want %d)", len(got), len(big))

	// On the open ticket too (a comment, not a new ticket), and without a
	// caption the line stands alone.
	h.postWhatsApp(whatsapptest.NewDelivery(phoneID).Document(customer, bigID, "application/pdf", "invoice-april.pdf", ""))
	h.eventually(func() bool { return len(h.publicComments(h.zd.Tickets()[0].ID)) == 2 }, "second comment: %s", h.failures())
	second := h.publicComments(h.zd.Tickets()[0].ID)[1]
	require.True(t, strings.HasPrefix(second.Body, "(document: invoice-april.pdf)\n\n[The file invoice-april.pdf could not be attached"), second.Body)
	require.Len(t, h.zd.Tickets(), 1)

	altered := []byte(link)
	if mid := len(altered) / 2; altered[mid] == 'A' {
		altered[mid] = 'B'
	} else {
		altered[mid] = 'A'
	}
	code, page := h.fetch(string(altered))
	require.Equal(t, http.StatusNotFound, code, "an altered token opens nothing")
	require.Contains(t, string(page), "not valid")

	h.clock.Advance(bridge.MediaLinkTTL + time.Minute)
	code, page = h.fetch(link)
	require.Equal(t, http.StatusGone, code, "an expired link is refused")
	require.Contains(t, string(page), "expired")
	h.noViolations()
}

func TestAgentReplyWithARefusedFileSendsTheRest(t *testing.T) {
	t.Parallel()
	h := newHarness(t, harnessOpts{})
	tid := h.openTicket("Can you show me the part?")

	gif := connectortest.File{Filename: "spinner.gif", ContentType: "image/gif", Data: []byte("GIF89a\x01\x00\x01\x00")}
	jpeg := connectortest.File{Filename: "part.jpg", ContentType: "image/jpeg", Data: bytes.Repeat([]byte{0xff, 0xd8, 0xff, 0xe0}, 512)}
	cid := h.zd.AgentReply(tid, "Here are two pictures of the part.", gif, jpeg)
	require.Equal(t, http.StatusOK, h.postHelpdesk(h.zd.CommentDelivery(tid, cid)))

	h.eventually(func() bool { return len(h.sentTexts()) == 1 }, "the text is sent: %s", h.failures())
	require.Equal(t, []string{"Here are two pictures of the part."}, h.sentTexts())
	var kinds []string
	for _, m := range h.graph.Sent() {
		kinds = append(kinds, m.Type)
	}
	require.Equal(t, []string{"image", "text"}, kinds, "the good file and the text, not the GIF")
	uploads := h.graph.Uploads()
	require.Len(t, uploads, 1)

	h.eventually(func() bool { return len(h.notes(tid)) == 1 }, "a note")
	note := h.notes(tid)[0]
	require.Contains(t, note, "spinner.gif")
	require.Contains(t, note, "NOT sent")
	require.Contains(t, note, "image/gif")
	require.NotContains(t, note, "part.jpg")
	h.eventually(func() bool { return h.count(`SELECT count(*) FROM messages WHERE state <> 'done'`) == 0 }, "all done: %s", h.failures())
	h.noViolations()
}

func TestReactionLandsOnTheReactedMessagesTicket(t *testing.T) {
	t.Parallel()
	h := newHarness(t, harnessOpts{})
	first := whatsapptest.NewDelivery(phoneID).Text(customer, "My parcel arrived broken, the box was crushed on one side")
	h.postWhatsApp(first)
	h.eventually(func() bool { return len(h.zd.Tickets()) == 1 }, "ticket")
	tid := h.zd.Tickets()[0].ID
	wamid := first.MessageIDs()[0]

	// The ticket is solved and its reopen window has passed: a new customer
	// message would open a follow-up ticket, a reaction must not.
	require.Equal(t, http.StatusOK, h.postHelpdesk(h.zd.SetRawStatus(tid, "solved")))
	h.eventually(func() bool {
		return h.count(`SELECT count(*) FROM tickets WHERE status = 'solved' AND resolved_at IS NOT NULL`) == 1
	}, "solved recorded")
	h.clock.Advance(73 * time.Hour)

	h.postWhatsApp(whatsapptest.NewDelivery(phoneID).Reaction(customer, wamid, "👍"))
	h.eventually(func() bool { return len(h.notes(tid)) == 1 }, "the reaction on the ticket: %s", h.failures())
	require.Equal(t, `[WhatsApp] Reacted 👍 to the message "My parcel arrived broken, the box was crushed …"`, h.notes(tid)[0])

	h.postWhatsApp(whatsapptest.NewDelivery(phoneID).Reaction(customer, wamid, ""))
	h.eventually(func() bool { return len(h.notes(tid)) == 2 }, "the removal on the ticket: %s", h.failures())
	require.Equal(t, `[WhatsApp] Removed their reaction to the message "My parcel arrived broken, the box was crushed …"`, h.notes(tid)[1])

	require.Len(t, h.zd.Tickets(), 1, "a reaction opens no ticket")
	require.Equal(t, "solved", h.zd.RawStatus(tid), "nor reopens one")
	require.Len(t, h.publicComments(tid), 1)
	h.eventually(func() bool { return h.count(`SELECT count(*) FROM messages WHERE state <> 'done'`) == 0 }, "all done: %s", h.failures())
	h.noViolations()
}

func TestUnroutedMessageIsHeldCountedAndRouted(t *testing.T) {
	t.Parallel()
	h := newHarness(t, harnessOpts{spare: true}) // the spare number has no route
	ctx := context.Background()
	body := whatsapptest.NewDelivery(sparePhoneID).Name(customer, "Kerry Fisher").Text(customer, "Is anyone there?").Bytes()
	req, err := http.NewRequest(http.MethodPost, h.srv.URL+"/webhooks/whatsapp", bytes.NewReader(body))
	require.NoError(t, err)
	req.Header.Set("X-Hub-Signature-256", whatsapptest.SignBody([]byte("spare-app-secret"), body))
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	resp.Body.Close()
	require.Equal(t, http.StatusOK, resp.StatusCode)

	h.eventually(func() bool { return h.count(`SELECT count(*) FROM messages WHERE state = 'unrouted'`) == 1 }, "held")
	require.Equal(t, 0, h.count(`SELECT count(*) FROM messages WHERE state = 'failed'`), "nothing is marked failed")
	var reason json.RawMessage
	require.NoError(t, h.pool.QueryRow(ctx, `SELECT error FROM messages WHERE state = 'unrouted'`).Scan(&reason))
	require.Contains(t, string(reason), "No route of this WhatsApp number matches")
	_, metrics := h.fetch("/metrics")
	require.Contains(t, string(metrics), `relaydesk_unrouted_messages{number="spare"} 1`)

	held, err := h.store.UnroutedMessages(ctx, 10)
	require.NoError(t, err)
	require.Len(t, held, 1)
	require.Equal(t, "Is anyone there?", held[0].Body)

	// The admin adds a default route, then presses the page's button.
	spare, err := h.store.AccountByName(ctx, spareNumber)
	require.NoError(t, err)
	conn, err := h.store.ConnectionByName(ctx, "zendesk")
	require.NoError(t, err)
	_, err = h.store.CreateRoute(ctx, store.NewRoute{AccountID: spare.ID, ConnectionID: conn.ID,
		Match: store.RouteMatch{Kind: "default"}, ReopenWindow: 72 * time.Hour}, store.Actor{Name: "test"})
	require.NoError(t, err)
	n, err := h.bridge.RouteHeld(ctx, spare.ID)
	require.NoError(t, err)
	require.Equal(t, 1, n)

	h.eventually(func() bool { return len(h.zd.Tickets()) == 1 }, "routed: %s", h.failures())
	require.Equal(t, "Is anyone there?", h.publicComments(h.zd.Tickets()[0].ID)[0].Body)
	h.eventually(func() bool { return h.count(`SELECT count(*) FROM messages WHERE state <> 'done'`) == 0 }, "all done: %s", h.failures())
	_, metrics = h.fetch("/metrics")
	require.NotContains(t, string(metrics), `relaydesk_unrouted_messages{number="spare"}`)
}
