package zammadtest

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"io"
	"mime"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/relaydesk/relaydesk/connectors/connectortest"
)

func (f *Fake) routes() []connectortest.Route {
	list := []string{"page", "per_page", "expand", "full", "sort_by", "order_by"}
	routes := []connectortest.Route{
		{Pattern: "GET /api/v1/users/me", Query: []string{"expand"}, Handle: f.handleMe},
		{Pattern: "GET /api/v1/users/search", Query: append([]string{"query", "limit"}, list...), Handle: f.handleSearchUsers},
		{Pattern: "POST /api/v1/users", Query: []string{"expand"}, Handle: f.handleCreateUser},
		{Pattern: "GET /api/v1/tickets/search", Query: append([]string{"query", "limit", "condition"}, list...), Handle: f.handleSearchTickets},
		{Pattern: "POST /api/v1/tickets", Query: []string{"expand"}, Handle: f.handleCreateTicket},
		{Pattern: "GET /api/v1/tickets/{id}", Query: []string{"expand", "all", "full"}, Handle: f.handleShowTicket},
		{Pattern: "PUT /api/v1/tickets/{id}", Query: []string{"expand"}, Handle: f.handleUpdateTicket},
		{Pattern: "POST /api/v1/ticket_articles", Query: []string{"expand"}, Handle: f.handleCreateArticle},
		{Pattern: "GET /api/v1/ticket_articles/by_ticket/{id}", Query: list, Handle: f.handleArticlesByTicket},
		{Pattern: "GET /api/v1/ticket_attachment/{ticket}/{article}/{id}", Query: []string{"view", "disposition"}, Handle: f.handleAttachment},
		{Pattern: "GET /api/v1/ticket_states", Query: list, Handle: f.handleStates},
		{Pattern: "GET /api/v1/groups/{id}", Query: []string{"expand"}, Handle: f.handleShowGroup},
	}
	routes = append(routes, webhookAPI.routes(f, list)...)
	return append(routes, triggerAPI.routes(f, list)...)
}

func (f *Fake) handler() http.Handler {
	router := connectortest.NewRouter(f.routes())
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		f.requests.Add(Request{Method: r.Method, Path: r.URL.Path, Query: r.URL.RawQuery, ContentLength: r.ContentLength})
		if f.failures.Inject(w, r, failWith) {
			return
		}
		if r.ContentLength > MaxBody {
			// nginx: client_max_body_size 50M.
			w.Header().Set("Content-Type", "text/html")
			w.WriteHeader(http.StatusRequestEntityTooLarge)
			_, _ = io.WriteString(w, "<html><head><title>413 Request Entity Too Large</title></head></html>")
			return
		}
		switch status, param := router.Check(r, &f.violations, "Zammad"); status {
		case http.StatusNotFound:
			writeError(w, http.StatusNotFound, "No route matches ["+r.Method+"] \""+r.URL.Path+"\"")
			return
		case http.StatusBadRequest:
			writeError(w, http.StatusBadRequest, "unknown parameter "+param)
			return
		}
		switch auth := r.Header.Get("Authorization"); {
		case auth == "":
			writeError(w, http.StatusForbidden, "Authentication required")
			return
		case auth != "Token token="+APIToken:
			writeError(w, http.StatusUnauthorized, "Invalid token!")
			return
		}
		router.ServeHTTP(w, r)
	})
}

// failWith answers an injected failure as Zammad (or the proxy in front of
// it) does.
func failWith(w http.ResponseWriter, kind connectortest.Failure) {
	switch kind {
	case connectortest.FailRateLimited:
		// Zammad has no API rate limit of its own; a proxy in front of it
		// answers like this.
		w.Header().Set("Retry-After", strconv.Itoa(int(connectortest.RateLimitRetryAfter/time.Second)))
		w.Header().Set("Content-Type", "text/html")
		w.WriteHeader(http.StatusTooManyRequests)
		_, _ = io.WriteString(w, "<html><head><title>429 Too Many Requests</title></head></html>")
	case connectortest.FailUnauthorized:
		writeError(w, http.StatusUnauthorized, "Invalid token!")
	default: // FailServerError
		writeError(w, http.StatusInternalServerError, "Error ID Ab1x_Qz: Please contact your administrator.")
	}
}

