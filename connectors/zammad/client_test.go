package zammad_test

import (
	"bytes"
	"crypto/hmac"
	"crypto/sha1"
	"encoding/hex"
	"io"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/relaydesk/relaydesk/connectors"
	"github.com/relaydesk/relaydesk/connectors/connectortest"
	"github.com/relaydesk/relaydesk/connectors/zammad"
	"github.com/relaydesk/relaydesk/connectors/zammad/zammadtest"
)

type testBundle = connectortest.Bundle[*zammad.Client, *zammadtest.Fake]

func setup(t *testing.T) *testBundle {
	b := connectortest.Setup(t, zammadtest.New(t), 10*time.Second, zammad.New)
	b.Name = "Grace Brewster Hopper"
	return b
}

func newClient(t *testing.T, f *zammadtest.Fake, settings map[string]any) *zammad.Client {
	t.Helper()
	cfg := f.Config()
	for k, v := range settings {
		cfg.Settings[k] = v
	}
	cfg.HTTPClient = &http.Client{Timeout: 10 * time.Second}
	c, err := zammad.New(cfg)
	require.NoError(t, err)
	return c
}

func TestCustomers(t *testing.T) {
	t.Parallel()
	b := setup(t)
	connectortest.ExpectFields(b.F, "POST /api/v1/users", "firstname", "lastname", "login", "mobile", "note", "roles")
	id, err := b.C.EnsureRequester(b.Ctx, connectors.Requester{Phone: "+447700900123", Name: "Ada King Lovelace"})
	require.NoError(t, err)
	users := b.F.Users()
	last := users[len(users)-1]
	require.Equal(t, id, last.ID)
	require.Equal(t, "Ada King Lovelace", last.Name)
	require.Equal(t, "+447700900123", last.Phone, "stored as mobile")
	require.Equal(t, 1, b.F.Hits("POST /api/v1/users"))

	t.Run("a customer just created is known before the index sees it", func(t *testing.T) {
		searches := b.F.Hits("GET /api/v1/users/search")
		again, err := b.C.EnsureRequester(b.Ctx, connectors.Requester{Phone: "+447700900123"})
		require.NoError(t, err)
		require.Equal(t, id, again)
		require.Equal(t, searches, b.F.Hits("GET /api/v1/users/search"))
	})

	t.Run("an agent-entered phone number is found, the oldest user first", func(t *testing.T) {
		older := b.F.SeedUser("Old Entry", "+4930123456")
		b.F.SeedUser("Newer Entry", "+4930123456")
		got, err := b.C.EnsureRequester(b.Ctx, connectors.Requester{Phone: "+4930123456", Name: "Profile"})
		require.NoError(t, err)
		require.Equal(t, older, got)
	})

	t.Run("a number that only shares digits is not a match", func(t *testing.T) {
		b.F.SeedUser("Prefix", "+4930123")
		_, err := b.C.EnsureRequester(b.Ctx, connectors.Requester{Phone: "+4930123999"})
		require.NoError(t, err)
	})

	t.Run("without Elasticsearch the login finds relaydesk's customers", func(t *testing.T) {
		f := zammadtest.New(t)
		f.DisableSearchIndex()
		id, err := newClient(t, f, nil).EnsureRequester(b.Ctx, connectors.Requester{Phone: "+15550104001"})
		require.NoError(t, err)
		again, err := newClient(t, f, nil).EnsureRequester(b.Ctx, connectors.Requester{Phone: "+15550104001"})
		require.NoError(t, err)
		require.Equal(t, id, again, "a replica that did not create it")
	})
	connectortest.RequireRefusesPhones(t, b.C)
}

