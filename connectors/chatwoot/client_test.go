package chatwoot_test

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"io"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/relaydesk/relaydesk/connectors"
	"github.com/relaydesk/relaydesk/connectors/chatwoot"
	"github.com/relaydesk/relaydesk/connectors/chatwoot/chatwoottest"
	"github.com/relaydesk/relaydesk/connectors/connectortest"
)

// closedOnly are the conformance subtests that need a final ("closed")
// status. Chatwoot has none (open, pending, snoozed, resolved), so the
// connector never reports one; the follow-up subtest still runs, the fake
// resolving the conversation instead.
var closedOnly = []string{
	"/GetTicket/closed",
	"/AddMessage/a_closed_ticket_refuses_the_comment",
}

func TestConformance(t *testing.T) {
	t.Parallel()
	connectortest.Run(t, connectortest.Harness{
		New: func(t *testing.T, hc *http.Client) (connectors.Connector, connectortest.Fake) {
			for _, name := range closedOnly {
				if strings.HasSuffix(t.Name(), name) {
					t.Skip("Chatwoot has no closed status: a resolved conversation always takes new messages")
				}
			}
			f := chatwoottest.New(t)
			cfg := f.Config()
			cfg.HTTPClient = hc
			c, err := chatwoot.New(cfg)
			require.NoError(t, err)
			return c, f
		},
		Secrets: []string{chatwoottest.APIToken},
	})
}

type testBundle = connectortest.Bundle[*chatwoot.Client, *chatwoottest.Fake]

func setup(t *testing.T) *testBundle {
	return connectortest.Setup(t, chatwoottest.New(t), 10*time.Second, chatwoot.New)
}

func newClient(t *testing.T, f *chatwoottest.Fake) *chatwoot.Client {
	return connectortest.Connect(t, f, &http.Client{Timeout: 10 * time.Second}, chatwoot.New)
}

func TestContactsAreCreatedWithIdentifierInTheInbox(t *testing.T) {
	t.Parallel()
	b := setup(t)
	connectortest.ExpectFields(b.F, "POST /api/v1/accounts/{account}/contacts", "identifier", "inbox_id", "name", "phone_number")
	id, err := b.C.EnsureRequester(b.Ctx, connectors.Requester{Phone: "+447700900123"})
	require.NoError(t, err)
	users := b.F.Users()
	require.Equal(t, id, users[0].ID)
	require.Equal(t, "+447700900123", users[0].Phone)
	require.Equal(t, "+447700900123", users[0].Name, "the phone stands in for a missing profile name")
	require.Equal(t, 1, b.F.Hits("POST /api/v1/accounts/{account}/contacts"))
	connectortest.RequireRefusesPhones(t, b.C, "+0447700900123")
}

func TestReplicasConvergeOnOneContact(t *testing.T) {
	t.Parallel()
	f := chatwoottest.New(t)
	const phone = "+15550103000"
	// Separate clients stand for separate replicas: no shared lock, so some
	// creations race and Chatwoot refuses the duplicate phone number.
	var wg sync.WaitGroup
	ids := make([]string, 6)
	for i := range ids {
		c := newClient(t, f)
		wg.Go(func() {
			id, err := c.EnsureRequester(t.Context(), connectors.Requester{Phone: phone, Name: "Racer"})
			require.NoError(t, err)
			ids[i] = id
		})
	}
	wg.Wait()
	for _, id := range ids {
		require.Equal(t, ids[0], id)
	}
	var n int
	for _, u := range f.Users() {
		if u.Phone == phone {
			n++
		}
	}
	require.Equal(t, 1, n)
}

