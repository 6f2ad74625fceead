package zammad_test

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha1"
	"encoding/hex"
	"io"
	"net/http"
	"net/http/httptest"
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

type testBundle struct {
	c   *zammad.Client
	f   *zammadtest.Fake
	ctx context.Context
}

func setup(t *testing.T) *testBundle {
	t.Helper()
	f := zammadtest.New(t)
	return &testBundle{c: newClient(t, f, nil), f: f, ctx: t.Context()}
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

func (b *testBundle) ticket(t *testing.T, phone string) (ticketID, requesterID string) {
	t.Helper()
	rid, err := b.c.EnsureRequester(b.ctx, connectors.Requester{Phone: phone, Name: "Grace Brewster Hopper"})
	require.NoError(t, err)
	tk, _, err := b.c.CreateTicket(b.ctx, connectors.NewTicket{RequesterID: rid, Subject: "Hi", First: connectors.Message{Key: "wamid." + phone, Body: "hello"}})
	require.NoError(t, err)
	return tk.ID, rid
}

func requests(f *zammadtest.Fake, method, prefix string) []zammadtest.Request {
	var out []zammadtest.Request
	for _, r := range f.Requests() {
		if r.Method == method && strings.HasPrefix(r.Path, prefix) {
			out = append(out, r)
		}
	}
	return out
}

func TestCustomers(t *testing.T) {
	t.Parallel()
	b := setup(t)
	id, err := b.c.EnsureRequester(b.ctx, connectors.Requester{Phone: "+447700900123", Name: "Ada King Lovelace"})
	require.NoError(t, err)
	users := b.f.Users()
	last := users[len(users)-1]
	require.Equal(t, id, last.ID)
	require.Equal(t, "Ada King Lovelace", last.Name)
	require.Equal(t, "+447700900123", last.Phone, "stored as mobile")
	created := requests(b.f, http.MethodPost, "/api/v1/users")
	require.Len(t, created, 1)
	require.Equal(t, []string{"firstname", "lastname", "login", "mobile", "note", "roles"}, created[0].Fields)

	t.Run("a customer just created is known before the index sees it", func(t *testing.T) {
		searches := len(requests(b.f, http.MethodGet, "/api/v1/users/search"))
		again, err := b.c.EnsureRequester(b.ctx, connectors.Requester{Phone: "+447700900123"})
		require.NoError(t, err)
		require.Equal(t, id, again)
		require.Len(t, requests(b.f, http.MethodGet, "/api/v1/users/search"), searches)
	})

	t.Run("an agent-entered phone number is found, the oldest user first", func(t *testing.T) {
		older := b.f.SeedUser("Old Entry", "+4930123456")
		b.f.SeedUser("Newer Entry", "+4930123456")
		got, err := b.c.EnsureRequester(b.ctx, connectors.Requester{Phone: "+4930123456", Name: "Profile"})
		require.NoError(t, err)
		require.Equal(t, older, got)
	})

	t.Run("a number that only shares digits is not a match", func(t *testing.T) {
		b.f.SeedUser("Prefix", "+4930123")
		_, err := b.c.EnsureRequester(b.ctx, connectors.Requester{Phone: "+4930123999"})
		require.NoError(t, err)
	})

	t.Run("without Elasticsearch the login finds relaydesk's customers", func(t *testing.T) {
		f := zammadtest.New(t)
		f.DisableSearchIndex()
		id, err := newClient(t, f, nil).EnsureRequester(b.ctx, connectors.Requester{Phone: "+15550104001"})
		require.NoError(t, err)
		again, err := newClient(t, f, nil).EnsureRequester(b.ctx, connectors.Requester{Phone: "+15550104001"})
		require.NoError(t, err)
		require.Equal(t, id, again, "a replica that did not create it")
	})

	t.Run("rejects a number that is not E.164", func(t *testing.T) {
		for _, phone := range []string{"447700900123", "+44 7700 900123", "+12", ""} {
			_, err := b.c.EnsureRequester(b.ctx, connectors.Requester{Phone: phone})
			require.True(t, connectors.IsPermanent(err), "phone %q: %v", phone, err)
		}
	})
}

func TestTicketsAndArticles(t *testing.T) {
	t.Parallel()
	b := setup(t)
	prev, rid := b.ticket(t, "+15550104000")
	tk, first, err := b.c.CreateTicket(b.ctx, connectors.NewTicket{
		RequesterID: rid, Subject: "Order 42", First: connectors.Message{Key: "wamid.Z1", Body: "where is it?"},
		Tags: []string{"whatsapp", "vip, gold"}, ExternalID: "wa:100:15550104000", PreviousTicketID: prev,
	})
	require.NoError(t, err)
	require.Equal(t, connectors.StatusOpen, tk.Status)
	require.Equal(t, b.f.URL+"/#ticket/zoom/"+tk.ID, tk.URL)
	for _, ft := range b.f.Tickets() {
		if ft.ID == tk.ID {
			require.Equal(t, []string{zammad.Tag, "whatsapp", "vip", "gold"}, ft.Tags)
			require.Equal(t, "wa:100:15550104000", ft.ExternalID)
			require.Equal(t, prev, ft.FollowupOf)
		}
	}
	arts := b.f.Articles(tk.ID)
	require.Equal(t, []zammadtest.Article{{ID: first, Type: "phone", Sender: "Customer", OriginByID: rid, CreatedBy: "3"}}, arts)

	note, err := b.c.AddNote(b.ctx, tk.ID, connectors.Note{Body: "not delivered"})
	require.NoError(t, err)
	arts = b.f.Articles(tk.ID)
	require.Equal(t, zammadtest.Article{ID: note, Type: "note", Sender: "Agent", Internal: true, OriginByID: "0", CreatedBy: "3"}, arts[1])

	t.Run("a deleted previous ticket is not linked", func(t *testing.T) {
		tk, _, err := b.c.CreateTicket(b.ctx, connectors.NewTicket{RequesterID: rid, Subject: "x", First: connectors.Message{Key: "wamid.Z3", Body: "x"}, PreviousTicketID: "999999"})
		require.NoError(t, err)
		for _, ft := range b.f.Tickets() {
			if ft.ID == tk.ID {
				require.Empty(t, ft.FollowupOf)
			}
		}
	})

	t.Run("a restarted replica finds the ticket of a failed attempt", func(t *testing.T) {
		nt := connectors.NewTicket{RequesterID: rid, Subject: "again", First: connectors.Message{Key: "wamid.Z2", Body: "x"}}
		first, _, err := b.c.CreateTicket(b.ctx, nt)
		require.NoError(t, err)
		fresh := newClient(t, b.f, nil) // no memory of it
		again, _, err := fresh.CreateTicket(b.ctx, nt)
		require.NoError(t, err)
		require.Equal(t, first.ID, again.ID)
		require.NotEmpty(t, requests(b.f, http.MethodGet, "/api/v1/tickets/search"))
	})
}

func TestAttachmentsTravelAsStreamedBase64(t *testing.T) {
	t.Parallel()
	b := setup(t)
	tid, rid := b.ticket(t, "+15550104010")
	data := bytes.Repeat([]byte{0xff, 0x00, 0x7f, 0x80}, 40000)
	tests := []struct {
		name   string
		size   int64
		length bool
	}{
		{"known size has an exact Content-Length", int64(len(data)), true},
		{"unknown size is chunked", -1, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			id, err := b.c.AddMessage(b.ctx, tid, rid, connectors.Message{Key: tt.name, Attachments: []connectors.Attachment{connectortest.BytesAttachment("", "image/jpeg", data, tt.size)}})
			require.NoError(t, err)
			reqs := requests(b.f, http.MethodPost, "/api/v1/ticket_articles")
			last := reqs[len(reqs)-1]
			if tt.length {
				require.Positive(t, last.ContentLength)
			} else {
				require.Equal(t, int64(-1), last.ContentLength)
			}
			comments := b.f.Comments(tid)
			c := comments[len(comments)-1]
			require.Equal(t, id, c.ID)
			require.Equal(t, "[attachment.jpg]", c.Body, "Zammad needs a body")
			require.Equal(t, []connectortest.File{{Filename: "attachment.jpg", ContentType: "image/jpeg", Data: data}}, c.Attachments)
		})
	}

	t.Run("over the upload limit fails before sending", func(t *testing.T) {
		small := newClient(t, b.f, map[string]any{zammad.SettingMaxUploadMB: 1})
		big := bytes.Repeat([]byte{1}, 800<<10) // 800 KiB: over 1 MB once in base64
		before := len(b.f.Requests())
		_, err := small.AddMessage(b.ctx, tid, rid, connectors.Message{Key: "big", Attachments: []connectors.Attachment{connectortest.BytesAttachment("big.bin", "application/octet-stream", big, int64(len(big)))}})
		require.True(t, connectors.IsPermanent(err), "%v", err)
		require.Contains(t, err.Error(), "upload limit of 1 MB")
		require.Len(t, b.f.Requests(), before+1, "only the ticket was read")

		before = len(b.f.Requests())
		_, err = small.AddMessage(b.ctx, tid, rid, connectors.Message{Key: "big2", Attachments: []connectors.Attachment{connectortest.BytesAttachment("big.bin", "application/octet-stream", big, -1)}})
		require.True(t, connectors.IsPermanent(err), "unknown size, stopped while streaming: %v", err)
		// The aborted upload may reach the fake after the client gave up:
		// wait for it, so it cannot take the failure the next subtest queues.
		require.Eventually(t, func() bool { return len(b.f.Requests()) >= before+2 }, 10*time.Second, 10*time.Millisecond)
	})

	t.Run("the web server's 413 explains itself", func(t *testing.T) {
		b.f.FailNextWith(http.StatusRequestEntityTooLarge, http.Header{"Content-Type": {"text/html"}}, "<html>413</html>")
		_, err := b.c.AddNote(b.ctx, tid, connectors.Note{Body: "x"})
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
			tid, rid := b.ticket(t, "+15550104020")
			b.f.SetGroup(tid, tt.group)
			if tt.state != "new" {
				b.f.SetState(tid, tt.state)
			}
			tk, err := b.c.GetTicket(b.ctx, tid)
			require.NoError(t, err)
			require.Equal(t, tt.want, tk.Status)
			_, err = b.c.AddMessage(b.ctx, tid, rid, connectors.Message{Key: "m", Body: "customer again"})
			if tt.afterMsg == "" {
				require.ErrorIs(t, err, connectors.ErrTicketClosed)
				return
			}
			require.NoError(t, err)
			require.Equal(t, tt.afterMsg, b.f.RawState(tid))
		})
	}

	t.Run("reopen time of the group", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		b.f.SetFollowUp(zammadtest.GroupUsers, "new_ticket_after_certain_time", 2)
		recent, _ := b.ticket(t, "+15550104021")
		b.f.SetState(recent, "closed")
		old, _ := b.ticket(t, "+15550104023")
		b.f.SetNow(func() time.Time { return time.Now().Add(-72 * time.Hour) })
		b.f.SetState(old, "closed")
		tk, err := b.c.GetTicket(b.ctx, recent)
		require.NoError(t, err)
		require.Equal(t, connectors.StatusSolved, tk.Status, "closed moments ago")
		tk, err = b.c.GetTicket(b.ctx, old)
		require.NoError(t, err)
		require.Equal(t, connectors.StatusClosed, tk.Status, "closed three days ago, past the two-day reopen time")
	})

	t.Run("without admin.group closed tickets count as solved", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		tid, _ := b.ticket(t, "+15550104022")
		b.f.SetGroup(tid, zammadtest.GroupArchive)
		b.f.SetState(tid, "closed")
		b.f.DenyGroupRead()
		tk, err := b.c.GetTicket(b.ctx, tid)
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
		return b.c.ParseWebhook(sign(secret, body), []byte(body), []byte(secret), now)
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
		_, err := b.c.ParseWebhook(h, []byte(body), []byte(secret), now)
		require.ErrorIs(t, err, connectors.ErrUnauthorized)
		h.Set(zammad.HeaderSignature, "sha1=zz")
		_, err = b.c.ParseWebhook(h, []byte(body), []byte(secret), now)
		require.ErrorIs(t, err, connectors.ErrUnauthorized)
	})
}

