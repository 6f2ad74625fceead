package e2e

import (
	"bytes"
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/relaydesk/relaydesk/connectors"
	"github.com/relaydesk/relaydesk/connectors/connectortest"
	"github.com/relaydesk/relaydesk/internal/app"
	"github.com/relaydesk/relaydesk/internal/config"
	"github.com/relaydesk/relaydesk/internal/msgconv"
	"github.com/relaydesk/relaydesk/internal/store"
	"github.com/relaydesk/relaydesk/internal/whatsapp"
	"github.com/relaydesk/relaydesk/internal/whatsapp/whatsapptest"
)

func TestCustomerMessagesLandInOneTicketInOrder(t *testing.T) {
	t.Parallel()
	h := newHarness(t, harnessOpts{})

	jpeg := bytes.Repeat([]byte{0xff, 0xd8, 0xff, 0xe0}, 2048)
	voice := bytes.Repeat([]byte("OggS"), 4096)
	imgID := h.graph.AddMedia(whatsapptest.Media{MimeType: "image/jpeg", Data: jpeg})
	voiceID := h.graph.AddMedia(whatsapptest.Media{MimeType: "audio/ogg; codecs=opus", Data: voice})

	d := whatsapptest.NewDelivery(phoneID).Name(customer, "Kerry Fisher").
		Text(customer, "Hello, my order has not arrived").
		Image(customer, imgID, "image/jpeg", "This is the box").
		Audio(customer, voiceID, "audio/ogg; codecs=opus", true)
	h.postWhatsApp(d)
	h.postWhatsApp(d) // Meta redelivers

	h.eventually(func() bool {
		ts := h.zd.Tickets()
		return len(ts) == 1 && len(h.publicComments(ts[0].ID)) == 3
	}, "three comments in one ticket")
	tk := h.zd.Tickets()[0]
	require.Contains(t, tk.Subject, "Kerry Fisher")
	require.Contains(t, tk.Subject, "Hello, my order has not arrived")
	require.Contains(t, tk.Tags, "whatsapp")
	require.Equal(t, "wa:"+phoneID+":"+customer, tk.ExternalID)

	cs := h.publicComments(tk.ID)
	for _, c := range cs {
		require.Equal(t, tk.RequesterID, c.AuthorID, "every customer comment is authored by the requester")
	}
	require.Equal(t, "Hello, my order has not arrived", cs[0].Body)
	require.Equal(t, "This is the box", cs[1].Body)
	require.Len(t, cs[1].Attachments, 1)
	require.Equal(t, "image/jpeg", cs[1].Attachments[0].ContentType)
	require.Equal(t, jpeg, cs[1].Attachments[0].Data, "the image bytes arrive unchanged")
	require.Equal(t, "(voice message)", cs[2].Body)
	require.Len(t, cs[2].Attachments, 1)
	require.Equal(t, voice, cs[2].Attachments[0].Data)
	require.True(t, strings.HasSuffix(cs[2].Attachments[0].Filename, ".ogg"), cs[2].Attachments[0].Filename)

	requesters := 0
	for _, u := range h.zd.Users() {
		if u.Phone == "+"+customer {
			requesters++
		}
	}
	require.Equal(t, 1, requesters, "one requester, found by phone")
	h.eventually(func() bool { return h.count(`SELECT count(*) FROM messages WHERE state <> 'done'`) == 0 }, "every message recorded as done")

	t.Run("an agent's public reply reaches WhatsApp once", func(t *testing.T) {
		del := h.agentReplies(tk.ID, "Sorry about that! A new box is on its way.")
		require.Equal(t, 200, h.postHelpdesk(h.zd.Redeliver(del)), "a redelivered webhook is accepted")
		h.eventually(func() bool { return len(h.sentTexts()) == 1 }, "reply sent")
		time.Sleep(300 * time.Millisecond) // give a duplicate the chance to appear
		require.Equal(t, []string{"Sorry about that! A new box is on its way."}, h.sentTexts())
		sent := h.graph.Sent()[0]
		require.Equal(t, customer, sent.To)
		require.Equal(t, 1, h.count(`SELECT count(*) FROM messages WHERE direction = 'out' AND state = 'done' AND wamid = $1`, sent.ID))
	})

	t.Run("private notes and relaydesk's own comments are never sent", func(t *testing.T) {
		before := len(h.graph.Sent())
		noteID := h.zd.AgentNote(tk.ID, "internal: check the warehouse")
		require.Equal(t, 200, h.postHelpdesk(h.zd.CommentDelivery(tk.ID, noteID)))
		cs := h.publicComments(tk.ID)
		require.Equal(t, 200, h.postHelpdesk(h.zd.CommentDelivery(tk.ID, cs[0].ID)), "the customer's own comment echoed back")
		time.Sleep(500 * time.Millisecond)
		require.Len(t, h.graph.Sent(), before)
	})

	t.Run("the delivery status comes back", func(t *testing.T) {
		wamid := h.graph.Sent()[0].ID
		h.postWhatsApp(whatsapptest.NewDelivery(phoneID).Status(wamid, "delivered", customer))
		h.postWhatsApp(whatsapptest.NewDelivery(phoneID).Status(wamid, "read", customer))
		require.Equal(t, 1, h.count(`SELECT count(*) FROM messages WHERE wamid = $1 AND status = 'read'`, wamid))
	})
	h.noViolations()
}

