package server_test

import (
	"bytes"
	"context"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/labstack/echo/v4"
	"github.com/stretchr/testify/require"

	"github.com/relaydesk/relaydesk/internal/apiauth"
	"github.com/relaydesk/relaydesk/internal/apiview"
	"github.com/relaydesk/relaydesk/internal/store"
	"github.com/relaydesk/relaydesk/internal/whatsapp/whatsapptest"
)

const apiCustomer = "16505551234"

var allScopes = []string{apiauth.ScopeChatsRead, apiauth.ScopeMessagesRead, apiauth.ScopeMessagesSend,
	apiauth.ScopeContactsRead, apiauth.ScopeContactsErase, apiauth.ScopeWebhooksManage}

// world has a customer write to the main number (text and an image) and
// waits until the ticket exists.
func (b *apiBundle) world() (chatID store.ConversationID, jpeg []byte) {
	b.t.Helper()
	jpeg = bytes.Repeat([]byte{0xff, 0xd8, 0xff, 0xe0}, 1024)
	img := b.graph.AddMedia(whatsapptest.Media{MimeType: "image/jpeg", Data: jpeg})
	b.postWhatsApp(whatsapptest.NewDelivery(apiPhoneID).Name(apiCustomer, "Kerry Fisher").
		Text(apiCustomer, "Hello, where is my order?").Image(apiCustomer, img, "image/jpeg", "the box"))
	b.eventually(func() bool {
		return b.count(`SELECT count(*) FROM messages WHERE direction = 'in' AND state = 'done'`) == 2
	}, "both messages posted to the ticket")
	return b.chatOf(apiCustomer), jpeg
}