// writeError answers like Zammad's HandlesErrors.
func writeError(w http.ResponseWriter, status int, msg string) {
	connectortest.WriteJSON(w, status, map[string]string{"error": msg, "error_human": msg})
}

// decode reads a JSON body strictly into v, writing the 400 itself.
func (f *Fake) decode(w http.ResponseWriter, r *http.Request, v any) bool {
	raw, bad := connectortest.DecodeJSON(&f.violations, r, v, MaxBody)
	if keys := connectortest.JSONKeys(raw); keys != nil {
		f.requests.UpdateLast(func(req *Request) { req.Fields = keys })
	}
	if bad != nil {
		writeError(w, bad.Status, bad.Message)
		return false
	}
	return true
}

func expand(r *http.Request) bool { return r.URL.Query().Get("expand") == "true" }

// JSON renderers. Callers hold f.mu.

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

// Users.

func (f *Fake) handleMe(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	defer f.mu.Unlock()
	connectortest.WriteJSON(w, http.StatusOK, f.userJSON(f.users[AgentID], expand(r)))
}

// term is one field:value term of a search query.
type term struct{ field, value string }

var termRE = regexp.MustCompile(`([a-z_.]+):("(?:[^"\\]|\\.)*"|\S+)|(\S+)`)

// parseQuery splits an Elasticsearch query string into terms; and reports
// whether they are joined with AND (else OR).
func parseQuery(q string) ([]term, bool) {
	var terms []term
	and := false
	for _, m := range termRE.FindAllStringSubmatch(q, -1) {
		switch {
		case m[3] == "AND":
			and = true
		case m[3] == "OR":
		case m[3] != "":
			terms = append(terms, term{value: m[3]})
		default:
			v := m[2]
			if uq, err := strconv.Unquote(v); err == nil {
				v = uq
			}
			terms = append(terms, term{field: m[1], value: v})
		}
	}
	return terms, and
}

func digits(s string) string {
	return strings.Map(func(r rune) rune {
		if r >= '0' && r <= '9' {
			return r
		}
		return -1
	}, s)
}

// matchUser applies a term as Elasticsearch would to analyzed fields:
// numbers match on their digits, text on words.
func matchUser(u *user, t term) bool {
	text := func(v string) bool { return v != "" && strings.Contains(strings.ToLower(v), strings.ToLower(t.value)) }
	number := func(v string) bool { return v != "" && digits(v) == digits(t.value) && digits(v) != "" }
	switch t.field {
	case "phone":
		return number(u.phone)
	case "mobile":
		return number(u.mobile)
	case "login":
		return text(u.login)
	case "email":
		return text(u.email)
	case "firstname":
		return text(u.firstname)
	case "lastname":
		return text(u.lastname)
	case "":
		return text(u.firstname) || text(u.lastname) || text(u.email) || text(u.login) || number(u.phone) || number(u.mobile)
	case "sql":
		return text(u.firstname) || text(u.lastname) || text(u.email) || text(u.login)
	}
	return false
}

