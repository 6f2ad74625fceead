package zendesk_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"golang.org/x/oauth2"

	"github.com/relaydesk/relaydesk/connectors"
	"github.com/relaydesk/relaydesk/connectors/connectortest"
	"github.com/relaydesk/relaydesk/connectors/zendesk"
	"github.com/relaydesk/relaydesk/connectors/zendesk/zendesktest"
)

func TestConformance(t *testing.T) {
	t.Parallel()
	connectortest.Run(t, connectortest.Harness{
		New:     connectortest.NewWith(zendesktest.New, zendesk.New),
		Secrets: []string{zendesktest.APIToken, zendesktest.OAuthToken},
	})
}

type testBundle = connectortest.Bundle[*zendesk.Client, *zendesktest.Fake]

func setup(t *testing.T) *testBundle {
	return connectortest.Setup(t, zendesktest.New(t), 10*time.Second, zendesk.New)
}

func testFile(name, ctype string, data []byte) connectortest.File {
	return connectortest.File{Filename: name, ContentType: ctype, Data: data}
}

func TestRequesterUsesExternalIDAndPhone(t *testing.T) {
	t.Parallel()
	b := setup(t)
	id, err := b.C.EnsureRequester(b.Ctx, connectors.Requester{Phone: "+447700900123", Name: ""})
	require.NoError(t, err)
	require.Positive(t, b.F.Hits("POST /api/v2/users/create_or_update"), "user created with create_or_update")
	users := b.F.Users()
	require.Equal(t, id, users[len(users)-1].ID)
	require.Equal(t, "+447700900123", users[len(users)-1].Phone)
	require.Equal(t, "+447700900123", users[len(users)-1].Name, "the phone stands in for a missing profile name")
	connectortest.RequireRefusesPhones(t, b.C)
}

func TestCreateTicketSendsIdempotencyKey(t *testing.T) {
	t.Parallel()
	b := setup(t)
	// The fake refuses a creation without a key; distinct messages must
	// not share one, or the second would be answered with the first ticket.
	var mu sync.Mutex
	seen := map[string]bool{}
	b.F.Expect("POST /api/v2/tickets", func(r *http.Request) string {
		key := r.Header.Get("Idempotency-Key")
		mu.Lock()
		defer mu.Unlock()
		if seen[key] {
			return "Idempotency-Key " + key + " reused by another message"
		}
		seen[key] = true
		return ""
	})
	rid, err := b.C.EnsureRequester(b.Ctx, connectors.Requester{Phone: "+15550102030", Name: "Ann"})
	require.NoError(t, err)
	nt := connectors.NewTicket{RequesterID: rid, Subject: "s", First: connectors.Message{Key: "wamid.K1", Body: "x"}}
	_, _, err = b.C.CreateTicket(b.Ctx, nt)
	require.NoError(t, err)
	nt.First.Key = "wamid.K2"
	_, _, err = b.C.CreateTicket(b.Ctx, nt)
	require.NoError(t, err)
	require.Equal(t, 2, b.F.Hits("POST /api/v2/tickets"))
	require.Len(t, seen, 2, "distinct messages get distinct keys")
	for key := range seen {
		require.NotEmpty(t, key)
		require.LessOrEqual(t, len(key), 255)
	}
	require.Len(t, b.F.Tickets(), 2)
}

func TestCreateTicketRecoversWhenTheKeyIsRefused(t *testing.T) {
	t.Parallel()
	b := setup(t)
	rid, err := b.C.EnsureRequester(b.Ctx, connectors.Requester{Phone: "+15550102031", Name: "Ann"})
	require.NoError(t, err)
	// Another, older ticket of the same requester must not be picked.
	_, _, err = b.C.CreateTicket(b.Ctx, connectors.NewTicket{RequesterID: rid, Subject: "old", First: connectors.Message{Key: "wamid.OLD", Body: "photo"}})
	require.NoError(t, err)

	photo := connectortest.BytesAttachment("photo.jpg", "image/jpeg", []byte("jpeg bytes"), 10)
	nt := connectors.NewTicket{RequesterID: rid, Subject: "new", First: connectors.Message{Key: "wamid.NEW", Body: "photo", Attachments: []connectors.Attachment{photo}}}
	// The retry uploads the file again, so the body differs and the fake
	// refuses the reused key, as Zendesk may.
	connectortest.RequireIdempotentCreate(t, b.C, nt)
	require.Len(t, b.F.Tickets(), 2)
	require.Positive(t, b.F.Hits("GET /api/v2/users/{id}/tickets/requested"), "recovery looked the ticket up")
}

