package zendesk

import (
	"context"
	"net/http"
	"net/url"

	"github.com/relaydesk/relaydesk/connectors"
)

var _ connectors.RequesterEraser = (*Client)(nil)

// EraseRequester deletes the end user and then deletes them permanently,
// as Zendesk's API takes it: DELETE /api/v2/users/{id} (the user is
// soft-deleted, their tickets stay) and DELETE /api/v2/deleted_users/{id}
// (Zendesk then removes the user's personal data for good). A user already
// gone is not an error.
func (c *Client) EraseRequester(ctx context.Context, requesterID string) (string, error) {
	id := url.PathEscape(requesterID)
	if err := c.do(ctx, call{method: http.MethodDelete, path: "users/" + id}); err != nil && !connectors.IsNotFound(err) {
		return "", err
	}
	if err := c.do(ctx, call{method: http.MethodDelete, path: "deleted_users/" + id}); err != nil && !connectors.IsNotFound(err) {
		return "", err
	}
	return "Zendesk end user " + requesterID + " deleted permanently", nil
}
