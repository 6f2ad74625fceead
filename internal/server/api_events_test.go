package server_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/relaydesk/relaydesk/internal/apiauth"
	"github.com/relaydesk/relaydesk/internal/apiview"
	"github.com/relaydesk/relaydesk/internal/store"
	"github.com/relaydesk/relaydesk/internal/whatsapp/whatsapptest"
)

// receiver is an application's HTTPS endpoint for events.
type receiver struct {
	*httptest.Server
	mu       sync.Mutex
	secret   []byte
	failNext int  // answer 500 to this many deliveries first
	failAll  bool // answer 503 to everything
	events   []apiview.Event
	headers  []http.Header
	badSig   int
}

func newReceiver(t *testing.T) *receiver {
	r := &receiver{}
	r.Server = httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		body, _ := io.ReadAll(req.Body)
		r.mu.Lock()
		defer r.mu.Unlock()
		if err := apiauth.VerifySignature(r.secret, req.Header.Get(apiauth.SignatureHeader), body, time.Now(), 5*time.Minute); err != nil {
			r.badSig++
			http.Error(w, "bad signature", http.StatusUnauthorized)
			return
		}
		if r.failAll {
			http.Error(w, "down for maintenance", http.StatusServiceUnavailable)
			return
		}
		if r.failNext > 0 {
			r.failNext--
			http.Error(w, "oops", http.StatusInternalServerError)
			return
		}
		var e apiview.Event
		if err := json.Unmarshal(body, &e); err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		r.events = append(r.events, e)
		r.headers = append(r.headers, req.Header.Clone())
		w.WriteHeader(http.StatusNoContent)
	}))
	t.Cleanup(r.Close)
	return r
}

func (r *receiver) setSecret(s string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.secret = []byte(s)
}

func (r *receiver) ofType(typ string) []apiview.Event {
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []apiview.Event
	for _, e := range r.events {
		if e.Type == typ {
			out = append(out, e)
		}
	}
	return out
}

// subscribe registers the receiver for every event type.
func (b *apiBundle) subscribe(r *receiver) (store.APIClient, string, apiview.Subscription) {
	b.t.Helper()
	app, secret := b.app(store.NewAPIClient{Name: "events-app", Scopes: allScopes, GrantTypes: []string{apiauth.GrantClientCredentials}})
	tok := b.clientToken(app, secret, "")
	resp, body := b.api(http.MethodPost, "/api/v1/subscriptions", tok, map[string]any{"url": r.URL + "/hooks",
		"events": []string{"message.received", "message.status", "chat.ticket_linked"}})
	require.Equal(b.t, http.StatusCreated, resp.StatusCode, string(body))
	sub := decode[apiview.Subscription](b.t, body)
	require.True(b.t, strings.HasPrefix(sub.Secret, apiauth.PrefixEventSecret))
	r.setSecret(sub.Secret)

	resp, body = b.api(http.MethodGet, fmt.Sprintf("/api/v1/subscriptions/%d", sub.ID), tok, nil)
	require.Equal(b.t, http.StatusOK, resp.StatusCode)
	require.NotContains(b.t, string(body), sub.Secret, "the secret is shown once")
	return app, tok, sub
}

