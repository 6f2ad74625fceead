package chatwoottest

import "github.com/relaydesk/relaydesk/connectors/connectortest"

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
