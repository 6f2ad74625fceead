package zammadtest

import (
	"net/http"
	"slices"

	"github.com/relaydesk/relaydesk/connectors/connectortest"
)

// collection is an API resource (webhooks, triggers) the fake lists,
// creates, updates and deletes by id in the same way; what differs is in
// its functions, which run with f.Mu held (the routes take it). T is the record, Req the request
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
		{Pattern: "GET " + c.path, Query: list, Handle: connectortest.Locking(&f.Mu, func(w http.ResponseWriter, r *http.Request) { c.handleList(f, w) })},
		{Pattern: "POST " + c.path, Handle: connectortest.JSONHandler(&f.Mu, f.decode, func(w http.ResponseWriter, r *http.Request, req *Req) { c.handleCreate(f, w, *req) })},
		{Pattern: "PUT " + c.path + "/{id}", Handle: connectortest.JSONHandler(&f.Mu, f.decode, func(w http.ResponseWriter, r *http.Request, req *Req) { c.handleUpdate(f, w, r, *req) })},
		{Pattern: "DELETE " + c.path + "/{id}", Handle: connectortest.Locking(&f.Mu, func(w http.ResponseWriter, r *http.Request) { c.handleDelete(f, w, r) })},
	}
}

func (c collection[T, Req, J]) handleList(f *Fake, w http.ResponseWriter) {
	byID, order := c.store(f)
	out := []J{}
	for _, id := range *order {
		out = append(out, c.render(f, byID[id]))
	}
	connectortest.WriteJSON(w, http.StatusOK, out)
}

func (c collection[T, Req, J]) handleCreate(f *Fake, w http.ResponseWriter, req Req) {
	id, rec := c.create(f)
	if !c.apply(f, w, rec, req) {
		return
	}
	byID, order := c.store(f)
	byID[id] = rec
	*order = append(*order, id)
	connectortest.WriteJSON(w, http.StatusCreated, c.render(f, rec))
}

func (c collection[T, Req, J]) handleUpdate(f *Fake, w http.ResponseWriter, r *http.Request, req Req) {
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