func TestChatsMessagesAndContacts(t *testing.T) {
	t.Parallel()
	b := apiSetup(t, apiOpts{})
	chatID, jpeg := b.world()
	tok := b.fullAccessToken()

	t.Run("list chats with filters and cursors", func(t *testing.T) {
		resp, body := b.api(http.MethodGet, "/api/v1/chats", tok, nil)
		require.Equal(t, http.StatusOK, resp.StatusCode, string(body))
		page := decode[struct {
			Data       []apiview.Chat `json:"data"`
			NextCursor *string        `json:"next_cursor"`
		}](t, body)
		require.Len(t, page.Data, 1)
		require.Nil(t, page.NextCursor)
		ch := page.Data[0]
		require.Equal(t, chatID, ch.ID)
		require.Equal(t, apiPhoneID, ch.Number.PhoneNumberID)
		require.Equal(t, apiCustomer, *ch.Contact.WaID)
		require.Equal(t, "+"+apiCustomer, *ch.Contact.Phone)
		require.Equal(t, "Kerry Fisher", ch.Contact.ProfileName)
		require.NotNil(t, ch.Ticket)
		require.True(t, ch.Ticket.Open)
		require.NotNil(t, ch.WindowOpenUntil)
		require.Contains(t, string(body), `"created_at":"`+ch.CreatedAt.Format("2006-01-02T"), "ISO 8601 times in UTC")

		// A second chat, on another number, with no ticket.
		b.postWhatsApp(whatsapptest.NewDelivery(otherPhoneID).Text("4915112345678", "Hallo"))
		list := func(q string) []apiview.Chat {
			resp, body := b.api(http.MethodGet, "/api/v1/chats?"+q, tok, nil)
			require.Equal(t, http.StatusOK, resp.StatusCode, string(body))
			return decode[struct {
				Data []apiview.Chat `json:"data"`
			}](t, body).Data
		}
		require.Len(t, list(""), 2)
		require.Len(t, list("number="+otherPhoneID), 1)
		require.Len(t, list("number=%2B1%20555-078-3881"), 1, "a display number works too")
		require.Len(t, list("has_open_ticket=true"), 1)
		require.Equal(t, "4915112345678", *list("has_open_ticket=false")[0].Contact.WaID)
		require.Len(t, list("updated_since="+url.QueryEscape(time.Now().Add(time.Hour).UTC().Format(time.RFC3339))), 0)

		resp, body = b.api(http.MethodGet, "/api/v1/chats?limit=1", tok, nil)
		first := decode[struct {
			Data       []apiview.Chat `json:"data"`
			NextCursor *string        `json:"next_cursor"`
		}](t, body)
		require.Equal(t, http.StatusOK, resp.StatusCode)
		require.NotNil(t, first.NextCursor)
		next := list("limit=1&cursor=" + *first.NextCursor)
		require.Len(t, next, 1)
		require.NotEqual(t, first.Data[0].ID, next[0].ID)

		for _, q := range []string{"limit=0", "limit=x", "updated_since=yesterday", "has_open_ticket=maybe", "cursor=%%%"} {
			resp, body := b.api(http.MethodGet, "/api/v1/chats?"+strings.ReplaceAll(q, "%%%", "!!"), tok, nil)
			require.Equal(t, http.StatusBadRequest, resp.StatusCode, q)
			require.Equal(t, "application/problem+json", resp.Header.Get("Content-Type"))
			require.Contains(t, string(body), "#problem-invalid-request")
		}
		resp, _ = b.api(http.MethodGet, "/api/v1/chats?number=0000", tok, nil)
		require.Equal(t, http.StatusNotFound, resp.StatusCode)
	})

	t.Run("get a chat and its messages with media metadata", func(t *testing.T) {
		resp, body := b.api(http.MethodGet, fmt.Sprintf("/api/v1/chats/%d", chatID), tok, nil)
		require.Equal(t, http.StatusOK, resp.StatusCode, string(body))

		resp, body = b.api(http.MethodGet, fmt.Sprintf("/api/v1/chats/%d/messages", chatID), tok, nil)
		require.Equal(t, http.StatusOK, resp.StatusCode, string(body))
		msgs := decode[struct {
			Data []apiview.Message `json:"data"`
		}](t, body).Data
		require.Len(t, msgs, 2)
		require.Equal(t, "inbound", msgs[0].Direction)
		require.Equal(t, "text", msgs[0].Type)
		require.Equal(t, "Hello, where is my order?", msgs[0].Text)
		require.Equal(t, "customer", msgs[0].Author)
		require.Equal(t, "done", msgs[0].State)
		require.Equal(t, "image", msgs[1].Type)
		require.NotNil(t, msgs[1].Media)
		require.Equal(t, "image/jpeg", msgs[1].Media.MimeType)
		require.Equal(t, "the box", msgs[1].Media.Caption)
		require.Equal(t, fmt.Sprintf("%s/api/v1/messages/%d/media", b.srv.URL, msgs[1].ID), msgs[1].Media.DownloadURL)

		resp, body = b.api(http.MethodGet, fmt.Sprintf("/api/v1/chats/%d/messages?limit=1", chatID), tok, nil)
		require.Equal(t, http.StatusOK, resp.StatusCode)
		cur := decode[struct {
			NextCursor string `json:"next_cursor"`
		}](t, body).NextCursor
		resp, body = b.api(http.MethodGet, fmt.Sprintf("/api/v1/chats/%d/messages?limit=1&cursor=%s", chatID, cur), tok, nil)
		require.Equal(t, http.StatusOK, resp.StatusCode)
		require.Equal(t, msgs[1].ID, decode[struct {
			Data []apiview.Message `json:"data"`
		}](t, body).Data[0].ID)

		resp, body = b.api(http.MethodGet, fmt.Sprintf("/api/v1/messages/%d", msgs[1].ID), tok, nil)
		require.Equal(t, http.StatusOK, resp.StatusCode, string(body))

		// The file, streamed from Graph.
		resp, body = b.api(http.MethodGet, strings.TrimPrefix(msgs[1].Media.DownloadURL, b.srv.URL), tok, nil)
		require.Equal(t, http.StatusOK, resp.StatusCode, string(body))
		require.Equal(t, "image/jpeg", resp.Header.Get("Content-Type"))
		require.Equal(t, jpeg, body)
		resp, _ = b.api(http.MethodGet, fmt.Sprintf("/api/v1/messages/%d/media", msgs[0].ID), tok, nil)
		require.Equal(t, http.StatusNotFound, resp.StatusCode, "a text message has no media")

		for _, p := range []string{"/api/v1/chats/999999", "/api/v1/chats/abc", "/api/v1/chats/999999/messages", "/api/v1/messages/999999"} {
			resp, body := b.api(http.MethodGet, p, tok, nil)
			require.Equal(t, http.StatusNotFound, resp.StatusCode, p)
			require.Contains(t, string(body), "#problem-not-found")
		}
	})

	t.Run("get a contact", func(t *testing.T) {
		resp, body := b.api(http.MethodGet, "/api/v1/contacts/"+apiCustomer, tok, nil)
		require.Equal(t, http.StatusOK, resp.StatusCode, string(body))
		c := decode[apiview.Contact](t, body)
		require.Equal(t, "Kerry Fisher", c.ProfileName)
		require.Equal(t, []store.ConversationID{chatID}, c.ChatIDs)
		resp, _ = b.api(http.MethodGet, "/api/v1/contacts/19999999999", tok, nil)
		require.Equal(t, http.StatusNotFound, resp.StatusCode)
	})

	t.Run("an application narrowed to another number does not see this chat", func(t *testing.T) {
		narrow, nsecret := b.app(store.NewAPIClient{Scopes: allScopes, GrantTypes: []string{apiauth.GrantClientCredentials},
			AccountIDs: []store.AccountID{b.otherAcc}})
		ntok := b.clientToken(narrow, nsecret, "")
		for _, p := range []string{fmt.Sprintf("/api/v1/chats/%d", chatID), fmt.Sprintf("/api/v1/chats/%d/messages", chatID),
			"/api/v1/contacts/" + apiCustomer, "/api/v1/chats?number=" + apiPhoneID} {
			resp, body := b.api(http.MethodGet, p, ntok, nil)
			require.Equal(t, http.StatusNotFound, resp.StatusCode, "%s: %s", p, body)
		}
		resp, body := b.api(http.MethodGet, "/api/v1/chats", ntok, nil)
		require.Equal(t, http.StatusOK, resp.StatusCode)
		for _, ch := range decode[struct {
			Data []apiview.Chat `json:"data"`
		}](t, body).Data {
			require.Equal(t, otherPhoneID, ch.Number.PhoneNumberID)
		}
		resp, _ = b.api(http.MethodPost, fmt.Sprintf("/api/v1/chats/%d/messages", chatID), ntok, map[string]any{"type": "text", "text": "hi"})
		require.Equal(t, http.StatusNotFound, resp.StatusCode)
	})
}

