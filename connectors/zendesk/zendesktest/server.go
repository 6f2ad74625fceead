package zendesktest

import (
	"bytes"
	"crypto/sha256"
	"encoding/base64"
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

// route is one endpoint with the query parameters it documents.
type route struct {
	pattern string
	query   []string
	handle  func(http.ResponseWriter, *http.Request)
}

func (f *Fake) routes() []route {
	page := []string{"page", "per_page", "page[size]", "page[after]", "page[before]", "sort_order", "sort_by", "sort", "include"}
	return []route{
		{"GET /api/v2/users/me", nil, f.handleMe},
		{"GET /api/v2/users/search", append([]string{"query", "external_id"}, page...), f.handleUserSearch},
		{"POST /api/v2/users/create_or_update", nil, f.handleCreateOrUpdateUser},
		{"GET /api/v2/users/{id}/tickets/requested", page, f.handleRequestedTickets},
		{"POST /api/v2/tickets", []string{"async"}, f.handleCreateTicket},
		{"GET /api/v2/tickets/{id}", []string{"include"}, f.handleShowTicket},
		{"PUT /api/v2/tickets/{id}", nil, f.handleUpdateTicket},
		{"GET /api/v2/tickets/{id}/comments", append([]string{"include_inline_images"}, page...), f.handleListComments},
		{"POST /api/v2/uploads", []string{"filename", "token"}, f.handleUpload},
		{"GET /api/v2/webhooks", append([]string{"filter[name_contains]", "filter[status]"}, page...), f.handleListWebhooks},
		{"POST /api/v2/webhooks", nil, f.handleCreateWebhook},
		{"GET /api/v2/webhooks/{id}/signing_secret", nil, f.handleSigningSecret},
		{"DELETE /api/v2/webhooks/{id}", nil, f.handleDeleteWebhook},
		{"GET /attachments/token/{token}/", []string{"name"}, f.handleDownload},
	}
}

func (f *Fake) handler() http.Handler {
	mux := http.NewServeMux()
	allowed := map[string][]string{}
	for _, rt := range f.routes() {
		mux.HandleFunc(rt.pattern, rt.handle)
		allowed[rt.pattern] = rt.query
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		f.record(r)
		w.Header().Set("X-Rate-Limit", "700")
		w.Header().Set("X-Rate-Limit-Remaining", strconv.Itoa(699-f.RequestCount()%700))
		if f.injectFailure(w, r) {
			return
		}
		_, pattern := mux.Handler(r)
		if pattern == "" {
			f.violation("%s %s: no such Zendesk endpoint", r.Method, r.URL.Path)
			writeError(w, http.StatusNotFound, "InvalidEndpoint", "Not found")
			return
		}
		for key := range r.URL.Query() {
			if !slices.Contains(allowed[pattern], key) {
				f.violation("%s %s: undocumented query parameter %q", r.Method, r.URL.Path, key)
				writeError(w, http.StatusBadRequest, "InvalidParameter", "unknown parameter "+key)
				return
			}
		}
		if strings.HasPrefix(r.URL.Path, "/api/v2/") {
			if !f.authorized(r) {
				writeError(w, http.StatusUnauthorized, "Couldn't authenticate you", "")
				return
			}
			if !strings.Contains(r.Header.Get("Accept"), "application/json") {
				f.violation("%s %s: Accept must be application/json, got %q", r.Method, r.URL.Path, r.Header.Get("Accept"))
				writeError(w, http.StatusBadRequest, "InvalidHeader", "Accept must be application/json")
				return
			}
		}
		mux.ServeHTTP(w, r)
	})
}

func (f *Fake) record(r *http.Request) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.requestCount++
	if len(f.requests) == maxRequests {
		f.requests = slices.Delete(f.requests, 0, 1)
	}
	f.requests = append(f.requests, Request{Method: r.Method, Path: r.URL.Path, Query: r.URL.RawQuery, IdempotencyKey: r.Header.Get("Idempotency-Key")})
}

