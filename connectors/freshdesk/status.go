package freshdesk

import (
	"context"
	"fmt"
	"net/http"
	"slices"

	"github.com/relaydesk/relaydesk/connectors"
)

var _ connectors.StatusShower = (*Client)(nil)

// ShowStatus implements connectors.StatusShower with a ticket tag
// (whatsapp-sent, whatsapp-delivered, whatsapp-read) in place of the
// previous status's tag. Freshdesk's update replaces the whole tag list,
// so the ticket's tags are read first and the others kept: two calls, no
// conversation added. Freshdesk has no per-reply status, so Native changes
// nothing.
func (c *Client) ShowStatus(ctx context.Context, u connectors.StatusUpdate) error {
	if !connectors.ValidDelivery(u.Status) {
		return connectors.PermanentError(fmt.Sprintf("freshdesk: %q is not a delivery status", u.Status), nil)
	}
	id, err := parseID("ticket", u.TicketID)
	if err != nil {
		return err
	}
	var tk struct {
		Tags []string `json:"tags"`
	}
	if _, _, err := c.do(ctx, call{method: http.MethodGet, path: "tickets/" + formatID(id), out: &tk}); err != nil {
		return err
	}
	tag := connectors.StatusTag(u.Status)
	tags := slices.DeleteFunc(slices.Clone(tk.Tags), func(t string) bool { return slices.Contains(connectors.StatusTags(), t) })
	tags = append(tags, tag)
	if slices.Equal(tags, tk.Tags) {
		return nil
	}
	_, _, err = c.do(ctx, call{method: http.MethodPut, path: "tickets/" + formatID(id), in: map[string]any{"tags": tags}})
	return err
}
