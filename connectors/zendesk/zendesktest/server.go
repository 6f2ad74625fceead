package zendesktest

import (
	"encoding/base64"
	"maps"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/relaydesk/relaydesk/connectors/connectortest"
)

func (f *Fake) routes() []connectortest.Route {
	page := []string{"page", "per_page", "page[size]", "page[after]", "page[before]", "sort_order", "sort_by", "sort", "include"}
	routes := []connectortest.Route{
		{Pattern: "GET /api/v2/users/me", Handle: connectortest.Locking(&f.Mu, f.handleMe)},
		{Pattern: "GET /api/v2/users/search", Query: append([]string{"query", "external_id"}, page...), Handle: f.handleUserSearch},
		{Pattern: "POST /api/v2/users/create_or_update", Handle: f.handleCreateOrUpdateUser},
		{Pattern: "DELETE /api/v2/users/{id}", Handle: connectortest.Locking(&f.Mu, f.handleDeleteUser)},
		{Pattern: "DELETE /api/v2/deleted_users/{id}", Handle: connectortest.Locking(&f.Mu, f.handlePermanentlyDeleteUser)},
		{Pattern: "GET /api/v2/users/{id}/tickets/requested", Query: page, Handle: f.handleRequestedTickets},
		{Pattern: "POST /api/v2/tickets", Query: []string{"async"}, Checks: []connectortest.Check{idempotent}, Handle: f.handleCreateTicket},
		{Pattern: "GET /api/v2/tickets/{id}", Query: []string{"include"}, Handle: connectortest.Locking(&f.Mu, f.handleShowTicket)},
		{Pattern: PatternUpdateTicket, Handle: f.handleUpdateTicket},
		{Pattern: "GET /api/v2/tickets/{id}/comments", Query: append([]string{"include_inline_images"}, page...), Handle: connectortest.Locking(&f.Mu, f.handleListComments)},
		{Pattern: "POST /api/v2/uploads", Query: []string{"filename", "token"}, Handle: f.handleUpload},
		{Pattern: "GET /api/v2/webhooks", Query: append([]string{"filter[name_contains]", "filter[status]"}, page...), Handle: f.handleListWebhooks},
		{Pattern: "POST /api/v2/webhooks", Handle: f.handleCreateWebhook},
		{Pattern: "GET /api/v2/webhooks/{id}/signing_secret", Handle: connectortest.Locking(&f.Mu, f.handleSigningSecret)},
		{Pattern: "DELETE /api/v2/webhooks/{id}", Handle: connectortest.Locking(&f.Mu, f.handleDeleteWebhook)},
		{Pattern: "GET /attachments/token/{token}/", Query: []string{"name"}, Handle: f.handleDownload},
	}
	// Every API call asks for JSON.
	for i := range routes {
		if strings.Contains(routes[i].Pattern, " /api/v2/") {
			routes[i].Checks = append(routes[i].Checks, connectortest.HeaderContains("Accept", "application/json"))
		}
	}
	return routes
}

// idempotent refuses a ticket creation without Idempotency-Key: a retry
// would duplicate the ticket.
func idempotent(r *http.Request) string {
	if r.Header.Get("Idempotency-Key") == "" {
		return "no Idempotency-Key: a retry would duplicate the ticket"
	}
	return ""
}

func (f *Fake) wire() connectortest.Wire {
	return connectortest.Wire{
		Helpdesk: "Zendesk", Prefix: "zendesktest", Routes: f.routes(), Fail: connectortest.CannedFailures(failures), Wrap: f.opts.Wrap,
		Refuse: func(w http.ResponseWriter, _ *http.Request, status int, msg string) {
			if status == http.StatusNotFound {
				writeError(w, status, "InvalidEndpoint", "Not found")
				return
			}
			writeError(w, status, "InvalidParameter", msg)
		},
		Before: func(w http.ResponseWriter, r *http.Request) bool {
			w.Header().Set("X-Rate-Limit", "700")
			w.Header().Set("X-Rate-Limit-Remaining", strconv.Itoa(699-f.RequestCount()%700))
			return true
		},
		Guard: func(w http.ResponseWriter, r *http.Request) bool {
			if strings.HasPrefix(r.URL.Path, "/api/v2/") && !f.authorized(r) {
				writeError(w, http.StatusUnauthorized, "Couldn't authenticate you", "")
				return false
			}
			return true
		},
	}
}

// failures are Zendesk's answers to injected failures.
var failures = map[connectortest.Failure]connectortest.Canned{
	connectortest.FailRateLimited: {Status: http.StatusTooManyRequests, Header: http.Header{"X-Rate-Limit-Remaining": {"0"}},
		Body: `{"error":"APIRateLimitExceeded","description":"Number of allowed API requests per minute exceeded"}`},
	connectortest.FailServerError:  {Status: http.StatusInternalServerError, Body: `{"error":"InternalServerError","description":"Something went wrong"}`},
	connectortest.FailUnauthorized: {Status: http.StatusUnauthorized, Body: `{"error":"Couldn't authenticate you"}`},
}

func (f *Fake) authorized(r *http.Request) bool {
	h := r.Header.Get("Authorization")
	basic := "Basic " + base64.StdEncoding.EncodeToString([]byte(Email+"/token:"+APIToken))
	return h == basic || h == "Bearer "+OAuthToken
}