func TestTicketsAndArticles(t *testing.T) {
	t.Parallel()
	b := setup(t)
	prev, rid := b.Ticket(t, "+15550104000")
	tk, first, err := b.C.CreateTicket(b.Ctx, connectors.NewTicket{
		RequesterID: rid, Subject: "Order 42", First: connectors.Message{Key: "wamid.Z1", Body: "where is it?"},
		Tags: []string{"whatsapp", "vip, gold"}, ExternalID: "wa:100:15550104000", PreviousTicketID: prev,
	})
	require.NoError(t, err)
	require.Equal(t, connectors.StatusOpen, tk.Status)
	require.Equal(t, b.F.URL+"/#ticket/zoom/"+tk.ID, tk.URL)
	for _, ft := range b.F.Tickets() {
		if ft.ID == tk.ID {
			require.Equal(t, []string{zammad.Tag, "whatsapp", "vip", "gold"}, ft.Tags)
			require.Equal(t, "wa:100:15550104000", ft.ExternalID)
			require.Equal(t, prev, ft.FollowupOf)
		}
	}
	arts := b.F.Articles(tk.ID)
	require.Equal(t, []zammadtest.Article{{ID: first, Type: "phone", Sender: "Customer", OriginByID: rid, CreatedBy: "3"}}, arts)

	note, err := b.C.AddNote(b.Ctx, tk.ID, connectors.Note{Body: "not delivered"})
	require.NoError(t, err)
	arts = b.F.Articles(tk.ID)
	require.Equal(t, zammadtest.Article{ID: note, Type: "note", Sender: "Agent", Internal: true, OriginByID: "0", CreatedBy: "3"}, arts[1])

	t.Run("a deleted previous ticket is not linked", func(t *testing.T) {
		tk, _, err := b.C.CreateTicket(b.Ctx, connectors.NewTicket{RequesterID: rid, Subject: "x", First: connectors.Message{Key: "wamid.Z3", Body: "x"}, PreviousTicketID: "999999"})
		require.NoError(t, err)
		for _, ft := range b.F.Tickets() {
			if ft.ID == tk.ID {
				require.Empty(t, ft.FollowupOf)
			}
		}
	})

	t.Run("a restarted replica finds the ticket of a failed attempt", func(t *testing.T) {
		nt := connectors.NewTicket{RequesterID: rid, Subject: "again", First: connectors.Message{Key: "wamid.Z2", Body: "x"}}
		first, _, err := b.C.CreateTicket(b.Ctx, nt)
		require.NoError(t, err)
		fresh := newClient(t, b.F, nil) // no memory of it
		again, _, err := fresh.CreateTicket(b.Ctx, nt)
		require.NoError(t, err)
		require.Equal(t, first.ID, again.ID)
		require.Positive(t, b.F.Hits("GET /api/v1/tickets/search"))
	})
}

func TestAttachmentsTravelAsStreamedBase64(t *testing.T) {
	t.Parallel()
	b := setup(t)
	tid, rid := b.Ticket(t, "+15550104010")
	data := bytes.Repeat([]byte{0xff, 0x00, 0x7f, 0x80}, 40000)
	tests := []struct {
		name   string
		size   int64
		length bool
	}{
		{"known size has an exact Content-Length", int64(len(data)), true},
		{"unknown size is chunked", -1, false},
	}
	length := connectortest.RecordLength(b.F, "POST /api/v1/ticket_articles")
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			id, err := b.C.AddMessage(b.Ctx, tid, rid, connectors.Message{Key: tt.name, Attachments: []connectors.Attachment{connectortest.BytesAttachment("", "image/jpeg", data, tt.size)}})
			require.NoError(t, err)
			connectortest.RequireLength(t, length, tt.length)
			c := b.Last(t, tid)
			require.Equal(t, id, c.ID)
			require.Equal(t, "[attachment.jpg]", c.Body, "Zammad needs a body")
			require.Equal(t, []connectortest.File{{Filename: "attachment.jpg", ContentType: "image/jpeg", Data: data}}, c.Attachments)
		})
	}

	t.Run("over the upload limit fails before sending", func(t *testing.T) {
		small := newClient(t, b.F, map[string]any{zammad.SettingMaxUploadMB: 1})
		big := bytes.Repeat([]byte{1}, 800<<10) // 800 KiB: over 1 MB once in base64
		before := b.F.RequestCount()
		_, err := small.AddMessage(b.Ctx, tid, rid, connectors.Message{Key: "big", Attachments: []connectors.Attachment{connectortest.BytesAttachment("big.bin", "application/octet-stream", big, int64(len(big)))}})
		require.True(t, connectors.IsPermanent(err), "%v", err)
		require.Contains(t, err.Error(), "upload limit of 1 MB")
		require.Equal(t, before+1, b.F.RequestCount(), "only the ticket was read")

		before = b.F.RequestCount()
		_, err = small.AddMessage(b.Ctx, tid, rid, connectors.Message{Key: "big2", Attachments: []connectors.Attachment{connectortest.BytesAttachment("big.bin", "application/octet-stream", big, -1)}})
		require.True(t, connectors.IsPermanent(err), "unknown size, stopped while streaming: %v", err)
		// The aborted upload may reach the fake after the client gave up:
		// wait for it, so it cannot take the failure the next subtest queues.
		require.Eventually(t, func() bool { return b.F.RequestCount() >= before+2 }, 10*time.Second, 10*time.Millisecond)
	})

	t.Run("the web server's 413 explains itself", func(t *testing.T) {
		b.F.FailNextWith(http.StatusRequestEntityTooLarge, http.Header{"Content-Type": {"text/html"}}, "<html>413</html>")
		_, err := b.C.AddNote(b.Ctx, tid, connectors.Note{Body: "x"})
		require.True(t, connectors.IsPermanent(err))
		require.Contains(t, err.Error(), "client_max_body_size")
	})
}