func TestCreateTicketKeepsWhatChatwootLacks(t *testing.T) {
	t.Parallel()
	b := setup(t)
	prev, rid := b.Ticket(t, "+15550103010")
	b.F.SetStatus(prev, connectors.StatusSolved)
	tk, first, err := b.C.CreateTicket(b.Ctx, connectors.NewTicket{
		RequesterID: rid, Subject: "Order 42", First: connectors.Message{Key: "wamid.K1", Body: "where is it?"},
		Tags: []string{"WhatsApp", "VIP customer", "whatsapp"}, ExternalID: "wa:100:15550103010", PreviousTicketID: prev,
	})
	require.NoError(t, err)
	require.Equal(t, connectors.StatusOpen, tk.Status)
	require.Equal(t, b.F.URL+"/app/accounts/3/conversations/"+tk.ID, tk.URL)
	attrs := b.F.Attributes(tk.ID)
	require.Equal(t, "wamid.K1", attrs[chatwoot.AttrKey])
	require.Equal(t, "Order 42", attrs[chatwoot.AttrSubject])
	require.Equal(t, "wa:100:15550103010", attrs[chatwoot.AttrExternalID])
	require.Equal(t, prev, attrs[chatwoot.AttrPreviousConversation])
	require.Equal(t, []string{"wamid.K1"}, b.F.SourceIDs(tk.ID))
	for _, ft := range b.F.Tickets() {
		if ft.ID == tk.ID {
			require.Equal(t, []string{"whatsapp", "vip-customer"}, ft.Tags)
		}
	}
	comments := b.F.Comments(tk.ID)
	require.Equal(t, first, comments[0].ID)
	require.Equal(t, rid, comments[0].AuthorID)
}

func TestCreateTicketRetryAfterTheMessageFailed(t *testing.T) {
	t.Parallel()
	b := setup(t)
	rid, err := b.C.EnsureRequester(b.Ctx, connectors.Requester{Phone: "+15550103020", Name: "Ann"})
	require.NoError(t, err)
	nt := connectors.NewTicket{RequesterID: rid, Subject: "s", First: connectors.Message{Key: "wamid.R", Body: "x"}, Tags: []string{"a"}}
	b.F.FailMatching(http.MethodPost, "/messages", connectortest.FailServerError)
	_, _, err = b.C.CreateTicket(b.Ctx, nt)
	require.True(t, connectors.IsRetryable(err), "%v", err)
	require.Len(t, b.F.Tickets(), 1, "the conversation was created before the failure")

	tk, first, err := b.C.CreateTicket(b.Ctx, nt)
	require.NoError(t, err)
	require.Len(t, b.F.Tickets(), 1, "the retry found it")
	comments := b.F.Comments(tk.ID)
	require.Len(t, comments, 1)
	require.Equal(t, first, comments[0].ID)
}

func TestAttachmentsStreamAsMultipart(t *testing.T) {
	t.Parallel()
	b := setup(t)
	tid, rid := b.Ticket(t, "+15550103030")
	data := bytes.Repeat([]byte{0xff, 0x00, 0x7f}, 5000)
	tests := []struct {
		name   string
		att    connectors.Attachment
		length bool
	}{
		{"known size has a Content-Length", connectortest.BytesAttachment("photo.jpg", "image/jpeg", data, int64(len(data))), true},
		{"unknown size is chunked", connectortest.BytesAttachment("", "image/jpeg", data, -1), false},
	}
	const messages = "POST /api/v1/accounts/{account}/conversations/{id}/messages"
	// No content field without text.
	connectortest.ExpectFields(b.F, messages, "message_type", "private", "source_id", "attachments[]")
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			length := connectortest.RecordLength(b.F, messages)
			id, err := b.C.AddMessage(b.Ctx, tid, rid, connectors.Message{Key: "wamid." + tt.name, Attachments: []connectors.Attachment{tt.att}})
			require.NoError(t, err)
			connectortest.RequireLength(t, length, tt.length)
			last := b.Last(t, tid)
			require.Equal(t, id, last.ID)
			require.Equal(t, data, last.Attachments[0].Data)
			require.True(t, strings.HasSuffix(last.Attachments[0].Filename, ".jpg"))
		})
	}

	t.Run("a size that does not match fails the call", func(t *testing.T) {
		_, err := b.C.AddMessage(b.Ctx, tid, rid, connectors.Message{Key: "wamid.bad", Attachments: []connectors.Attachment{
			connectortest.BytesAttachment("a.pdf", "application/pdf", []byte("%PDF-1.7"), 3)}})
		require.True(t, connectors.IsPermanent(err), "%v", err)
	})

	t.Run("a file that cannot be opened posts nothing", func(t *testing.T) {
		before := len(b.F.Comments(tid))
		broken := connectors.Attachment{Filename: "x.jpg", ContentType: "image/jpeg", Size: 1, Open: func(context.Context) (io.ReadCloser, error) {
			return nil, connectors.RetryError("graph media download failed", nil)
		}}
		_, err := b.C.AddMessage(b.Ctx, tid, rid, connectors.Message{Key: "wamid.broken", Body: "pic", Attachments: []connectors.Attachment{broken}})
		require.True(t, connectors.IsRetryable(err), "%v", err)
		require.Len(t, b.F.Comments(tid), before)
	})
}