func TestScopesPerEndpoint(t *testing.T) {
	t.Parallel()
	b := apiSetup(t, apiOpts{})
	chatID, _ := b.world()
	app, secret := b.app(store.NewAPIClient{Scopes: allScopes, GrantTypes: []string{apiauth.GrantClientCredentials}})
	routes := []struct {
		method, path, scope string
		body                any
	}{
		{http.MethodGet, "/api/v1/chats", apiauth.ScopeChatsRead, nil},
		{http.MethodGet, fmt.Sprintf("/api/v1/chats/%d", chatID), apiauth.ScopeChatsRead, nil},
		{http.MethodGet, fmt.Sprintf("/api/v1/chats/%d/messages", chatID), apiauth.ScopeMessagesRead, nil},
		{http.MethodPost, fmt.Sprintf("/api/v1/chats/%d/messages", chatID), apiauth.ScopeMessagesSend, map[string]any{"type": "text", "text": "scope test"}},
		{http.MethodPost, "/api/v1/messages", apiauth.ScopeMessagesSend, map[string]any{"to": "+" + apiCustomer, "number": apiPhoneID, "type": "text", "text": "scope test"}},
		{http.MethodGet, "/api/v1/contacts/" + apiCustomer, apiauth.ScopeContactsRead, nil},
		{http.MethodGet, "/api/v1/subscriptions", apiauth.ScopeWebhooksManage, nil},
		{http.MethodDelete, "/api/v1/contacts/" + apiCustomer, apiauth.ScopeContactsErase, nil},
	}
	// contacts:erase goes last: it erases the customer the others read.
	scopes := append(slices.DeleteFunc(slices.Clone(allScopes), func(s string) bool { return s == apiauth.ScopeContactsErase }),
		apiauth.ScopeContactsErase)
	for _, scope := range scopes {
		tok := b.clientToken(app, secret, scope)
		for _, r := range routes {
			resp, body := b.api(r.method, r.path, tok, r.body)
			if r.scope == scope {
				require.Less(t, resp.StatusCode, 300, "%s %s with %s: %s", r.method, r.path, scope, body)
				continue
			}
			require.Equal(t, http.StatusForbidden, resp.StatusCode, "%s %s with %s", r.method, r.path, scope)
			p := decode[map[string]any](t, body)
			require.Equal(t, r.scope, p["scope"])
			require.Contains(t, p["type"], "#problem-insufficient-scope")
		}
	}
	resp, _ := b.api(http.MethodGet, "/api/v1/chats", "", nil)
	require.Equal(t, http.StatusUnauthorized, resp.StatusCode)
	require.Equal(t, `Bearer realm="relaydesk"`, resp.Header.Get("WWW-Authenticate"))
	resp, _ = b.api(http.MethodGet, "/api/v1/chats", "rdat_forged", nil)
	require.Equal(t, http.StatusUnauthorized, resp.StatusCode)
	require.Contains(t, resp.Header.Get("WWW-Authenticate"), `error="invalid_token"`)

	t.Run("a disabled application's tokens stop at once", func(t *testing.T) {
		tok := b.clientToken(app, secret, "")
		require.NoError(t, b.store.SetAPIClientEnabled(context.Background(), app.ID, false, store.Actor{Name: "test"}))
		resp, _ := b.api(http.MethodGet, "/api/v1/chats", tok, nil)
		require.Equal(t, http.StatusUnauthorized, resp.StatusCode)
	})
}

