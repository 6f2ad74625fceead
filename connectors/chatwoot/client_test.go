package chatwoot_test

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"io"
	"net/http"
	"net/http/httptest"
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

type testBundle struct {
	c   *chatwoot.Client
	f   *chatwoottest.Fake
	ctx context.Context
}

func setup(t *testing.T) *testBundle {
	t.Helper()
	f := chatwoottest.New(t)
	return &testBundle{c: newClient(t, f), f: f, ctx: t.Context()}
}

func newClient(t *testing.T, f *chatwoottest.Fake) *chatwoot.Client {
	t.Helper()
	cfg := f.Config()
	cfg.HTTPClient = &http.Client{Timeout: 10 * time.Second}
	c, err := chatwoot.New(cfg)
	require.NoError(t, err)
	return c
}

func (b *testBundle) ticket(t *testing.T, phone string) (ticketID, requesterID string) {
	t.Helper()
	rid, err := b.c.EnsureRequester(b.ctx, connectors.Requester{Phone: phone, Name: "Grace"})
	require.NoError(t, err)
	tk, _, err := b.c.CreateTicket(b.ctx, connectors.NewTicket{RequesterID: rid, Subject: "Hi", First: connectors.Message{Key: "wamid." + phone, Body: "hello"}})
	require.NoError(t, err)
	return tk.ID, rid
}

func lastRequest(f *chatwoottest.Fake, method, suffix string) *chatwoottest.Request {
	reqs := f.Requests()
	for i := len(reqs) - 1; i >= 0; i-- {
		if reqs[i].Method == method && strings.HasSuffix(reqs[i].Path, suffix) {
			return &reqs[i]
		}
	}
	return nil
}

func TestContactsAreCreatedWithIdentifierInTheInbox(t *testing.T) {
	t.Parallel()
	b := setup(t)
	id, err := b.c.EnsureRequester(b.ctx, connectors.Requester{Phone: "+447700900123"})
	require.NoError(t, err)
	users := b.f.Users()
	require.Equal(t, id, users[0].ID)
	require.Equal(t, "+447700900123", users[0].Phone)
	require.Equal(t, "+447700900123", users[0].Name, "the phone stands in for a missing profile name")
	created := lastRequest(b.f, http.MethodPost, "/contacts")
	require.NotNil(t, created)
	require.Equal(t, []string{"identifier", "inbox_id", "name", "phone_number"}, created.Fields)

	t.Run("rejects a number that is not E.164", func(t *testing.T) {
		for _, phone := range []string{"447700900123", "+44 7700 900123", "+0447700900123", "+12", ""} {
			_, err := b.c.EnsureRequester(b.ctx, connectors.Requester{Phone: phone})
			require.True(t, connectors.IsPermanent(err), "phone %q: %v", phone, err)
		}
	})
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
	prev, rid := b.ticket(t, "+15550103010")
	b.f.SetStatus(prev, connectors.StatusSolved)
	tk, first, err := b.c.CreateTicket(b.ctx, connectors.NewTicket{
		RequesterID: rid, Subject: "Order 42", First: connectors.Message{Key: "wamid.K1", Body: "where is it?"},
		Tags: []string{"WhatsApp", "VIP customer", "whatsapp"}, ExternalID: "wa:100:15550103010", PreviousTicketID: prev,
	})
	require.NoError(t, err)
	require.Equal(t, connectors.StatusOpen, tk.Status)
	require.Equal(t, b.f.URL+"/app/accounts/3/conversations/"+tk.ID, tk.URL)
	attrs := b.f.Attributes(tk.ID)
	require.Equal(t, "wamid.K1", attrs[chatwoot.AttrKey])
	require.Equal(t, "Order 42", attrs[chatwoot.AttrSubject])
	require.Equal(t, "wa:100:15550103010", attrs[chatwoot.AttrExternalID])
	require.Equal(t, prev, attrs[chatwoot.AttrPreviousConversation])
	require.Equal(t, []string{"wamid.K1"}, b.f.SourceIDs(tk.ID))
	for _, ft := range b.f.Tickets() {
		if ft.ID == tk.ID {
			require.Equal(t, []string{"whatsapp", "vip-customer"}, ft.Tags)
		}
	}
	comments := b.f.Comments(tk.ID)
	require.Equal(t, first, comments[0].ID)
	require.Equal(t, rid, comments[0].AuthorID)
}

