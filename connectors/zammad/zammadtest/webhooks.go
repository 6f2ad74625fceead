package zammadtest

import (
	"bytes"
	"encoding/json"
	"net/http"
	"net/url"
	"slices"
	"strings"
)

// Webhooks and triggers.

func (f *Fake) webhookJSON(wh *webhook) webhookJSON {
	return webhookJSON{
		ID: wh.id, Name: wh.name, Endpoint: wh.endpoint, HTTPMethod: "post", SignatureToken: "**********", SSLVerify: true,
		BasicAuthPassword: "**********", BearerToken: "**********", Note: wh.note, Preferences: map[string]any{}, Active: wh.active,
		UpdatedByID: AgentID, CreatedByID: AgentID, CreatedAt: ts(wh.created), UpdatedAt: ts(wh.created),
	}
}

// applyWebhook validates and applies a webhook request. Callers hold f.Mu.
func (f *Fake) applyWebhook(w http.ResponseWriter, wh *webhook, req webhookRequest) bool {
	if !uniqueName(w, req.Name, wh.id, f.webhooks, func(o *webhook) (int64, string) { return o.id, o.name }, &wh.name) {
		return false
	}
	if req.Endpoint != nil {
		u, err := url.Parse(*req.Endpoint)
		if err != nil || u.Host == "" || (u.Scheme != "http" && u.Scheme != "https") {
			writeError(w, http.StatusUnprocessableEntity, "Invalid endpoint (no http/https URL)!")
			return false
		}
		wh.endpoint = *req.Endpoint
	}
	if m := deref(req.HTTPMethod); m != "" && !slices.Contains([]string{"post", "put", "patch", "delete"}, m) {
		writeError(w, http.StatusUnprocessableEntity, "Invalid http_method")
		return false
	}
	if req.SignatureToken != nil {
		wh.token = *req.SignatureToken
	}
	if req.Active != nil {
		wh.active = *req.Active
	}
	if req.Note != nil {
		wh.note = *req.Note
	}
	if deref(req.CustomizedPayload) {
		f.Violate("webhooks: a custom payload replaces the default payload relaydesk parses")
	}
	if wh.name == "" || wh.endpoint == "" {
		writeError(w, http.StatusUnprocessableEntity, "Attribute 'name' and 'endpoint' required!")
		return false
	}
	return true
}

func (f *Fake) triggerJSON(t *trigger) triggerJSON {
	return triggerJSON{
		ID: t.id, Name: t.name, Condition: t.condition, Perform: t.perform, Note: t.note, Activator: t.activator,
		ExecutionConditionMode: t.mode, Active: t.active, UpdatedByID: AgentID, CreatedByID: AgentID,
		CreatedAt: ts(t.created), UpdatedAt: ts(t.created),
	}
}

// applyTrigger validates and applies a trigger request. Callers hold f.Mu.
func (f *Fake) applyTrigger(w http.ResponseWriter, t *trigger, req triggerRequest) bool {
	if !uniqueName(w, req.Name, t.id, f.triggers, func(o *trigger) (int64, string) { return o.id, o.name }, &t.name) {
		return false
	}
	if req.Condition != nil {
		for field, raw := range req.Condition {
			var cv conditionValue
			dec := json.NewDecoder(bytes.NewReader(raw))
			dec.DisallowUnknownFields()
			if err := dec.Decode(&cv); err != nil || !slices.Contains(operators, cv.Operator) {
				f.Violate("triggers: condition %q is not {operator, value} with a known operator: %s", field, raw)
				writeError(w, http.StatusUnprocessableEntity, "Invalid condition")
				return false
			}
			if !strings.HasPrefix(field, "ticket.") && !strings.HasPrefix(field, "article.") && !strings.HasPrefix(field, "customer.") {
				f.Violate("triggers: unknown condition attribute %q", field)
			}
		}
		t.condition = req.Condition
	}
	if req.Perform != nil {
		t.perform = req.Perform
		if raw, ok := req.Perform["notification.webhook"]; ok {
			if id := webhookOf(t); f.webhooks[id] == nil {
				writeError(w, http.StatusUnprocessableEntity, "Invalid perform notification.webhook: "+string(raw))
				return false
			}
		}
	}
	if a := deref(req.Activator); a != "" {
		if a != "action" && a != "time" {
			writeError(w, http.StatusUnprocessableEntity, "Invalid activator")
			return false
		}
		t.activator = a
	}
	if m := deref(req.ExecutionConditionMode); m != "" {
		if m != "selective" && m != "always" {
			writeError(w, http.StatusUnprocessableEntity, "Invalid execution_condition_mode")
			return false
		}
		t.mode = m
	}
	if req.Active != nil {
		t.active = *req.Active
	}
	if req.Note != nil {
		t.note = req.Note
	}
	if t.name == "" || len(t.condition) == 0 || len(t.perform) == 0 {
		writeError(w, http.StatusUnprocessableEntity, "Attribute 'name', 'condition' and 'perform' required!")
		return false
	}
	return true
}

// uniqueName sets *dst to name, when a request gives one, unless a record
// other than id has that name: then it answers 422 and returns false.
func uniqueName[V any](w http.ResponseWriter, name *string, id int64, records map[int64]*V, of func(*V) (int64, string), dst *string) bool {
	if name == nil {
		return true
	}
	for _, r := range records {
		if oid, n := of(r); oid != id && n == *name {
			writeError(w, http.StatusUnprocessableEntity, "Name has already been taken")
			return false
		}
	}
	*dst = *name
	return true
}