func TestFollowUpOnlyForClosedTickets(t *testing.T) {
	t.Parallel()
	b := setup(t)
	prev, rid := b.Ticket(t, "+15550102032")
	b.F.SetStatus(prev, connectors.StatusSolved)
	tk, _, err := b.C.CreateTicket(b.Ctx, connectors.NewTicket{RequesterID: rid, Subject: "again", First: connectors.Message{Key: "k2", Body: "again"}, PreviousTicketID: prev})
	require.NoError(t, err)
	for _, ft := range b.F.Tickets() {
		if ft.ID == tk.ID {
			require.Empty(t, ft.FollowupOf, "a solved ticket is not a follow-up source")
		}
	}

	t.Run("a deleted previous ticket is ignored", func(t *testing.T) {
		_, _, err := b.C.CreateTicket(b.Ctx, connectors.NewTicket{RequesterID: rid, Subject: "x", First: connectors.Message{Key: "k3", Body: "x"}, PreviousTicketID: "999999"})
		require.NoError(t, err)
	})
}

func TestStatusesAndReopen(t *testing.T) {
	t.Parallel()
	tests := []struct {
		raw       string
		want      connectors.Status
		afterMsg  string // Zendesk status after a customer message
		reopening bool
	}{
		{"new", connectors.StatusOpen, "new", false},
		{"open", connectors.StatusOpen, "open", false},
		{"pending", connectors.StatusPending, "open", true},
		{"hold", connectors.StatusPending, "hold", false},
		{"solved", connectors.StatusSolved, "open", true},
	}
	for _, tt := range tests {
		t.Run(tt.raw, func(t *testing.T) {
			t.Parallel()
			b := setup(t)
			tid, rid := b.Ticket(t, "+15550102040")
			if tt.raw != "new" {
				b.F.SetRawStatus(tid, tt.raw)
			}
			tk, err := b.C.GetTicket(b.Ctx, tid)
			require.NoError(t, err)
			require.Equal(t, tt.want, tk.Status)
			require.Equal(t, b.F.URL+"/agent/tickets/"+tid, tk.URL)

			_, err = b.C.AddMessage(b.Ctx, tid, rid, connectors.Message{Key: "m", Body: "customer again"})
			require.NoError(t, err)
			require.Equal(t, tt.afterMsg, b.F.RawStatus(tid))
		})
	}
}