func TestInstallWebhookAndTriggers(t *testing.T) {
	t.Parallel()
	b := setup(t)
	var got atomic.Pointer[[]connectors.Event]
	var secret atomic.Pointer[[]byte]
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		evs, err := b.c.ParseWebhook(r.Header, body, *secret.Load(), time.Now())
		if err != nil {
			http.Error(w, err.Error(), http.StatusUnauthorized)
			return
		}
		got.Store(&evs)
	}))
	t.Cleanup(srv.Close)
	callback := srv.URL + "/webhooks/helpdesk/5"

	s, err := b.c.InstallWebhook(b.ctx, callback)
	require.NoError(t, err)
	secret.Store(&s)
	hooks := b.f.Webhooks()
	require.Len(t, hooks, 1)
	require.Equal(t, callback, hooks[0].Endpoint)
	require.Equal(t, string(s), hooks[0].SignatureToken)
	trigs := b.f.Triggers()
	require.Len(t, trigs, 2)
	for _, tr := range trigs {
		require.Equal(t, hooks[0].ID, tr.WebhookID)
		require.Equal(t, "contains one", tr.Condition["ticket.tags"])
	}
	require.ElementsMatch(t, []map[string]string{
		{"article.action": "is", "article.sender_id": "is", "article.internal": "is", "ticket.tags": "contains one"},
		{"ticket.state_id": "has changed", "ticket.tags": "contains one"},
	}, []map[string]string{trigs[0].Condition, trigs[1].Condition})

	again, err := b.c.InstallWebhook(b.ctx, callback)
	require.NoError(t, err)
	require.Equal(t, s, again, "the token is derived, not stored")
	require.Len(t, b.f.Webhooks(), 1)
	require.Len(t, b.f.Triggers(), 2)

	tid, _ := b.ticket(t, "+15550104030")
	cid := b.f.AgentReply(tid, "delivered for real")
	require.NoError(t, b.f.Deliver(b.ctx, srv.Client(), b.f.CommentDelivery(tid, cid)))
	require.Equal(t, cid, (*got.Load())[0].CommentID)
	require.Equal(t, "delivered for real", (*got.Load())[0].Body)

	t.Run("reinstalling after an uninstall rotates the token", func(t *testing.T) {
		const cb = "https://relay.example/webhooks/helpdesk/7"
		first, err := b.c.InstallWebhook(b.ctx, cb)
		require.NoError(t, err)
		require.NoError(t, b.c.UninstallWebhook(b.ctx, cb))
		second, err := b.c.InstallWebhook(b.ctx, cb)
		require.NoError(t, err)
		require.NotEqual(t, first, second)
		require.NoError(t, b.c.UninstallWebhook(b.ctx, cb))
	})

	_, err = b.c.InstallWebhook(b.ctx, "https://relay.example/webhooks/helpdesk/6")
	require.NoError(t, err)
	require.NoError(t, b.c.UninstallWebhook(b.ctx, callback))
	require.Len(t, b.f.Webhooks(), 1)
	require.Len(t, b.f.Triggers(), 2, "the other webhook's triggers stay")
	require.NoError(t, b.c.UninstallWebhook(b.ctx, callback))

	_, err = b.c.InstallWebhook(b.ctx, "ftp://nope")
	require.True(t, connectors.IsPermanent(err))
}