func (f *Fake) handleSearchUsers(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	terms, and := parseQuery(q.Get("query"))
	f.mu.Lock()
	noIndex := f.noIndex
	f.mu.Unlock()
	if noIndex {
		// The database fallback: the whole query, LIKE '%query%'.
		terms, and = []term{{field: "sql", value: strings.ReplaceAll(q.Get("query"), "*", "")}}, false
	}
	if len(terms) == 0 {
		connectortest.WriteJSON(w, http.StatusOK, []userJSON{})
		return
	}
	for _, t := range terms {
		if strings.HasPrefix(t.value, "+") && !strings.HasPrefix(q.Get("query"), t.field+`:"`) && !strings.Contains(q.Get("query"), `"`+t.value+`"`) {
			f.violations.Addf("users/search: a leading + is an operator in Elasticsearch queries; quote %q", t.value)
		}
	}
	limit := 10
	if l := q.Get("limit"); l != "" {
		limit, _ = strconv.Atoi(l)
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	out := []userJSON{}
	for _, id := range f.userOrder {
		u := f.users[id]
		hit := and
		for _, t := range terms {
			if and {
				hit = hit && matchUser(u, t)
			} else {
				hit = hit || matchUser(u, t)
			}
		}
		if hit && len(out) < limit {
			out = append(out, f.userJSON(u, expand(r)))
		}
	}
	connectortest.WriteJSON(w, http.StatusOK, out)
}

func (f *Fake) handleCreateUser(w http.ResponseWriter, r *http.Request) {
	var req userRequest
	if !f.decode(w, r, &req) {
		return
	}
	if deref(req.Firstname) == "" && deref(req.Lastname) == "" && deref(req.Email) == "" && deref(req.Login) == "" && deref(req.Phone) == "" {
		writeError(w, http.StatusUnprocessableEntity, "At least one identifier (firstname, lastname, phone or email) for user is required.")
		return
	}
	roles := req.Roles
	if len(roles) == 0 {
		roles = []string{"Customer"} // Role.signup_role_ids
	}
	for _, role := range roles {
		if !slices.Contains([]string{"Admin", "Agent", "Customer"}, role) {
			writeError(w, http.StatusUnprocessableEntity, "No lookup value found for 'roles': \""+role+"\"")
			return
		}
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if email := strings.ToLower(deref(req.Email)); email != "" {
		for _, u := range f.users {
			if u.email == email {
				writeError(w, http.StatusUnprocessableEntity, "Email address '"+email+"' is already used for another user.")
				return
			}
		}
	}
	u := f.addUser(deref(req.Firstname), deref(req.Lastname), deref(req.Phone), deref(req.Mobile), deref(req.Note), slices.Clone(roles))
	u.email = strings.ToLower(deref(req.Email))
	if l := strings.ToLower(strings.TrimSpace(deref(req.Login))); l != "" {
		u.login = l
		// User#check_login: a taken login gets a number appended.
		for taken := true; taken; {
			taken = false
			for _, other := range f.users {
				if other.id != u.id && other.login == u.login {
					taken = true
					u.login = l + strconv.Itoa(int(f.newID()%1000))
				}
			}
		}
	} else if u.email != "" {
		u.login = u.email
	}
	connectortest.WriteJSON(w, http.StatusCreated, f.userJSON(u, expand(r)))
}

// Tickets.

func (f *Fake) handleSearchTickets(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	terms, and := parseQuery(q.Get("query"))
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.noIndex {
		terms, and = []term{{field: "title", value: q.Get("query")}}, false
	}
	var hits []*ticket
	for _, id := range f.ticketOrder {
		t := f.tickets[id]
		hit := and
		for _, term := range terms {
			var m bool
			switch term.field {
			case "customer_id":
				m = formatID(t.customerID) == term.value
			case "tags":
				m = slices.Contains(t.tags, term.value)
			case "title", "":
				m = strings.Contains(strings.ToLower(t.title), strings.ToLower(term.value))
			case "number":
				m = t.number == term.value
			case "state.name":
				m = t.state == term.value
			}
			if and {
				hit = hit && m
			} else {
				hit = hit || m
			}
		}
		if hit {
			hits = append(hits, t)
		}
	}
	if q.Get("sort_by") == "created_at" && q.Get("order_by") == "desc" {
		slices.Reverse(hits)
	}
	if l, err := strconv.Atoi(q.Get("limit")); err == nil && l < len(hits) {
		hits = hits[:l]
	}
	if expand(r) {
		out := []ticketJSON{}
		for _, t := range hits {
			out = append(out, f.ticketJSON(t, true))
		}
		connectortest.WriteJSON(w, http.StatusOK, out)
		return
	}
	ids := []int64{}
	assets := map[string]any{}
	for _, t := range hits {
		ids = append(ids, t.id)
		assets[formatID(t.id)] = f.ticketJSON(t, false)
	}
	connectortest.WriteJSON(w, http.StatusOK, map[string]any{"tickets": ids, "tickets_count": len(ids), "assets": map[string]any{"Ticket": assets}})
}

// lookupGroup resolves a group by name or id. Callers hold f.mu.
func (f *Fake) lookupGroup(name *string, id *int64) *group {
	if id != nil {
		return f.groups[*id]
	}
	for _, g := range f.groups {
		if name != nil && g.name == *name {
			return g
		}
	}
	return nil
}

// article validation and creation. Callers hold f.mu.
func (f *Fake) createArticle(w http.ResponseWriter, t *ticket, in *articleRequest) (*article, bool) {
	if in.Body == nil {
		writeError(w, http.StatusUnprocessableEntity, `Need at least article: { body: "some text" }`)
		return nil, false
	}
	typ := deref(in.Type)
	if typ == "" {
		typ = "note"
	}
	if _, ok := typeIDs[typ]; !ok {
		writeError(w, http.StatusUnprocessableEntity, "No lookup value found for 'type': \""+typ+"\"")
		return nil, false
	}
	sender := deref(in.Sender)
	if sender == "" {
		sender = "Agent"
	}
	if _, ok := senderIDs[sender]; !ok {
		writeError(w, http.StatusUnprocessableEntity, "No lookup value found for 'sender': \""+sender+"\"")
		return nil, false
	}
	var origin int64
	if in.OriginByID != nil {
		if f.users[*in.OriginByID] == nil {
			writeError(w, http.StatusUnprocessableEntity, "Invalid value for param 'origin_by_id': "+formatID(*in.OriginByID))
			return nil, false
		}
		origin = *in.OriginByID
	}
	ct := deref(in.ContentType)
	if ct == "" {
		ct = "text/plain"
	}
	var atts []*attachment
	for i, a := range in.Attachments {
		for key, v := range map[string]*string{"mime-type": a.MimeType, "filename": a.Filename, "data": a.Data} {
			if v == nil {
				writeError(w, http.StatusUnprocessableEntity, "Attachment needs '"+key+"' param for attachment with index '"+strconv.Itoa(i)+"'")
				return nil, false
			}
		}
		data, err := base64.StdEncoding.Strict().DecodeString(strings.NewReplacer("\r", "", "\n", "").Replace(*a.Data))
		if err != nil {
			writeError(w, http.StatusUnprocessableEntity, "Invalid base64 for attachment with index '"+strconv.Itoa(i)+"'")
			return nil, false
		}
		atts = append(atts, &attachment{id: f.newID(), filename: *a.Filename, mime: *a.MimeType, data: data})
	}
	return f.addArticle(t, *in.Body, ct, typ, sender, deref(in.Internal), AgentID, origin, atts), true
}

func (f *Fake) handleCreateTicket(w http.ResponseWriter, r *http.Request) {
	var req ticketRequest
	if !f.decode(w, r, &req) {
		return
	}
	if deref(req.Title) == "" {
		writeError(w, http.StatusUnprocessableEntity, "Attribute 'title' required!")
		return
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	g := f.lookupGroup(req.Group, req.GroupID)
	if g == nil {
		writeError(w, http.StatusUnprocessableEntity, "No lookup value found for 'group': \""+deref(req.Group)+"\"")
		return
	}
	if req.CustomerID == nil || f.users[*req.CustomerID] == nil {
		writeError(w, http.StatusUnprocessableEntity, "Attribute 'customer_id' required!")
		return
	}
	stateName := deref(req.State)
	if stateName == "" {
		stateName = "new"
	}
	if f.stateID(stateName) == 0 {
		writeError(w, http.StatusUnprocessableEntity, "No lookup value found for 'state': \""+stateName+"\"")
		return
	}
	var linked []int64
	if len(req.Links) > 0 {
		var links map[string]map[string][]int64
		if err := json.Unmarshal(req.Links, &links); err != nil {
			writeError(w, http.StatusUnprocessableEntity, "Invalid link structure")
			return
		}
		for obj, types := range links {
			for typ, ids := range types {
				if obj != "Ticket" || !slices.Contains([]string{"normal", "parent", "child"}, typ) {
					f.violations.Addf("POST tickets: unknown link %s/%s", obj, typ)
				}
				for _, id := range ids {
					if f.tickets[id] == nil {
						writeError(w, http.StatusUnprocessableEntity, "Unable to find Ticket with id "+formatID(id))
						return
					}
					linked = append(linked, id)
				}
			}
		}
	}
	now := f.now().UTC()
	t := &ticket{id: f.newID(), title: *req.Title, groupID: g.id, state: stateName, customerID: *req.CustomerID,
		preferences: cloneMap(req.Preferences), linked: linked, createdAt: now, updatedAt: now}
	t.number = strconv.FormatInt(31000+t.id, 10)
	if req.Tags != nil {
		for tag := range strings.SplitSeq(*req.Tags, ",") {
			if tag = strings.TrimSpace(tag); tag != "" && !slices.Contains(t.tags, tag) {
				t.tags = append(t.tags, tag)
			}
		}
	}
	if req.Article != nil {
		if req.Article.TicketID != nil {
			f.violations.Addf("POST tickets: article.ticket_id is not for ticket creation")
		}
		// The creation is one transaction: a bad article creates nothing.
		if _, ok := f.createArticle(w, t, req.Article); !ok {
			return
		}
	}
	f.tickets[t.id] = t
	f.ticketOrder = append(f.ticketOrder, t.id)
	connectortest.WriteJSON(w, http.StatusCreated, f.ticketJSON(t, expand(r)))
}

func (f *Fake) handleShowTicket(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	defer f.mu.Unlock()
	t := f.tickets[parseID(r.PathValue("id"))]
	if t == nil {
		writeError(w, http.StatusNotFound, "Couldn't find Ticket with 'id'="+r.PathValue("id"))
		return
	}
	connectortest.WriteJSON(w, http.StatusOK, f.ticketJSON(t, expand(r)))
}

func (f *Fake) handleUpdateTicket(w http.ResponseWriter, r *http.Request) {
	var req ticketRequest
	if !f.decode(w, r, &req) {
		return
	}
	if req.Links != nil {
		f.violations.Addf("PUT tickets: links are set at creation")
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	t := f.tickets[parseID(r.PathValue("id"))]
	if t == nil {
		writeError(w, http.StatusNotFound, "Couldn't find Ticket with 'id'="+r.PathValue("id"))
		return
	}
	if req.State != nil {
		if f.stateID(*req.State) == 0 {
			writeError(w, http.StatusUnprocessableEntity, "No lookup value found for 'state': \""+*req.State+"\"")
			return
		}
		f.setState(t, *req.State)
	}
	if req.Title != nil {
		t.title = *req.Title
	}
	if g := f.lookupGroup(req.Group, req.GroupID); g != nil {
		t.groupID = g.id
	}
	if req.Article != nil {
		if _, ok := f.createArticle(w, t, req.Article); !ok {
			return
		}
	}
	t.updatedAt = f.now().UTC()
	connectortest.WriteJSON(w, http.StatusOK, f.ticketJSON(t, expand(r)))
}

func (f *Fake) handleCreateArticle(w http.ResponseWriter, r *http.Request) {
	var req articleRequest
	if !f.decode(w, r, &req) {
		return
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if req.TicketID == nil || f.tickets[*req.TicketID] == nil {
		writeError(w, http.StatusNotFound, "Couldn't find Ticket with 'id'="+formatID(deref(req.TicketID)))
		return
	}
	a, ok := f.createArticle(w, f.tickets[*req.TicketID], &req)
	if !ok {
		return
	}
	connectortest.WriteJSON(w, http.StatusCreated, f.articleJSON(a))
}

func (f *Fake) handleArticlesByTicket(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	defer f.mu.Unlock()
	t := f.tickets[parseID(r.PathValue("id"))]
	if t == nil {
		writeError(w, http.StatusNotFound, "Couldn't find Ticket with 'id'="+r.PathValue("id"))
		return
	}
	out := []articleJSON{}
	for _, aid := range t.articles {
		out = append(out, f.articleJSON(f.articles[aid]))
	}
	connectortest.WriteJSON(w, http.StatusOK, out)
}

func (f *Fake) handleAttachment(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	a := f.articles[parseID(r.PathValue("article"))]
	var att *attachment
	if a != nil && formatID(a.ticketID) == r.PathValue("ticket") {
		for _, x := range a.attachments {
			if formatID(x.id) == r.PathValue("id") {
				att = x
			}
		}
	}
	f.mu.Unlock()
	if att == nil {
		writeError(w, http.StatusNotFound, "Couldn't find Store")
		return
	}
	w.Header().Set("Content-Type", att.mime)
	w.Header().Set("Content-Disposition", mime.FormatMediaType("attachment", map[string]string{"filename": att.filename}))
	w.Header().Set("Content-Length", strconv.Itoa(len(att.data)))
	_, _ = w.Write(att.data)
}

func (f *Fake) handleStates(w http.ResponseWriter, r *http.Request) {
	typeIDs := map[string]int64{"new": 1, "open": 2, "pending reminder": 3, "pending action": 4, "closed": 5, "merged": 6, "removed": 7}
	f.mu.Lock()
	defer f.mu.Unlock()
	out := []stateJSON{}
	for _, s := range f.states {
		j := stateJSON{ID: s.id, StateTypeID: typeIDs[s.stateType], Name: s.name, DefaultCreate: s.name == "new", DefaultFollowUp: s.name == "open", Active: true}
		if expand(r) {
			j.StateType = s.stateType
		}
		out = append(out, j)
	}
	connectortest.WriteJSON(w, http.StatusOK, out)
}

func (f *Fake) handleShowGroup(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.noGroupRead {
		writeError(w, http.StatusForbidden, "Not authorized")
		return
	}
	g := f.groups[parseID(r.PathValue("id"))]
	if g == nil {
		writeError(w, http.StatusNotFound, "Couldn't find Group with 'id'="+r.PathValue("id"))
		return
	}
	connectortest.WriteJSON(w, http.StatusOK, f.groupJSON(g))
}

// Webhooks and triggers.

func (f *Fake) webhookJSON(wh *webhook) webhookJSON {
	return webhookJSON{
		ID: wh.id, Name: wh.name, Endpoint: wh.endpoint, HTTPMethod: "post", SignatureToken: "**********", SSLVerify: true,
		BasicAuthPassword: "**********", BearerToken: "**********", Note: wh.note, Preferences: map[string]any{}, Active: wh.active,
		UpdatedByID: AgentID, CreatedByID: AgentID, CreatedAt: ts(wh.created), UpdatedAt: ts(wh.created),
	}
}

// applyWebhook validates and applies a webhook request. Callers hold f.mu.
func (f *Fake) applyWebhook(w http.ResponseWriter, wh *webhook, req webhookRequest) bool {
	if req.Name != nil {
		for _, other := range f.webhooks {
			if other.id != wh.id && other.name == *req.Name {
				writeError(w, http.StatusUnprocessableEntity, "Name has already been taken")
				return false
			}
		}
		wh.name = *req.Name
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
		f.violations.Addf("webhooks: a custom payload replaces the default payload relaydesk parses")
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

// applyTrigger validates and applies a trigger request. Callers hold f.mu.
func (f *Fake) applyTrigger(w http.ResponseWriter, t *trigger, req triggerRequest) bool {
	if req.Name != nil {
		for _, other := range f.triggers {
			if other.id != t.id && other.name == *req.Name {
				writeError(w, http.StatusUnprocessableEntity, "Name has already been taken")
				return false
			}
		}
		t.name = *req.Name
	}
	if req.Condition != nil {
		for field, raw := range req.Condition {
			var cv conditionValue
			dec := json.NewDecoder(bytes.NewReader(raw))
			dec.DisallowUnknownFields()
			if err := dec.Decode(&cv); err != nil || !slices.Contains(operators, cv.Operator) {
				f.violations.Addf("triggers: condition %q is not {operator, value} with a known operator: %s", field, raw)
				writeError(w, http.StatusUnprocessableEntity, "Invalid condition")
				return false
			}
			if !strings.HasPrefix(field, "ticket.") && !strings.HasPrefix(field, "article.") && !strings.HasPrefix(field, "customer.") {
				f.violations.Addf("triggers: unknown condition attribute %q", field)
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

// collection is an API resource (webhooks, triggers) the fake lists,
// creates, updates and deletes by id in the same way; what differs is in
// its functions, which run with f.mu held. T is the record, Req the request
// body and J the JSON answer.
type collection[T, Req, J any] struct {
	// name is the model in errors: "Couldn't find <name> with 'id'=…".
	name string
	// path is the collection's path: "/api/v1/webhooks".
	path  string
	store func(f *Fake) (map[int64]*T, *[]int64)
	// create returns a new record with its defaults.
	create func(f *Fake) (int64, *T)
	// apply validates and applies a request, answering when it refuses it.
	apply  func(f *Fake, w http.ResponseWriter, rec *T, req Req) bool
	render func(f *Fake, rec *T) J
	// updated, when set, runs after an update.
	updated func(f *Fake, id int64)
	// refuseDelete, when set, answers and reports true when a record
	// cannot be deleted.
	refuseDelete func(f *Fake, w http.ResponseWriter, id int64) bool
}

var webhookAPI = collection[webhook, webhookRequest, webhookJSON]{
	name: "Webhook", path: "/api/v1/webhooks",
	store: func(f *Fake) (map[int64]*webhook, *[]int64) { return f.webhooks, &f.webhookOrder },
	create: func(f *Fake) (int64, *webhook) {
		wh := &webhook{id: f.newID(), active: true, created: f.now().UTC()}
		return wh.id, wh
	},
	apply:  (*Fake).applyWebhook,
	render: (*Fake).webhookJSON,
	updated: func(f *Fake, id int64) {
		// The last webhook written is the one whose token signs.
		f.webhookOrder = append(slices.DeleteFunc(f.webhookOrder, func(x int64) bool { return x == id }), id)
	},
	refuseDelete: func(f *Fake, w http.ResponseWriter, id int64) bool {
		for _, t := range f.triggers {
			if webhookOf(t) == id {
				writeError(w, http.StatusUnprocessableEntity, "This object is referenced by other object(s) and thus cannot be deleted: Trigger / "+t.name)
				return true
			}
		}
		return false
	},
}

var triggerAPI = collection[trigger, triggerRequest, triggerJSON]{
	name: "Trigger", path: "/api/v1/triggers",
	store: func(f *Fake) (map[int64]*trigger, *[]int64) { return f.triggers, &f.triggerOrder },
	create: func(f *Fake) (int64, *trigger) {
		t := &trigger{id: f.newID(), activator: "action", mode: "selective", active: true, created: f.now().UTC()}
		return t.id, t
	},
	apply:  (*Fake).applyTrigger,
	render: (*Fake).triggerJSON,
}

func (c collection[T, Req, J]) routes(f *Fake, list []string) []connectortest.Route {
	return []connectortest.Route{
		{Pattern: "GET " + c.path, Query: list, Handle: func(w http.ResponseWriter, r *http.Request) { c.handleList(f, w) }},
		{Pattern: "POST " + c.path, Handle: func(w http.ResponseWriter, r *http.Request) { c.handleCreate(f, w, r) }},
		{Pattern: "PUT " + c.path + "/{id}", Handle: func(w http.ResponseWriter, r *http.Request) { c.handleUpdate(f, w, r) }},
		{Pattern: "DELETE " + c.path + "/{id}", Handle: func(w http.ResponseWriter, r *http.Request) { c.handleDelete(f, w, r) }},
	}
}

func (c collection[T, Req, J]) handleList(f *Fake, w http.ResponseWriter) {
	f.mu.Lock()
	defer f.mu.Unlock()
	byID, order := c.store(f)
	out := []J{}
	for _, id := range *order {
		out = append(out, c.render(f, byID[id]))
	}
	connectortest.WriteJSON(w, http.StatusOK, out)
}

func (c collection[T, Req, J]) handleCreate(f *Fake, w http.ResponseWriter, r *http.Request) {
	var req Req
	if !f.decode(w, r, &req) {
		return
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	id, rec := c.create(f)
	if !c.apply(f, w, rec, req) {
		return
	}
	byID, order := c.store(f)
	byID[id] = rec
	*order = append(*order, id)
	connectortest.WriteJSON(w, http.StatusCreated, c.render(f, rec))
}

func (c collection[T, Req, J]) handleUpdate(f *Fake, w http.ResponseWriter, r *http.Request) {
	var req Req
	if !f.decode(w, r, &req) {
		return
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	byID, _ := c.store(f)
	id := parseID(r.PathValue("id"))
	rec := byID[id]
	if rec == nil {
		writeError(w, http.StatusNotFound, "Couldn't find "+c.name+" with 'id'="+r.PathValue("id"))
		return
	}
	next := *rec
	if !c.apply(f, w, &next, req) {
		return
	}
	*rec = next
	if c.updated != nil {
		c.updated(f, id)
	}
	connectortest.WriteJSON(w, http.StatusOK, c.render(f, rec))
}

func (c collection[T, Req, J]) handleDelete(f *Fake, w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	defer f.mu.Unlock()
	byID, order := c.store(f)
	id := parseID(r.PathValue("id"))
	if byID[id] == nil {
		writeError(w, http.StatusNotFound, "Couldn't find "+c.name+" with 'id'="+r.PathValue("id"))
		return
	}
	if c.refuseDelete != nil && c.refuseDelete(f, w, id) {
		return
	}
	delete(byID, id)
	*order = slices.DeleteFunc(*order, func(x int64) bool { return x == id })
	connectortest.WriteJSON(w, http.StatusOK, map[string]any{})
}