func TestAttachmentOnlyMessageAndUnknownSize(t *testing.T) {
	t.Parallel()
	b := setup(t)
	tid, rid := b.Ticket(t, "+15550102050")
	data := bytes.Repeat([]byte{0xff, 0x00, 0x7f}, 5000)
	_, err := b.C.AddMessage(b.Ctx, tid, rid, connectors.Message{Key: "m", Attachments: []connectors.Attachment{
		connectortest.BytesAttachment("", "image/jpeg", data, -1),
		connectortest.BytesAttachment("../../etc/report.pdf", "application/pdf", []byte("%PDF"), 4),
	}})
	require.NoError(t, err)
	comments := b.F.Comments(tid)
	last := b.Last(t, tid)
	require.Equal(t, "[attachment.jpg, report.pdf]", last.Body)
	require.Len(t, last.Attachments, 2)
	require.Equal(t, "attachment.jpg", last.Attachments[0].Filename)
	require.Equal(t, data, last.Attachments[0].Data)
	require.Equal(t, "report.pdf", last.Attachments[1].Filename)

	t.Run("a message with neither text nor files is refused", func(t *testing.T) {
		_, err := b.C.AddMessage(b.Ctx, tid, rid, connectors.Message{Key: "e", Body: "  "})
		require.True(t, connectors.IsPermanent(err), "%v", err)
	})

	t.Run("a file that cannot be opened fails the call", func(t *testing.T) {
		broken := connectors.Attachment{Filename: "x.jpg", ContentType: "image/jpeg", Size: 1, Open: func(context.Context) (io.ReadCloser, error) {
			return nil, connectors.RetryError("graph media download failed", nil)
		}}
		_, err := b.C.AddMessage(b.Ctx, tid, rid, connectors.Message{Key: "b", Body: "pic", Attachments: []connectors.Attachment{broken}})
		require.True(t, connectors.IsRetryable(err), "%v", err)
		require.Len(t, b.F.Comments(tid), len(comments), "nothing posted")
	})
}

func TestParseWebhookPayloadVariants(t *testing.T) {
	t.Parallel()
	b := setup(t)
	at := time.Date(2026, 11, 20, 12, 0, 0, 0, time.UTC)
	parse := func(body string) ([]connectors.Event, error) {
		return b.C.ParseWebhook(b.F.Sign([]byte(body), at), []byte(body), b.F.WebhookSecret(), at.Add(time.Minute))
	}

	t.Run("numeric ids and lower-case statuses", func(t *testing.T) {
		evs, err := parse(`{"type":"zen:event-type:ticket.comment_added","id":"e1","time":"2026-11-20T11:59:59Z",
			"subject":"zen:ticket:5158","detail":{"id":5158,"requester_id":77,"status":"open"},
			"event":{"comment":{"id":9876543210,"body":"We are on it","is_public":true,"author":{"id":8447388090495,"is_staff":true,"name":"Agent"}}}}`)
		require.NoError(t, err)
		require.Equal(t, []connectors.Event{{
			Type: connectors.EventComment, EventID: "e1", TicketID: "5158", CommentID: "9876543210", AuthorID: "8447388090495",
			Public: true, Body: "We are on it", Status: connectors.StatusOpen, At: time.Date(2026, 11, 20, 11, 59, 59, 0, time.UTC),
		}}, evs)
	})

	t.Run("an end user other than the requester is not an agent", func(t *testing.T) {
		evs, err := parse(`{"type":"zen:event-type:ticket.comment_added","subject":"zen:ticket:1","detail":{"id":"1","requester_id":"2"},
			"event":{"comment":{"id":"3","body":"cc'd customer","is_public":true,"author":{"id":"4","is_staff":false}}}}`)
		require.NoError(t, err)
		require.True(t, evs[0].FromRequester)
	})

	t.Run("other event types are skipped", func(t *testing.T) {
		evs, err := parse(`{"type":"zen:event-type:ticket.priority_changed","detail":{"id":"1"},"event":{"current":"HIGH"}}`)
		require.NoError(t, err)
		require.Empty(t, evs)
	})

	t.Run("malformed payloads", func(t *testing.T) {
		for _, body := range []string{
			`{"type":"zen:event-type:ticket.comment_added","detail":{}}`,
			`{"type":"zen:event-type:ticket.comment_added","detail":{"id":"1"},"event":{"comment":{"id":"2","is_public":true}}}`,
			`{"type":"zen:event-type:ticket.comment_added","detail":{"id":"1.5"}}`,
			`{"type":"zen:event-type:ticket.status_changed","detail":{"id":"1"},"event":{"current":"WEIRD"}}`,
		} {
			_, err := parse(body)
			require.ErrorIs(t, err, connectors.ErrMalformed, body)
		}
	})
}

