package chatwoottest

import (
	"net/http"
	"slices"
	"strconv"
	"strings"

	"github.com/relaydesk/relaydesk/connectors/connectortest"
)

// Contacts.

// handleSearchContacts matches q against names, emails and phone numbers
// (case-insensitive substrings) and identifiers (substrings), 15 a page,
// with a has_more meta as recent Chatwoot does.
func (f *Fake) handleSearchContacts(w http.ResponseWriter, r *http.Request) {
	q := strings.TrimSpace(r.URL.Query().Get("q"))
	if q == "" {
		writeError(w, http.StatusUnprocessableEntity, "Specify search string with parameter q")
		return
	}
	page := 1
	if p := r.URL.Query().Get("page"); p != "" {
		n, err := strconv.Atoi(p)
		if err != nil || n < 1 {
			f.Violate("contacts/search: page must be a positive number, got %q", p)
			n = 1
		}
		page = n
	}
	withInboxes := r.URL.Query().Get("include_contact_inboxes") != "false"
	lq := strings.ToLower(q)
	f.Mu.Lock()
	defer f.Mu.Unlock()
	var hits []*contact
	for _, id := range f.contactOrder {
		ct := f.contacts[id]
		if strings.Contains(strings.ToLower(ct.name), lq) || strings.Contains(strings.ToLower(ct.email), lq) ||
			strings.Contains(strings.ToLower(ct.phone), lq) || strings.Contains(ct.identifier, q) || formatID(ct.id) == q {
			hits = append(hits, ct)
		}
	}
	start := min((page-1)*15, len(hits))
	end := min(start+15, len(hits))
	list := []contactJSON{}
	for _, ct := range hits[start:end] {
		list = append(list, f.contactJSON(ct, withInboxes))
	}
	connectortest.WriteJSON(w, http.StatusOK, map[string]any{"meta": map[string]any{"count": len(list), "current_page": page, "has_more": end < len(hits)}, "payload": list})
}

func (f *Fake) handleCreateContact(w http.ResponseWriter, r *http.Request, req *contactRequest) {
	phone, ident, email := deref(req.PhoneNumber), deref(req.Identifier), strings.ToLower(deref(req.Email))
	if phone != "" && !e164.MatchString(phone) {
		writeInvalid(w, "phone_number", "Phone number should be in e164 format")
		return
	}
	for _, ct := range f.contacts {
		switch {
		case phone != "" && ct.phone == phone:
			writeInvalid(w, "phone_number", "Phone number has already been taken")
			return
		case ident != "" && ct.identifier == ident:
			writeInvalid(w, "identifier", "Identifier has already been taken")
			return
		case email != "" && ct.email == email:
			writeInvalid(w, "email", "Email has already been taken")
			return
		}
	}
	var inbox int64
	if req.InboxID != nil {
		inbox = *req.InboxID
		if inbox != InboxID && inbox != WebsiteInboxID {
			writeError(w, http.StatusNotFound, "Resource could not be found")
			return
		}
	}
	ct := f.addContact(deref(req.Name), phone, email, ident)
	var ci map[string]any
	if inbox != 0 {
		ct.sources[inbox] = uuid()
		ci = map[string]any{"inbox": inboxSlimJSON{ID: inbox, Name: f.inboxName(inbox), ChannelType: f.channelType(inbox)}, "source_id": ct.sources[inbox]}
	} else {
		ci = map[string]any{"inbox": nil, "source_id": nil}
	}
	connectortest.WriteJSON(w, http.StatusOK, map[string]any{"payload": map[string]any{"contact": f.contactJSON(ct, true), "contact_inbox": ci}})
}

func (f *Fake) handleShowContact(w http.ResponseWriter, r *http.Request) {
	ct := f.contactAt(w, r)
	if ct == nil {
		return
	}
	connectortest.WriteJSON(w, http.StatusOK, map[string]any{"payload": f.contactJSON(ct, r.URL.Query().Get("include_contact_inboxes") != "false")})
}

func (f *Fake) handleCreateContactInbox(w http.ResponseWriter, r *http.Request, req *contactInboxRequest) {
	ct := f.contacts[parseID(r.PathValue("id"))]
	if ct == nil || req.InboxID == nil || (*req.InboxID != InboxID && *req.InboxID != WebsiteInboxID) {
		writeError(w, http.StatusNotFound, "Resource could not be found")
		return
	}
	source := deref(req.SourceID)
	if source == "" {
		source = uuid()
	}
	for _, other := range f.contacts {
		if other.sources[*req.InboxID] == source {
			writeInvalid(w, "source_id", "Source has already been taken")
			return
		}
	}
	ct.sources[*req.InboxID] = source
	connectortest.WriteJSON(w, http.StatusOK, contactInboxJSON{SourceID: source, Inbox: inboxSlimJSON{ID: *req.InboxID, Name: f.inboxName(*req.InboxID), ChannelType: f.channelType(*req.InboxID)}})
}

// handleContactConversations lists the contact's 20 most recently active
// conversations.
func (f *Fake) handleContactConversations(w http.ResponseWriter, r *http.Request) {
	ct := f.contactAt(w, r)
	if ct == nil {
		return
	}
	var list []*conversation
	for _, id := range f.convOrder {
		if cv := f.conversations[id]; cv.contactID == ct.id {
			list = append(list, cv)
		}
	}
	slices.SortStableFunc(list, func(a, b *conversation) int { return b.lastActive.Compare(a.lastActive) })
	out := []conversationJSON{}
	for _, cv := range list[:min(20, len(list))] {
		out = append(out, f.conversationJSON(cv))
	}
	connectortest.WriteJSON(w, http.StatusOK, map[string]any{"payload": out})
}

// handleDeleteContact deletes a contact, as Chatwoot's Delete Contact does:
// the contact goes with its conversations and their messages (the model's
// dependent destroys), and the answer is 200 with no body.
func (f *Fake) handleDeleteContact(w http.ResponseWriter, r *http.Request) {
	ct := f.contactAt(w, r)
	if ct == nil {
		return
	}
	for id, cv := range f.conversations {
		if cv.contactID != ct.id {
			continue
		}
		for _, m := range cv.messages {
			delete(f.messages, m)
		}
		delete(f.conversations, id)
		f.convOrder = slices.DeleteFunc(f.convOrder, func(x int64) bool { return x == id })
	}
	delete(f.contacts, ct.id)
	f.contactOrder = slices.DeleteFunc(f.contactOrder, func(x int64) bool { return x == ct.id })
	f.erased = append(f.erased, ct.id)
	w.WriteHeader(http.StatusOK)
}

// Erased reports whether the contact was deleted through the API.
func (f *Fake) Erased(contactID string) bool {
	f.Mu.Lock()
	defer f.Mu.Unlock()
	return slices.Contains(f.erased, parseID(contactID))
}