func TestCreateTicketRetryAfterTheMessageFailed(t *testing.T) {
	t.Parallel()
	b := setup(t)
	rid, err := b.c.EnsureRequester(b.ctx, connectors.Requester{Phone: "+15550103020", Name: "Ann"})
	require.NoError(t, err)
	nt := connectors.NewTicket{RequesterID: rid, Subject: "s", First: connectors.Message{Key: "wamid.R", Body: "x"}, Tags: []string{"a"}}
	b.f.FailMatching(http.MethodPost, "/messages", connectortest.FailServerError)
	_, _, err = b.c.CreateTicket(b.ctx, nt)
	require.True(t, connectors.IsRetryable(err), "%v", err)
	require.Len(t, b.f.Tickets(), 1, "the conversation was created before the failure")

	tk, first, err := b.c.CreateTicket(b.ctx, nt)
	require.NoError(t, err)
	require.Len(t, b.f.Tickets(), 1, "the retry found it")
	comments := b.f.Comments(tk.ID)
	require.Len(t, comments, 1)
	require.Equal(t, first, comments[0].ID)
}

func TestAttachmentsStreamAsMultipart(t *testing.T) {
	t.Parallel()
	b := setup(t)
	tid, rid := b.ticket(t, "+15550103030")
	data := bytes.Repeat([]byte{0xff, 0x00, 0x7f}, 5000)
	tests := []struct {
		name   string
		att    connectors.Attachment
		length bool
	}{
		{"known size has a Content-Length", connectortest.BytesAttachment("photo.jpg", "image/jpeg", data, int64(len(data))), true},
		{"unknown size is chunked", connectortest.BytesAttachment("", "image/jpeg", data, -1), false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			id, err := b.c.AddMessage(b.ctx, tid, rid, connectors.Message{Key: "wamid." + tt.name, Attachments: []connectors.Attachment{tt.att}})
			require.NoError(t, err)
			req := lastRequest(b.f, http.MethodPost, "/messages")
			require.True(t, strings.HasPrefix(req.ContentType, "multipart/form-data; boundary="))
			require.Equal(t, []string{"message_type", "private", "source_id", "attachments[]"}, req.Fields, "no content field without text")
			if tt.length {
				require.Positive(t, req.ContentLength)
			} else {
				require.Equal(t, int64(-1), req.ContentLength)
			}
			comments := b.f.Comments(tid)
			last := comments[len(comments)-1]
			require.Equal(t, id, last.ID)
			require.Equal(t, data, last.Attachments[0].Data)
			require.True(t, strings.HasSuffix(last.Attachments[0].Filename, ".jpg"))
		})
	}

	t.Run("a size that does not match fails the call", func(t *testing.T) {
		_, err := b.c.AddMessage(b.ctx, tid, rid, connectors.Message{Key: "wamid.bad", Attachments: []connectors.Attachment{
			connectortest.BytesAttachment("a.pdf", "application/pdf", []byte("%PDF-1.7"), 3)}})
		require.True(t, connectors.IsPermanent(err), "%v", err)
	})

	t.Run("a file that cannot be opened posts nothing", func(t *testing.T) {
		before := len(b.f.Comments(tid))
		broken := connectors.Attachment{Filename: "x.jpg", ContentType: "image/jpeg", Size: 1, Open: func(context.Context) (io.ReadCloser, error) {
			return nil, connectors.RetryError("graph media download failed", nil)
		}}
		_, err := b.c.AddMessage(b.ctx, tid, rid, connectors.Message{Key: "wamid.broken", Body: "pic", Attachments: []connectors.Attachment{broken}})
		require.True(t, connectors.IsRetryable(err), "%v", err)
		require.Len(t, b.f.Comments(tid), before)
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
			tid, rid := b.ticket(t, "+15550103040")
			b.f.SetRawStatus(tid, tt.raw)
			tk, err := b.c.GetTicket(b.ctx, tid)
			require.NoError(t, err)
			require.Equal(t, tt.want, tk.Status)
			_, err = b.c.AddMessage(b.ctx, tid, rid, connectors.Message{Key: "m", Body: "again"})
			require.NoError(t, err)
			require.Equal(t, tt.afterMsg, b.f.RawStatus(tid))
		})
	}
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
		{"429 with Retry-After", 429, http.Header{"Retry-After": {"12"}, "Content-Type": {"text/plain"}}, "Retry later\n", connectors.ClassRateLimited, 12 * time.Second},
		{"429 without Retry-After waits the throttle period", 429, http.Header{"Content-Type": {"text/plain"}}, "Retry later\n", connectors.ClassRateLimited, time.Minute},
		{"flood guard", 422, nil, `{"error":"Validation failed: Too many messages"}`, connectors.ClassRateLimited, time.Minute},
		{"502 from a proxy", 502, http.Header{"Content-Type": {"text/html"}}, "<html>Bad Gateway</html>", connectors.ClassRetry, 0},
		{"503 with Retry-After", 503, http.Header{"Retry-After": {"30"}}, `{"error":"maintenance"}`, connectors.ClassRetry, 30 * time.Second},
		{"invalid record", 422, nil, `{"message":"Content is too long","attributes":["content"]}`, connectors.ClassPermanent, 0},
		{"forbidden", 403, nil, `{"error":"You are not authorized to do this action"}`, connectors.ClassAuth, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			b := setup(t)
			tid, rid := b.ticket(t, "+15550103050")
			b.f.FailNextWith(tt.status, tt.header, tt.body)
			_, err := b.c.AddMessage(b.ctx, tid, rid, connectors.Message{Key: "m", Body: "x"})
			require.Error(t, err)
			var ce *connectors.Error
			require.ErrorAs(t, err, &ce)
			require.Equal(t, tt.class, ce.Class, "%v", err)
			require.Equal(t, tt.after, ce.RetryAfter)
			require.NotContains(t, err.Error(), chatwoottest.APIToken)
		})
	}
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
		return b.c.ParseWebhook(sign(secret, body, at), []byte(body), secret, at.Add(time.Minute))
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
			_, err := b.c.ParseWebhook(tt.header, []byte(tt.body), secret, tt.now)
			require.ErrorIs(t, err, connectors.ErrUnauthorized, tt.name)
		}
		_, err := b.c.ParseWebhook(sign(secret, body, at), []byte(body), secret, at.Add(4*time.Minute))
		require.NoError(t, err, "a Sidekiq retry within the window")
	})

	t.Run("bad signature headers", func(t *testing.T) {
		body := `{"event":"contact_updated"}`
		h := sign(secret, body, at)
		h.Set(chatwoot.HeaderSignature, strings.TrimPrefix(h.Get(chatwoot.HeaderSignature), "sha256="))
		_, err := b.c.ParseWebhook(h, []byte(body), secret, at)
		require.ErrorIs(t, err, connectors.ErrUnauthorized, "the sha256= prefix is required")
		h = sign(secret, body, at)
		h.Del(chatwoot.HeaderTimestamp)
		_, err = b.c.ParseWebhook(h, []byte(body), secret, at)
		require.ErrorIs(t, err, connectors.ErrUnauthorized)
		h = sign(secret, body, at)
		h.Set(chatwoot.HeaderToken, string(secret))
		h.Set(chatwoot.HeaderSignature, "sha256=00")
		_, err = b.c.ParseWebhook(h, []byte(body), secret, at)
		require.ErrorIs(t, err, connectors.ErrUnauthorized, "a signature, when present, is what counts")
	})
}