func TestSignatureMatchesZendeskDocumentation(t *testing.T) {
	t.Parallel()
	c, err := zendesk.New(connectors.Config{Settings: map[string]any{"subdomain": "acme"}, Credentials: map[string]string{"email": "a@acme.com", "api_token": "t"}})
	require.NoError(t, err)
	// The worked example of Zendesk's "Verifying webhook authenticity" guide.
	secret := []byte("HRkRd4BeOAoUkfZr-mhauJT64rvBASlJRoIyPsd3zeA=")
	body := []byte(`{"say": "hello"}`)
	h := http.Header{}
	h.Set(zendesk.HeaderSignatureTimestamp, "2021-07-25T10:00:00Z")
	h.Set(zendesk.HeaderSignature, "tRDSF7URY8BLCDlaBcQ7FHu051Zk+aAB0NKMP53teMw=")
	now := time.Date(2021, 7, 25, 10, 1, 0, 0, time.UTC)
	_, err = c.ParseWebhook(h, body, secret, now)
	require.NoError(t, err)
	// The same request with the guide's current formula, TIMESTAMP + BODY.
	h.Set(zendesk.HeaderSignature, "Rry/4TtIdFyawtXXp8QdI6tlAUUQ/5kL1OTp5qo/ZIk=")
	_, err = c.ParseWebhook(h, body, secret, now)
	require.NoError(t, err)

	h.Set(zendesk.HeaderSignature, "not base64!")
	_, err = c.ParseWebhook(h, body, secret, now)
	require.ErrorIs(t, err, connectors.ErrUnauthorized)
	h.Set(zendesk.HeaderSignature, "Rry/4TtIdFyawtXXp8QdI6tlAUUQ/5kL1OTp5qo/ZIk=")
	h.Set(zendesk.HeaderSignatureTimestamp, "yesterday")
	_, err = c.ParseWebhook(h, body, secret, now)
	require.ErrorIs(t, err, connectors.ErrUnauthorized)
}

func TestInstallWebhookSubscribesToTicketEvents(t *testing.T) {
	t.Parallel()
	b := setup(t)
	const callback = "https://relay.example/webhooks/helpdesk/3"
	connectortest.RequireInstall(t, b.C, b.F, callback)
	hooks := b.F.Webhooks()
	require.Len(t, hooks, 1)
	require.Equal(t, callback, hooks[0].Endpoint)
	require.Equal(t, "active", hooks[0].Status)
	require.ElementsMatch(t, []string{zendesk.EventCommentAdded, zendesk.EventStatusChanged}, hooks[0].Subscriptions)

	_, err := b.C.InstallWebhook(b.Ctx, callback)
	require.NoError(t, err)
	require.Len(t, b.F.Webhooks(), 1, "installing twice reuses the webhook")

	_, err = b.C.InstallWebhook(b.Ctx, "https://relay.example/webhooks/helpdesk/4")
	require.NoError(t, err)
	require.NoError(t, b.C.UninstallWebhook(b.Ctx, callback))
	hooks = b.F.Webhooks()
	require.Len(t, hooks, 1)
	require.Equal(t, "https://relay.example/webhooks/helpdesk/4", hooks[0].Endpoint)

	_, err = b.C.InstallWebhook(b.Ctx, "ftp://nope")
	require.True(t, connectors.IsPermanent(err))
}

func TestDeliverReachesTheInstalledEndpoint(t *testing.T) {
	t.Parallel()
	b := setup(t)
	srv := connectortest.NewReceiver(t, func(r *http.Request, body []byte) ([]connectors.Event, error) {
		return b.C.ParseWebhook(r.Header, body, b.F.WebhookSecret(), time.Now())
	})
	_, err := b.C.InstallWebhook(b.Ctx, srv.URL+"/hook")
	require.NoError(t, err)
	tid, _ := b.Ticket(t, "+15550102060")
	cid := b.F.AgentReply(tid, "delivered for real")
	require.NoError(t, b.F.Deliver(b.Ctx, srv.Client(), b.F.CommentDelivery(tid, cid)))
	evs := srv.Events()
	require.NotNil(t, evs)
	require.Equal(t, cid, evs[0].CommentID)
}