func TestEveryMessageTypeIsReadableForAgents(t *testing.T) {
	t.Parallel()
	h := newHarness(t, harnessOpts{})

	// Every real-shaped payload, as Meta sends it (media ids the fake knows).
	for _, name := range whatsapptest.FixtureNames(t) {
		if strings.HasPrefix(name, "status-") {
			continue
		}
		body := whatsapptest.Fixture(t, name)
		batch, err := whatsapp.ParseDelivery(body)
		require.NoError(t, err)
		for _, ch := range batch.Changes {
			for _, m := range ch.Messages {
				if m.IsMedia() {
					h.graph.AddMedia(whatsapptest.Media{ID: m.Media.ID, MimeType: m.Media.MimeType, Data: []byte("file " + m.Media.ID)})
				}
			}
		}
		h.postWhatsAppBody(body)
	}
	h.eventually(func() bool {
		return h.count(`SELECT count(*) FROM messages WHERE state = 'pending'`) == 0
	}, "every fixture message processed")

	var bodies []string
	for _, tk := range h.zd.Tickets() {
		for _, c := range h.publicComments(tk.ID) {
			require.NotEmpty(t, strings.TrimSpace(c.Body), "no empty comment reaches the agent")
			bodies = append(bodies, c.Body)
		}
		// Reactions are internal notes on the reacted message's ticket.
		bodies = append(bodies, h.notes(tk.ID)...)
	}
	all := strings.Join(bodies, "\n")
	for _, want := range []string{"Shared a location", "Shared contact card", "Chose:", "Tapped:", "Reacted", "Removed their reaction",
		"Placed an order", "changed their WhatsApp number", "Unsupported message", "[Came from an ad"} {
		require.Contains(t, all, want)
	}
	require.Zero(t, h.count(`SELECT count(*) FROM messages WHERE state = 'failed'`), "failed: %s", h.failures())
}

func TestMediaGoneStillReachesTheAgent(t *testing.T) {
	t.Parallel()
	h := newHarness(t, harnessOpts{})
	// A media id Graph no longer knows (expired or deleted).
	h.postWhatsApp(whatsapptest.NewDelivery(phoneID).Image(customer, "404404404", "image/jpeg", "see photo"))
	h.eventually(func() bool {
		ts := h.zd.Tickets()
		return len(ts) == 1 && len(h.publicComments(ts[0].ID)) == 1
	}, "message posted without the file")
	c := h.publicComments(h.zd.Tickets()[0].ID)[0]
	require.Contains(t, c.Body, "see photo")
	require.Contains(t, c.Body, "could not be fetched from WhatsApp")
	require.Empty(t, c.Attachments)
}