func TestStatusesAndReopen(t *testing.T) {
	t.Parallel()
	tests := []struct {
		raw      string
		want     connectors.Status
		afterMsg string
	}{
		{"open", connectors.StatusOpen, "open"},
		{"pending", connectors.StatusPending, "pending"},
		{"snoozed", connectors.StatusPending, "open"},
		{"resolved", connectors.StatusSolved, "open"},
	}
	for _, tt := range tests {
		t.Run(tt.raw, func(t *testing.T) {
			t.Parallel()
			b := setup(t)
			tid, rid := b.Ticket(t, "+15550103040")
			b.F.SetRawStatus(tid, tt.raw)
			tk, err := b.C.GetTicket(b.Ctx, tid)
			require.NoError(t, err)
			require.Equal(t, tt.want, tk.Status)
			_, err = b.C.AddMessage(b.Ctx, tid, rid, connectors.Message{Key: "m", Body: "again"})
			require.NoError(t, err)
			require.Equal(t, tt.afterMsg, b.F.RawStatus(tid))
		})
	}
}

func TestHTTPFailures(t *testing.T) {
	t.Parallel()
	connectortest.RequireHTTPFailures(t, chatwoottest.APIToken, []connectortest.HTTPFailure{
		{Name: "429 with Retry-After", Status: 429, Header: http.Header{"Retry-After": {"12"}, "Content-Type": {"text/plain"}}, Body: "Retry later\n", Class: connectors.ClassRateLimited, After: 12 * time.Second},
		{Name: "429 without Retry-After waits the throttle period", Status: 429, Header: http.Header{"Content-Type": {"text/plain"}}, Body: "Retry later\n", Class: connectors.ClassRateLimited, After: time.Minute},
		{Name: "flood guard", Status: 422, Body: `{"error":"Validation failed: Too many messages"}`, Class: connectors.ClassRateLimited, After: time.Minute},
		{Name: "502 from a proxy", Status: 502, Header: http.Header{"Content-Type": {"text/html"}}, Body: "<html>Bad Gateway</html>", Class: connectors.ClassRetry},
		{Name: "503 with Retry-After", Status: 503, Header: http.Header{"Retry-After": {"30"}}, Body: `{"error":"maintenance"}`, Class: connectors.ClassRetry, After: 30 * time.Second},
		{Name: "invalid record", Status: 422, Body: `{"message":"Content is too long","attributes":["content"]}`, Class: connectors.ClassPermanent},
		{Name: "forbidden", Status: 403, Body: `{"error":"You are not authorized to do this action"}`, Class: connectors.ClassAuth},
	}, func(t *testing.T) (connectortest.FailerWith, func() error) {
		b := setup(t)
		tid, rid := b.Ticket(t, "+15550103050")
		return b.F, func() error {
			_, err := b.C.AddMessage(b.Ctx, tid, rid, connectors.Message{Key: "m", Body: "x"})
			return err
		}
	})
}

// sign signs body like Chatwoot does.
func sign(secret []byte, body string, at time.Time) http.Header {
	ts := strconv.FormatInt(at.Unix(), 10)
	m := hmac.New(sha256.New, secret)
	m.Write([]byte(ts + "." + body))
	h := http.Header{}
	h.Set(chatwoot.HeaderTimestamp, ts)
	h.Set(chatwoot.HeaderSignature, "sha256="+hex.EncodeToString(m.Sum(nil)))
	return h
}