func TestOpenAttachmentStaysOnTheBaseURL(t *testing.T) {
	t.Parallel()
	b := setup(t)
	tid, _ := b.ticket(t, "+15550104040")
	data := []byte("%PDF-1.7 label")
	cid := b.f.AgentReply(tid, "label", connectortest.File{Filename: "label.pdf", ContentType: "application/pdf", Data: data})
	evs, err := b.c.ParseWebhook(b.f.CommentDelivery(tid, cid).Header, b.f.CommentDelivery(tid, cid).Body, b.f.WebhookSecret(), time.Now())
	require.NoError(t, err)
	att := evs[0].Attachments[0]
	// Zammad builds the URL from its FQDN setting, which may name another
	// host than the one relaydesk talks to.
	att.URL = strings.Replace(att.URL, b.f.URL, "https://zammad.internal.example", 1)
	rc, ct, err := b.c.OpenAttachment(b.ctx, att)
	require.NoError(t, err)
	got, _ := io.ReadAll(rc)
	rc.Close()
	require.Equal(t, data, got)
	require.Equal(t, "application/pdf", ct)

	_, _, err = b.c.OpenAttachment(b.ctx, connectors.RemoteAttachment{URL: "https://evil.example/steal"})
	require.True(t, connectors.IsPermanent(err))
}

