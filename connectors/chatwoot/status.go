package chatwoot

import (
	"context"
	"fmt"
	"net/http"
	"slices"

	"github.com/relaydesk/relaydesk/connectors"
)

var _ connectors.StatusShower = (*Client)(nil)

// ShowStatus implements connectors.StatusShower. Natively it sets the
// agent's message's own status (PATCH .../messages/{id} with status sent,
// delivered or read: the ticks Chatwoot draws under the message; allowed on
// API inboxes only, chatwoot/chatwoot#11387). Otherwise, or for a status
// with no message, it sets the conversation label whatsapp-<status> in place
// of the previous status's label, keeping the others (two calls: Chatwoot's
// labels call replaces the whole list). Neither adds a message.
func (c *Client) ShowStatus(ctx context.Context, u connectors.StatusUpdate) error {
	if !connectors.ValidDelivery(u.Status) {
		return connectors.PermanentError(fmt.Sprintf("chatwoot: %q is not a delivery status", u.Status), nil)
	}
	conv, err := parseID("conversation", u.TicketID)
	if err != nil {
		return err
	}
	if u.Native && u.CommentID != "" {
		msg, err := parseID("message", u.CommentID)
		if err != nil {
			return err
		}
		path := c.accountPath("conversations/" + formatID(conv) + "/messages/" + formatID(msg))
		return c.do(ctx, call{method: http.MethodPatch, path: path, in: map[string]any{"status": u.Status}})
	}
	var cv conversation
	if err := c.do(ctx, call{method: http.MethodGet, path: c.accountPath("conversations/" + formatID(conv)), out: &cv}); err != nil {
		return err
	}
	tag := connectors.StatusTag(u.Status)
	labels := slices.DeleteFunc(slices.Clone(cv.Labels), func(l string) bool { return slices.Contains(connectors.StatusTags(), l) })
	labels = append(labels, tag)
	if slices.Equal(labels, cv.Labels) {
		return nil
	}
	return c.do(ctx, call{method: http.MethodPost, path: c.accountPath("conversations/" + formatID(conv) + "/labels"),
		in: map[string]any{"labels": labels}})
}