func TestParseWebhookPayloads(t *testing.T) {
	t.Parallel()
	b := setup(t)
	secret := []byte("whsec-test")
	at := time.Date(2026, 11, 20, 12, 0, 0, 0, time.UTC)
	parse := func(body string) ([]connectors.Event, error) {
		return b.C.ParseWebhook(sign(secret, body, at), []byte(body), secret, at.Add(time.Minute))
	}
	const conv = `"conversation":{"id":42,"inbox_id":7,"status":"resolved","meta":{"sender":{"id":201}}}`

	t.Run("agent reply with a file", func(t *testing.T) {
		evs, err := parse(`{"event":"message_created","id":"9001","content":"Here you go","message_type":"outgoing","private":false,
			"created_at":"2026-11-20T11:59:58.123Z","sender":{"id":2,"type":"user"},"inbox":{"id":7},` + conv + `,
			"attachments":[{"id":5,"file_type":"file","data_url":"https://cw.example/rails/active_storage/blobs/redirect/abc/label%20v2.pdf","file_size":1500},
			{"id":6,"file_type":"location","data_url":""}]}`)
		require.NoError(t, err)
		require.Equal(t, []connectors.Event{{
			Type: connectors.EventComment, EventID: "message:9001", TicketID: "42", CommentID: "9001", AuthorID: "2", Public: true,
			Body: "Here you go", Status: connectors.StatusSolved, At: time.Date(2026, 11, 20, 11, 59, 58, 123e6, time.UTC),
			Attachments: []connectors.RemoteAttachment{{URL: "https://cw.example/rails/active_storage/blobs/redirect/abc/label%20v2.pdf", Filename: "label v2.pdf", ContentType: "application/pdf", Size: 1500}},
		}}, evs)
	})

	t.Run("a reply to a message and a reaction to one", func(t *testing.T) {
		evs, err := parse(`{"event":"message_created","id":9002,"content":"Yes, today","message_type":"outgoing","private":false,
			"content_attributes":{"in_reply_to":8990,"in_reply_to_external_id":"wamid.X"},"sender":{"id":2,"type":"user"},` + conv + `}`)
		require.NoError(t, err)
		require.Equal(t, "8990", evs[0].InReplyTo)
		require.False(t, evs[0].Reaction)
		require.True(t, evs[0].IsAgentReply())

		evs, err = parse(`{"event":"message_created","id":9003,"content":"👍","message_type":"outgoing","private":false,
			"content_attributes":{"in_reply_to":"8990","is_reaction":true},"sender":{"id":2,"type":"user"},` + conv + `}`)
		require.NoError(t, err)
		require.Equal(t, []string{"8990", "👍"}, []string{evs[0].InReplyTo, evs[0].Body})
		require.True(t, evs[0].Reaction)

		evs, err = parse(`{"event":"message_created","id":9004,"content":"👍","message_type":"outgoing","private":false,
			"content_attributes":{"in_reply_to":8990,"is_reaction":true,"deleted":true},"sender":{"id":2,"type":"user"},` + conv + `}`)
		require.NoError(t, err)
		require.True(t, evs[0].Reaction)
		require.Empty(t, evs[0].Body, "a reaction taken back")
	})

	t.Run("the old created_at format", func(t *testing.T) {
		evs, err := parse(`{"event":"message_created","id":1,"content":"x","message_type":"outgoing","private":false,"created_at":"2020-03-03 13:05:57 UTC",` + conv + `}`)
		require.NoError(t, err)
		require.Equal(t, time.Date(2020, 3, 3, 13, 5, 57, 0, time.UTC), evs[0].At.UTC())
	})

	t.Run("incoming messages come from the requester", func(t *testing.T) {
		evs, err := parse(`{"event":"message_created","id":2,"content":"hi","message_type":"incoming","private":false,"sender":{"id":201,"type":"contact"},` + conv + `}`)
		require.NoError(t, err)
		require.True(t, evs[0].FromRequester)
		require.False(t, evs[0].IsAgentReply())
		require.Equal(t, "201", evs[0].AuthorID)
	})

	t.Run("skipped events", func(t *testing.T) {
		for _, body := range []string{
			`{"event":"message_created","id":3,"message_type":"activity","private":false,` + conv + `}`,
			`{"event":"message_created","id":4,"message_type":"template","private":false,` + conv + `}`,
			`{"event":"message_created","id":5,"message_type":"outgoing","private":false,"inbox":{"id":8},"conversation":{"id":9,"inbox_id":8}}`,
			`{"event":"conversation_status_changed","id":9,"inbox_id":8,"status":"resolved"}`,
			`{"event":"contact_updated","id":201}`,
		} {
			evs, err := parse(body)
			require.NoError(t, err, body)
			require.Empty(t, evs, body)
		}
	})

	t.Run("status change", func(t *testing.T) {
		evs, err := parse(`{"event":"conversation_status_changed","id":42,"inbox_id":7,"status":"snoozed","updated_at":1795176000.25}`)
		require.NoError(t, err)
		require.Len(t, evs, 1)
		require.Equal(t, connectors.StatusPending, evs[0].Status)
		require.Equal(t, "conversation:42:snoozed:1795176000.25", evs[0].EventID)
	})

	t.Run("without the private flag a message is not sent", func(t *testing.T) {
		evs, err := parse(`{"event":"message_created","id":6,"content":"x","message_type":"outgoing",` + conv + `}`)
		require.NoError(t, err)
		require.False(t, evs[0].IsAgentReply())
	})

	t.Run("malformed", func(t *testing.T) {
		for _, body := range []string{
			`{"event":"message_created","id":1,"message_type":"outgoing"}`,
			`{"event":"message_created","id":"x1","message_type":"outgoing","private":false,` + conv + `}`,
			`{"event":"conversation_status_changed","id":42,"inbox_id":7,"status":"archived"}`,
		} {
			_, err := parse(body)
			require.ErrorIs(t, err, connectors.ErrMalformed, body)
		}
	})

	t.Run("forged, replayed and early requests", func(t *testing.T) {
		body := `{"event":"contact_updated"}`
		tests := []struct {
			name   string
			header http.Header
			body   string
			now    time.Time
		}{
			{"forged body", sign(secret, body, at), `{"event":"contact_created"}`, at},
			{"other secret", sign([]byte("other"), body, at), body, at},
			{"replayed 6 minutes later", sign(secret, body, at), body, at.Add(6 * time.Minute)},
			{"signed 6 minutes ahead", sign(secret, body, at.Add(6*time.Minute)), body, at},
		}
		for _, tt := range tests {
			_, err := b.C.ParseWebhook(tt.header, []byte(tt.body), secret, tt.now)
			require.ErrorIs(t, err, connectors.ErrUnauthorized, tt.name)
		}
		_, err := b.C.ParseWebhook(sign(secret, body, at), []byte(body), secret, at.Add(4*time.Minute))
		require.NoError(t, err, "a Sidekiq retry within the window")
	})

	t.Run("bad signature headers", func(t *testing.T) {
		body := `{"event":"contact_updated"}`
		h := sign(secret, body, at)
		h.Set(chatwoot.HeaderSignature, strings.TrimPrefix(h.Get(chatwoot.HeaderSignature), "sha256="))
		_, err := b.C.ParseWebhook(h, []byte(body), secret, at)
		require.ErrorIs(t, err, connectors.ErrUnauthorized, "the sha256= prefix is required")
		h = sign(secret, body, at)
		h.Del(chatwoot.HeaderTimestamp)
		_, err = b.C.ParseWebhook(h, []byte(body), secret, at)
		require.ErrorIs(t, err, connectors.ErrUnauthorized)
		h = sign(secret, body, at)
		h.Set(chatwoot.HeaderToken, string(secret))
		h.Set(chatwoot.HeaderSignature, "sha256=00")
		_, err = b.C.ParseWebhook(h, []byte(body), secret, at)
		require.ErrorIs(t, err, connectors.ErrUnauthorized, "a signature, when present, is what counts")
	})
}

