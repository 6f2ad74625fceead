package chatwoot

import (
	"net/url"

	"github.com/relaydesk/relaydesk/connectors"
)

var _ connectors.CommentLinker = (*Client)(nil)

// CommentURL implements connectors.CommentLinker: the conversation's page
// with ?messageId=, which Chatwoot's dashboard scrolls to and highlights
// (the link its search results open; chatwoot/chatwoot#1979).
func (c *Client) CommentURL(ticketID, commentID string) string {
	return c.conversationURL(url.PathEscape(ticketID)) + "?messageId=" + url.QueryEscape(commentID)
}
