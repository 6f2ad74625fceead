package zammadtest

import (
	"encoding/json"
	"io"
	"net/http"
	"slices"
	"strconv"

	"github.com/relaydesk/relaydesk/connectors/connectortest"
)

func (f *Fake) routes() []connectortest.Route {
	list := []string{"page", "per_page", "expand", "full", "sort_by", "order_by"}
	routes := []connectortest.Route{
		{Pattern: "GET /api/v1/users/me", Query: []string{"expand"}, Handle: connectortest.Locking(&f.Mu, f.handleMe)},
		{Pattern: "GET /api/v1/users/search", Query: append([]string{"query", "limit"}, list...), Handle: f.handleSearchUsers},
		{Pattern: "POST /api/v1/users", Query: []string{"expand"}, Handle: f.handleCreateUser},
		{Pattern: "GET /api/v1/tickets/search", Query: append([]string{"query", "limit", "condition"}, list...), Handle: f.handleSearchTickets},
		{Pattern: "POST /api/v1/tickets", Query: []string{"expand"}, Handle: f.handleCreateTicket},
		{Pattern: "GET /api/v1/tickets/{id}", Query: []string{"expand", "all", "full"}, Handle: connectortest.Locking(&f.Mu, f.handleShowTicket)},
		{Pattern: "PUT /api/v1/tickets/{id}", Query: []string{"expand"}, Handle: f.handleUpdateTicket},
		{Pattern: "POST /api/v1/ticket_articles", Query: []string{"expand"}, Handle: connectortest.JSONHandler(&f.Mu, f.decode, f.handleCreateArticle)},
		{Pattern: "GET /api/v1/ticket_articles/by_ticket/{id}", Query: list, Handle: connectortest.Locking(&f.Mu, f.handleArticlesByTicket)},
		{Pattern: "GET /api/v1/ticket_attachment/{ticket}/{article}/{id}", Query: []string{"view", "disposition"}, Handle: f.handleAttachment},
		{Pattern: "GET /api/v1/ticket_states", Query: list, Handle: f.handleStates},
		{Pattern: "GET /api/v1/groups/{id}", Query: []string{"expand"}, Handle: connectortest.Locking(&f.Mu, f.handleShowGroup)},
	}
	routes = append(routes, f.tagRoutes()...)
	routes = append(routes, webhookAPI.routes(f, list)...)
	return append(routes, triggerAPI.routes(f, list)...)
}

func (f *Fake) wire() connectortest.Wire {
	return connectortest.Wire{
		Helpdesk: "Zammad", Prefix: "zammadtest", Routes: f.routes(), Fail: connectortest.CannedFailures(failures),
		Before: func(w http.ResponseWriter, r *http.Request) bool {
			if r.ContentLength > MaxBody {
				// nginx: client_max_body_size 50M.
				w.Header().Set("Content-Type", "text/html")
				w.WriteHeader(http.StatusRequestEntityTooLarge)
				_, _ = io.WriteString(w, "<html><head><title>413 Request Entity Too Large</title></head></html>")
				return false
			}
			return true
		},
		Refuse: func(w http.ResponseWriter, r *http.Request, status int, msg string) {
			if status == http.StatusNotFound {
				msg = "No route matches [" + r.Method + "] \"" + r.URL.Path + "\""
			}
			writeError(w, status, msg)
		},
		Guard: func(w http.ResponseWriter, r *http.Request) bool {
			switch auth := r.Header.Get("Authorization"); {
			case auth == "":
				writeError(w, http.StatusForbidden, "Authentication required")
				return false
			case auth != "Token token="+APIToken:
				writeError(w, http.StatusUnauthorized, "Invalid token!")
				return false
			}
			return true
		},
	}
}

// failures are Zammad's answers to injected failures, and those of the
// proxy in front of it: Zammad has no API rate limit of its own.
var failures = map[connectortest.Failure]connectortest.Canned{
	connectortest.FailRateLimited:  {Status: http.StatusTooManyRequests, Header: http.Header{"Content-Type": {"text/html"}}, Body: "<html><head><title>429 Too Many Requests</title></head></html>"},
	connectortest.FailUnauthorized: {Status: http.StatusUnauthorized, Body: `{"error":"Invalid token!","error_human":"Invalid token!"}`},
	connectortest.FailServerError: {Status: http.StatusInternalServerError,
		Body: `{"error":"Error ID Ab1x_Qz: Please contact your administrator.","error_human":"Error ID Ab1x_Qz: Please contact your administrator."}`},
}

// writeError answers like Zammad's HandlesErrors.
func writeError(w http.ResponseWriter, status int, msg string) {
	connectortest.WriteJSON(w, status, map[string]string{"error": msg, "error_human": msg})
}

// decode reads a JSON body strictly into v, writing the 400 itself.
func (f *Fake) decode(w http.ResponseWriter, r *http.Request, v any) bool {
	if _, bad := f.DecodeJSON(r, v, MaxBody); bad != nil {
		writeError(w, bad.Status, bad.Message)
		return false
	}
	return true
}

func expand(r *http.Request) bool { return r.URL.Query().Get("expand") == "true" }

// JSON renderers. Callers hold f.Mu.

