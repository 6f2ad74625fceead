package zammad

import (
	"context"
	"fmt"
	"net/http"

	"github.com/relaydesk/relaydesk/connectors"
)

var _ connectors.StatusShower = (*Client)(nil)

// ShowStatus implements connectors.StatusShower with a ticket tag
// (whatsapp-sent, whatsapp-delivered, whatsapp-read) through Zammad's tag
// API: the previous status's tag is removed (DELETE /tags/remove) and the
// current one added (POST /tags/add, which keeps a tag already there).
// Neither adds an article. Zammad has no per-article delivery status, so
// Native changes nothing.
func (c *Client) ShowStatus(ctx context.Context, u connectors.StatusUpdate) error {
	if !connectors.ValidDelivery(u.Status) {
		return connectors.PermanentError(fmt.Sprintf("zammad: %q is not a delivery status", u.Status), nil)
	}
	id, err := parseID("ticket", u.TicketID)
	if err != nil {
		return err
	}
	tag := func(status string) map[string]any {
		return map[string]any{"object": "Ticket", "o_id": id, "item": connectors.StatusTag(status)}
	}
	if connectors.ValidDelivery(u.Previous) && u.Previous != u.Status {
		if err := c.do(ctx, call{method: http.MethodDelete, path: "tags/remove", in: tag(u.Previous)}); err != nil {
			return err
		}
	}
	return c.do(ctx, call{method: http.MethodPost, path: "tags/add", in: tag(u.Status)})
}