func TestSendMessages(t *testing.T) {
	t.Parallel()
	b := apiSetup(t, apiOpts{})
	chatID, _ := b.world()
	app, secret := b.app(store.NewAPIClient{Name: "OrderBot", Scopes: allScopes, GrantTypes: []string{apiauth.GrantClientCredentials}})
	tok := b.clientToken(app, secret, "")
	send := func(path string, body any, headers ...string) (*http.Response, []byte) {
		return b.api(http.MethodPost, path, tok, body, headers...)
	}
	chatPath := fmt.Sprintf("/api/v1/chats/%d/messages", chatID)
	ticket := b.zd.Tickets()[0].ID

	t.Run("text to a chat: sent by the send job, noted on the ticket", func(t *testing.T) {
		resp, body := send(chatPath, map[string]any{"type": "text", "text": "Your order ships today."})
		require.Equal(t, http.StatusAccepted, resp.StatusCode, string(body))
		m := decode[apiview.Message](t, body)
		require.Equal(t, "outbound", m.Direction)
		require.Equal(t, "pending", m.State)
		require.Equal(t, "app:OrderBot", m.Author)
		require.Equal(t, fmt.Sprintf("/api/v1/messages/%d", m.ID), resp.Header.Get("Location"))
		b.eventually(func() bool {
			for _, s := range b.graph.Sent() {
				if s.Text == "Your order ships today." {
					return true
				}
			}
			return false
		}, "sent to WhatsApp")
		b.eventually(func() bool {
			for _, c := range b.zd.Comments(ticket) {
				if !c.Public && strings.Contains(c.Body, `"OrderBot"`) && strings.Contains(c.Body, "Your order ships today.") {
					return true
				}
			}
			return false
		}, "an internal note names the application")
		// The send job records WhatsApp's acceptance just after Graph answers.
		var got apiview.Message
		b.eventually(func() bool {
			resp, body = b.api(http.MethodGet, fmt.Sprintf("/api/v1/messages/%d", m.ID), tok, nil)
			require.Equal(t, http.StatusOK, resp.StatusCode)
			got = decode[apiview.Message](t, body)
			return got.State != "pending"
		}, "the message is no longer pending")
		require.Equal(t, "done", got.State)
		require.Equal(t, "accepted", got.Status)
	})

	t.Run("media by link", func(t *testing.T) {
		resp, body := send(chatPath, map[string]any{"type": "image", "media": map[string]any{"link": "https://cdn.example.com/receipt.png", "caption": "Receipt"}})
		require.Equal(t, http.StatusAccepted, resp.StatusCode, string(body))
		require.Equal(t, "https://cdn.example.com/receipt.png", decode[apiview.Message](t, body).Media.Link)
		b.eventually(func() bool {
			for _, s := range b.graph.Sent() {
				if s.Type == "image" && strings.Contains(string(s.Body), "https://cdn.example.com/receipt.png") {
					return true
				}
			}
			return false
		}, "image sent by link")
		for _, bad := range []map[string]any{
			{"type": "image", "media": map[string]any{"link": "http://insecure.example/a.png"}},
			{"type": "audio", "media": map[string]any{"link": "https://cdn.example.com/a.ogg", "caption": "no"}},
			{"type": "text"},
			{"type": "carousel"},
		} {
			resp, body := send(chatPath, bad)
			require.Equal(t, http.StatusUnprocessableEntity, resp.StatusCode, string(body))
			require.Contains(t, string(body), "#problem-invalid-message")
		}
		resp, body = send(chatPath, `{"type":"text","text":"x","colour":"red"}`)
		require.Equal(t, http.StatusBadRequest, resp.StatusCode, string(body))
	})

	t.Run("Idempotency-Key: same body, same answer; another body, 422", func(t *testing.T) {
		body := map[string]any{"type": "text", "text": "Only once, please."}
		r1, b1 := send(chatPath, body, "Idempotency-Key", "order-42")
		require.Equal(t, http.StatusAccepted, r1.StatusCode, string(b1))
		r2, b2 := send(chatPath, body, "Idempotency-Key", "order-42")
		require.Equal(t, http.StatusAccepted, r2.StatusCode)
		require.Equal(t, "true", r2.Header.Get("Idempotent-Replayed"))
		require.JSONEq(t, string(b1), string(b2))
		require.Equal(t, 1, b.count(`SELECT count(*) FROM messages WHERE body = 'Only once, please.'`))
		r3, b3 := send(chatPath, map[string]any{"type": "text", "text": "Something else"}, "Idempotency-Key", "order-42")
		require.Equal(t, http.StatusUnprocessableEntity, r3.StatusCode)
		require.Contains(t, string(b3), "#problem-idempotency-key-reused")
		r4, _ := send(chatPath, body, "Idempotency-Key", "order-43")
		require.Equal(t, http.StatusAccepted, r4.StatusCode, "a new key is a new message")
		require.Equal(t, 2, b.count(`SELECT count(*) FROM messages WHERE body = 'Only once, please.'`))
	})

	t.Run("outside the 24-hour window only a template goes", func(t *testing.T) {
		b.clock.Advance(25 * time.Hour)
		resp, body := send(chatPath, map[string]any{"type": "text", "text": "Are you there?"})
		require.Equal(t, http.StatusUnprocessableEntity, resp.StatusCode, string(body))
		p := decode[map[string]any](t, body)
		require.Contains(t, p["type"], "#problem-outside-window")
		require.Contains(t, p["detail"], "template")
		resp, body = send(chatPath, map[string]any{"type": "template", "template": map[string]any{"name": "order_update", "language": "en_US",
			"components": []map[string]any{{"type": "body", "parameters": []map[string]any{{"type": "text", "text": "42"}}}}}})
		require.Equal(t, http.StatusAccepted, resp.StatusCode, string(body))
		require.Equal(t, "order_update", decode[apiview.Message](t, body).Template.Name)
		b.eventually(func() bool {
			for _, s := range b.graph.Sent() {
				if s.Type == "template" && strings.Contains(string(s.Body), "order_update") && strings.Contains(string(s.Body), `"42"`) {
					return true
				}
			}
			return false
		}, "template sent outside the window")
	})

	t.Run("to a phone number: a new customer gets a template only", func(t *testing.T) {
		to := map[string]any{"to": "+1 650 555 0000", "number": "15550783881", "type": "text", "text": "Hi!"}
		resp, body := send("/api/v1/messages", to)
		require.Equal(t, http.StatusUnprocessableEntity, resp.StatusCode, string(body))
		require.Contains(t, string(body), "#problem-outside-window")
		to["type"], to["template"] = "template", map[string]any{"name": "hello_world", "language": "en_US"}
		delete(to, "text")
		resp, body = send("/api/v1/messages", to)
		require.Equal(t, http.StatusAccepted, resp.StatusCode, string(body))
		b.eventually(func() bool {
			for _, s := range b.graph.Sent() {
				if s.Type == "template" && s.To == "16505550000" {
					return true
				}
			}
			return false
		}, "template sent to the new customer")
		resp, _ = send("/api/v1/messages", map[string]any{"to": "+16505550000", "number": "999", "type": "template",
			"template": map[string]any{"name": "hello_world", "language": "en_US"}})
		require.Equal(t, http.StatusNotFound, resp.StatusCode, "unknown number")
		resp, _ = send("/api/v1/messages", map[string]any{"to": "+16505550000", "type": "template",
			"template": map[string]any{"name": "hello_world", "language": "en_US"}})
		require.Equal(t, http.StatusUnprocessableEntity, resp.StatusCode, "two numbers: number is required")
		resp, _ = send("/api/v1/messages", map[string]any{"to": "call me", "number": apiPhoneID, "type": "template",
			"template": map[string]any{"name": "hello_world", "language": "en_US"}})
		require.Equal(t, http.StatusUnprocessableEntity, resp.StatusCode)
	})
	require.Empty(t, b.graph.ValidationErrors(), "requests Graph's OpenAPI description refuses")
	require.Empty(t, b.zd.Violations())
}