func TestHTTPFailures(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		status int
		header http.Header
		body   string
		class  connectors.Class
		after  time.Duration
	}{
		{"429 from a proxy", 429, http.Header{"Retry-After": {"12"}, "Content-Type": {"text/html"}}, "<html>429</html>", connectors.ClassRateLimited, 12 * time.Second},
		{"503 with Retry-After", 503, http.Header{"Retry-After": {"30"}, "Content-Type": {"text/html"}}, "<html>maintenance</html>", connectors.ClassRetry, 30 * time.Second},
		{"500", 500, nil, `{"error":"Error ID x: Please contact your administrator."}`, connectors.ClassRetry, 0},
		{"422", 422, nil, `{"error":"Invalid value","error_human":"Invalid value"}`, connectors.ClassPermanent, 0},
		{"403 without permission", 403, nil, `{"error":"Not authorized","error_human":"Not authorized"}`, connectors.ClassAuth, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			b := setup(t)
			tid, _ := b.ticket(t, "+15550104050")
			b.f.FailNextWith(tt.status, tt.header, tt.body)
			_, err := b.c.AddNote(b.ctx, tid, connectors.Note{Body: "x"})
			var ce *connectors.Error
			require.ErrorAs(t, err, &ce)
			require.Equal(t, tt.class, ce.Class, "%v", err)
			require.Equal(t, tt.after, ce.RetryAfter)
			require.NotContains(t, err.Error(), zammadtest.APIToken)
		})
	}
}

