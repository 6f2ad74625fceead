package zendesktest

import (
	"crypto/sha256"
	"encoding/json"
	"net/http"
	"slices"
	"strings"

	"github.com/relaydesk/relaydesk/connectors/connectortest"
)

// Tickets.

var statuses = []string{"new", "open", "pending", "hold", "solved", "closed"}

func (f *Fake) handleCreateTicket(w http.ResponseWriter, r *http.Request) {
	var req ticketRequest
	raw, ok := f.decode(w, r, &req)
	if !ok {
		return
	}
	key := r.Header.Get("Idempotency-Key")
	if len(key) > 255 {
		writeError(w, http.StatusBadRequest, "InvalidIdempotencyKey", "Idempotency-Key is longer than 255 characters")
		return
	}
	f.Mu.Lock()
	defer f.Mu.Unlock()
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

// createTicket applies a create request. Callers hold f.Mu.
func (f *Fake) createTicket(in *ticketFields) (int, any) {
	invalid := func(field, msg string) (int, any) {
		return http.StatusUnprocessableEntity, errorJSON{Error: "RecordInvalid", Description: "Record validation errors",
			Details: map[string]any{field: []map[string]string{{"description": msg}}}}
	}
	if in == nil {
		f.Violate("POST /api/v2/tickets: missing ticket")
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

// takeUploads turns upload tokens into attachments. Callers hold f.Mu.
func (f *Fake) takeUploads(tokens []string) ([]int64, any) {
	var atts []int64
	for _, tok := range tokens {
		u := f.uploads[tok]
		if u == nil || u.used || f.now().After(u.expiresAt) {
			f.Violate("comment.uploads: unknown, expired or already used token %q", tok)
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
	t := f.tickets[parseID(r.PathValue("id"))]
	if t == nil {
		writeError(w, http.StatusNotFound, "RecordNotFound", "Not found")
		return
	}
	connectortest.WriteJSON(w, http.StatusOK, map[string]any{"ticket": f.ticketJSON(t)})
}

func (f *Fake) handleUpdateTicket(w http.ResponseWriter, r *http.Request) {
	in, ok := decodeEnvelope(f, w, r, "PUT /api/v2/tickets/{id}", "ticket", func(e *ticketRequest) *ticketFields { return e.Ticket })
	if !ok {
		return
	}
	if in.RequesterID != nil || in.ViaFollowupSourceID != nil {
		f.Violate("PUT /api/v2/tickets/{id}: requester_id/via_followup_source_id are not for updates")
	}
	f.Mu.Lock()
	defer f.Mu.Unlock()
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
	if len(in.RemoveTags) > 0 && in.Tags != nil {
		f.Violate("PUT /api/v2/tickets/{id}: remove_tags with tags (which replaces them all)")
	}
	for _, tag := range in.RemoveTags {
		if slices.Contains(in.AdditionalTags, tag) {
			f.Violate("PUT /api/v2/tickets/{id}: tag %q both added and removed", tag)
		}
		t.tags = slices.DeleteFunc(t.tags, func(x string) bool { return x == tag })
	}
	t.updatedAt = f.now().UTC()
	connectortest.WriteJSON(w, http.StatusOK, map[string]any{"ticket": f.ticketJSON(t), "audit": f.auditJSON(t, c, changes)})
}

func (f *Fake) handleListComments(w http.ResponseWriter, r *http.Request) {
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
		f.Violate("comments: sort_order must be asc or desc")
	}
	writePage(f, w, r, "comments", list)
}