func TestRateLimits(t *testing.T) {
	t.Parallel()
	b := apiSetup(t, apiOpts{})
	app, secret := b.app(store.NewAPIClient{Scopes: allScopes, GrantTypes: []string{apiauth.GrantClientCredentials}, RateLimit: 3})
	tok := b.clientToken(app, secret, "")
	for i := 2; i >= 0; i-- {
		resp, body := b.api(http.MethodGet, "/api/v1/chats", tok, nil)
		require.Equal(t, http.StatusOK, resp.StatusCode, string(body))
		require.Equal(t, "3", resp.Header.Get("RateLimit-Limit"))
		require.Equal(t, strconv.Itoa(i), resp.Header.Get("RateLimit-Remaining"))
		reset, err := strconv.Atoi(resp.Header.Get("RateLimit-Reset"))
		require.NoError(t, err)
		// One request refills every 20 s: the bucket is full again after at
		// most (3-i)*20 s (less when the machine is slow and time passed).
		require.LessOrEqual(t, reset, (3-i)*20, "refills one request per 20 s")
		require.Positive(t, reset)
	}
	resp, body := b.api(http.MethodGet, "/api/v1/chats", tok, nil)
	require.Equal(t, http.StatusTooManyRequests, resp.StatusCode, string(body))
	require.Equal(t, "0", resp.Header.Get("RateLimit-Remaining"))
	retry, err := strconv.Atoi(resp.Header.Get("Retry-After"))
	require.NoError(t, err)
	require.True(t, retry >= 1 && retry <= 20, "Retry-After %d", retry)
	require.Contains(t, string(body), "#problem-rate-limited")

	other, osecret := b.app(store.NewAPIClient{Scopes: allScopes, GrantTypes: []string{apiauth.GrantClientCredentials}})
	resp, _ = b.api(http.MethodGet, "/api/v1/chats", b.clientToken(other, osecret, ""), nil)
	require.Equal(t, http.StatusOK, resp.StatusCode, "each application has its own bucket")

	t.Run("a number's share applies across applications", func(t *testing.T) {
		chatID, _ := b.world()
		for i := 0; i < 3; i++ {
			_, err := b.store.TakeToken(context.Background(), fmt.Sprintf("api:number:%d", b.mainAcc), 1200.0/60, 1200)
			require.NoError(t, err)
		}
		resp, _ := b.api(http.MethodGet, fmt.Sprintf("/api/v1/chats/%d", chatID), b.clientToken(other, osecret, ""), nil)
		require.Equal(t, http.StatusOK, resp.StatusCode)
		require.Equal(t, "1200", resp.Header.Get("RateLimit-Limit"), "the number's bucket has fewer requests left than the app's")
	})
}

