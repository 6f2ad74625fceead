package zammadtest

import (
	"cmp"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"slices"
	"strconv"
	"strings"

	"github.com/relaydesk/relaydesk/connectors/connectortest"
)

// Tickets.

func (f *Fake) handleSearchTickets(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	terms, and := parseQuery(q.Get("query"))
	f.Mu.Lock()
	defer f.Mu.Unlock()
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

// lookupGroup resolves a group by name or id. Callers hold f.Mu.
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

// lookupValue returns a lookup field's value in a request, or def when it
// has none, and answers 422 when the value is not one of ids.
func lookupValue[ID any](w http.ResponseWriter, field string, v *string, def string, ids map[string]ID) (string, bool) {
	s := cmp.Or(deref(v), def)
	if _, ok := ids[s]; !ok {
		writeError(w, http.StatusUnprocessableEntity, "No lookup value found for '"+field+"': \""+s+"\"")
		return "", false
	}
	return s, true
}

// article validation and creation. Callers hold f.Mu.
func (f *Fake) createArticle(w http.ResponseWriter, t *ticket, in *articleRequest) (*article, bool) {
	if in.Body == nil {
		writeError(w, http.StatusUnprocessableEntity, `Need at least article: { body: "some text" }`)
		return nil, false
	}
	typ, ok := lookupValue(w, "type", in.Type, "note", typeIDs)
	if !ok {
		return nil, false
	}
	sender, ok := lookupValue(w, "sender", in.Sender, "Agent", senderIDs)
	if !ok {
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
	f.Mu.Lock()
	defer f.Mu.Unlock()
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
					f.Violate("POST tickets: unknown link %s/%s", obj, typ)
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
			f.Violate("POST tickets: article.ticket_id is not for ticket creation")
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
		f.Violate("PUT tickets: links are set at creation")
	}
	f.Mu.Lock()
	defer f.Mu.Unlock()
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