func (f *Fake) injectFailure(w http.ResponseWriter, r *http.Request) bool {
	f.mu.Lock()
	if len(f.failures) == 0 {
		f.mu.Unlock()
		return false
	}
	kind := f.failures[0]
	f.failures = f.failures[1:]
	f.mu.Unlock()
	_, _ = io.Copy(io.Discard, r.Body)
	switch kind {
	case connectortest.FailRateLimited:
		w.Header().Set("Retry-After", strconv.Itoa(int(connectortest.RateLimitRetryAfter/time.Second)))
		w.Header().Set("X-Rate-Limit-Remaining", "0")
		writeError(w, http.StatusTooManyRequests, "APIRateLimitExceeded", "Number of allowed API requests per minute exceeded")
	case connectortest.FailServerError:
		writeError(w, http.StatusInternalServerError, "InternalServerError", "Something went wrong")
	case connectortest.FailTimeout:
		select {
		case <-r.Context().Done():
		case <-f.closing:
		}
	case connectortest.FailUnauthorized:
		writeError(w, http.StatusUnauthorized, "Couldn't authenticate you", "")
	default:
		writeError(w, http.StatusInternalServerError, "InternalServerError", "unknown injected failure")
	}
	return true
}

func (f *Fake) authorized(r *http.Request) bool {
	h := r.Header.Get("Authorization")
	basic := "Basic " + base64.StdEncoding.EncodeToString([]byte(Email+"/token:"+APIToken))
	return h == basic || h == "Bearer "+OAuthToken
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	body, err := json.Marshal(v)
	if err != nil {
		panic(err)
	}
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(status)
	_, _ = w.Write(body)
}

func writeError(w http.ResponseWriter, status int, code, description string) {
	writeJSON(w, status, errorJSON{Error: code, Description: description})
}