func TestStatuses(t *testing.T) {
	t.Parallel()
	tests := []struct {
		state    string
		group    int64
		want     connectors.Status
		afterMsg string // state after a customer message, "" when refused
	}{
		{"new", zammadtest.GroupUsers, connectors.StatusOpen, "new"},
		{"open", zammadtest.GroupUsers, connectors.StatusOpen, "open"},
		{"pending reminder", zammadtest.GroupUsers, connectors.StatusPending, "open"},
		{"pending close", zammadtest.GroupUsers, connectors.StatusPending, "open"},
		{"waiting for customer", zammadtest.GroupUsers, connectors.StatusPending, "open"}, // a custom pending state
		{"closed", zammadtest.GroupUsers, connectors.StatusSolved, "open"},
		{"closed", zammadtest.GroupArchive, connectors.StatusClosed, ""},
		{"merged", zammadtest.GroupUsers, connectors.StatusClosed, ""},
		{"removed", zammadtest.GroupUsers, connectors.StatusClosed, ""},
	}
	for _, tt := range tests {
		t.Run(tt.state+" in group "+string(rune('0'+tt.group)), func(t *testing.T) {
			t.Parallel()
			b := setup(t)
			tid, rid := b.Ticket(t, "+15550104020")
			b.F.SetGroup(tid, tt.group)
			if tt.state != "new" {
				b.F.SetState(tid, tt.state)
			}
			tk, err := b.C.GetTicket(b.Ctx, tid)
			require.NoError(t, err)
			require.Equal(t, tt.want, tk.Status)
			_, err = b.C.AddMessage(b.Ctx, tid, rid, connectors.Message{Key: "m", Body: "customer again"})
			if tt.afterMsg == "" {
				require.ErrorIs(t, err, connectors.ErrTicketClosed)
				return
			}
			require.NoError(t, err)
			require.Equal(t, tt.afterMsg, b.F.RawState(tid))
		})
	}

	t.Run("reopen time of the group", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		b.F.SetFollowUp(zammadtest.GroupUsers, "new_ticket_after_certain_time", 2)
		recent, _ := b.Ticket(t, "+15550104021")
		b.F.SetState(recent, "closed")
		old, _ := b.Ticket(t, "+15550104023")
		b.F.SetNow(func() time.Time { return time.Now().Add(-72 * time.Hour) })
		b.F.SetState(old, "closed")
		tk, err := b.C.GetTicket(b.Ctx, recent)
		require.NoError(t, err)
		require.Equal(t, connectors.StatusSolved, tk.Status, "closed moments ago")
		tk, err = b.C.GetTicket(b.Ctx, old)
		require.NoError(t, err)
		require.Equal(t, connectors.StatusClosed, tk.Status, "closed three days ago, past the two-day reopen time")
	})

	t.Run("without admin.group closed tickets count as solved", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		tid, _ := b.Ticket(t, "+15550104022")
		b.F.SetGroup(tid, zammadtest.GroupArchive)
		b.F.SetState(tid, "closed")
		b.F.DenyGroupRead()
		tk, err := b.C.GetTicket(b.Ctx, tid)
		require.NoError(t, err)
		require.Equal(t, connectors.StatusSolved, tk.Status)
	})
}

