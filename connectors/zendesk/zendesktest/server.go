package zendesktest

import (
	"bytes"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"mime"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/relaydesk/relaydesk/connectors/connectortest"
)

func (f *Fake) routes() []connectortest.Route {
	page := []string{"page", "per_page", "page[size]", "page[after]", "page[before]", "sort_order", "sort_by", "sort", "include"}
	return []connectortest.Route{
		{Pattern: "GET /api/v2/users/me", Handle: f.handleMe},
		{Pattern: "GET /api/v2/users/search", Query: append([]string{"query", "external_id"}, page...), Handle: f.handleUserSearch},
		{Pattern: "POST /api/v2/users/create_or_update", Handle: f.handleCreateOrUpdateUser},
		{Pattern: "GET /api/v2/users/{id}/tickets/requested", Query: page, Handle: f.handleRequestedTickets},
		{Pattern: "POST /api/v2/tickets", Query: []string{"async"}, Handle: f.handleCreateTicket},
		{Pattern: "GET /api/v2/tickets/{id}", Query: []string{"include"}, Handle: f.handleShowTicket},
		{Pattern: "PUT /api/v2/tickets/{id}", Handle: f.handleUpdateTicket},
		{Pattern: "GET /api/v2/tickets/{id}/comments", Query: append([]string{"include_inline_images"}, page...), Handle: f.handleListComments},
		{Pattern: "POST /api/v2/uploads", Query: []string{"filename", "token"}, Handle: f.handleUpload},
		{Pattern: "GET /api/v2/webhooks", Query: append([]string{"filter[name_contains]", "filter[status]"}, page...), Handle: f.handleListWebhooks},
		{Pattern: "POST /api/v2/webhooks", Handle: f.handleCreateWebhook},
		{Pattern: "GET /api/v2/webhooks/{id}/signing_secret", Handle: f.handleSigningSecret},
		{Pattern: "DELETE /api/v2/webhooks/{id}", Handle: f.handleDeleteWebhook},
		{Pattern: "GET /attachments/token/{token}/", Query: []string{"name"}, Handle: f.handleDownload},
	}
}

func (f *Fake) handler() http.Handler {
	router := connectortest.NewRouter(f.routes())
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		f.requests.Add(Request{Method: r.Method, Path: r.URL.Path, Query: r.URL.RawQuery, IdempotencyKey: r.Header.Get("Idempotency-Key")})
		w.Header().Set("X-Rate-Limit", "700")
		w.Header().Set("X-Rate-Limit-Remaining", strconv.Itoa(699-f.RequestCount()%700))
		if f.failures.Inject(w, r, failWith) {
			return
		}
		switch status, param := router.Check(r, &f.violations, "Zendesk"); status {
		case http.StatusNotFound:
			writeError(w, http.StatusNotFound, "InvalidEndpoint", "Not found")
			return
		case http.StatusBadRequest:
			writeError(w, http.StatusBadRequest, "InvalidParameter", "unknown parameter "+param)
			return
		}
		if strings.HasPrefix(r.URL.Path, "/api/v2/") {
			if !f.authorized(r) {
				writeError(w, http.StatusUnauthorized, "Couldn't authenticate you", "")
				return
			}
			if !strings.Contains(r.Header.Get("Accept"), "application/json") {
				f.violations.Addf("%s %s: Accept must be application/json, got %q", r.Method, r.URL.Path, r.Header.Get("Accept"))
				writeError(w, http.StatusBadRequest, "InvalidHeader", "Accept must be application/json")
				return
			}
		}
		router.ServeHTTP(w, r)
	})
}

// failWith answers an injected failure as Zendesk does.
func failWith(w http.ResponseWriter, kind connectortest.Failure) {
	switch kind {
	case connectortest.FailRateLimited:
		w.Header().Set("Retry-After", strconv.Itoa(int(connectortest.RateLimitRetryAfter/time.Second)))
		w.Header().Set("X-Rate-Limit-Remaining", "0")
		writeError(w, http.StatusTooManyRequests, "APIRateLimitExceeded", "Number of allowed API requests per minute exceeded")
	case connectortest.FailServerError:
		writeError(w, http.StatusInternalServerError, "InternalServerError", "Something went wrong")
	case connectortest.FailUnauthorized:
		writeError(w, http.StatusUnauthorized, "Couldn't authenticate you", "")
	default:
		writeError(w, http.StatusInternalServerError, "InternalServerError", "unknown injected failure")
	}
}

