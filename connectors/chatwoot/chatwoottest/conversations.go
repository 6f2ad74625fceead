package chatwoottest

import (
	"net/http"
	"slices"

	"github.com/relaydesk/relaydesk/connectors/connectortest"
)

// Conversations.

func (f *Fake) handleCreateConversation(w http.ResponseWriter, r *http.Request) {
	var req conversationRequest
	if !f.decode(w, r, &req) {
		return
	}
	if req.SourceID == nil || *req.SourceID == "" {
		f.Violate("POST conversations: source_id is required")
		writeError(w, http.StatusBadRequest, "param is missing or the value is empty: source_id")
		return
	}
	status := "open"
	if req.Status != nil {
		if !slices.Contains([]string{"open", "resolved", "pending"}, *req.Status) {
			writeError(w, http.StatusUnprocessableEntity, "'"+*req.Status+"' is not a valid status")
			return
		}
		status = *req.Status
	}
	f.Mu.Lock()
	defer f.Mu.Unlock()
	var owner *contact
	var inbox int64
	for _, ct := range f.contacts {
		for ib, src := range ct.sources {
			if src == *req.SourceID {
				owner, inbox = ct, ib
			}
		}
	}
	if owner == nil {
		writeError(w, http.StatusNotFound, "Resource could not be found")
		return
	}
	if req.InboxID != nil && *req.InboxID != inbox {
		writeError(w, http.StatusUnprocessableEntity, "Contact inbox does not belong to the inbox")
		return
	}
	if req.ContactID != nil && *req.ContactID != owner.id {
		writeError(w, http.StatusUnprocessableEntity, "Contact inbox does not belong to the contact")
		return
	}
	now := f.now().UTC()
	f.nextConv++
	cv := &conversation{id: f.nextConv, uuid: uuid(), inboxID: inbox, contactID: owner.id, sourceID: *req.SourceID, status: status,
		attrs: cloneMap(req.AdditionalAttributes), createdAt: now, updatedAt: now, lastActive: now}
	f.conversations[cv.id] = cv
	f.convOrder = append(f.convOrder, cv.id)
	if req.Message != nil && deref(req.Message.Content) != "" {
		f.addMessage(cv, "outgoing", req.Message.Content, false, nil, "user", AgentID, nil)
	}
	connectortest.WriteJSON(w, http.StatusOK, f.conversationJSON(cv))
}

func (f *Fake) handleShowConversation(w http.ResponseWriter, r *http.Request) {
	cv := f.conversationAt(w, r)
	if cv == nil {
		return
	}
	connectortest.WriteJSON(w, http.StatusOK, f.conversationJSON(cv))
}

// handleListMessages returns the latest 20 messages, or the 20 before a
// message id, oldest first (Chatwoot's MessageFinder).
func (f *Fake) handleLabels(w http.ResponseWriter, r *http.Request, req *labelsRequest) {
	cv := f.conversationAt(w, r)
	if cv == nil {
		return
	}
	cv.labels = nil
	for _, l := range req.Labels {
		if l != "" && !slices.Contains(cv.labels, l) {
			cv.labels = append(cv.labels, l)
		}
	}
	connectortest.WriteJSON(w, http.StatusOK, map[string]any{"payload": nonNil(cv.labels)})
}

func (f *Fake) handleShowInbox(w http.ResponseWriter, r *http.Request) {
	id := parseID(r.PathValue("id"))
	if id != InboxID && id != WebsiteInboxID {
		writeError(w, http.StatusNotFound, "Resource could not be found")
		return
	}
	connectortest.WriteJSON(w, http.StatusOK, map[string]any{"id": id, "name": f.inboxName(id), "channel_type": f.channelType(id), "channel_id": id + 100, "account_id": AccountID})
}