func TestEventDeliveries(t *testing.T) {
	t.Parallel()
	r := newReceiver(t)
	r.failNext = 1
	b := apiSetup(t, apiOpts{EventsClient: r.Client()})
	app, tok, sub := b.subscribe(r)

	t.Run("new messages and the ticket link are delivered, signed, the first after a retry", func(t *testing.T) {
		chatID, _ := b.world()
		// The production schedule retries a subscriber a minute after a
		// failure: the test checks that schedule, then brings the retry
		// forward instead of waiting for it.
		b.eventually(func() bool {
			return b.count(`SELECT count(*) FROM river_job WHERE kind = 'api_event_deliver' AND state = 'retryable'
				AND scheduled_at BETWEEN now() + interval '40 seconds' AND now() + interval '61 seconds'`) == 1
		}, "the failed delivery is retried in about a minute")
		_, err := b.store.Pool().Exec(context.Background(),
			`UPDATE river_job SET scheduled_at = now() WHERE kind = 'api_event_deliver' AND state = 'retryable'`)
		require.NoError(t, err)
		b.eventually(func() bool { return len(r.ofType("message.received")) == 2 && len(r.ofType("chat.ticket_linked")) == 1 },
			"two message.received and one chat.ticket_linked")
		got := r.ofType("message.received")
		texts := []string{got[0].Data.Message.Text, got[1].Data.Message.Text}
		require.ElementsMatch(t, []string{"Hello, where is my order?", "the box"}, texts)
		for _, e := range got {
			require.Equal(t, chatID, e.Data.Chat.ID)
			require.Equal(t, "inbound", e.Data.Message.Direction)
			require.Regexp(t, regexp.MustCompile(`^evt_\d+$`), e.ID)
		}
		linked := r.ofType("chat.ticket_linked")[0]
		require.NotNil(t, linked.Data.Chat.Ticket)
		require.Equal(t, b.zd.Tickets()[0].ID, linked.Data.Chat.Ticket.ID)
		require.Zero(t, r.badSig)
		// The receiver has the events; each job records its delivery just after.
		b.eventually(func() bool {
			return b.count(`SELECT count(*) FROM api_deliveries WHERE state <> 'delivered'`) == 0
		}, "every delivery recorded as delivered")
		require.Equal(t, 1, b.count(`SELECT count(*) FROM api_deliveries WHERE attempts = 2 AND state = 'delivered'`),
			"one delivery failed once, then went through")
		r.mu.Lock()
		h := r.headers[0]
		r.mu.Unlock()
		require.NotEmpty(t, h.Get("Relaydesk-Delivery"))
		require.Contains(t, []string{"message.received", "chat.ticket_linked"}, h.Get("Relaydesk-Event"))
	})

	t.Run("a redelivered webhook emits nothing again", func(t *testing.T) {
		before := b.count(`SELECT count(*) FROM api_events`)
		b.postWhatsApp(whatsapptest.NewDelivery(apiPhoneID).Text(apiCustomer, "Hello, where is my order?").With("id",
			mustWAMID(t, b, "Hello, where is my order?")))
		require.Equal(t, before, b.count(`SELECT count(*) FROM api_events`))
	})

	t.Run("a delivery status of an API message", func(t *testing.T) {
		chatID := b.chatOf(apiCustomer)
		resp, body := b.api(http.MethodPost, fmt.Sprintf("/api/v1/chats/%d/messages", chatID), tok, map[string]any{"type": "text", "text": "Shipped!"})
		require.Equal(t, http.StatusAccepted, resp.StatusCode, string(body))
		id := decode[apiview.Message](t, body).ID
		var wamid string
		b.eventually(func() bool {
			m, err := b.store.MessageByID(context.Background(), id)
			wamid = m.WAMID
			return err == nil && wamid != ""
		}, "sent")
		b.postWhatsApp(whatsapptest.NewDelivery(apiPhoneID).Status(wamid, "delivered", apiCustomer))
		b.eventually(func() bool { return len(r.ofType("message.status")) == 1 }, "message.status delivered")
		e := r.ofType("message.status")[0]
		require.Equal(t, "delivered", e.Data.Message.Status)
		require.Equal(t, "app:events-app", e.Data.Message.Author)
		require.Equal(t, "outbound", e.Data.Message.Direction)
	})

	t.Run("revoking the app's grants stops its events", func(t *testing.T) {
		before := b.count(`SELECT count(*) FROM api_deliveries`)
		require.NoError(t, b.store.RevokeAllAPIGrants(context.Background(), app.ID, store.Actor{Name: "test"}))
		b.postWhatsApp(whatsapptest.NewDelivery(apiPhoneID).Text(apiCustomer, "after the revocation"))
		b.eventually(func() bool { return b.count(`SELECT count(*) FROM messages WHERE body = 'after the revocation'`) == 1 }, "stored")
		require.Equal(t, before, b.count(`SELECT count(*) FROM api_deliveries`), "no delivery for an app without a live grant")
	})

	t.Run("the admin page shows the subscription and its deliveries", func(t *testing.T) {
		resp, body := b.admin(http.MethodGet, fmt.Sprintf("/admin/apps/%d", app.ID), nil)
		require.Equal(t, http.StatusOK, resp.StatusCode, string(body))
		require.Contains(t, string(body), r.URL+"/hooks")
		require.Contains(t, string(body), "message.received")
		require.Contains(t, string(body), "delivered")
		require.NotContains(t, string(body), sub.Secret)
	})
}

func mustWAMID(t *testing.T, b *apiBundle, body string) string {
	t.Helper()
	var w string
	require.NoError(t, b.store.Pool().QueryRow(context.Background(), `SELECT wamid FROM messages WHERE body = $1`, body).Scan(&w))
	return w
}

func TestFailingSubscriptionIsDisabled(t *testing.T) {
	t.Parallel()
	r := newReceiver(t)
	r.failAll = true
	b := apiSetup(t, apiOpts{EventsClient: r.Client(), DisableAfter: time.Millisecond})
	app, _, sub := b.subscribe(r)
	b.postWhatsApp(whatsapptest.NewDelivery(apiPhoneID).Text(apiCustomer, "anyone?"))
	b.eventually(func() bool {
		s, err := b.store.SubscriptionByID(context.Background(), sub.ID)
		return err == nil && !s.Enabled
	}, "disabled after failing longer than the limit")
	s, err := b.store.SubscriptionByID(context.Background(), sub.ID)
	require.NoError(t, err)
	require.Contains(t, s.DisabledReason, "disabled automatically")
	require.Contains(t, s.DisabledReason, "HTTP 503")
	require.Equal(t, 1, b.count(`SELECT count(*) FROM audit_log WHERE action = 'api_subscription.auto_disable'`))
	b.eventually(func() bool {
		return b.count(`SELECT count(*) FROM api_deliveries WHERE state = 'pending'`) == 0
	}, "pending deliveries are cancelled")

	resp, body := b.admin(http.MethodGet, "/admin/apps", nil)
	require.Equal(t, http.StatusOK, resp.StatusCode)
	require.Contains(t, string(body), "Event subscription of events-app disabled", "a note to the admin")

	// The admin enables it again once the endpoint is fixed.
	resp, body = b.admin(http.MethodPost, fmt.Sprintf("/admin/apps/%d/subscriptions/%d/enabled", app.ID, sub.ID),
		url.Values{"_csrf": {b.csrf()}, "enabled": {"true"}})
	require.Equal(t, http.StatusSeeOther, resp.StatusCode, string(body))
	s, err = b.store.SubscriptionByID(context.Background(), sub.ID)
	require.NoError(t, err)
	require.True(t, s.Enabled)
	require.Nil(t, s.FailingSince)
}

