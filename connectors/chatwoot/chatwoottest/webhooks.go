package chatwoottest

import (
	"net/http"
	"net/url"
	"slices"
	"strconv"

	"github.com/relaydesk/relaydesk/connectors/connectortest"
)

// Webhooks.

func (f *Fake) webhookJSON(wh *webhook) any {
	if f.legacy {
		return legacyWebhookJSON{ID: wh.id, Name: wh.name, URL: wh.url, AccountID: AccountID, Subscriptions: slices.Clone(wh.subscriptions)}
	}
	secret := wh.secret
	return webhookJSON{ID: wh.id, Name: wh.name, URL: wh.url, AccountID: AccountID, Subscriptions: slices.Clone(wh.subscriptions), Secret: &secret}
}

func (f *Fake) checkWebhook(w http.ResponseWriter, req webhookRequest, needURL bool) bool {
	if needURL || req.URL != nil {
		u, err := url.Parse(deref(req.URL))
		if err != nil || u.Host == "" || (u.Scheme != "http" && u.Scheme != "https") {
			writeInvalid(w, "url", "Url is invalid")
			return false
		}
	}
	for _, s := range req.Subscriptions {
		if !slices.Contains(webhookEvents, s) {
			f.Violate("webhooks: unknown subscription %q", s)
			writeInvalid(w, "subscriptions", "Subscriptions Invalid events")
			return false
		}
	}
	return true
}

func (f *Fake) handleListWebhooks(w http.ResponseWriter, r *http.Request) {
	list := []any{}
	for _, id := range f.webhookOrder {
		list = append(list, f.webhookJSON(f.webhooks[id]))
	}
	connectortest.WriteJSON(w, http.StatusOK, map[string]any{"payload": map[string]any{"webhooks": list}})
}

func (f *Fake) handleCreateWebhook(w http.ResponseWriter, r *http.Request, req *webhookRequest) {
	for _, wh := range f.webhooks {
		if wh.url == *req.URL {
			writeInvalid(w, "url", "Url has already been taken")
			return
		}
	}
	subs := req.Subscriptions
	if len(subs) == 0 {
		subs = []string{"conversation_status_changed", "conversation_updated", "conversation_created", "message_created", "message_updated", "webwidget_triggered"}
	}
	f.nextOther++
	wh := &webhook{id: f.nextOther, name: deref(req.Name), url: *req.URL, subscriptions: slices.Clone(subs), secret: randomString(24)}
	f.webhooks[wh.id] = wh
	f.webhookOrder = append(f.webhookOrder, wh.id)
	if tok := tokenOf(wh.url); f.legacy && tok != "" {
		f.legacyToken = tok
	}
	connectortest.WriteJSON(w, http.StatusOK, map[string]any{"payload": map[string]any{"webhook": f.webhookJSON(wh)}})
}

func (f *Fake) handleUpdateWebhook(w http.ResponseWriter, r *http.Request, req *webhookRequest) {
	wh := found(w, f.webhooks[parseID(r.PathValue("id"))])
	if wh == nil {
		return
	}
	if req.URL != nil {
		wh.url = *req.URL
	}
	if req.Name != nil {
		wh.name = *req.Name
	}
	if req.Subscriptions != nil {
		wh.subscriptions = slices.Clone(req.Subscriptions)
	}
	connectortest.WriteJSON(w, http.StatusOK, map[string]any{"payload": map[string]any{"webhook": f.webhookJSON(wh)}})
}

func (f *Fake) handleDeleteWebhook(w http.ResponseWriter, r *http.Request) {
	id := parseID(r.PathValue("id"))
	if f.webhooks[id] == nil {
		writeError(w, http.StatusNotFound, "Resource could not be found")
		return
	}
	delete(f.webhooks, id)
	f.webhookOrder = slices.DeleteFunc(f.webhookOrder, func(x int64) bool { return x == id })
	w.WriteHeader(http.StatusOK)
}

// handleBlob serves an Active Storage file; its signed URL needs no token.
func (f *Fake) handleBlob(w http.ResponseWriter, r *http.Request) {
	if r.Header.Get("api_access_token") != "" {
		f.Violate("GET %s: the access token was sent to a file URL", r.URL.Path)
	}
	f.Mu.Lock()
	b := f.blobs[r.PathValue("signed")]
	f.Mu.Unlock()
	if b == nil {
		http.NotFound(w, r)
		return
	}
	w.Header().Set("Content-Type", b.ctype)
	w.Header().Set("Content-Length", strconv.Itoa(len(b.data)))
	_, _ = w.Write(b.data)
}

// webhookDecoder decodes a webhook request and checks it: a new webhook's
// when create is set.
func (f *Fake) webhookDecoder(create bool) func(http.ResponseWriter, *http.Request, any) bool {
	return func(w http.ResponseWriter, r *http.Request, v any) bool {
		return f.decode(w, r, v) && f.checkWebhook(w, *v.(*webhookRequest), create)
	}
}