func writeError(w http.ResponseWriter, status int, code, description string) {
	connectortest.WriteJSON(w, status, errorJSON{Error: code, Description: description})
}

// decodeEnvelope decodes a JSON body into its envelope E ({"ticket":
// {...}}) and returns the object inner finds in it, answering as Zendesk
// does (and recording the violation at where) when that object is missing.
func decodeEnvelope[E, T any](f *Fake, w http.ResponseWriter, r *http.Request, where, name string, inner func(*E) *T) (*T, bool) {
	var req E
	if _, ok := f.decode(w, r, &req); !ok {
		return nil, false
	}
	in := inner(&req)
	if in == nil {
		f.Violate("%s: missing %s", where, name)
		writeError(w, http.StatusBadRequest, "InvalidParameter", name+" is required")
		return nil, false
	}
	return in, true
}

// decode reads a JSON body strictly into v, writing the 400 itself.
func (f *Fake) decode(w http.ResponseWriter, r *http.Request, v any) ([]byte, bool) {
	raw, bad := f.DecodeJSON(r, v, 8<<20)
	if bad != nil {
		code := map[connectortest.BodyProblem]string{
			connectortest.BodyNotJSON: "InvalidHeader", connectortest.BodyUnreadable: "InvalidBody", connectortest.BodyInvalid: "InvalidParameter",
		}[bad.Problem]
		writeError(w, bad.Status, code, bad.Message)
		return nil, false
	}
	return raw, true
}

func (f *Fake) apiURL(path string) string { return f.URL + "/api/v2/" + path }

// JSON renderers. Callers hold f.Mu.

func (f *Fake) userJSON(u *user) userJSON {
	j := userJSON{
		ID: u.id, URL: f.apiURL("users/" + formatID(u.id) + ".json"), Name: u.name, Role: u.role,
		Active: true, Verified: u.email != "", CreatedAt: u.createdAt.Format(time.RFC3339), UpdatedAt: u.updatedAt.Format(time.RFC3339),
	}
	j.Email = connectortest.Opt(u.email)
	j.Phone = connectortest.Opt(u.phone)
	j.ExternalID = connectortest.Opt(u.externalID)
	return j
}

func (f *Fake) ticketJSON(t *ticket) ticketJSON {
	j := ticketJSON{
		ID: t.id, URL: f.apiURL("tickets/" + formatID(t.id) + ".json"), Subject: t.subject, Description: t.description,
		Status: t.status, RequesterID: t.requesterID, SubmitterID: t.submitterID, Tags: slices.Clone(t.tags),
		FollowupIDs: slices.Clone(t.followups), Via: viaJSON{Channel: "api"},
		CreatedAt: t.createdAt.Format(time.RFC3339), UpdatedAt: t.updatedAt.Format(time.RFC3339),
	}
	if j.Tags == nil {
		j.Tags = []string{}
	}
	if j.FollowupIDs == nil {
		j.FollowupIDs = []int64{}
	}
	j.ExternalID = connectortest.Opt(t.externalID)
	if t.followupOf != 0 {
		rel := "follow_up"
		j.Via.Source = &viaSourceJSON{From: map[string]any{"ticket_id": t.followupOf}, To: map[string]any{}, Rel: &rel}
	}
	return j
}

func (f *Fake) commentJSON(c *comment) commentJSON {
	j := commentJSON{
		ID: c.id, Type: "Comment", AuthorID: c.authorID, Body: c.body, HTMLBody: "<div class=\"zd-comment\"><p>" + htmlEscape(c.body) + "</p></div>",
		PlainBody: c.body, Public: c.public, AuditID: c.auditID, Via: viaJSON{Channel: "api"}, CreatedAt: c.createdAt.Format(time.RFC3339),
		Attachments: []attachmentJSON{},
	}
	for _, aid := range c.attachments {
		j.Attachments = append(j.Attachments, f.attachmentJSON(f.attachments[aid]))
	}
	return j
}

func htmlEscape(s string) string {
	return strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;", `"`, "&quot;").Replace(s)
}

// auditJSON renders the audit of an update that added c (nil: no comment).
func (f *Fake) auditJSON(t *ticket, c *comment, changes map[string]string) auditJSON {
	a := auditJSON{ID: f.newID(), TicketID: t.id, AuthorID: f.agentID, CreatedAt: f.now().UTC().Format(time.RFC3339), Events: []any{}}
	if c != nil {
		a.ID = c.auditID
		cj := f.commentJSON(c)
		a.Events = append(a.Events, map[string]any{
			"id": cj.ID, "type": "Comment", "author_id": cj.AuthorID, "body": cj.Body, "html_body": cj.HTMLBody,
			"plain_body": cj.PlainBody, "public": cj.Public, "attachments": cj.Attachments, "audit_id": cj.AuditID,
		})
	}
	for _, field := range slices.Sorted(maps.Keys(changes)) {
		a.Events = append(a.Events, map[string]any{"id": f.newID(), "type": "Change", "field_name": field, "value": changes[field]})
	}
	return a
}

func randomToken() string {
	return strings.ToLower(base64.RawURLEncoding.EncodeToString(connectortest.RandomBytes(12)))
}

// PatternUpdateTicket is the route of a ticket update (comments, status,
// tags), for [connectortest.Server.Hits].
const PatternUpdateTicket = "PUT /api/v2/tickets/{id}"