func TestCredentialsStayOnTheAccountHost(t *testing.T) {
	t.Parallel()
	b := setup(t)
	var auth atomic.Value
	other := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		auth.Store(r.Header.Get("Authorization"))
		w.Header().Set("Content-Type", "image/png")
		_, _ = w.Write([]byte("png"))
	}))
	t.Cleanup(other.Close)
	rc, ct, err := b.C.OpenAttachment(b.Ctx, connectors.RemoteAttachment{URL: other.URL + "/files/1.png", ContentType: "image/png"})
	require.NoError(t, err)
	data, _ := io.ReadAll(rc)
	rc.Close()
	require.Equal(t, "png", string(data))
	require.Equal(t, "image/png", ct)
	require.Equal(t, "", auth.Load(), "no credentials to a foreign host")

	_, _, err = b.C.OpenAttachment(b.Ctx, connectors.RemoteAttachment{URL: "file:///etc/passwd"})
	require.True(t, connectors.IsPermanent(err))
}

func TestOAuth2(t *testing.T) {
	t.Parallel()
	f := zendesktest.New(t)
	settings := map[string]any{"subdomain": "acme", "auth_method": "oauth2", "client_id": "relaydesk"}
	creds := map[string]string{"client_secret": "shh"}

	t.Run("config", func(t *testing.T) {
		c, err := zendesk.New(connectors.Config{Settings: settings, Credentials: creds})
		require.NoError(t, err)
		oc := c.OAuth2Config("https://relay.example/oauth/callback")
		require.Equal(t, "https://acme.zendesk.com/oauth/authorizations/new", oc.Endpoint.AuthURL)
		require.Equal(t, "https://acme.zendesk.com/oauth/tokens", oc.Endpoint.TokenURL)
		require.Equal(t, oauth2.AuthStyleInParams, oc.Endpoint.AuthStyle)
		require.Equal(t, "relaydesk", oc.ClientID)
		require.Equal(t, "shh", oc.ClientSecret)
		require.Equal(t, []string{"read", "write"}, oc.Scopes)
		require.True(t, c.PKCE())
	})

	t.Run("calls use the token source", func(t *testing.T) {
		c, err := zendesk.New(connectors.Config{BaseURL: f.URL, Settings: settings, Credentials: creds,
			TokenSource: oauth2.StaticTokenSource(&oauth2.Token{AccessToken: zendesktest.OAuthToken})})
		require.NoError(t, err)
		require.NoError(t, c.Test(t.Context()))
	})

	t.Run("not connected yet is an auth error", func(t *testing.T) {
		c, err := zendesk.New(connectors.Config{BaseURL: f.URL, Settings: settings, Credentials: creds})
		require.NoError(t, err)
		require.True(t, connectors.IsAuth(c.Test(t.Context())))
	})

	t.Run("a revoked token is an auth error", func(t *testing.T) {
		c, err := zendesk.New(connectors.Config{BaseURL: f.URL, Settings: settings, Credentials: creds,
			TokenSource: oauth2.StaticTokenSource(&oauth2.Token{AccessToken: "revoked"})})
		require.NoError(t, err)
		_, err = c.GetTicket(t.Context(), "1")
		require.True(t, connectors.IsAuth(err), "%v", err)
		require.NotContains(t, err.Error(), "revoked")
	})
}

