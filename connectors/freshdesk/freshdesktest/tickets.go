package freshdesktest

import (
	"net/http"
	"slices"
	"time"

	"github.com/relaydesk/relaydesk/connectors/connectortest"
)

// ticketFormFields are the fields of a ticket creation or update form.
var ticketFormFields = []string{"requester_id", "subject", "description", "status", "priority", "source", "tags", "custom_fields", "type", "group_id", "responder_id"}

func (f *Fake) handleListTickets(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	var since time.Time
	if v := q.Get("updated_since"); v != "" {
		t, err := time.Parse(time.RFC3339, v)
		if err != nil {
			f.Violate("GET /api/v2/tickets: updated_since %q is not ISO 8601", v)
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
	f.Mu.Lock()
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
	f.Mu.Unlock()
	paginate(f, w, r, out)
}

// ticketInput is the JSON of ticket creation and update.
type ticketInput struct {
	Tags         []string          `json:"tags"`
	Subject      *string           `json:"subject"`
	Description  *string           `json:"description"`
	Type         *string           `json:"type"`
	Status       *int              `json:"status"`
	CustomFields map[string]string `json:"custom_fields"`
	Priority     *int              `json:"priority"`
	Source       *int              `json:"source"`
	RequesterID  *int64            `json:"requester_id"`
	GroupID      *int64            `json:"group_id"`
	ResponderID  *int64            `json:"responder_id"`
}

func (f *Fake) handleCreateTicket(w http.ResponseWriter, r *http.Request) {
	var in ticketInput
	form, files, ok := f.readBody(w, r, &in, ticketFormFields)
	if !ok {
		return
	}
	if form != nil && !in.fromForm(form) {
		f.Violate("POST /api/v2/tickets: a number field is not an integer")
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
			f.Violate("POST /api/v2/tickets: unknown custom field %q", k)
			writeValidation(w, k, "invalid_field", "Unexpected/invalid field in request")
			return
		}
	}
	f.Mu.Lock()
	defer f.Mu.Unlock()
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
// f.Mu.
func (f *Fake) nextTicketID() int64 { return int64(len(f.ticketOrder) + 1) }

func (f *Fake) ticketFor(w http.ResponseWriter, r *http.Request) *ticket {
	t := f.tickets[parseID(r.PathValue("id"))]
	if t == nil {
		writeError(w, http.StatusNotFound, "", "Resource not found")
	}
	return t
}

// onTicket runs fn, with f.Mu held, on the ticket of the request's path,
// or answers 404.
func (f *Fake) onTicket(w http.ResponseWriter, r *http.Request, fn func(t *ticket)) {
	f.Mu.Lock()
	defer f.Mu.Unlock()
	if t := f.ticketFor(w, r); t != nil {
		fn(t)
	}
}

func (f *Fake) handleShowTicket(w http.ResponseWriter, r *http.Request) {
	if t := f.ticketFor(w, r); t != nil {
		connectortest.WriteJSON(w, http.StatusOK, f.ticketJSON(t, true))
	}
}

func (f *Fake) handleUpdateTicket(w http.ResponseWriter, r *http.Request) {
	var in ticketInput
	if _, _, ok := f.readBody(w, r, &in, ticketFormFields); !ok {
		return
	}
	f.onTicket(w, r, func(t *ticket) {
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
	})
}