func sign(secret, body string) http.Header {
	m := hmac.New(sha1.New, []byte(secret))
	m.Write([]byte(body))
	return http.Header{zammad.HeaderSignature: {"sha1=" + hex.EncodeToString(m.Sum(nil))}}
}

func TestParseWebhookPayloads(t *testing.T) {
	t.Parallel()
	b := setup(t)
	const secret = "sig-token"
	now := time.Date(2026, 11, 20, 12, 0, 0, 0, time.UTC)
	parse := func(body string) ([]connectors.Event, error) {
		return b.C.ParseWebhook(sign(secret, body), []byte(body), []byte(secret), now)
	}
	ticketJSON := `"ticket":{"id":81,"state":"open","updated_at":"2026-11-20T11:59:00.000Z","group":{"id":1,"follow_up_possible":"yes"}}`

	t.Run("an agent's HTML reply with a file and an inline image", func(t *testing.T) {
		evs, err := parse(`{` + ticketJSON + `,"article":{"id":104,"ticket_id":81,"body":"<div>Hello &amp; welcome,</div><div><br></div><p>Your   label:</p><ul><li>one</li><li>two</li></ul><img src=\"/api/v1/ticket_attachment/81/104/174?view=inline\">",
			"content_type":"text/html","internal":false,"sender":"Agent","type":"note","created_by_id":4,"origin_by_id":null,
			"created_at":"2026-11-20T11:58:59.000Z","updated_at":"2026-11-20T11:58:59.000Z",
			"attachments":[{"id":174,"filename":"image1.jpeg","size":"35574","preferences":{"Mime-Type":"image/jpeg","Content-Disposition":"inline"},"url":"https://z.example/api/v1/ticket_attachment/81/104/174"},
			{"id":175,"filename":"label.pdf","size":"1500","preferences":{"Content-Type":"application/pdf"},"url":"https://z.example/api/v1/ticket_attachment/81/104/175"}]}}`)
		require.NoError(t, err)
		require.Len(t, evs, 2)
		require.Equal(t, connectors.Event{
			Type: connectors.EventComment, EventID: "article:104", TicketID: "81", CommentID: "104", AuthorID: "4", Public: true,
			Body: "Hello & welcome,\n\nYour label:\none\ntwo", Status: connectors.StatusOpen, At: time.Date(2026, 11, 20, 11, 58, 59, 0, time.UTC),
			Attachments: []connectors.RemoteAttachment{{URL: "https://z.example/api/v1/ticket_attachment/81/104/175", Filename: "label.pdf", ContentType: "application/pdf", Size: 1500}},
		}, evs[0])
		require.Equal(t, connectors.EventTicketStatus, evs[1].Type)
		require.Equal(t, "ticket:81:open:2026-11-20T11:59:00.000Z", evs[1].EventID)
	})

	t.Run("articles that are not an agent's reply", func(t *testing.T) {
		for _, sender := range []string{"Customer", "System"} {
			evs, err := parse(`{` + ticketJSON + `,"article":{"id":105,"body":"x","content_type":"text/plain","internal":false,"sender":"` + sender + `","created_by_id":3,"origin_by_id":9,"created_at":"2026-11-20T11:59:00.000Z"}}`)
			require.NoError(t, err)
			require.True(t, evs[0].FromRequester, sender)
			require.False(t, evs[0].IsAgentReply(), sender)
		}
	})

	t.Run("closed follows the group's follow-up setting", func(t *testing.T) {
		for policy, want := range map[string]connectors.Status{"yes": connectors.StatusSolved, "new_ticket": connectors.StatusClosed} {
			evs, err := parse(`{"ticket":{"id":81,"state":"closed","updated_at":"2026-11-20T11:59:00.000Z","group":{"follow_up_possible":"` + policy + `"}},"article":{}}`)
			require.NoError(t, err)
			require.Equal(t, []connectors.Event{{Type: connectors.EventTicketStatus, TicketID: "81", Status: want,
				At: time.Date(2026, 11, 20, 11, 59, 0, 0, time.UTC), EventID: "ticket:81:closed:2026-11-20T11:59:00.000Z"}}, evs)
		}
	})

	t.Run("a custom state the payload cannot map is skipped", func(t *testing.T) {
		evs, err := parse(`{"ticket":{"id":81,"state":"waiting for customer","updated_at":"2026-11-20T11:59:00.000Z"},"article":{}}`)
		require.NoError(t, err)
		require.Empty(t, evs)
	})

	t.Run("replays and payloads from the future", func(t *testing.T) {
		for _, at := range []string{"2026-11-20T11:51:00.000Z", "2026-11-20T12:09:00.000Z"} {
			_, err := parse(`{"ticket":{"id":81,"state":"open","updated_at":"` + at + `"},"article":{}}`)
			require.ErrorIs(t, err, connectors.ErrUnauthorized, at)
		}
		_, err := parse(`{"ticket":{"id":81,"state":"open","updated_at":"2026-11-20T11:53:00.000Z"},"article":{}}`)
		require.NoError(t, err, "7 minutes: within Zammad's retries")
	})

	t.Run("malformed", func(t *testing.T) {
		for _, body := range []string{
			`{"ticket":{"state":"open","updated_at":"2026-11-20T11:59:00.000Z"}}`,
			`{"ticket":{"id":81,"state":"open"},"article":{}}`,
			`{"ticket":{"id":81,"state":"open","updated_at":"2026-11-20T11:59:00.000Z"},"article":{"id":1,"body":"x"}}`,
			`{"ticket":{"id":"eighty","updated_at":"2026-11-20T11:59:00.000Z"}}`,
		} {
			_, err := parse(body)
			require.ErrorIs(t, err, connectors.ErrMalformed, body)
		}
	})

	t.Run("signature format", func(t *testing.T) {
		body := `{"ticket":{"id":81,"state":"open","updated_at":"2026-11-20T11:59:00.000Z"},"article":{}}`
		h := sign(secret, body)
		h.Set(zammad.HeaderSignature, strings.TrimPrefix(h.Get(zammad.HeaderSignature), "sha1="))
		_, err := b.C.ParseWebhook(h, []byte(body), []byte(secret), now)
		require.ErrorIs(t, err, connectors.ErrUnauthorized)
		h.Set(zammad.HeaderSignature, "sha1=zz")
		_, err = b.C.ParseWebhook(h, []byte(body), []byte(secret), now)
		require.ErrorIs(t, err, connectors.ErrUnauthorized)
	})
}