func TestFlakyHelpdeskStillGetsEverythingOnceInOrder(t *testing.T) {
	t.Parallel()
	h := newHarness(t, harnessOpts{})

	h.zd.FailNext(2, connectortest.FailServerError)
	h.zd.FailNext(2, connectortest.FailRateLimited)
	h.zd.FailNext(1, connectortest.FailTimeout)
	h.zd.FailNext(2, connectortest.FailServerError)

	var want []string
	for i := range 8 {
		body := "message " + string(rune('A'+i))
		want = append(want, body)
		h.postWhatsApp(whatsapptest.NewDelivery(phoneID).Text(customer, body))
	}
	h.eventually(func() bool {
		ts := h.zd.Tickets()
		return len(ts) == 1 && len(h.publicComments(ts[0].ID)) >= len(want)
	}, "all messages delivered")
	var got []string
	for _, c := range h.publicComments(h.zd.Tickets()[0].ID) {
		got = append(got, c.Body)
	}
	require.Equal(t, want, got, "exactly once, in order")
	require.Len(t, h.zd.Tickets(), 1)
	h.noViolations()
}

func TestWorkerKilledMidJobLosesNothing(t *testing.T) {
	t.Parallel()
	h := newHarness(t, harnessOpts{})

	// The helpdesk hangs, so the delivery job is mid-call when the replica dies.
	h.zd.FailNext(1, connectortest.FailTimeout)
	h.postWhatsApp(whatsapptest.NewDelivery(phoneID).Text(customer, "one").Text(customer, "two"))
	h.eventually(func() bool { return h.count(`SELECT count(*) FROM river_job WHERE state = 'running'`) > 0 }, "job running")
	h.killWorkers()
	h.postWhatsApp(whatsapptest.NewDelivery(phoneID).Text(customer, "three"))

	h.startWorkers() // a replica comes back
	h.eventually(func() bool {
		ts := h.zd.Tickets()
		return len(ts) == 1 && len(h.publicComments(ts[0].ID)) >= 3
	}, "all delivered after restart")
	var got []string
	for _, c := range h.publicComments(h.zd.Tickets()[0].ID) {
		got = append(got, c.Body)
	}
	require.Equal(t, []string{"one", "two", "three"}, got)
}

func TestGraphErrorsOnReplies(t *testing.T) {
	t.Parallel()
	h := newHarness(t, harnessOpts{})
	tk := h.openTicket("hi")

	t.Run("throughput limit waits and retries", func(t *testing.T) {
		h.graph.Fail(whatsapptest.Fault{Op: whatsapptest.OpSendMessage, Times: 2, Code: 130429, HTTPStatus: 400})
		h.agentReplies(tk, "first reply")
		h.eventually(func() bool { return len(h.sentTexts()) == 1 }, "sent after the limit passed")
	})
	t.Run("undeliverable becomes an internal note", func(t *testing.T) {
		h.graph.Fail(whatsapptest.Fault{Op: whatsapptest.OpSendMessage, Times: 1, Code: 131026, HTTPStatus: 400})
		h.agentReplies(tk, "second reply")
		h.eventually(func() bool {
			for _, n := range h.notes(tk) {
				if strings.Contains(n, "NOT delivered") {
					return true
				}
			}
			return false
		}, "a note explains the failure")
		require.Equal(t, 1, h.count(`SELECT count(*) FROM messages WHERE direction = 'out' AND state = 'failed'`))
	})
	t.Run("an expired token marks the number for attention", func(t *testing.T) {
		h.graph.Fail(whatsapptest.Fault{Op: whatsapptest.OpSendMessage, Times: 1, Code: 190, HTTPStatus: 401})
		h.agentReplies(tk, "third reply")
		h.eventually(func() bool {
			return h.count(`SELECT count(*) FROM whatsapp_accounts WHERE health = 'token_expired'`) == 1
		}, "account marked")
		h.eventually(func() bool { return len(h.sentTexts()) == 2 }, "sent once the token works again")
	})
	t.Run("a failed status becomes an internal note", func(t *testing.T) {
		wamid := h.graph.Sent()[0].ID
		h.postWhatsApp(whatsapptest.NewDelivery(phoneID).Status(wamid, "failed", customer, whatsapp.Error{Code: 131047, Title: "Re-engagement message"}))
		h.eventually(func() bool {
			for _, n := range h.notes(tk) {
				if strings.Contains(n, "first reply") && strings.Contains(n, "131047") {
					return true
				}
			}
			return false
		}, "a note names the reply and the reason")
	})
	h.noViolations()
}

