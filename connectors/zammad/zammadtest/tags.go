package zammadtest

import (
	"net/http"
	"slices"

	"github.com/relaydesk/relaydesk/connectors/connectortest"
)

// tagRequest is the body of POST /api/v1/tags/add and DELETE
// /api/v1/tags/remove.
type tagRequest struct {
	Object *string `json:"object"`
	OID    *int64  `json:"o_id"`
	Item   *string `json:"item"`
}

func (f *Fake) tagRoutes() []connectortest.Route {
	return []connectortest.Route{
		{Pattern: "POST /api/v1/tags/add", Handle: connectortest.JSONHandler(&f.Mu, f.decode, f.handleTag(true))},
		{Pattern: "DELETE /api/v1/tags/remove", Handle: connectortest.JSONHandler(&f.Mu, f.decode, f.handleTag(false))},
	}
}

// handleTag adds or removes a ticket tag as Zammad's tag API does: object
// must be "Ticket", o_id an existing ticket, item the tag; it answers true.
// Adding a tag already there or removing one that is not changes nothing.
func (f *Fake) handleTag(add bool) func(w http.ResponseWriter, r *http.Request, req *tagRequest) {
	return func(w http.ResponseWriter, r *http.Request, req *tagRequest) {
		if req.Object == nil || *req.Object != "Ticket" || req.OID == nil || req.Item == nil || *req.Item == "" {
			f.Violate("%s %s: object (Ticket), o_id and item are required", r.Method, r.URL.Path)
			writeError(w, http.StatusUnprocessableEntity, "Need object, o_id and item")
			return
		}
		t := f.tickets[*req.OID]
		if t == nil {
			writeError(w, http.StatusNotFound, "Couldn't find Ticket with 'id'")
			return
		}
		has := slices.Contains(t.tags, *req.Item)
		switch {
		case add && !has:
			t.tags = append(t.tags, *req.Item)
		case !add && has:
			t.tags = slices.DeleteFunc(t.tags, func(x string) bool { return x == *req.Item })
		}
		connectortest.WriteJSON(w, http.StatusOK, true)
	}
}
