package zammad

import (
	"net/url"

	"github.com/relaydesk/relaydesk/connectors"
)

var _ connectors.CommentLinker = (*Client)(nil)

// CommentURL implements connectors.CommentLinker: the ticket's zoom view
// with the article id (#ticket/zoom/<ticket>/<article>), which Zammad
// scrolls to (direct article links, zammad/zammad#3331).
func (c *Client) CommentURL(ticketID, commentID string) string {
	return c.ticketURL(url.PathEscape(ticketID)) + "/" + url.PathEscape(commentID)
}