func TestUnsignedWebhooksUseTheURLToken(t *testing.T) {
	t.Parallel()
	b := setup(t)
	b.F.SetLegacy(true)

	// relaydesk's HTTP layer: the query token goes into X-Relaydesk-Token.
	var secret atomic.Pointer[[]byte]
	srv := connectortest.NewReceiver(t, func(r *http.Request, body []byte) ([]connectors.Event, error) {
		h := r.Header.Clone()
		if tok := r.URL.Query().Get(chatwoot.QueryToken); tok != "" {
			h.Set(chatwoot.HeaderToken, tok)
		}
		return b.C.ParseWebhook(h, body, *secret.Load(), time.Now())
	})
	callback := srv.URL + "/webhooks/helpdesk/9"

	s := connectortest.RequireInstall(t, b.C, b.F, callback)
	secret.Store(&s)
	hooks := b.F.Webhooks()
	require.Len(t, hooks, 1, "the secretless webhook was replaced by one with a token")
	require.Equal(t, callback+"?token="+string(s), hooks[0].URL)
	again, err := b.C.InstallWebhook(b.Ctx, callback)
	require.NoError(t, err)
	require.Equal(t, s, again)
	require.Len(t, b.F.Webhooks(), 1)

	tid, _ := b.Ticket(t, "+15550103060")
	cid := b.F.AgentReply(tid, "delivered without a signature")
	require.NoError(t, b.F.Deliver(b.Ctx, srv.Client(), b.F.CommentDelivery(tid, cid)))
	require.Equal(t, cid, srv.Events()[0].CommentID)

	t.Run("a wrong or missing token is refused", func(t *testing.T) {
		body := []byte(`{"event":"contact_updated"}`)
		for _, h := range []http.Header{{}, {chatwoot.HeaderToken: {"guess"}}} {
			_, err := b.C.ParseWebhook(h, body, s, time.Now())
			require.ErrorIs(t, err, connectors.ErrUnauthorized)
		}
	})

	require.NoError(t, b.C.UninstallWebhook(b.Ctx, callback))
	require.Empty(t, b.F.Webhooks())
}