// decode reads a JSON body strictly into v, writing the 400 itself.
func (f *Fake) decode(w http.ResponseWriter, r *http.Request, v any) ([]byte, bool) {
	mt, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if mt != "application/json" {
		f.violation("%s %s: Content-Type must be application/json, got %q", r.Method, r.URL.Path, r.Header.Get("Content-Type"))
		writeError(w, http.StatusBadRequest, "InvalidHeader", "Content-Type must be application/json")
		return nil, false
	}
	raw, err := io.ReadAll(io.LimitReader(r.Body, 8<<20))
	if err != nil {
		writeError(w, http.StatusBadRequest, "InvalidBody", err.Error())
		return nil, false
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		f.violation("%s %s: body rejected: %v", r.Method, r.URL.Path, err)
		writeError(w, http.StatusBadRequest, "InvalidParameter", err.Error())
		return nil, false
	}
	if dec.More() {
		f.violation("%s %s: trailing data after the JSON body", r.Method, r.URL.Path)
		writeError(w, http.StatusBadRequest, "InvalidParameter", "trailing data")
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
		ContentURL: content, MappedContentURL: content, ContentType: a.contentType, Size: int64(len(a.data)), Thumbnails: []any{},
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
	writeJSON(w, http.StatusOK, map[string]any{"user": f.userJSON(f.users[f.agentID])})
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
		f.violation("GET /api/v2/users/search: exactly one of query and external_id is needed")
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
				f.violation("GET /api/v2/users/search: phone search takes digits only, got %q", phone)
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
	writeJSON(w, http.StatusOK, map[string]any{"users": users, "next_page": nil, "previous_page": nil, "count": len(users)})
}

func (f *Fake) handleCreateOrUpdateUser(w http.ResponseWriter, r *http.Request) {
	var req userRequest
	if _, ok := f.decode(w, r, &req); !ok {
		return
	}
	if req.User == nil {
		f.violation("create_or_update: missing user")
		writeError(w, http.StatusBadRequest, "InvalidParameter", "user is required")
		return
	}
	in := req.User
	ext, email := deref(in.ExternalID), deref(in.Email)
	if ext == "" && email == "" {
		f.violation("create_or_update: needs external_id or email to be idempotent")
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
	writeJSON(w, status, map[string]any{"user": f.userJSON(found)})
}

func deref[T any](p *T) T {
	var zero T
	if p == nil {
		return zero
	}
	return *p
}

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
		writeJSON(w, http.StatusOK, map[string]any{key: items, "next_page": nil, "previous_page": nil, "count": len(items)})
		return
	}
	size, err := strconv.Atoi(q.Get("page[size]"))
	if err != nil || size < 1 || size > 100 {
		f.violationLocked("%s %s: page[size] must be 1..100", r.Method, r.URL.Path)
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
	writeJSON(w, http.StatusOK, map[string]any{key: items[start:end], "meta": meta, "links": links})
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

// violationLocked records a violation while f.mu is held.
func (f *Fake) violationLocked(format string, args ...any) {
	msg := fmt.Sprintf(format, args...)
	f.violations = append(f.violations, msg)
	if f.tb != nil {
		f.tb.Errorf("zendesktest: %s", msg)
	}
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
		f.violation("POST /api/v2/tickets without Idempotency-Key: a retry would duplicate the ticket")
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
		f.violationLocked("POST /api/v2/tickets: missing ticket")
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
			f.violationLocked("comment.uploads: unknown, expired or already used token %q", tok)
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
	writeJSON(w, http.StatusOK, map[string]any{"ticket": f.ticketJSON(t)})
}

func (f *Fake) handleUpdateTicket(w http.ResponseWriter, r *http.Request) {
	var req ticketRequest
	if _, ok := f.decode(w, r, &req); !ok {
		return
	}
	in := req.Ticket
	if in == nil {
		f.violation("PUT /api/v2/tickets/{id}: missing ticket")
		writeError(w, http.StatusBadRequest, "InvalidParameter", "ticket is required")
		return
	}
	if in.RequesterID != nil || in.ViaFollowupSourceID != nil {
		f.violation("PUT /api/v2/tickets/{id}: requester_id/via_followup_source_id are not for updates")
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	t := f.tickets[parseID(r.PathValue("id"))]
	if t == nil {
		writeError(w, http.StatusNotFound, "RecordNotFound", "Not found")
		return
	}
	invalid := func(field, msg string) {
		writeJSON(w, http.StatusUnprocessableEntity, errorJSON{Error: "RecordInvalid", Description: "Record validation errors",
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
			writeJSON(w, http.StatusUnprocessableEntity, errResp)
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
	writeJSON(w, http.StatusOK, map[string]any{"ticket": f.ticketJSON(t), "audit": f.auditJSON(t, c, changes)})
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
		f.violationLocked("comments: sort_order must be asc or desc")
	}
	writePage(f, w, r, "comments", list)
}

// Uploads and attachments.

func (f *Fake) handleUpload(w http.ResponseWriter, r *http.Request) {
	name := r.URL.Query().Get("filename")
	if name == "" {
		f.violation("POST /api/v2/uploads: the filename query parameter is required")
		writeError(w, http.StatusBadRequest, "InvalidParameter", "filename is required")
		return
	}
	ct := r.Header.Get("Content-Type")
	if mt, _, err := mime.ParseMediaType(ct); err != nil || mt == "application/json" {
		f.violation("POST /api/v2/uploads: Content-Type must be the file's MIME type, got %q", ct)
		writeError(w, http.StatusBadRequest, "InvalidHeader", "Content-Type must describe the file")
		return
	}
	data, err := io.ReadAll(io.LimitReader(r.Body, 50<<20+1))
	if err != nil {
		writeError(w, http.StatusBadRequest, "InvalidBody", err.Error())
		return
	}
	if len(data) > 50<<20 {
		writeError(w, http.StatusRequestEntityTooLarge, "AttachmentTooLarge", "Attachments can be up to 50 MB")
		return
	}
	if r.ContentLength >= 0 && r.ContentLength != int64(len(data)) {
		f.violation("POST /api/v2/uploads: Content-Length %d but %d bytes", r.ContentLength, len(data))
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	a := f.newAttachment(name, ct, data)
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
	writeJSON(w, http.StatusCreated, map[string]any{"upload": map[string]any{
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
	if a != nil {
		data, ct, name = a.data, a.contentType, a.fileName
	}
	f.mu.Unlock()
	if a == nil {
		writeError(w, http.StatusNotFound, "RecordNotFound", "Not found")
		return
	}
	w.Header().Set("Content-Type", ct)
	w.Header().Set("Content-Length", strconv.Itoa(len(data)))
	w.Header().Set("Content-Disposition", mime.FormatMediaType("attachment", map[string]string{"filename": name}))
	_, _ = w.Write(data)
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
		f.violation("POST /api/v2/webhooks: missing webhook")
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
		f.violation("POST /api/v2/webhooks: %s", strings.Join(problems, "; "))
		writeJSON(w, http.StatusBadRequest, errorJSON{Error: "InvalidParameter", Description: strings.Join(problems, "; ")})
		return
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	wh := &webhook{id: fmt.Sprintf("01HZ%022d", f.newID()), name: *in.Name, endpoint: *in.Endpoint, status: *in.Status,
		subscriptions: slices.Clone(in.Subscriptions), createdAt: f.now().UTC()}
	f.webhooks[wh.id] = wh
	f.webhookOrder = append(f.webhookOrder, wh.id)
	writeJSON(w, http.StatusCreated, map[string]any{"webhook": f.webhookJSON(wh)})
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
	writeJSON(w, http.StatusOK, map[string]any{"signing_secret": map[string]string{"algorithm": "sha256", "secret": string(f.secret)}})
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