func TestTwentyFourHourWindow(t *testing.T) {
	t.Parallel()

	t.Run("without a template the reply is held back with a note", func(t *testing.T) {
		t.Parallel()
		h := newHarness(t, harnessOpts{})
		tk := h.openTicket("hi")

		h.clock.Advance(25 * time.Hour)
		h.agentReplies(tk, "late reply")
		h.eventually(func() bool { return len(h.notes(tk)) == 1 }, "a note")
		require.Contains(t, h.notes(tk)[0], "NOT sent")
		require.Contains(t, h.notes(tk)[0], "24 hours")
		require.Empty(t, h.graph.Sent(), "nothing was sent outside the window")
	})

	t.Run("with a template it re-engages and delivers the reply when the customer answers", func(t *testing.T) {
		t.Parallel()
		h := newHarness(t, harnessOpts{template: &config.TemplateRef{Name: "hello_world", Language: "en_US"}})
		tk := h.openTicket("hi")

		h.clock.Advance(25 * time.Hour)
		h.agentReplies(tk, "are you still there?")
		h.agentReplies(tk, "we have news about your order")
		h.eventually(func() bool { return len(h.notes(tk)) == 2 }, "a note per held reply")
		require.Contains(t, h.notes(tk)[0], "hello_world")
		require.Len(t, h.graph.Sent(), 1, "one template for the closed window, not one per reply")
		require.Equal(t, "template", h.graph.Sent()[0].Type)

		h.postWhatsApp(whatsapptest.NewDelivery(phoneID).At(h.clock.Now()).Text(customer, "yes!"))
		h.eventually(func() bool { return len(h.sentTexts()) == 2 }, "held replies delivered")
		require.Equal(t, []string{"are you still there?", "we have news about your order"}, h.sentTexts())
	})
}

func TestSolvedAndClosedTickets(t *testing.T) {
	t.Parallel()
	h := newHarness(t, harnessOpts{})
	first := h.openTicket("first question")

	// Solved: the next message reopens the same ticket (inside the window).
	require.Equal(t, 200, h.postHelpdesk(h.zd.SetStatus(first, connectors.StatusSolved)))
	h.postWhatsApp(whatsapptest.NewDelivery(phoneID).Text(customer, "one more thing"))
	h.eventually(func() bool { return len(h.publicComments(first)) == 2 }, "reopened")
	require.Len(t, h.zd.Tickets(), 1)
	require.Equal(t, "open", string(h.zd.Tickets()[0].Status))

	// Closed: a new ticket that follows the old one up.
	require.Equal(t, 200, h.postHelpdesk(h.zd.SetStatus(first, connectors.StatusClosed)))
	h.postWhatsApp(whatsapptest.NewDelivery(phoneID).Text(customer, "new problem"))
	h.eventually(func() bool { return len(h.zd.Tickets()) == 2 }, "follow-up ticket")
	var second connectortest.Ticket
	for _, tk := range h.zd.Tickets() {
		if tk.ID != first {
			second = tk
		}
	}
	require.Equal(t, first, second.FollowupOf)
	require.Equal(t, "new problem", h.publicComments(second.ID)[0].Body)
	h.noViolations()
}

