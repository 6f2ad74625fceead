package zendesktest

import (
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/relaydesk/relaydesk/connectors/connectortest"
)

// Webhooks.

func (f *Fake) webhookJSON(wh *webhook) webhookJSON {
	return webhookJSON{
		ID: wh.id, Name: wh.name, Endpoint: wh.endpoint, HTTPMethod: "POST", RequestFormat: "json", Status: wh.status,
		Subscriptions: slices.Clone(wh.subscriptions), CreatedAt: wh.createdAt.Format(time.RFC3339), CreatedBy: formatID(f.agentID),
	}
}

func (f *Fake) handleCreateWebhook(w http.ResponseWriter, r *http.Request) {
	in, ok := decodeEnvelope(f, w, r, "POST /api/v2/webhooks", "webhook", func(e *webhookRequest) *webhookFields { return e.Webhook })
	if !ok {
		return
	}
	var problems []string
	if deref(in.Name) == "" {
		problems = append(problems, "name is required")
	}
	if u, err := url.Parse(deref(in.Endpoint)); err != nil || u.Host == "" || (u.Scheme != "https" && u.Scheme != "http") {
		problems = append(problems, "endpoint must be an absolute URL")
	}
	if !slices.Contains([]string{"active", "inactive"}, deref(in.Status)) {
		problems = append(problems, "status must be active or inactive")
	}
	if len(in.Subscriptions) == 0 {
		problems = append(problems, "subscriptions are required")
	}
	events := !slices.Contains(in.Subscriptions, "conditional_ticket_events")
	for _, s := range in.Subscriptions {
		if events && !strings.HasPrefix(s, "zen:event-type:") {
			problems = append(problems, "unknown subscription "+s)
		}
	}
	if !events && len(in.Subscriptions) != 1 {
		problems = append(problems, "conditional_ticket_events must be the only subscription")
	}
	if events && (deref(in.HTTPMethod) != "POST" || deref(in.RequestFormat) != "json") {
		problems = append(problems, "event subscriptions need http_method POST and request_format json")
	}
	if len(problems) > 0 {
		f.Violate("POST /api/v2/webhooks: %s", strings.Join(problems, "; "))
		connectortest.WriteJSON(w, http.StatusBadRequest, errorJSON{Error: "InvalidParameter", Description: strings.Join(problems, "; ")})
		return
	}
	f.Mu.Lock()
	defer f.Mu.Unlock()
	wh := &webhook{id: fmt.Sprintf("01HZ%022d", f.newID()), name: *in.Name, endpoint: *in.Endpoint, status: *in.Status,
		subscriptions: slices.Clone(in.Subscriptions), createdAt: f.now().UTC()}
	f.webhooks[wh.id] = wh
	f.webhookOrder = append(f.webhookOrder, wh.id)
	connectortest.WriteJSON(w, http.StatusCreated, map[string]any{"webhook": f.webhookJSON(wh)})
}

func (f *Fake) handleListWebhooks(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	f.Mu.Lock()
	defer f.Mu.Unlock()
	var list []webhookJSON
	for _, id := range f.webhookOrder {
		wh := f.webhooks[id]
		if nc := q.Get("filter[name_contains]"); nc != "" && !strings.Contains(strings.ToLower(wh.name), strings.ToLower(nc)) {
			continue
		}
		if st := q.Get("filter[status]"); st != "" && wh.status != st {
			continue
		}
		list = append(list, f.webhookJSON(wh))
	}
	if q.Get("page[size]") == "" {
		// The webhooks API only paginates with cursors.
		q.Set("page[size]", "20")
		r.URL.RawQuery = q.Encode()
	}
	writePage(f, w, r, "webhooks", list)
}

func (f *Fake) handleSigningSecret(w http.ResponseWriter, r *http.Request) {
	if f.webhooks[r.PathValue("id")] == nil {
		writeError(w, http.StatusNotFound, "RecordNotFound", "Not found")
		return
	}
	connectortest.WriteJSON(w, http.StatusOK, map[string]any{"signing_secret": map[string]string{"algorithm": "sha256", "secret": string(f.secret)}})
}

func (f *Fake) handleDeleteWebhook(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("id")
	if f.webhooks[id] == nil {
		writeError(w, http.StatusNotFound, "RecordNotFound", "Not found")
		return
	}
	delete(f.webhooks, id)
	f.webhookOrder = slices.DeleteFunc(f.webhookOrder, func(x string) bool { return x == id })
	w.WriteHeader(http.StatusNoContent)
}