func TestUnsignedWebhooksUseTheURLToken(t *testing.T) {
	t.Parallel()
	b := setup(t)
	b.f.SetLegacy(true)

	// relaydesk's HTTP layer: the query token goes into X-Relaydesk-Token.
	var secret atomic.Pointer[[]byte]
	var got atomic.Pointer[[]connectors.Event]
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		h := r.Header.Clone()
		if tok := r.URL.Query().Get(chatwoot.QueryToken); tok != "" {
			h.Set(chatwoot.HeaderToken, tok)
		}
		evs, err := b.c.ParseWebhook(h, body, *secret.Load(), time.Now())
		if err != nil {
			http.Error(w, err.Error(), http.StatusUnauthorized)
			return
		}
		got.Store(&evs)
	}))
	t.Cleanup(srv.Close)
	callback := srv.URL + "/webhooks/helpdesk/9"

	s, err := b.c.InstallWebhook(b.ctx, callback)
	require.NoError(t, err)
	secret.Store(&s)
	hooks := b.f.Webhooks()
	require.Len(t, hooks, 1, "the secretless webhook was replaced by one with a token")
	require.Equal(t, callback+"?token="+string(s), hooks[0].URL)
	require.Equal(t, b.f.WebhookSecret(), s)
	again, err := b.c.InstallWebhook(b.ctx, callback)
	require.NoError(t, err)
	require.Equal(t, s, again)
	require.Len(t, b.f.Webhooks(), 1)

	tid, _ := b.ticket(t, "+15550103060")
	cid := b.f.AgentReply(tid, "delivered without a signature")
	require.NoError(t, b.f.Deliver(b.ctx, srv.Client(), b.f.CommentDelivery(tid, cid)))
	require.Equal(t, cid, (*got.Load())[0].CommentID)

	t.Run("a wrong or missing token is refused", func(t *testing.T) {
		body := []byte(`{"event":"contact_updated"}`)
		for _, h := range []http.Header{{}, {chatwoot.HeaderToken: {"guess"}}} {
			_, err := b.c.ParseWebhook(h, body, s, time.Now())
			require.ErrorIs(t, err, connectors.ErrUnauthorized)
		}
	})

	require.NoError(t, b.c.UninstallWebhook(b.ctx, callback))
	require.Empty(t, b.f.Webhooks())
}