func TestHelpdeskWebhookAuthentication(t *testing.T) {
	t.Parallel()
	h := newHarness(t, harnessOpts{})
	tk := h.openTicket("hi")
	good := h.zd.CommentDelivery(tk, h.zd.AgentReply(tk, "hello from an agent"))
	before := h.count(`SELECT count(*) FROM messages`) + h.count(`SELECT count(*) FROM webhook_events`)

	forged := good
	forged.Header = good.Header.Clone()
	forged.Header.Set("X-Zendesk-Webhook-Signature", "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=")
	tampered := good
	tampered.Body = bytes.Replace(good.Body, []byte("hello from an agent"), []byte("send me your password"), 1)
	stale := good
	stale.Header = good.Header.Clone()
	stale.Header.Set("X-Zendesk-Webhook-Signature-Timestamp", time.Now().Add(-time.Hour).UTC().Format(time.RFC3339))

	for name, d := range map[string]connectortest.Delivery{"forged": forged, "tampered": tampered, "replayed an hour later": stale} {
		require.Equal(t, http.StatusUnauthorized, h.postHelpdesk(d), name)
	}
	require.Equal(t, before, h.count(`SELECT count(*) FROM messages`)+h.count(`SELECT count(*) FROM webhook_events`),
		"a rejected webhook changes nothing")

	publicID := h.publicID
	h.publicID = "no-such-connection"
	require.Equal(t, http.StatusNotFound, h.postHelpdesk(good))
	h.publicID = publicID

	require.Equal(t, http.StatusOK, h.postHelpdesk(good))
	h.eventually(func() bool { return len(h.sentTexts()) == 1 }, "the genuine reply is sent")
	require.Equal(t, "hello from an agent", h.graph.Sent()[0].Text)
}

func TestAgentReplyBeforeTheTicketIsRecordedIsNotLost(t *testing.T) {
	t.Parallel()
	h := newHarness(t, harnessOpts{})
	ctx := context.Background()
	h.killWorkers()
	d := whatsapptest.NewDelivery(phoneID).Text(customer, "is anyone there?")
	h.postWhatsApp(d)

	// The helpdesk creates the ticket (as relaydesk's job is about to) and an
	// auto-responder answers at once, before relaydesk has recorded the
	// ticket. The same request with the same idempotency key makes the
	// job's own create return this ticket afterwards.
	conn, err := h.store.ConnectionByName(ctx, "zendesk")
	require.NoError(t, err)
	creds, err := h.store.Credentials(conn)
	require.NoError(t, err)
	zc, err := app.NewConnector(conn, creds, nil)
	require.NoError(t, err)
	var name string
	require.NoError(t, h.pool.QueryRow(ctx, `SELECT profile_name FROM contacts WHERE wa_id = $1`, customer).Scan(&name))
	rid, err := zc.EnsureRequester(ctx, connectors.Requester{Phone: "+" + customer, WaID: customer, Name: name})
	require.NoError(t, err)
	var at time.Time
	require.NoError(t, h.pool.QueryRow(ctx, `SELECT wa_timestamp FROM messages`).Scan(&at))
	tk, _, err := zc.CreateTicket(ctx, connectors.NewTicket{RequesterID: rid, Subject: msgconv.Subject(name, customer, "is anyone there?"),
		First: connectors.Message{Body: "is anyone there?", Key: d.LastID(), At: at}, Tags: []string{"whatsapp"},
		ExternalID: "wa:" + phoneID + ":" + customer})
	require.NoError(t, err)
	h.agentReplies(tk.ID, "Hi! We got your message.")
	require.Equal(t, 1, h.count(`SELECT count(*) FROM parked_events`), "the early reply is parked")
	require.Equal(t, 0, h.count(`SELECT count(*) FROM messages WHERE direction = 'out'`))

	h.startWorkers()
	h.eventually(func() bool { return len(h.sentTexts()) == 1 }, "the early reply is delivered once the ticket is recorded")
	require.Equal(t, []string{"Hi! We got your message."}, h.sentTexts())
	require.Len(t, h.zd.Tickets(), 1, "the job's create returned the same ticket")
	require.Equal(t, 0, h.count(`SELECT count(*) FROM parked_events`))
}

