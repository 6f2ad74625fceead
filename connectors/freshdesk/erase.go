package freshdesk

import (
	"context"
	"net/http"
	"net/url"

	"github.com/relaydesk/relaydesk/connectors"
)

var _ connectors.RequesterEraser = (*Client)(nil)

// EraseRequester deletes the contact and then deletes it permanently, as
// Freshdesk's API takes it: DELETE /api/v2/contacts/{id} (soft delete: the
// contact can be restored) and DELETE /api/v2/contacts/{id}/hard_delete
// (the contact and its personal data are removed for good; its tickets
// stay). A contact already gone is not an error.
func (c *Client) EraseRequester(ctx context.Context, requesterID string) (string, error) {
	id := url.PathEscape(requesterID)
	if _, _, err := c.do(ctx, call{method: http.MethodDelete, path: "contacts/" + id}); err != nil && !connectors.IsNotFound(err) {
		return "", err
	}
	if _, _, err := c.do(ctx, call{method: http.MethodDelete, path: "contacts/" + id + "/hard_delete"}); err != nil && !connectors.IsNotFound(err) {
		return "", err
	}
	return "Freshdesk contact " + requesterID + " deleted permanently", nil
}