func TestOpenAPIDocumentMatchesRoutes(t *testing.T) {
	t.Parallel()
	b := apiSetup(t, apiOpts{})
	chatID, _ := b.world()
	tok := b.fullAccessToken()
	resp, body := b.api(http.MethodPost, "/api/v1/subscriptions", tok, map[string]any{"url": "https://hooks.example.com/rd", "events": []string{"message.received"}})
	require.Equal(t, http.StatusCreated, resp.StatusCode, string(body))
	subID := decode[apiview.Subscription](t, body).ID
	var imageID store.MessageID
	require.NoError(t, b.store.Pool().QueryRow(context.Background(), `SELECT id FROM messages WHERE kind = 'image'`).Scan(&imageID))

	resp, body = b.do(mustGet(t, b.srv.URL+"/api/v1/openapi.json"))
	require.Equal(t, http.StatusOK, resp.StatusCode)
	doc := decode[struct {
		OpenAPI string                               `json:"openapi"`
		Paths   map[string]map[string]map[string]any `json:"paths"`
	}](t, body)
	require.Equal(t, "3.1.0", doc.OpenAPI)

	t.Run("every registered /api/v1 route is documented", func(t *testing.T) {
		e := b.handler().(*echo.Echo)
		n := 0
		for _, r := range e.Routes() {
			if !strings.HasPrefix(r.Path, "/api/v1") && !strings.HasPrefix(r.Path, "/oauth/") && !strings.HasPrefix(r.Path, "/.well-known/") {
				continue
			}
			if r.Path == "/api/v1/docs.css" {
				continue // the reference page's stylesheet
			}
			p := r.Path
			for _, seg := range strings.Split(p, "/") {
				if strings.HasPrefix(seg, ":") {
					p = strings.Replace(p, seg, "{"+seg[1:]+"}", 1)
				}
			}
			_, ok := doc.Paths[p][strings.ToLower(r.Method)]
			require.True(t, ok, "%s %s is served but not in the OpenAPI document", r.Method, p)
			n++
		}
		require.Greater(t, n, 15)
	})

	t.Run("every documented route answers", func(t *testing.T) {
		ids := map[string]string{"/api/v1/chats/{id}": fmt.Sprint(chatID), "/api/v1/messages/{id}": fmt.Sprint(imageID),
			"/api/v1/subscriptions/{id}": fmt.Sprint(subID), "/api/v1/contacts/{id}": apiCustomer}
		bodies := map[string]any{
			"/api/v1/chats/{id}/messages": map[string]any{"type": "text", "text": "documented"},
			"/api/v1/messages":            map[string]any{"to": apiCustomer, "number": apiPhoneID, "type": "text", "text": "documented"},
			"/api/v1/subscriptions":       map[string]any{"url": "https://hooks.example.com/2", "events": []string{"message.status"}},
		}
		for p, ops := range doc.Paths {
			if !strings.HasPrefix(p, "/api/v1") {
				continue
			}
			for method := range ops {
				path := p
				for prefix, id := range ids {
					if strings.HasPrefix(p, prefix) {
						path = strings.Replace(path, "{id}", id, 1)
					}
				}
				path = strings.Replace(path, "{number}", apiPhoneID, 1)
				var body any
				if method == "post" {
					body = bodies[p]
				}
				if method == "delete" {
					defer func() {
						resp, _ := b.api(http.MethodDelete, path, tok, nil)
						require.Contains(t, []int{http.StatusOK, http.StatusNoContent}, resp.StatusCode, "DELETE %s", path)
					}()
					continue
				}
				resp, respBody := b.api(strings.ToUpper(method), path, tok, body) // validated against the document
				require.NotContains(t, []int{404, 405}, resp.StatusCode, "%s %s: %s", method, path, respBody)
				require.Less(t, resp.StatusCode, 300, "%s %s: %s", method, path, respBody)
			}
		}
	})

	t.Run("the reference page is rendered from the document, with no outside assets", func(t *testing.T) {
		resp, body := b.do(mustGet(t, b.srv.URL+"/api/v1/docs"))
		require.Equal(t, http.StatusOK, resp.StatusCode)
		html := string(body)
		for _, want := range []string{"/api/v1/chats/{id}/messages", "messages:send", `id="problem-outside-window"`, `id="schema-message"`, "/api/v1/docs.css",
			`<a class="back" id="back-to-admin" href="/admin/apps">`} {
			require.Contains(t, html, want)
		}
		require.NotContains(t, html, "https://cdn")
		require.NotContains(t, html, "<script")
		resp, _ = b.do(mustGet(t, b.srv.URL+"/api/v1/docs.css"))
		require.Equal(t, http.StatusOK, resp.StatusCode)
		require.Equal(t, "text/css; charset=utf-8", resp.Header.Get("Content-Type"))
	})
}