func TestAgentReplyWithAttachmentReachesWhatsApp(t *testing.T) {
	t.Parallel()
	h := newHarness(t, harnessOpts{})
	tk := h.openTicket("can you send the invoice?")

	// The text part fails once after the file was accepted: the retry must
	// not send the file again.
	h.graph.Fail(whatsapptest.Fault{Op: whatsapptest.OpSendMessage, Times: 1, HTTPStatus: 500, Code: 131000,
		Match: func(_ *http.Request, body []byte) bool { return bytes.Contains(body, []byte(`"type":"text"`)) }})
	pdf := append([]byte("%PDF-1.4\n"), bytes.Repeat([]byte("invoice line\n"), 500)...)
	id := h.zd.AgentReply(tk, "Here it is.", connectortest.File{Filename: "invoice.pdf", ContentType: "application/pdf", Data: pdf})
	require.Equal(t, http.StatusOK, h.postHelpdesk(h.zd.CommentDelivery(tk, id)))

	h.eventually(func() bool { return len(h.graph.Sent()) == 2 }, "the file and the text")
	time.Sleep(300 * time.Millisecond) // room for a duplicate to show up
	sent := h.graph.Sent()
	require.Len(t, sent, 2, "the file is sent once although the text needed a retry")
	faults := 0
	for _, r := range h.graph.Requests() {
		if r.Fault {
			faults++
		}
	}
	require.Equal(t, 1, faults, "the text's first send failed")
	require.Equal(t, "document", sent[0].Type, "the attachment goes first, as a document")
	require.Equal(t, "text", sent[1].Type)
	require.Equal(t, "Here it is.", sent[1].Text)
	ups := h.graph.Uploads()
	require.Len(t, ups, 1)
	require.Equal(t, "invoice.pdf", ups[0].Filename)
	require.Equal(t, pdf, ups[0].Data, "the file's bytes reach Graph unchanged")
	require.Equal(t, 1, h.count(`SELECT count(*) FROM messages WHERE direction = 'out' AND state = 'done' AND wamid = $1`, sent[1].ID))
	h.noViolations()
}

// A media download Graph refuses for auth marks the number whose token was
// refused, not the WhatsApp number whose id happens to equal the helpdesk
// connection's, and leaves every helpdesk connection alone.
func TestMediaDownloadAuthFailureMarksTheConversationsNumber(t *testing.T) {
	t.Parallel()
	h := newHarness(t, harnessOpts{spare: true})
	ctx := context.Background()

	spare, err := h.store.AccountByPhoneNumberID(ctx, sparePhoneID)
	require.NoError(t, err)
	tested, err := h.store.AccountByPhoneNumberID(ctx, phoneID)
	require.NoError(t, err)
	conn, err := h.store.ConnectionByName(ctx, "zendesk")
	require.NoError(t, err)
	require.NotEqual(t, int64(tested.ID), int64(conn.ID), "the ids must differ for the test to tell them apart")
	require.Equal(t, int64(spare.ID), int64(conn.ID), "a wrong id would land on the spare number")
	connHealth := func() map[store.ConnectionID]string {
		out := map[store.ConnectionID]string{}
		conns, err := h.store.Connections(ctx)
		require.NoError(t, err)
		for _, c := range conns {
			out[c.ID] = c.Health + "|" + c.HealthDetail
		}
		return out
	}
	before := connHealth()
	require.Len(t, before, 2)

	imgID := h.graph.AddMedia(whatsapptest.Media{MimeType: "image/jpeg", Data: []byte{0xff, 0xd8, 0xff}})
	refused := whatsapptest.ErrorFault(190)
	refused.Op = whatsapptest.OpDownloadMedia
	h.graph.Fail(refused)
	h.postWhatsApp(whatsapptest.NewDelivery(phoneID).Image(customer, imgID, "image/jpeg", "the receipt"))

	h.eventually(func() bool {
		a, err := h.store.AccountByPhoneNumberID(ctx, phoneID)
		require.NoError(t, err)
		return a.Health == "token_expired"
	}, "the number under test is marked token_expired")
	spare, err = h.store.AccountByPhoneNumberID(ctx, sparePhoneID)
	require.NoError(t, err)
	require.NotEqual(t, "token_expired", spare.Health, "the other number is untouched")
	require.Equal(t, before, connHealth(), "no connection's health changed")
}