func (f *Fake) userJSON(u *user, expanded bool) userJSON {
	j := userJSON{
		ID: u.id, Login: u.login, Firstname: u.firstname, Lastname: u.lastname, Email: u.email, Phone: u.phone, Mobile: u.mobile,
		Active: true, Note: u.note, Preferences: map[string]any{}, UpdatedByID: AgentID, CreatedByID: AgentID,
		CreatedAt: ts(u.createdAt), UpdatedAt: ts(u.updatedAt), RoleIDs: []int64{},
	}
	roleIDs := map[string]int64{"Admin": 1, "Agent": 2, "Customer": 3}
	for _, r := range u.roles {
		j.RoleIDs = append(j.RoleIDs, roleIDs[r])
	}
	if expanded {
		j.Roles = slices.Clone(u.roles)
	}
	return j
}

func (f *Fake) ticketJSON(t *ticket, expanded bool) ticketJSON {
	j := ticketJSON{
		ID: t.id, GroupID: t.groupID, PriorityID: 2, StateID: f.stateID(t.state), Number: t.number, Title: t.title, OwnerID: 1,
		CustomerID: t.customerID, CreateArticleTypeID: 5, CreateArticleSenderID: 2, ArticleCount: len(t.articles),
		Preferences: cloneMap(t.preferences), UpdatedByID: AgentID, CreatedByID: AgentID, CreatedAt: ts(t.createdAt),
		UpdatedAt: ts(t.updatedAt), ArticleIDs: slices.Clone(t.articles),
	}
	if j.ArticleIDs == nil {
		j.ArticleIDs = []int64{}
	}
	if !t.lastCloseAt.IsZero() {
		s := ts(t.lastCloseAt)
		j.CloseAt, j.LastCloseAt = &s, &s
	}
	if !t.pendingTime.IsZero() {
		s := ts(t.pendingTime)
		j.PendingTime = &s
	}
	if expanded {
		j.Group, j.State, j.Priority, j.Owner = f.groups[t.groupID].name, t.state, "2 normal", "-"
		j.Customer = f.users[t.customerID].login
	}
	return j
}

var cloneMap = connectortest.CloneObject

var typeIDs = map[string]int64{"email": 1, "sms": 2, "chat": 3, "fax": 4, "phone": 5, "note": 10, "web": 11}
var senderIDs = map[string]int64{"Agent": 1, "Customer": 2, "System": 3}

func (f *Fake) attachmentURL(a *article, att *attachment) string {
	return f.URL + "/api/v1/ticket_attachment/" + formatID(a.ticketID) + "/" + formatID(a.id) + "/" + formatID(att.id)
}

func (f *Fake) articleJSON(a *article) articleJSON {
	from := f.users[a.createdByID].name()
	if a.originByID != 0 {
		from = f.users[a.originByID].name()
	}
	j := articleJSON{
		ID: a.id, TicketID: a.ticketID, TypeID: typeIDs[a.typ], SenderID: senderIDs[a.sender], From: from, ContentType: a.contentType,
		Body: a.body, Internal: a.internal, Preferences: map[string]any{}, UpdatedByID: a.createdByID, CreatedByID: a.createdByID,
		CreatedAt: ts(a.createdAt), UpdatedAt: ts(a.createdAt), Attachments: []attachmentJSON{}, Type: a.typ, Sender: a.sender,
		CreatedBy: f.users[a.createdByID].login, UpdatedBy: f.users[a.createdByID].login,
	}
	if a.originByID != 0 {
		id := a.originByID
		j.OriginByID = &id
		login := f.users[id].login
		j.OriginBy = &login
	}
	for _, att := range a.attachments {
		j.Attachments = append(j.Attachments, attachmentJSON{
			ID: att.id, Filename: att.filename, Size: strconv.Itoa(len(att.data)),
			Preferences: map[string]any{"Mime-Type": att.mime, "Content-Type": att.mime},
		})
	}
	return j
}

func (f *Fake) groupJSON(g *group) groupJSON {
	return groupJSON{ID: g.id, Name: g.name, FollowUpPossible: g.followUp, FollowUpAssignment: true, ReopenTimeInDays: g.reopenDays, Active: true}
}

// payloadTicket renders the ticket of a webhook payload: attributes with
// association names, and group, customer and owner as objects.
func (f *Fake) payloadTicket(t *ticket) map[string]any {
	raw, _ := json.Marshal(f.ticketJSON(t, true))
	var m map[string]any
	_ = json.Unmarshal(raw, &m)
	m["group"] = f.groupJSON(f.groups[t.groupID])
	m["customer"] = f.userJSON(f.users[t.customerID], true)
	m["owner"] = map[string]any{"id": 1, "login": "-", "firstname": "-", "lastname": ""}
	return m
}

// payloadArticle renders the article of a webhook payload, with the
// attachments' download URLs.
func (f *Fake) payloadArticle(a *article) map[string]any {
	j := f.articleJSON(a)
	for i := range j.Attachments {
		j.Attachments[i].URL = f.attachmentURL(a, a.attachments[i])
	}
	j.CreatedBy = f.userJSON(f.users[a.createdByID], true)
	j.UpdatedBy = j.CreatedBy
	zero := 0
	j.AccountedTime = &zero
	raw, _ := json.Marshal(j)
	var m map[string]any
	_ = json.Unmarshal(raw, &m)
	return m
}
