package freshdesktest

import (
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/relaydesk/relaydesk/connectors/connectortest"
)

// Wire types, in Freshdesk's field names.

type contactJSON struct {
	ID        int64   `json:"id"`
	Name      string  `json:"name"`
	Email     *string `json:"email"`
	Phone     *string `json:"phone"`
	Mobile    *string `json:"mobile"`
	Active    bool    `json:"active"`
	CreatedAt string  `json:"created_at"`
	UpdatedAt string  `json:"updated_at"`
}

type attachmentJSON struct {
	ID            int64  `json:"id"`
	Name          string `json:"name"`
	ContentType   string `json:"content_type"`
	Size          int    `json:"size"`
	AttachmentURL string `json:"attachment_url"`
	CreatedAt     string `json:"created_at"`
	UpdatedAt     string `json:"updated_at"`
}

type ticketJSON struct {
	ID              int64             `json:"id"`
	Subject         string            `json:"subject"`
	Description     *string           `json:"description,omitempty"`
	DescriptionText *string           `json:"description_text,omitempty"`
	Status          int               `json:"status"`
	Priority        int               `json:"priority"`
	Source          int               `json:"source"`
	RequesterID     int64             `json:"requester_id"`
	ResponderID     *int64            `json:"responder_id"`
	GroupID         *int64            `json:"group_id"`
	Type            *string           `json:"type"`
	Tags            []string          `json:"tags"`
	CustomFields    map[string]string `json:"custom_fields"`
	Attachments     []attachmentJSON  `json:"attachments,omitempty"`
	CreatedAt       string            `json:"created_at"`
	UpdatedAt       string            `json:"updated_at"`
}

type conversationJSON struct {
	ID           int64            `json:"id"`
	Body         string           `json:"body"`
	BodyText     string           `json:"body_text"`
	Incoming     bool             `json:"incoming"`
	Private      bool             `json:"private"`
	UserID       int64            `json:"user_id"`
	Source       int              `json:"source"`
	TicketID     int64            `json:"ticket_id"`
	SupportEmail *string          `json:"support_email"`
	ToEmails     []string         `json:"to_emails"`
	Attachments  []attachmentJSON `json:"attachments"`
	CreatedAt    string           `json:"created_at"`
	UpdatedAt    string           `json:"updated_at"`
}

const tsFormat = time.RFC3339

// Renderers. Callers hold f.mu.

func optional(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}

func (f *Fake) contactJSON(c *contact) contactJSON {
	ts := c.createdAt.Format(tsFormat)
	return contactJSON{ID: c.id, Name: c.name, Email: optional(c.email), Phone: optional(c.phone), Mobile: optional(c.mobile), Active: false, CreatedAt: ts, UpdatedAt: ts}
}

func (f *Fake) attachmentsJSON(tokens []string) []attachmentJSON {
	out := []attachmentJSON{}
	for _, tok := range tokens {
		fl := f.files[tok]
		out = append(out, attachmentJSON{
			ID: fl.id, Name: fl.name, ContentType: fl.contentType, Size: len(fl.data),
			// A signed file-store link: no API key needed.
			AttachmentURL: f.URL + "/files/" + fl.token + "?X-Amz-Signature=fake",
			CreatedAt:     f.now().UTC().Format(tsFormat), UpdatedAt: f.now().UTC().Format(tsFormat),
		})
	}
	return out
}

func (f *Fake) ticketJSON(t *ticket, withDescription bool) ticketJSON {
	j := ticketJSON{
		ID: t.id, Subject: t.subject, Status: t.status, Priority: t.priority, Source: t.source, RequesterID: t.requesterID,
		Tags: slices.Clone(t.tags), CustomFields: map[string]string{ExternalIDField: t.custom[ExternalIDField]},
		CreatedAt: t.createdAt.Format(tsFormat), UpdatedAt: t.updatedAt.Format(tsFormat),
	}
	if j.Tags == nil {
		j.Tags = []string{}
	}
	if withDescription {
		text := htmlText(t.description)
		j.Description, j.DescriptionText = &t.description, &text
		j.Attachments = f.attachmentsJSON(t.files)
	}
	return j
}

func (f *Fake) conversationJSON(c *conv) conversationJSON {
	ts := c.createdAt.Format(tsFormat)
	return conversationJSON{
		ID: c.id, Body: c.body, BodyText: htmlText(c.body), Incoming: c.incoming, Private: c.private, UserID: c.userID,
		Source: c.source, TicketID: c.ticketID, ToEmails: []string{}, Attachments: f.attachmentsJSON(c.files), CreatedAt: ts, UpdatedAt: ts,
	}
}

