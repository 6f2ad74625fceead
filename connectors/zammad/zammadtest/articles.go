package zammadtest

import (
	"mime"
	"net/http"
	"strconv"

	"github.com/relaydesk/relaydesk/connectors/connectortest"
)

func (f *Fake) handleCreateArticle(w http.ResponseWriter, r *http.Request, req *articleRequest) {
	if req.TicketID == nil || f.tickets[*req.TicketID] == nil {
		writeError(w, http.StatusNotFound, "Couldn't find Ticket with 'id'="+formatID(deref(req.TicketID)))
		return
	}
	a, ok := f.createArticle(w, f.tickets[*req.TicketID], req)
	if !ok {
		return
	}
	connectortest.WriteJSON(w, http.StatusCreated, f.articleJSON(a))
}

func (f *Fake) handleArticlesByTicket(w http.ResponseWriter, r *http.Request) {
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
	f.Mu.Lock()
	a := f.articles[parseID(r.PathValue("article"))]
	var att *attachment
	if a != nil && formatID(a.ticketID) == r.PathValue("ticket") {
		for _, x := range a.attachments {
			if formatID(x.id) == r.PathValue("id") {
				att = x
			}
		}
	}
	f.Mu.Unlock()
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
	f.Mu.Lock()
	defer f.Mu.Unlock()
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