func TestInstallWebhookAndTriggers(t *testing.T) {
	t.Parallel()
	b := setup(t)
	var secret atomic.Pointer[[]byte]
	srv := connectortest.NewReceiver(t, func(r *http.Request, body []byte) ([]connectors.Event, error) {
		return b.C.ParseWebhook(r.Header, body, *secret.Load(), time.Now())
	})
	callback := srv.URL + "/webhooks/helpdesk/5"

	s, err := b.C.InstallWebhook(b.Ctx, callback)
	require.NoError(t, err)
	secret.Store(&s)
	hooks := b.F.Webhooks()
	require.Len(t, hooks, 1)
	require.Equal(t, callback, hooks[0].Endpoint)
	require.Equal(t, string(s), hooks[0].SignatureToken)
	trigs := b.F.Triggers()
	require.Len(t, trigs, 2)
	for _, tr := range trigs {
		require.Equal(t, hooks[0].ID, tr.WebhookID)
		require.Equal(t, "contains one", tr.Condition["ticket.tags"])
	}
	require.ElementsMatch(t, []map[string]string{
		{"article.action": "is", "article.sender_id": "is", "article.internal": "is", "ticket.tags": "contains one"},
		{"ticket.state_id": "has changed", "ticket.tags": "contains one"},
	}, []map[string]string{trigs[0].Condition, trigs[1].Condition})

	again, err := b.C.InstallWebhook(b.Ctx, callback)
	require.NoError(t, err)
	require.Equal(t, s, again, "the token is derived, not stored")
	require.Len(t, b.F.Webhooks(), 1)
	require.Len(t, b.F.Triggers(), 2)

	tid, _ := b.Ticket(t, "+15550104030")
	cid := b.F.AgentReply(tid, "delivered for real")
	require.NoError(t, b.F.Deliver(b.Ctx, srv.Client(), b.F.CommentDelivery(tid, cid)))
	require.Equal(t, cid, srv.Events()[0].CommentID)
	require.Equal(t, "delivered for real", srv.Events()[0].Body)

	t.Run("reinstalling after an uninstall rotates the token", func(t *testing.T) {
		const cb = "https://relay.example/webhooks/helpdesk/7"
		first, err := b.C.InstallWebhook(b.Ctx, cb)
		require.NoError(t, err)
		require.NoError(t, b.C.UninstallWebhook(b.Ctx, cb))
		second, err := b.C.InstallWebhook(b.Ctx, cb)
		require.NoError(t, err)
		require.NotEqual(t, first, second)
		require.NoError(t, b.C.UninstallWebhook(b.Ctx, cb))
	})

	_, err = b.C.InstallWebhook(b.Ctx, "https://relay.example/webhooks/helpdesk/6")
	require.NoError(t, err)
	require.NoError(t, b.C.UninstallWebhook(b.Ctx, callback))
	require.Len(t, b.F.Webhooks(), 1)
	require.Len(t, b.F.Triggers(), 2, "the other webhook's triggers stay")
	require.NoError(t, b.C.UninstallWebhook(b.Ctx, callback))

	_, err = b.C.InstallWebhook(b.Ctx, "ftp://nope")
	require.True(t, connectors.IsPermanent(err))
}