func TestInstallWebhookSignedAndIdempotent(t *testing.T) {
	t.Parallel()
	b := setup(t)
	const callback = "https://relay.example/webhooks/helpdesk/3"
	secret, err := b.c.InstallWebhook(b.ctx, callback)
	require.NoError(t, err)
	require.Equal(t, b.f.WebhookSecret(), secret)
	hooks := b.f.Webhooks()
	require.Len(t, hooks, 1)
	require.Equal(t, callback, hooks[0].URL)
	require.ElementsMatch(t, []string{chatwoot.EventMessageCreated, chatwoot.EventConversationStatusChanged}, hooks[0].Subscriptions)

	_, err = b.c.InstallWebhook(b.ctx, callback)
	require.NoError(t, err)
	require.Len(t, b.f.Webhooks(), 1)

	rotated := func() []byte {
		require.NoError(t, b.c.UninstallWebhook(b.ctx, callback))
		s, err := b.c.InstallWebhook(b.ctx, callback)
		require.NoError(t, err)
		return s
	}()
	require.NotEqual(t, secret, rotated, "a new webhook has a new secret")

	_, err = b.c.InstallWebhook(b.ctx, "https://relay.example/webhooks/helpdesk/4")
	require.NoError(t, err)
	require.NoError(t, b.c.UninstallWebhook(b.ctx, callback))
	require.Len(t, b.f.Webhooks(), 1)

	for _, bad := range []string{"ftp://nope", "https://relay.example/x?token=mine"} {
		_, err = b.c.InstallWebhook(b.ctx, bad)
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
	reg, ok := connectors.Lookup(chatwoot.Kind)
	require.True(t, ok)
	require.Equal(t, "Chatwoot", reg.Description.DisplayName)
	require.NotEmpty(t, reg.Description.WebhookHelp)
	f := chatwoottest.New(t)
	c, err := connectors.New(chatwoot.Kind, f.Config())
	require.NoError(t, err)
	require.Equal(t, chatwoot.Kind, c.Kind())
}

func TestFakeRejectsUndocumentedFields(t *testing.T) {
	t.Parallel()
	f := chatwoottest.New(nil)
	t.Cleanup(f.Close)
	req, _ := http.NewRequest(http.MethodPost, f.URL+"/api/v1/accounts/3/contacts", strings.NewReader(`{"inbox_id":7,"phone":"+15550000000"}`))
	req.Header.Set("api_access_token", chatwoottest.APIToken)
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	require.Equal(t, http.StatusBadRequest, resp.StatusCode)
	require.Len(t, f.Violations(), 1)
	require.Contains(t, f.Violations()[0], `unknown field "phone"`)
	require.Len(t, f.Users(), 2, "only the two agents: no contact was created")
}

func TestFindMessagePagesBack(t *testing.T) {
	t.Parallel()
	b := setup(t)
	tid, rid := b.ticket(t, "+15550103070")
	m := connectors.Message{Key: "wamid.needle", Body: "needle"}
	cid, err := b.c.AddMessage(b.ctx, tid, rid, m)
	require.NoError(t, err)
	for i := range 45 {
		b.f.AgentReply(tid, "filler "+strconv.Itoa(i))
	}
	got, found, err := b.c.FindMessage(b.ctx, tid, rid, m)
	require.NoError(t, err)
	require.True(t, found)
	require.Equal(t, cid, got)
	var pages int
	for _, r := range b.f.Requests() {
		if strings.HasSuffix(r.Path, "/messages") && strings.Contains(r.Query, "before=") {
			pages++
		}
	}
	require.GreaterOrEqual(t, pages, 2)
}