func TestAdminRegistersApplications(t *testing.T) {
	t.Parallel()
	b := apiSetup(t, apiOpts{})

	resp, body := b.admin(http.MethodGet, "/admin/apps/new", nil)
	require.Equal(t, http.StatusOK, resp.StatusCode, string(body))
	require.Contains(t, string(body), "webhooks:manage")

	resp, body = b.admin(http.MethodPost, "/admin/apps", url.Values{"_csrf": {b.csrf()}, "name": {"Bad"}, "rate_limit": {"60"},
		"grant_types": {"authorization_code"}, "redirect_uris": {"ftp://x"}})
	require.Equal(t, http.StatusUnprocessableEntity, resp.StatusCode)
	require.Contains(t, string(body), "allow at least one scope")
	require.Contains(t, string(body), "redirect URI")

	resp, _ = b.admin(http.MethodPost, "/admin/apps", url.Values{"_csrf": {"forged"}, "name": {"Bot"}})
	require.Equal(t, http.StatusForbidden, resp.StatusCode, "CSRF token checked")

	resp, body = b.admin(http.MethodPost, "/admin/apps", url.Values{"_csrf": {b.csrf()}, "name": {"Helpful Bot"}, "rate_limit": {"120"},
		"scopes": {"chats:read", "messages:send"}, "grant_types": {"client_credentials"}, "numbers": {fmt.Sprint(b.mainAcc)}})
	require.Equal(t, http.StatusOK, resp.StatusCode, string(body))
	page := string(body)
	secret := regexp.MustCompile(`id="client-secret">(rdcs_[A-Za-z0-9_-]+)<`).FindStringSubmatch(page)
	clientID := regexp.MustCompile(`id="client-id">(rdc_[A-Za-z0-9_-]+)<`).FindStringSubmatch(page)
	require.Len(t, secret, 2, "the secret is shown once")
	require.Len(t, clientID, 2)

	app, err := b.store.APIClientByClientID(context.Background(), clientID[1])
	require.NoError(t, err)
	require.Equal(t, []store.AccountID{b.mainAcc}, app.AccountIDs)
	require.Equal(t, 120, app.RateLimit)
	tok := b.clientToken(app, secret[1], "")
	resp, _ = b.api(http.MethodGet, "/api/v1/chats", tok, nil)
	require.Equal(t, http.StatusOK, resp.StatusCode)

	resp, body = b.admin(http.MethodGet, fmt.Sprintf("/admin/apps/%d", app.ID), nil)
	require.Equal(t, http.StatusOK, resp.StatusCode)
	require.NotContains(t, string(body), secret[1], "never shown again")
	require.Contains(t, string(body), "client credentials")

	// Revoke the one grant from the page.
	grants, err := b.store.APIGrants(context.Background(), app.ID)
	require.NoError(t, err)
	require.Len(t, grants, 1)
	resp, _ = b.admin(http.MethodPost, fmt.Sprintf("/admin/apps/%d/grants/%d/revoke", app.ID, grants[0].ID), url.Values{"_csrf": {b.csrf()}})
	require.Equal(t, http.StatusSeeOther, resp.StatusCode)
	resp, _ = b.api(http.MethodGet, "/api/v1/chats", tok, nil)
	require.Equal(t, http.StatusUnauthorized, resp.StatusCode)

	// A new secret: the old one stops working for new tokens.
	resp, body = b.admin(http.MethodPost, fmt.Sprintf("/admin/apps/%d/secret", app.ID), url.Values{"_csrf": {b.csrf()}})
	require.Equal(t, http.StatusOK, resp.StatusCode)
	newSecret := regexp.MustCompile(`id="client-secret">(rdcs_[A-Za-z0-9_-]+)<`).FindStringSubmatch(string(body))
	require.Len(t, newSecret, 2)
	r, _ := b.tokenRequest(app.ClientID, secret[1], url.Values{"grant_type": {"client_credentials"}})
	require.Equal(t, http.StatusUnauthorized, r.StatusCode)
	b.clientToken(app, newSecret[1], "")

	resp, body = b.admin(http.MethodGet, "/admin/apps", nil)
	require.Equal(t, http.StatusOK, resp.StatusCode)
	require.Contains(t, string(body), "Helpful Bot")
	require.Equal(t, 1, b.count(`SELECT count(*) FROM audit_log WHERE action = 'api_client.create'`))
}