func (f *Fake) authorized(r *http.Request) bool {
	h := r.Header.Get("Authorization")
	basic := "Basic " + base64.StdEncoding.EncodeToString([]byte(Email+"/token:"+APIToken))
	return h == basic || h == "Bearer "+OAuthToken
}

func writeError(w http.ResponseWriter, status int, code, description string) {
	connectortest.WriteJSON(w, status, errorJSON{Error: code, Description: description})
}

// decode reads a JSON body strictly into v, writing the 400 itself.
func (f *Fake) decode(w http.ResponseWriter, r *http.Request, v any) ([]byte, bool) {
	raw, bad := connectortest.DecodeJSON(&f.violations, r, v, 8<<20)
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

// JSON renderers. Callers hold f.mu.

func (f *Fake) userJSON(u *user) userJSON {
	j := userJSON{
		ID: u.id, URL: f.apiURL("users/" + formatID(u.id) + ".json"), Name: u.name, Role: u.role,
		Active: true, Verified: u.email != "", CreatedAt: u.createdAt.Format(time.RFC3339), UpdatedAt: u.updatedAt.Format(time.RFC3339),
	}
	if u.email != "" {
		j.Email = &u.email
	}
	if u.phone != "" {
		j.Phone = &u.phone
	}
	if u.externalID != "" {
		j.ExternalID = &u.externalID
	}
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
	if t.externalID != "" {
		j.ExternalID = &t.externalID
	}
	if t.followupOf != 0 {
		rel := "follow_up"
		j.Via.Source = &viaSourceJSON{From: map[string]any{"ticket_id": t.followupOf}, To: map[string]any{}, Rel: &rel}
	}
	return j
}

func (f *Fake) attachmentJSON(a *attachment) attachmentJSON {
	content := f.URL + "/attachments/token/" + a.token + "/?name=" + url.QueryEscape(a.fileName)
	return attachmentJSON{
		ID: a.id, URL: f.apiURL("attachments/" + formatID(a.id) + ".json"), FileName: a.fileName,
		ContentURL: content, MappedContentURL: content, ContentType: a.contentType, Size: a.size, Thumbnails: []any{},
	}
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

// Users.

func (f *Fake) handleMe(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	defer f.mu.Unlock()
	connectortest.WriteJSON(w, http.StatusOK, map[string]any{"user": f.userJSON(f.users[f.agentID])})
}

func digits(s string) string {
	return strings.Map(func(r rune) rune {
		if r >= '0' && r <= '9' {
			return r
		}
		return -1
	}, s)
}

// handleUserSearch supports external_id (exact, case-insensitive) and a
// query with role:, phone: (digits, optional leading *) and name terms.
func (f *Fake) handleUserSearch(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	ext, query := q.Get("external_id"), q.Get("query")
	if (ext == "") == (query == "") {
		f.violations.Addf("GET /api/v2/users/search: exactly one of query and external_id is needed")
		writeError(w, http.StatusBadRequest, "InvalidParameter", "query or external_id required")
		return
	}
	var role, phone string
	var terms []string
	for _, tok := range strings.Fields(query) {
		switch {
		case strings.HasPrefix(tok, "role:"):
			role = strings.TrimPrefix(tok, "role:")
		case strings.HasPrefix(tok, "phone:"):
			phone = strings.TrimPrefix(tok, "phone:")
			if d := digits(phone); d != strings.TrimPrefix(phone, "*") || d == "" {
				f.violations.Addf("GET /api/v2/users/search: phone search takes digits only, got %q", phone)
			}
		default:
			terms = append(terms, strings.ToLower(tok))
		}
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	users := []userJSON{}
	for _, id := range f.userOrder {
		u := f.users[id]
		switch {
		case ext != "":
			if !strings.EqualFold(u.externalID, ext) {
				continue
			}
		default:
			if role != "" && u.role != role {
				continue
			}
			if phone != "" {
				ud := digits(u.phone)
				if ud == "" || (strings.HasPrefix(phone, "*") && !strings.HasSuffix(ud, digits(phone))) || (!strings.HasPrefix(phone, "*") && ud != phone) {
					continue
				}
			}
			if !slices.ContainsFunc(terms, func(t string) bool { return strings.Contains(strings.ToLower(u.name), t) }) && len(terms) > 0 {
				continue
			}
		}
		users = append(users, f.userJSON(u))
	}
	connectortest.WriteJSON(w, http.StatusOK, map[string]any{"users": users, "next_page": nil, "previous_page": nil, "count": len(users)})
}

func (f *Fake) handleCreateOrUpdateUser(w http.ResponseWriter, r *http.Request) {
	var req userRequest
	if _, ok := f.decode(w, r, &req); !ok {
		return
	}
	if req.User == nil {
		f.violations.Addf("create_or_update: missing user")
		writeError(w, http.StatusBadRequest, "InvalidParameter", "user is required")
		return
	}
	in := req.User
	ext, email := deref(in.ExternalID), deref(in.Email)
	if ext == "" && email == "" {
		f.violations.Addf("create_or_update: needs external_id or email to be idempotent")
	}
	if in.Role != nil && !slices.Contains([]string{"end-user", "agent", "admin"}, *in.Role) {
		writeError(w, http.StatusUnprocessableEntity, "RecordInvalid", "Role is invalid")
		return
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	var found *user
	for _, id := range f.userOrder {
		u := f.users[id]
		if (ext != "" && strings.EqualFold(u.externalID, ext)) || (email != "" && strings.EqualFold(u.email, email)) {
			found = u
			break
		}
	}
	status := http.StatusOK
	if found == nil {
		if deref(in.Name) == "" {
			writeError(w, http.StatusUnprocessableEntity, "RecordInvalid", "Name: cannot be blank")
			return
		}
		role := "end-user"
		if in.Role != nil {
			role = *in.Role
		}
		found = f.users[f.addUser(deref(in.Name), email, deref(in.Phone), ext, role)]
		status = http.StatusCreated
	} else {
		if in.Name != nil && *in.Name != "" {
			found.name = *in.Name
		}
		if in.Phone != nil {
			found.phone = *in.Phone
		}
		if ext != "" {
			found.externalID = ext
		}
		found.updatedAt = f.now().UTC()
	}
	w.Header().Set("Location", f.apiURL("users/"+formatID(found.id)+".json"))
	connectortest.WriteJSON(w, status, map[string]any{"user": f.userJSON(found)})
}

func deref[T any](p *T) T { return connectortest.Deref(p) }

func (f *Fake) handleRequestedTickets(w http.ResponseWriter, r *http.Request) {
	uid := parseID(r.PathValue("id"))
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.users[uid] == nil {
		writeError(w, http.StatusNotFound, "RecordNotFound", "Not found")
		return
	}
	var list []ticketJSON
	for _, id := range f.ticketOrder {
		if t := f.tickets[id]; t.requesterID == uid {
			list = append(list, f.ticketJSON(t))
		}
	}
	if r.URL.Query().Get("sort_order") == "desc" {
		slices.Reverse(list)
	}
	writePage(f, w, r, "tickets", list)
}

// writePage writes items with cursor pagination when page[size] is given,
// else the offset envelope. Callers hold f.mu.
func writePage[T any](f *Fake, w http.ResponseWriter, r *http.Request, key string, items []T) {
	if items == nil {
		items = []T{}
	}
	q := r.URL.Query()
	if q.Get("page[size]") == "" {
		connectortest.WriteJSON(w, http.StatusOK, map[string]any{key: items, "next_page": nil, "previous_page": nil, "count": len(items)})
		return
	}
	size, err := strconv.Atoi(q.Get("page[size]"))
	if err != nil || size < 1 || size > 100 {
		f.violations.Addf("%s %s: page[size] must be 1..100", r.Method, r.URL.Path)
		writeError(w, http.StatusBadRequest, "InvalidPaginationParameter", "page[size] must be between 1 and 100")
		return
	}
	start := 0
	if after := q.Get("page[after]"); after != "" {
		n, err := decodeCursor(after)
		if err != nil || n > len(items) {
			writeError(w, http.StatusBadRequest, "InvalidPaginationParameter", "invalid cursor")
			return
		}
		start = n
	}
	end := min(start+size, len(items))
	meta := cursorMeta{HasMore: end < len(items)}
	links := cursorLinks{}
	if end > start {
		meta.BeforeCursor, meta.AfterCursor = encodeCursor(start), encodeCursor(end)
	}
	if meta.HasMore {
		nq := url.Values{}
		for k, v := range q {
			nq[k] = v
		}
		nq.Set("page[after]", meta.AfterCursor)
		links.Next = f.URL + r.URL.Path + "?" + nq.Encode()
	}
	connectortest.WriteJSON(w, http.StatusOK, map[string]any{key: items[start:end], "meta": meta, "links": links})
}

func encodeCursor(n int) string {
	return base64.RawURLEncoding.EncodeToString([]byte("c:" + strconv.Itoa(n)))
}

func decodeCursor(s string) (int, error) {
	b, err := base64.RawURLEncoding.DecodeString(s)
	if err != nil || !bytes.HasPrefix(b, []byte("c:")) {
		return 0, errors.New("bad cursor")
	}
	return strconv.Atoi(string(b[2:]))
}

// Tickets.

var statuses = []string{"new", "open", "pending", "hold", "solved", "closed"}

func (f *Fake) handleCreateTicket(w http.ResponseWriter, r *http.Request) {
	var req ticketRequest
	raw, ok := f.decode(w, r, &req)
	if !ok {
		return
	}
	key := r.Header.Get("Idempotency-Key")
	if key == "" {
		f.violations.Addf("POST /api/v2/tickets without Idempotency-Key: a retry would duplicate the ticket")
	}
	if len(key) > 255 {
		writeError(w, http.StatusBadRequest, "InvalidIdempotencyKey", "Idempotency-Key is longer than 255 characters")
		return
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	hash := sha256.Sum256(raw)
	if key != "" {
		if e, ok := f.idem[key]; ok {
			if e.bodyHash != hash {
				writeError(w, http.StatusBadRequest, "IdempotentRequestError", "Idempotency-Key was already used with different request parameters")
				return
			}
			w.Header().Set("X-Idempotency-Lookup", "hit")
			w.Header().Set("Content-Type", "application/json; charset=utf-8")
			w.WriteHeader(e.status)
			_, _ = w.Write(e.body)
			return
		}
	}
	status, resp := f.createTicket(req.Ticket)
	body, _ := json.Marshal(resp)
	if key != "" && status == http.StatusCreated {
		f.idem[key] = &idemEntry{bodyHash: hash, status: status, body: body}
		w.Header().Set("X-Idempotency-Lookup", "miss")
	}
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(status)
	_, _ = w.Write(body)
}

// createTicket applies a create request. Callers hold f.mu.
func (f *Fake) createTicket(in *ticketFields) (int, any) {
	invalid := func(field, msg string) (int, any) {
		return http.StatusUnprocessableEntity, errorJSON{Error: "RecordInvalid", Description: "Record validation errors",
			Details: map[string]any{field: []map[string]string{{"description": msg}}}}
	}
	if in == nil {
		f.violations.Addf("POST /api/v2/tickets: missing ticket")
		return http.StatusBadRequest, errorJSON{Error: "InvalidParameter", Description: "ticket is required"}
	}
	if in.Comment == nil || (deref(in.Comment.Body) == "" && deref(in.Comment.HTMLBody) == "") {
		return invalid("description", "Description: cannot be blank")
	}
	requesterID := f.agentID
	if in.RequesterID != nil {
		if f.users[*in.RequesterID] == nil {
			return invalid("requester", "Requester: is invalid")
		}
		requesterID = *in.RequesterID
	}
	if in.Status != nil && !slices.Contains(statuses, *in.Status) {
		return invalid("status", "Status: is invalid")
	}
	atts, errResp := f.takeUploads(in.Comment.Uploads)
	if errResp != nil {
		return http.StatusUnprocessableEntity, errResp
	}
	authorID := f.agentID
	if in.Comment.AuthorID != nil {
		if f.users[*in.Comment.AuthorID] == nil {
			return invalid("author", "Author: is invalid")
		}
		authorID = *in.Comment.AuthorID
	}
	now := f.now().UTC()
	f.nextTicketID++
	t := &ticket{
		id: f.nextTicketID, subject: deref(in.Subject), status: "new", requesterID: requesterID, submitterID: f.agentID,
		externalID: deref(in.ExternalID), tags: dedupe(in.Tags), createdAt: now, updatedAt: now,
	}
	if in.SubmitterID != nil {
		t.submitterID = *in.SubmitterID
	}
	if in.Status != nil {
		t.status = *in.Status
	}
	if src := deref(in.ViaFollowupSourceID); src != 0 {
		// Documented: only works with closed tickets, no effect otherwise.
		if prev := f.tickets[src]; prev != nil && prev.status == "closed" {
			t.followupOf = src
			prev.followups = append(prev.followups, t.id)
			if in.Tags == nil {
				t.tags = slices.Clone(prev.tags)
			}
		}
	}
	body := commentBody(in.Comment)
	t.description = body
	if t.subject == "" {
		t.subject = firstLine(body)
	}
	f.tickets[t.id] = t
	f.ticketOrder = append(f.ticketOrder, t.id)
	c := f.addComment(t, authorID, body, in.Comment.Public == nil || *in.Comment.Public, atts)
	return http.StatusCreated, map[string]any{"ticket": f.ticketJSON(t), "audit": f.auditJSON(t, c, map[string]string{"status": t.status})}
}

func commentBody(c *commentFields) string {
	if c.Body != nil {
		return *c.Body
	}
	return deref(c.HTMLBody)
}

func firstLine(s string) string {
	s, _, _ = strings.Cut(s, "\n")
	if len(s) > 60 {
		s = s[:60]
	}
	return s
}

func dedupe(tags []string) []string {
	var out []string
	for _, t := range tags {
		t = strings.ToLower(strings.TrimSpace(t))
		if t != "" && !slices.Contains(out, t) {
			out = append(out, t)
		}
	}
	return out
}

// takeUploads turns upload tokens into attachments. Callers hold f.mu.
func (f *Fake) takeUploads(tokens []string) ([]int64, any) {
	var atts []int64
	for _, tok := range tokens {
		u := f.uploads[tok]
		if u == nil || u.used || f.now().After(u.expiresAt) {
			f.violations.Addf("comment.uploads: unknown, expired or already used token %q", tok)
			return nil, errorJSON{Error: "RecordInvalid", Description: "Record validation errors",
				Details: map[string]any{"uploads": []map[string]string{{"description": "Uploads: token is invalid"}}}}
		}
	}
	for _, tok := range tokens {
		u := f.uploads[tok]
		u.used = true
		for _, aid := range u.attachments {
			f.attachments[aid].attached = true
			atts = append(atts, aid)
		}
	}
	return atts, nil
}

func (f *Fake) handleShowTicket(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	defer f.mu.Unlock()
	t := f.tickets[parseID(r.PathValue("id"))]
	if t == nil {
		writeError(w, http.StatusNotFound, "RecordNotFound", "Not found")
		return
	}
	connectortest.WriteJSON(w, http.StatusOK, map[string]any{"ticket": f.ticketJSON(t)})
}

func (f *Fake) handleUpdateTicket(w http.ResponseWriter, r *http.Request) {
	var req ticketRequest
	if _, ok := f.decode(w, r, &req); !ok {
		return
	}
	in := req.Ticket
	if in == nil {
		f.violations.Addf("PUT /api/v2/tickets/{id}: missing ticket")
		writeError(w, http.StatusBadRequest, "InvalidParameter", "ticket is required")
		return
	}
	if in.RequesterID != nil || in.ViaFollowupSourceID != nil {
		f.violations.Addf("PUT /api/v2/tickets/{id}: requester_id/via_followup_source_id are not for updates")
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	t := f.tickets[parseID(r.PathValue("id"))]
	if t == nil {
		writeError(w, http.StatusNotFound, "RecordNotFound", "Not found")
		return
	}
	invalid := func(field, msg string) {
		connectortest.WriteJSON(w, http.StatusUnprocessableEntity, errorJSON{Error: "RecordInvalid", Description: "Record validation errors",
			Details: map[string]any{field: []map[string]string{{"description": msg}}}})
	}
	if t.status == "closed" {
		invalid("status", "Status: closed prevents ticket update")
		return
	}
	if in.Status != nil && (!slices.Contains(statuses, *in.Status) || *in.Status == "new") {
		invalid("status", "Status: is invalid")
		return
	}
	changes := map[string]string{}
	var c *comment
	if in.Comment != nil {
		body := commentBody(in.Comment)
		if body == "" {
			invalid("comment", "Comment: cannot be blank")
			return
		}
		authorID := f.agentID
		if in.Comment.AuthorID != nil {
			if f.users[*in.Comment.AuthorID] == nil {
				invalid("author", "Author: is invalid")
				return
			}
			authorID = *in.Comment.AuthorID
		}
		atts, errResp := f.takeUploads(in.Comment.Uploads)
		if errResp != nil {
			connectortest.WriteJSON(w, http.StatusUnprocessableEntity, errResp)
			return
		}
		c = f.addComment(t, authorID, body, in.Comment.Public == nil || *in.Comment.Public, atts)
	}
	if in.Status != nil && *in.Status != t.status {
		t.status = *in.Status
		changes["status"] = t.status
	}
	if in.Tags != nil {
		t.tags = dedupe(in.Tags)
	}
	for _, tag := range dedupe(in.AdditionalTags) {
		if !slices.Contains(t.tags, tag) {
			t.tags = append(t.tags, tag)
		}
	}
	t.updatedAt = f.now().UTC()
	connectortest.WriteJSON(w, http.StatusOK, map[string]any{"ticket": f.ticketJSON(t), "audit": f.auditJSON(t, c, changes)})
}

func (f *Fake) handleListComments(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	defer f.mu.Unlock()
	t := f.tickets[parseID(r.PathValue("id"))]
	if t == nil {
		writeError(w, http.StatusNotFound, "RecordNotFound", "Not found")
		return
	}
	list := make([]commentJSON, 0, len(t.comments))
	for _, cid := range t.comments {
		list = append(list, f.commentJSON(f.comments[cid]))
	}
	switch r.URL.Query().Get("sort_order") {
	case "", "asc":
	case "desc":
		slices.Reverse(list)
	default:
		f.violations.Addf("comments: sort_order must be asc or desc")
	}
	writePage(f, w, r, "comments", list)
}

// Uploads and attachments.

func (f *Fake) handleUpload(w http.ResponseWriter, r *http.Request) {
	name := r.URL.Query().Get("filename")
	if name == "" {
		f.violations.Addf("POST /api/v2/uploads: the filename query parameter is required")
		writeError(w, http.StatusBadRequest, "InvalidParameter", "filename is required")
		return
	}
	ct := r.Header.Get("Content-Type")
	if mt, _, err := mime.ParseMediaType(ct); err != nil || mt == "application/json" {
		f.violations.Addf("POST /api/v2/uploads: Content-Type must be the file's MIME type, got %q", ct)
		writeError(w, http.StatusBadRequest, "InvalidHeader", "Content-Type must describe the file")
		return
	}
	limit := f.opts.MaxUploadBytes
	var data []byte
	var size int64
	var sum string
	if f.opts.DiscardUploads {
		h := sha256.New()
		n, err := io.Copy(h, io.LimitReader(r.Body, limit+1))
		if err != nil {
			writeError(w, http.StatusBadRequest, "InvalidBody", err.Error())
			return
		}
		size, sum = n, hex.EncodeToString(h.Sum(nil))
	} else {
		var err error
		if data, err = io.ReadAll(io.LimitReader(r.Body, limit+1)); err != nil {
			writeError(w, http.StatusBadRequest, "InvalidBody", err.Error())
			return
		}
		size = int64(len(data))
	}
	if size > limit {
		writeError(w, http.StatusRequestEntityTooLarge, "AttachmentTooLarge", fmt.Sprintf("Attachments can be up to %d MB", limit>>20))
		return
	}
	if r.ContentLength >= 0 && r.ContentLength != size {
		f.violations.Addf("POST /api/v2/uploads: Content-Length %d but %d bytes", r.ContentLength, size)
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	a := f.newAttachment(name, ct, data)
	a.size, a.sha256 = size, sum
	tok := r.URL.Query().Get("token")
	u := f.uploads[tok]
	if tok != "" && u == nil {
		writeError(w, http.StatusNotFound, "RecordNotFound", "upload token not found")
		return
	}
	if u == nil {
		u = &upload{token: randomToken(), expiresAt: f.now().Add(60 * time.Minute)}
		f.uploads[u.token] = u
	}
	u.attachments = append(u.attachments, a.id)
	list := make([]attachmentJSON, 0, len(u.attachments))
	for _, aid := range u.attachments {
		list = append(list, f.attachmentJSON(f.attachments[aid]))
	}
	connectortest.WriteJSON(w, http.StatusCreated, map[string]any{"upload": map[string]any{
		"token": u.token, "expires_at": u.expiresAt.UTC().Format(time.RFC3339), "attachment": f.attachmentJSON(a), "attachments": list,
	}})
}

func (f *Fake) handleDownload(w http.ResponseWriter, r *http.Request) {
	if auth := r.Header.Get("Authorization"); auth != "" && !f.authorized(r) {
		writeError(w, http.StatusUnauthorized, "Couldn't authenticate you", "")
		return
	}
	f.mu.Lock()
	a := f.byToken[r.PathValue("token")]
	var data []byte
	var ct, name string
	var size int64
	if a != nil {
		data, ct, name, size = a.data, a.contentType, a.fileName, a.size
	}
	f.mu.Unlock()
	if a == nil {
		writeError(w, http.StatusNotFound, "RecordNotFound", "Not found")
		return
	}
	w.Header().Set("Content-Type", ct)
	w.Header().Set("Content-Length", strconv.FormatInt(size, 10))
	w.Header().Set("Content-Disposition", mime.FormatMediaType("attachment", map[string]string{"filename": name}))
	if data == nil && size > 0 { // a discarded upload: zeros of its size
		_, _ = io.CopyN(w, zeros{}, size)
		return
	}
	_, _ = w.Write(data)
}

type zeros struct{}

func (zeros) Read(p []byte) (int, error) {
	clear(p)
	return len(p), nil
}

// Webhooks.

func (f *Fake) webhookJSON(wh *webhook) webhookJSON {
	return webhookJSON{
		ID: wh.id, Name: wh.name, Endpoint: wh.endpoint, HTTPMethod: "POST", RequestFormat: "json", Status: wh.status,
		Subscriptions: slices.Clone(wh.subscriptions), CreatedAt: wh.createdAt.Format(time.RFC3339), CreatedBy: formatID(f.agentID),
	}
}

func (f *Fake) handleCreateWebhook(w http.ResponseWriter, r *http.Request) {
	var req webhookRequest
	if _, ok := f.decode(w, r, &req); !ok {
		return
	}
	in := req.Webhook
	if in == nil {
		f.violations.Addf("POST /api/v2/webhooks: missing webhook")
		writeError(w, http.StatusBadRequest, "InvalidParameter", "webhook is required")
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
		f.violations.Addf("POST /api/v2/webhooks: %s", strings.Join(problems, "; "))
		connectortest.WriteJSON(w, http.StatusBadRequest, errorJSON{Error: "InvalidParameter", Description: strings.Join(problems, "; ")})
		return
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	wh := &webhook{id: fmt.Sprintf("01HZ%022d", f.newID()), name: *in.Name, endpoint: *in.Endpoint, status: *in.Status,
		subscriptions: slices.Clone(in.Subscriptions), createdAt: f.now().UTC()}
	f.webhooks[wh.id] = wh
	f.webhookOrder = append(f.webhookOrder, wh.id)
	connectortest.WriteJSON(w, http.StatusCreated, map[string]any{"webhook": f.webhookJSON(wh)})
}

func (f *Fake) handleListWebhooks(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	f.mu.Lock()
	defer f.mu.Unlock()
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
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.webhooks[r.PathValue("id")] == nil {
		writeError(w, http.StatusNotFound, "RecordNotFound", "Not found")
		return
	}
	connectortest.WriteJSON(w, http.StatusOK, map[string]any{"signing_secret": map[string]string{"algorithm": "sha256", "secret": string(f.secret)}})
}

func (f *Fake) handleDeleteWebhook(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	defer f.mu.Unlock()
	id := r.PathValue("id")
	if f.webhooks[id] == nil {
		writeError(w, http.StatusNotFound, "RecordNotFound", "Not found")
		return
	}
	delete(f.webhooks, id)
	f.webhookOrder = slices.DeleteFunc(f.webhookOrder, func(x string) bool { return x == id })
	w.WriteHeader(http.StatusNoContent)
}