func TestFindMessage(t *testing.T) {
	t.Parallel()
	b := setup(t)
	tid, rid := b.ticket(t, "+15550104060")
	m := connectors.Message{Key: "wamid.F", Body: "did it land?", Attachments: []connectors.Attachment{connectortest.BytesAttachment("a.txt", "text/plain", []byte("a"), 1)}}
	_, found, err := b.c.FindMessage(b.ctx, tid, rid, m)
	require.NoError(t, err)
	require.False(t, found)
	id, err := b.c.AddMessage(b.ctx, tid, rid, m)
	require.NoError(t, err)
	b.f.AgentReply(tid, "did it land?") // same text, by an agent
	got, found, err := b.c.FindMessage(b.ctx, tid, rid, m)
	require.NoError(t, err)
	require.True(t, found)
	require.Equal(t, id, got)
	m.Attachments = nil
	_, found, err = b.c.FindMessage(b.ctx, tid, rid, m)
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
	reg, ok := connectors.Lookup(zammad.Kind)
	require.True(t, ok)
	require.Equal(t, "Zammad", reg.Description.DisplayName)
	require.Contains(t, reg.Description.WebhookHelp, "HMAC SHA1 signature token")
	f := zammadtest.New(t)
	c, err := connectors.New(zammad.Kind, f.Config())
	require.NoError(t, err)
	require.Equal(t, zammad.Kind, c.Kind())
}

func TestFakeRejectsUndocumentedFields(t *testing.T) {
	t.Parallel()
	f := zammadtest.New(nil)
	t.Cleanup(f.Close)
	req, _ := http.NewRequest(http.MethodPost, f.URL+"/api/v1/ticket_articles", strings.NewReader(`{"ticket_id":1,"body":"x","private":true}`))
	req.Header.Set("Authorization", "Token token="+zammadtest.APIToken)
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	require.Equal(t, http.StatusBadRequest, resp.StatusCode)
	require.Len(t, f.Violations(), 1)
	require.Contains(t, f.Violations()[0], `unknown field "private"`)
}