func TestOpenAttachmentStaysOnTheBaseURL(t *testing.T) {
	t.Parallel()
	b := setup(t)
	tid, _ := b.Ticket(t, "+15550104040")
	data := []byte("%PDF-1.7 label")
	cid := b.F.AgentReply(tid, "label", connectortest.File{Filename: "label.pdf", ContentType: "application/pdf", Data: data})
	evs, err := b.C.ParseWebhook(b.F.CommentDelivery(tid, cid).Header, b.F.CommentDelivery(tid, cid).Body, b.F.WebhookSecret(), time.Now())
	require.NoError(t, err)
	att := evs[0].Attachments[0]
	// Zammad builds the URL from its FQDN setting, which may name another
	// host than the one relaydesk talks to.
	att.URL = strings.Replace(att.URL, b.F.URL, "https://zammad.internal.example", 1)
	rc, ct, err := b.C.OpenAttachment(b.Ctx, att)
	require.NoError(t, err)
	got, _ := io.ReadAll(rc)
	rc.Close()
	require.Equal(t, data, got)
	require.Equal(t, "application/pdf", ct)

	_, _, err = b.C.OpenAttachment(b.Ctx, connectors.RemoteAttachment{URL: "https://evil.example/steal"})
	require.True(t, connectors.IsPermanent(err))
}

func TestHTTPFailures(t *testing.T) {
	t.Parallel()
	connectortest.RequireHTTPFailures(t, zammadtest.APIToken, []connectortest.HTTPFailure{
		{Name: "429 from a proxy", Status: 429, Header: http.Header{"Retry-After": {"12"}, "Content-Type": {"text/html"}}, Body: "<html>429</html>", Class: connectors.ClassRateLimited, After: 12 * time.Second},
		{Name: "503 with Retry-After", Status: 503, Header: http.Header{"Retry-After": {"30"}, "Content-Type": {"text/html"}}, Body: "<html>maintenance</html>", Class: connectors.ClassRetry, After: 30 * time.Second},
		{Name: "500", Status: 500, Body: `{"error":"Error ID x: Please contact your administrator."}`, Class: connectors.ClassRetry},
		{Name: "422", Status: 422, Body: `{"error":"Invalid value","error_human":"Invalid value"}`, Class: connectors.ClassPermanent},
		{Name: "403 without permission", Status: 403, Body: `{"error":"Not authorized","error_human":"Not authorized"}`, Class: connectors.ClassAuth},
	}, func(t *testing.T) (connectortest.FailerWith, func() error) {
		b := setup(t)
		tid, _ := b.Ticket(t, "+15550104050")
		return b.F, func() error {
			_, err := b.C.AddNote(b.Ctx, tid, connectors.Note{Body: "x"})
			return err
		}
	})
}