func TestNewValidatesConfig(t *testing.T) {
	t.Parallel()
	connectortest.RequireConfigProblems(t, zendesk.New, []connectortest.ConfigProblems{
		{Name: "nothing", Config: connectors.Config{}, Problems: []string{"settings.subdomain: is required", "credentials.email: is required", "credentials.api_token: is required"}},
		{Name: "bad subdomain and email", Config: connectors.Config{
			Settings: map[string]any{"subdomain": "acme.zendesk.com"}, Credentials: map[string]string{"email": "nope", "api_token": "t"},
		}, Problems: []string{"settings.subdomain: has an invalid format", "credentials.email: must be an email address"}},
		{Name: "oauth2 needs the client", Config: connectors.Config{
			Settings: map[string]any{"subdomain": "acme", "auth_method": "oauth2"},
		}, Problems: []string{"settings.client_id: is required", "credentials.client_secret: is required"}},
		{Name: "unknown keys and method", Config: connectors.Config{
			Settings: map[string]any{"subdomain": "acme", "auth_method": "password", "colour": "red"}, Credentials: map[string]string{"pin": "1"},
		}, Problems: []string{`settings.auth_method: unsupported auth method "password"`, "settings.auth_method: must be one of", "settings.colour: unknown setting", "credentials.pin: unknown credential"}},
		{Name: "base URL with credentials", Config: connectors.Config{
			BaseURL: "https://user:pass@acme.zendesk.com", Settings: map[string]any{"subdomain": "acme"}, Credentials: map[string]string{"email": "a@b.co", "api_token": "t"},
		}, Problems: []string{"base URL must be an absolute http(s) URL"}},
	})
}

func TestRegistered(t *testing.T) {
	t.Parallel()
	connectortest.RequireRegistered(t, zendesk.Kind, "Zendesk", zendesktest.New(t).Config())
}

func TestFakeRejectsUndocumentedFields(t *testing.T) {
	t.Parallel()
	f := zendesktest.New(nil)
	t.Cleanup(f.Close)
	body, _ := json.Marshal(map[string]any{"ticket": map[string]any{"subject": "x", "comment": map[string]any{"body": "x", "private": true}}})
	req := connectortest.NewRequest(t, http.MethodPost, f.URL+"/api/v2/tickets", string(body))
	req.SetBasicAuth(zendesktest.Email+"/token", zendesktest.APIToken)
	req.Header.Set("Accept", "application/json")
	req.Header.Set("Idempotency-Key", "k")
	connectortest.RequireUnknownField(t, f, req, "private")
	require.Empty(t, f.Tickets())
}

func TestLookupsFollowCursorPages(t *testing.T) {
	t.Parallel()
	b := setup(t)
	tid, rid := b.Ticket(t, "+15550102070")
	pages := connectortest.CountQuery(b.F, "GET /api/v2/tickets/{id}/comments", "page[after]")
	m := connectors.Message{Key: "wamid.P", Body: "needle"}
	cid := b.Add(t, tid, rid, m)
	file := []byte("label")
	agent := b.F.AgentReply(tid, "old agent reply", testFile("label.pdf", "application/pdf", file))
	b.Fill(tid, 150)

	got, found, err := b.C.FindMessage(b.Ctx, tid, rid, m)
	require.NoError(t, err)
	require.True(t, found)
	require.Equal(t, cid, got)

	e, err := b.C.HydrateEvent(b.Ctx, connectors.Event{Type: connectors.EventComment, TicketID: tid, CommentID: agent, Public: true})
	require.NoError(t, err)
	require.Equal(t, "old agent reply", e.Body)
	require.Len(t, e.Attachments, 1)
	rc, _, err := b.C.OpenAttachment(b.Ctx, e.Attachments[0])
	require.NoError(t, err)
	data, _ := io.ReadAll(rc)
	rc.Close()
	require.Equal(t, file, data)

	require.GreaterOrEqual(t, pages.Load(), int64(2), "lookups went past the first page")

	_, err = b.C.HydrateEvent(b.Ctx, connectors.Event{Type: connectors.EventComment, TicketID: tid, CommentID: "1"})
	require.True(t, connectors.IsNotFound(err), "%v", err)
}

func TestShowStatusAsATag(t *testing.T) {
	t.Parallel()
	b := setup(t)
	tk, _ := b.Ticket(t, "+15551230001")
	connectortest.RequireStatusTags(t, b.Ctx, b.C, b.F, tk)
	require.Empty(t, b.F.Violations())
}