// The intake stores the message it decoded (wa_message), not Meta's JSON,
// and the delivery job uses it as it is. Rows stored before migration 005
// hold only Meta's JSON (wa_raw): they are decoded on delivery and reach
// the agent exactly as a new row with the same content does.
func TestInboundIsStoredDecodedAndLegacyRowsStillDeliver(t *testing.T) {
	t.Parallel()
	h := newHarness(t, harnessOpts{})
	ctx := context.Background()
	h.killWorkers() // store both deliveries before any job runs

	jpeg := []byte{0xff, 0xd8, 0xff, 0xe0, 1, 2, 3}
	imgID := h.graph.AddMedia(whatsapptest.Media{MimeType: "image/jpeg", Data: jpeg})
	content := func() *whatsapptest.Delivery {
		return whatsapptest.NewDelivery(phoneID).
			Location(customer, 52.52, 13.405, "Office", "Main Street 1").
			Image(customer, imgID, "image/jpeg", "the receipt").
			ButtonReply(customer, "yes-1", "Yes, please")
	}
	current, legacy := content(), content()
	h.postWhatsApp(current)
	h.postWhatsApp(legacy)
	require.Equal(t, 6, h.count(`SELECT count(*) FROM messages
		WHERE direction = 'in' AND wa_message IS NOT NULL AND wa_raw IS NULL`), "every new row holds the decoded message only")

	// Turn the second delivery's rows into rows as migration 005 left them:
	// Meta's JSON in wa_raw, no decoded message.
	batch, err := whatsapp.ParseDelivery(legacy.Bytes())
	require.NoError(t, err)
	var want []string
	for _, m := range batch.Changes[0].Messages {
		tag, err := h.pool.Exec(ctx, `UPDATE messages SET wa_message = NULL, wa_raw = $2 WHERE wamid = $1`, m.ID, []byte(m.Raw))
		require.NoError(t, err)
		require.EqualValues(t, 1, tag.RowsAffected())
		want = append(want, msgconv.Render(whatsapp.DecodeMessage(m.Raw)))
	}
	require.Equal(t, 3, h.count(`SELECT count(*) FROM messages WHERE wa_message IS NULL AND wa_raw IS NOT NULL`))

	h.startWorkers()
	h.eventually(func() bool {
		ts := h.zd.Tickets()
		return len(ts) == 1 && len(h.publicComments(ts[0].ID)) == 6
	}, "both deliveries posted")
	cs := h.publicComments(h.zd.Tickets()[0].ID)
	for i := range 3 {
		fresh, old := cs[i], cs[i+3]
		require.Equal(t, want[i], old.Body, "the legacy row renders as its raw JSON decodes")
		require.Equal(t, fresh.Body, old.Body, "a legacy row and a new row with the same content read the same")
		require.Len(t, old.Attachments, len(fresh.Attachments))
		for j := range fresh.Attachments {
			require.Equal(t, fresh.Attachments[j].ContentType, old.Attachments[j].ContentType)
			require.Equal(t, jpeg, old.Attachments[j].Data, "the legacy row's media is fetched too")
		}
	}
	require.Len(t, cs[1].Attachments, 1, "the image carries its file")
	h.eventually(func() bool { return h.count(`SELECT count(*) FROM messages WHERE state <> 'done'`) == 0 }, "every message recorded as done: %s", h.failures())
	h.noViolations()
}
