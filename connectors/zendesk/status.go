package zendesk

import (
	"context"
	"fmt"
	"net/http"
	"slices"

	"github.com/relaydesk/relaydesk/connectors"
)

var _ connectors.StatusShower = (*Client)(nil)

// ShowStatus implements connectors.StatusShower with a ticket tag
// (whatsapp-sent, whatsapp-delivered, whatsapp-read): one ticket update
// that adds the current status's tag and removes the others
// (additional_tags and remove_tags, which leave the ticket's other tags
// alone). It adds no comment. Zendesk has no per-comment status, so
// Native changes nothing.
func (c *Client) ShowStatus(ctx context.Context, u connectors.StatusUpdate) error {
	if !connectors.ValidDelivery(u.Status) {
		return connectors.PermanentError(fmt.Sprintf("zendesk: %q is not a delivery status", u.Status), nil)
	}
	id, err := parseID("ticket", u.TicketID)
	if err != nil {
		return err
	}
	tag := connectors.StatusTag(u.Status)
	remove := slices.DeleteFunc(connectors.StatusTags(), func(t string) bool { return t == tag })
	in := map[string]any{"ticket": map[string]any{"additional_tags": []string{tag}, "remove_tags": remove}}
	return c.do(ctx, call{method: http.MethodPut, path: "tickets/" + formatID(id), in: in})
}
