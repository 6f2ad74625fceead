package chatwoottest

import (
	"net/http"
	"slices"

	"github.com/relaydesk/relaydesk/connectors/connectortest"
)

// AgentReplyTo has an agent answer message messageID of a conversation with
// Chatwoot's "Reply to" (content_attributes.in_reply_to) and returns the
// new message's id; CommentDelivery gives its webhook.
func (f *Fake) AgentReplyTo(conversationID, messageID, body string) string {
	return connectortest.Locked(&f.Mu, func() string {
		cv := connectortest.MustFind(f.conversations, "chatwoottest", "conversation", conversationID)
		target := connectortest.MustFind(f.messages, "chatwoottest", "message", messageID)
		content := body
		m := f.addMessage(cv, "outgoing", &content, false, nil, "user", AgentID+1, nil)
		m.contentAttrs = map[string]any{"in_reply_to": target.id}
		return formatID(m.id)
	})
}

// AgentReacts has an agent react with emoji to message messageID, as
// Chatwoot builds with agent reactions record it: an outgoing message whose
// content is the emoji, with content_attributes {in_reply_to, is_reaction}
// (an empty emoji takes the reaction back). It returns the reaction
// message's id.
func (f *Fake) AgentReacts(conversationID, messageID, emoji string) string {
	return connectortest.Locked(&f.Mu, func() string {
		cv := connectortest.MustFind(f.conversations, "chatwoottest", "conversation", conversationID)
		target := connectortest.MustFind(f.messages, "chatwoottest", "message", messageID)
		content := emoji
		m := f.addMessage(cv, "outgoing", &content, false, nil, "user", AgentID+1, nil)
		m.contentAttrs = map[string]any{"in_reply_to": target.id, "is_reaction": true}
		return formatID(m.id)
	})
}

// MessageStatus is the status relaydesk set on a message through
// PATCH .../messages/{id} ("" when none was set).
func (f *Fake) MessageStatus(messageID string) string {
	return connectortest.Lookup(&f.Mu, f.messages, messageID, func(m *message) string { return m.status })
}

// messageStatusRequest is the body of PATCH .../messages/{id}: the fields
// Chatwoot permits there (Messages::StatusUpdateService, chatwoot#11387).
type messageStatusRequest struct {
	Status        *string `json:"status"`
	ExternalError *string `json:"external_error"`
}

// handleMessageStatus sets a message's status, as Chatwoot does for API
// inboxes only (403 elsewhere); external_error only with failed.
func (f *Fake) handleMessageStatus(w http.ResponseWriter, r *http.Request, req *messageStatusRequest) {
	cv := f.conversationAt(w, r)
	if cv == nil {
		return
	}
	m := f.messages[parseID(r.PathValue("message_id"))]
	if m == nil || m.convID != cv.id {
		writeError(w, http.StatusNotFound, "Resource could not be found")
		return
	}
	if f.channelType(cv.inboxID) != "Channel::Api" {
		writeError(w, http.StatusForbidden, "Message status update is only allowed for API inboxes")
		return
	}
	st := deref(req.Status)
	if !slices.Contains([]string{"sent", "delivered", "read", "failed"}, st) {
		f.Violate("PATCH messages/{id}: status must be sent, delivered, read or failed, got %q", st)
		writeError(w, http.StatusUnprocessableEntity, "'"+st+"' is not a valid status")
		return
	}
	if req.ExternalError != nil && st != "failed" {
		f.Violate("PATCH messages/{id}: external_error goes with status failed only")
	}
	if m.msgType != "outgoing" {
		f.Violate("PATCH messages/{id}: message %d is %s; only outgoing messages have a delivery status", m.id, m.msgType)
	}
	m.status = st
	connectortest.WriteJSON(w, http.StatusOK, f.messageJSON(m))
}

// PatternMessageStatus is the route of Chatwoot's message status update,
// for [connectortest.Server.Hits].
const PatternMessageStatus = "PATCH /api/v1/accounts/{account}/conversations/{id}/messages/{message_id}"