// An application with contacts:erase erases a customer, and with
// helpdesk=true their Zendesk end user for good; what it erased is gone
// from every endpoint.
func TestEraseContactByAPI(t *testing.T) {
	t.Parallel()
	b := apiSetup(t, apiOpts{})
	b.world()
	requester := b.zd.Tickets()[0].RequesterID
	app, secret := b.app(store.NewAPIClient{Scopes: allScopes, GrantTypes: []string{apiauth.GrantClientCredentials}})
	tok := b.clientToken(app, secret, apiauth.ScopeContactsErase+" "+apiauth.ScopeContactsRead)

	resp, body := b.api(http.MethodDelete, "/api/v1/contacts/"+apiCustomer+"?helpdesk=maybe", tok, nil)
	require.Equal(t, http.StatusUnprocessableEntity, resp.StatusCode, string(body))
	require.Contains(t, string(body), "helpdesk must be true or false")

	resp, body = b.api(http.MethodDelete, "/api/v1/contacts/"+apiCustomer+"?helpdesk=true", tok, nil)
	require.Equal(t, http.StatusOK, resp.StatusCode, string(body))
	e := decode[map[string]any](t, body)
	require.Equal(t, true, e["erased"])
	require.EqualValues(t, 1, e["conversations"])
	require.EqualValues(t, 2, e["messages"])
	require.EqualValues(t, 1, e["helpdesk_tickets"])
	require.Len(t, e["helpdesk"], 1)
	require.Contains(t, e["helpdesk"].([]any)[0], "deleted permanently")
	require.True(t, b.zd.Erased(requester))

	resp, _ = b.api(http.MethodGet, "/api/v1/contacts/"+apiCustomer, tok, nil)
	require.Equal(t, http.StatusNotFound, resp.StatusCode)
	resp, _ = b.api(http.MethodDelete, "/api/v1/contacts/"+apiCustomer, tok, nil)
	require.Equal(t, http.StatusNotFound, resp.StatusCode)
	require.Equal(t, 1, b.count(`SELECT count(*) FROM audit_log WHERE action = 'contact.erased' AND actor = 'api:`+app.ClientID+`'`))
}