func (f *Fake) handleMe(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	defer f.mu.Unlock()
	a := f.contacts[f.agentID]
	connectortest.WriteJSON(w, http.StatusOK, map[string]any{
		"id": a.id, "available": true, "occasional": false, "ticket_scope": 1,
		"contact": map[string]any{"name": a.name, "email": a.email}, "created_at": a.createdAt.Format(tsFormat),
	})
}

func (f *Fake) handleListContacts(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	f.mu.Lock()
	var out []contactJSON
	for _, id := range f.order {
		c := f.contacts[id]
		if c.agent {
			continue
		}
		// Exact filters, as Freshdesk's are.
		if (q.Has("phone") && c.phone != q.Get("phone")) || (q.Has("mobile") && c.mobile != q.Get("mobile")) || (q.Has("email") && !strings.EqualFold(c.email, q.Get("email"))) {
			continue
		}
		out = append(out, f.contactJSON(c))
	}
	f.mu.Unlock()
	paginate(f, w, r, out)
}

func (f *Fake) handleCreateContact(w http.ResponseWriter, r *http.Request) {
	var in struct {
		Name             string  `json:"name"`
		Email            *string `json:"email"`
		Phone            *string `json:"phone"`
		Mobile           *string `json:"mobile"`
		TwitterID        *string `json:"twitter_id"`
		UniqueExternalID *string `json:"unique_external_id"`
		Description      *string `json:"description"`
		JobTitle         *string `json:"job_title"`
		Language         *string `json:"language"`
		TimeZone         *string `json:"time_zone"`
	}
	if !f.decodeJSON(w, r, &in) {
		return
	}
	deref := func(p *string) string {
		if p == nil {
			return ""
		}
		return *p
	}
	if strings.TrimSpace(in.Name) == "" {
		writeValidation(w, "name", "missing_field", "It should be a/an String")
		return
	}
	if deref(in.Email) == "" && deref(in.Phone) == "" && deref(in.Mobile) == "" && deref(in.TwitterID) == "" && deref(in.UniqueExternalID) == "" {
		writeValidation(w, "requester_id", "missing_field", "Please fill at least 1 of email, mobile, phone, twitter_id, unique_external_id fields")
		return
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	c := &contact{id: f.newID(), name: in.Name, email: deref(in.Email), phone: deref(in.Phone), mobile: deref(in.Mobile), createdAt: f.now().UTC()}
	f.contacts[c.id] = c
	f.order = append(f.order, c.id)
	connectortest.WriteJSON(w, http.StatusCreated, f.contactJSON(c))
}

func (f *Fake) handleListTickets(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	var since time.Time
	if v := q.Get("updated_since"); v != "" {
		t, err := time.Parse(time.RFC3339, v)
		if err != nil {
			f.violations.Addf("GET /api/v2/tickets: updated_since %q is not ISO 8601", v)
			writeValidation(w, "updated_since", "invalid_value", "It should be in the 'valid date time' format")
			return
		}
		since = t
	}
	orderBy, orderType := q.Get("order_by"), q.Get("order_type")
	if orderBy != "" && !slices.Contains([]string{"created_at", "due_by", "updated_at", "status"}, orderBy) {
		writeValidation(w, "order_by", "invalid_value", "It should be one of these values: 'created_at,due_by,updated_at,status'")
		return
	}
	if orderType != "" && orderType != "asc" && orderType != "desc" {
		writeValidation(w, "order_type", "invalid_value", "It should be one of these values: 'asc,desc'")
		return
	}
	f.mu.Lock()
	var list []*ticket
	for _, id := range f.ticketOrder {
		t := f.tickets[id]
		if v := q.Get("requester_id"); v != "" && formatID(t.requesterID) != v {
			continue
		}
		if !since.IsZero() && t.updatedAt.Before(since) {
			continue
		}
		list = append(list, t)
	}
	key := func(t *ticket) time.Time {
		if orderBy == "updated_at" {
			return t.updatedAt
		}
		return t.createdAt
	}
	slices.SortStableFunc(list, func(a, b *ticket) int {
		c := key(a).Compare(key(b))
		if c == 0 {
			c = int(a.id - b.id)
		}
		if orderType != "asc" {
			c = -c
		}
		return c
	})
	withDesc := q.Get("include") == "description"
	out := make([]ticketJSON, 0, len(list))
	for _, t := range list {
		out = append(out, f.ticketJSON(t, withDesc))
	}
	f.mu.Unlock()
	paginate(f, w, r, out)
}

// ticketInput is the JSON of ticket creation and update.
type ticketInput struct {
	RequesterID  *int64            `json:"requester_id"`
	Subject      *string           `json:"subject"`
	Description  *string           `json:"description"`
	Status       *int              `json:"status"`
	Priority     *int              `json:"priority"`
	Source       *int              `json:"source"`
	Tags         []string          `json:"tags"`
	CustomFields map[string]string `json:"custom_fields"`
	Type         *string           `json:"type"`
	GroupID      *int64            `json:"group_id"`
	ResponderID  *int64            `json:"responder_id"`
}

var ticketFormFields = []string{"requester_id", "subject", "description", "status", "priority", "source", "tags", "custom_fields", "type", "group_id", "responder_id"}

func intField(form map[string][]string, key string) (*int64, bool) {
	v, ok := form[key]
	if !ok {
		return nil, true
	}
	n, err := strconv.ParseInt(v[0], 10, 64)
	if err != nil {
		return nil, false
	}
	return &n, true
}

// fromForm fills in from multipart fields; false on a non-integer number.
func (in *ticketInput) fromForm(form map[string][]string) bool {
	str := func(key string) *string {
		if v, ok := form[key]; ok {
			return &v[0]
		}
		return nil
	}
	in.Subject, in.Description, in.Type = str("subject"), str("description"), str("type")
	in.Tags = form["tags[]"]
	for key, v := range form {
		if name, ok := strings.CutPrefix(key, "custom_fields["); ok {
			if in.CustomFields == nil {
				in.CustomFields = map[string]string{}
			}
			in.CustomFields[strings.TrimSuffix(name, "]")] = v[0]
		}
	}
	var ok bool
	var n *int64
	for _, k := range []struct {
		key string
		dst **int
	}{{"status", &in.Status}, {"priority", &in.Priority}, {"source", &in.Source}} {
		if n, ok = intField(form, k.key); !ok {
			return false
		}
		if n != nil {
			v := int(*n)
			*k.dst = &v
		}
	}
	if in.RequesterID, ok = intField(form, "requester_id"); !ok {
		return false
	}
	return true
}

func (f *Fake) handleCreateTicket(w http.ResponseWriter, r *http.Request) {
	var in ticketInput
	form, files, ok := f.readBody(w, r, &in, ticketFormFields)
	if !ok {
		return
	}
	if form != nil && !in.fromForm(form) {
		f.violations.Addf("POST /api/v2/tickets: a number field is not an integer")
		writeValidation(w, "status", "datatype_mismatch", "It should be a/an Positive Integer")
		return
	}
	switch {
	case in.RequesterID == nil:
		writeValidation(w, "requester_id", "missing_field", "Please fill at least 1 of email, mobile, phone, requester_id fields")
		return
	case in.Subject == nil || in.Description == nil:
		writeValidation(w, "subject", "missing_field", "It should be a/an String")
		return
	case in.Status == nil || *in.Status < 2:
		writeValidation(w, "status", "missing_field", "It should be one of these values: '2,3,4,5'")
		return
	case in.Priority == nil || *in.Priority < 1 || *in.Priority > 4:
		writeValidation(w, "priority", "missing_field", "It should be one of these values: '1,2,3,4'")
		return
	}
	for k := range in.CustomFields {
		if k != ExternalIDField {
			f.violations.Addf("POST /api/v2/tickets: unknown custom field %q", k)
			writeValidation(w, k, "invalid_field", "Unexpected/invalid field in request")
			return
		}
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if c := f.contacts[*in.RequesterID]; c == nil {
		writeValidation(w, "requester_id", "invalid_value", "There is no contact matching the given requester_id")
		return
	}
	now := f.now().UTC()
	t := &ticket{
		id: f.nextTicketID(), subject: *in.Subject, description: *in.Description, status: *in.Status, priority: *in.Priority,
		requesterID: *in.RequesterID, tags: in.Tags, custom: in.CustomFields, createdAt: now, updatedAt: now, source: 2,
	}
	if in.Source != nil {
		t.source = *in.Source
	}
	if t.custom == nil {
		t.custom = map[string]string{}
	}
	for _, fl := range files {
		t.files = append(t.files, f.addFile(fl.name, fl.contentType, fl.data))
	}
	f.tickets[t.id] = t
	f.ticketOrder = append(f.ticketOrder, t.id)
	connectortest.WriteJSON(w, http.StatusCreated, f.ticketJSON(t, true))
}

// nextTicketID gives tickets small numbers, as Freshdesk does. Callers hold
// f.mu.
func (f *Fake) nextTicketID() int64 { return int64(len(f.ticketOrder) + 1) }

func (f *Fake) ticketFor(w http.ResponseWriter, r *http.Request) *ticket {
	t := f.tickets[parseID(r.PathValue("id"))]
	if t == nil {
		writeError(w, http.StatusNotFound, "", "Resource not found")
	}
	return t
}

func (f *Fake) handleShowTicket(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if t := f.ticketFor(w, r); t != nil {
		connectortest.WriteJSON(w, http.StatusOK, f.ticketJSON(t, true))
	}
}

func (f *Fake) handleUpdateTicket(w http.ResponseWriter, r *http.Request) {
	var in ticketInput
	if _, _, ok := f.readBody(w, r, &in, ticketFormFields); !ok {
		return
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	t := f.ticketFor(w, r)
	if t == nil {
		return
	}
	if in.Status != nil {
		if *in.Status < 2 {
			writeValidation(w, "status", "invalid_value", "It should be one of these values: '2,3,4,5'")
			return
		}
		t.status = *in.Status
	}
	if in.Priority != nil {
		t.priority = *in.Priority
	}
	if in.Tags != nil {
		t.tags = in.Tags
	}
	t.updatedAt = f.now().UTC()
	connectortest.WriteJSON(w, http.StatusOK, f.ticketJSON(t, true))
}

func (f *Fake) handleNote(w http.ResponseWriter, r *http.Request) {
	var in struct {
		Body         *string  `json:"body"`
		Incoming     *bool    `json:"incoming"`
		Private      *bool    `json:"private"`
		UserID       *int64   `json:"user_id"`
		NotifyEmails []string `json:"notify_emails"`
	}
	form, files, ok := f.readBody(w, r, &in, []string{"body", "incoming", "private", "user_id", "notify_emails"})
	if !ok {
		return
	}
	if form != nil {
		if v, ok := form["body"]; ok {
			in.Body = &v[0]
		}
		for key, dst := range map[string]**bool{"incoming": &in.Incoming, "private": &in.Private} {
			if v, ok := form[key]; ok {
				b, err := strconv.ParseBool(v[0])
				if err != nil {
					writeValidation(w, key, "datatype_mismatch", "It should be a/an Boolean")
					return
				}
				*dst = &b
			}
		}
		var ok bool
		if in.UserID, ok = intField(form, "user_id"); !ok {
			writeValidation(w, "user_id", "datatype_mismatch", "It should be a/an Positive Integer")
			return
		}
	}
	if in.Body == nil || strings.TrimSpace(*in.Body) == "" {
		writeValidation(w, "body", "missing_field", "It should be a/an String")
		return
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	t := f.ticketFor(w, r)
	if t == nil {
		return
	}
	user := f.agentID
	if in.UserID != nil {
		if f.contacts[*in.UserID] == nil {
			writeValidation(w, "user_id", "invalid_value", "There is no user matching the given user_id")
			return
		}
		user = *in.UserID
	}
	private := in.Private == nil || *in.Private // notes are private by default
	incoming := in.Incoming != nil && *in.Incoming
	var toks []string
	for _, fl := range files {
		toks = append(toks, f.addFile(fl.name, fl.contentType, fl.data))
	}
	c := f.addConv(t, user, *in.Body, incoming, private, 2, toks)
	connectortest.WriteJSON(w, http.StatusCreated, f.conversationJSON(c))
}

func (f *Fake) handleConversations(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	t := f.ticketFor(w, r)
	if t == nil {
		f.mu.Unlock()
		return
	}
	out := make([]conversationJSON, 0, len(t.convs))
	for _, cid := range t.convs {
		out = append(out, f.conversationJSON(f.convs[cid]))
	}
	f.mu.Unlock()
	paginate(f, w, r, out)
}

func (f *Fake) handleDownload(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	fl := f.files[r.PathValue("token")]
	f.mu.Unlock()
	if fl == nil || r.URL.Query().Get("X-Amz-Signature") == "" {
		http.Error(w, "AccessDenied", http.StatusForbidden)
		return
	}
	w.Header().Set("Content-Type", fl.contentType)
	_, _ = w.Write(fl.data)
}