func TestInstallWebhookSignedAndIdempotent(t *testing.T) {
	t.Parallel()
	b := setup(t)
	const callback = "https://relay.example/webhooks/helpdesk/3"
	secret := connectortest.RequireInstall(t, b.C, b.F, callback)
	hooks := b.F.Webhooks()
	require.Len(t, hooks, 1)
	require.Equal(t, callback, hooks[0].URL)
	require.ElementsMatch(t, []string{chatwoot.EventMessageCreated, chatwoot.EventConversationStatusChanged}, hooks[0].Subscriptions)

	_, err := b.C.InstallWebhook(b.Ctx, callback)
	require.NoError(t, err)
	require.Len(t, b.F.Webhooks(), 1)

	rotated := func() []byte {
		require.NoError(t, b.C.UninstallWebhook(b.Ctx, callback))
		s, err := b.C.InstallWebhook(b.Ctx, callback)
		require.NoError(t, err)
		return s
	}()
	require.NotEqual(t, secret, rotated, "a new webhook has a new secret")

	_, err = b.C.InstallWebhook(b.Ctx, "https://relay.example/webhooks/helpdesk/4")
	require.NoError(t, err)
	require.NoError(t, b.C.UninstallWebhook(b.Ctx, callback))
	require.Len(t, b.F.Webhooks(), 1)

	for _, bad := range []string{"ftp://nope", "https://relay.example/x?token=mine"} {
		_, err = b.C.InstallWebhook(b.Ctx, bad)
		require.True(t, connectors.IsPermanent(err), bad)
	}
}

func TestTestChecksTheInbox(t *testing.T) {
	t.Parallel()
	f := chatwoottest.New(t)
	cfg := f.Config()
	cfg.Settings["inbox_id"] = chatwoottest.WebsiteInboxID
	c, err := chatwoot.New(cfg)
	require.NoError(t, err)
	err = c.Test(t.Context())
	require.True(t, connectors.IsPermanent(err), "%v", err)
	require.Contains(t, err.Error(), "not an API inbox")

	cfg.Settings["inbox_id"] = 99
	c, err = chatwoot.New(cfg)
	require.NoError(t, err)
	require.True(t, connectors.IsNotFound(c.Test(t.Context())))
}

func TestNewValidatesConfig(t *testing.T) {
	t.Parallel()
	connectortest.RequireConfigProblems(t, chatwoot.New, []connectortest.ConfigProblems{
		{Name: "nothing", Config: connectors.Config{}, Problems: []string{"settings.base_url: is required", "settings.account_id: is required", "settings.inbox_id: is required", "credentials.api_access_token: is required"}},
		{Name: "bad values", Config: connectors.Config{
			Settings:    map[string]any{"base_url": "app.chatwoot.com", "account_id": "one", "inbox_id": 1.5},
			Credentials: map[string]string{"api_access_token": "t"},
		}, Problems: []string{"settings.base_url: must be an absolute http(s) URL", "settings.account_id: must be a whole number", "settings.inbox_id: must be a whole number"}},
		{Name: "negative ids", Config: connectors.Config{
			Settings: map[string]any{"base_url": "https://chat.example", "account_id": -1, "inbox_id": 2}, Credentials: map[string]string{"api_access_token": "t"},
		}, Problems: []string{"ids must be positive"}},
	})
}