func TestFindMessage(t *testing.T) {
	t.Parallel()
	b := setup(t)
	tid, rid := b.Ticket(t, "+15550104060")
	m := connectors.Message{Key: "wamid.F", Body: "did it land?", Attachments: []connectors.Attachment{connectortest.BytesAttachment("a.txt", "text/plain", []byte("a"), 1)}}
	_, found, err := b.C.FindMessage(b.Ctx, tid, rid, m)
	require.NoError(t, err)
	require.False(t, found)
	id, err := b.C.AddMessage(b.Ctx, tid, rid, m)
	require.NoError(t, err)
	b.F.AgentReply(tid, "did it land?") // same text, by an agent
	got, found, err := b.C.FindMessage(b.Ctx, tid, rid, m)
	require.NoError(t, err)
	require.True(t, found)
	require.Equal(t, id, got)
	m.Attachments = nil
	_, found, err = b.C.FindMessage(b.Ctx, tid, rid, m)
	require.NoError(t, err)
	require.False(t, found, "the files are part of the message")
}

func TestNewValidatesConfig(t *testing.T) {
	t.Parallel()
	base := func(extra map[string]any) map[string]any {
		s := map[string]any{"base_url": "https://z.example", "group": "Users"}
		for k, v := range extra {
			s[k] = v
		}
		return s
	}
	creds := map[string]string{"api_token": "t"}
	connectortest.RequireConfigProblems(t, zammad.New, []connectortest.ConfigProblems{
		{Name: "nothing", Config: connectors.Config{}, Problems: []string{"settings.base_url: is required", "settings.group: is required", "credentials.api_token: is required"}},
		{Name: "upload limit not a number", Config: connectors.Config{Settings: base(map[string]any{"max_upload_mb": "lots"}), Credentials: creds}, Problems: []string{"settings.max_upload_mb: must be a whole number"}},
		{Name: "upload limit out of range", Config: connectors.Config{Settings: base(map[string]any{"max_upload_mb": 0}), Credentials: creds}, Problems: []string{"max_upload_mb must be between 1 and 2048"}},
		{Name: "URL with a fragment", Config: connectors.Config{Settings: base(map[string]any{"base_url": "https://z.example/#ticket/zoom/1"}), Credentials: creds}, Problems: []string{"without query, fragment or credentials"}},
		{Name: "OAuth2 is not offered", Config: connectors.Config{Settings: base(map[string]any{"auth_method": "oauth2"}), Credentials: creds}, Problems: []string{`unsupported auth method "oauth2"`}},
	})
}

func TestRegistered(t *testing.T) {
	t.Parallel()
	reg := connectortest.RequireRegistered(t, zammad.Kind, "Zammad", zammadtest.New(t).Config())
	require.Contains(t, reg.Description.WebhookHelp, "HMAC SHA1 signature token")
}

func TestFakeRejectsUndocumentedFields(t *testing.T) {
	t.Parallel()
	f := zammadtest.New(nil)
	t.Cleanup(f.Close)
	req := connectortest.NewRequest(t, http.MethodPost, f.URL+"/api/v1/ticket_articles", `{"ticket_id":1,"body":"x","private":true}`)
	req.Header.Set("Authorization", "Token token="+zammadtest.APIToken)
	connectortest.RequireUnknownField(t, f, req, "private")
}

func TestConformance(t *testing.T) {
	t.Parallel()
	connectortest.Run(t, connectortest.Harness{
		New:     connectortest.NewWith(zammadtest.New, zammad.New),
		Secrets: []string{zammadtest.APIToken},
	})
}

func TestCommentURLOpensTheArticle(t *testing.T) {
	t.Parallel()
	f := zammadtest.New(t)
	c := connectortest.Connect(t, f, &http.Client{Timeout: 10 * time.Second}, zammad.New)
	require.Equal(t, f.URL+"/#ticket/zoom/12/345", c.CommentURL("12", "345"))
}

func TestShowStatusAsATag(t *testing.T) {
	t.Parallel()
	b := setup(t)
	tk, _ := b.Ticket(t, "+15551230001")
	connectortest.RequireStatusTags(t, b.Ctx, b.C, b.F, tk)
	require.Empty(t, b.F.Violations())
}