func TestRegistered(t *testing.T) {
	t.Parallel()
	reg := connectortest.RequireRegistered(t, chatwoot.Kind, "Chatwoot", chatwoottest.New(t).Config())
	require.NotEmpty(t, reg.Description.WebhookHelp)
}

func TestFakeRejectsUndocumentedFields(t *testing.T) {
	t.Parallel()
	f := chatwoottest.New(nil)
	t.Cleanup(f.Close)
	req := connectortest.NewRequest(t, http.MethodPost, f.URL+"/api/v1/accounts/3/contacts", `{"inbox_id":7,"phone":"+15550000000"}`)
	req.Header.Set("api_access_token", chatwoottest.APIToken)
	connectortest.RequireUnknownField(t, f, req, "phone")
	require.Len(t, f.Users(), 2, "only the two agents: no contact was created")
}

func TestFindMessagePagesBack(t *testing.T) {
	t.Parallel()
	m := connectors.Message{Key: "wamid.needle", Body: "needle"}
	b := setup(t)
	tid, rid := b.Ticket(t, "+15550103070")
	pages := connectortest.CountQuery(b.F, "GET /api/v1/accounts/{account}/conversations/{id}/messages", "before")
	cid := b.Add(t, tid, rid, m)
	b.Fill(tid, 45)
	got, found, err := b.C.FindMessage(b.Ctx, tid, rid, m)
	require.NoError(t, err)
	require.True(t, found)
	require.Equal(t, cid, got)
	require.GreaterOrEqual(t, pages.Load(), int64(2))
}

// Erasing a requester deletes the Chatwoot contact, and Chatwoot takes its
// conversations with it; erasing it again is no error.
func TestEraseRequester(t *testing.T) {
	t.Parallel()
	b := setup(t)
	_, requester := b.Ticket(t, "+15550103090")
	_, other := b.Ticket(t, "+15550103091")
	require.Len(t, b.F.Tickets(), 2)

	done, err := b.C.EraseRequester(b.Ctx, requester)
	require.NoError(t, err)
	require.Contains(t, done, "deleted, with its conversations")
	require.True(t, b.F.Erased(requester))
	require.False(t, b.F.Erased(other))
	for _, u := range b.F.Users() {
		require.NotEqual(t, requester, u.ID, "the contact is gone")
	}
	require.Len(t, b.F.Tickets(), 1, "the contact's conversation went with it")

	_, err = b.C.EraseRequester(b.Ctx, requester)
	require.NoError(t, err, "a contact already gone")
}

func TestCommentURLOpensTheMessage(t *testing.T) {
	t.Parallel()
	b := setup(t)
	require.Equal(t, b.F.URL+"/app/accounts/3/conversations/42?messageId=9001", b.C.CommentURL("42", "9001"))
}

func TestShowStatus(t *testing.T) {
	t.Parallel()
	t.Run("labels", func(t *testing.T) {
		b := setup(t)
		tk, _ := b.Ticket(t, "+15551230001")
		connectortest.RequireStatusTags(t, b.Ctx, b.C, b.F, tk)
		require.Empty(t, b.F.Violations())
	})
	t.Run("the message's own status", func(t *testing.T) {
		b := setup(t)
		tk, _ := b.Ticket(t, "+15551230002")
		reply := b.F.AgentReply(tk, "on its way")
		for _, st := range []string{"sent", "delivered", "read"} {
			require.NoError(t, b.C.ShowStatus(b.Ctx, connectors.StatusUpdate{TicketID: tk, CommentID: reply, Status: st, Native: true}))
			require.Equal(t, st, b.F.MessageStatus(reply))
		}
		require.Equal(t, 3, b.F.Hits(chatwoottest.PatternMessageStatus))
		require.Empty(t, b.F.Violations())
	})
}
