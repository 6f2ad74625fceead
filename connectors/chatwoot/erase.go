package chatwoot

import (
	"context"
	"net/http"
	"net/url"

	"github.com/relaydesk/relaydesk/connectors"
)

var _ connectors.RequesterEraser = (*Client)(nil)

// EraseRequester deletes the contact through Chatwoot's API
// (DELETE /api/v1/accounts/{account_id}/contacts/{id}). Chatwoot deletes the
// contact's conversations and messages with it. A contact already gone is
// not an error.
func (c *Client) EraseRequester(ctx context.Context, requesterID string) (string, error) {
	err := c.do(ctx, call{method: http.MethodDelete, path: c.accountPath("contacts/" + url.PathEscape(requesterID))})
	if err != nil && !connectors.IsNotFound(err) {
		return "", err
	}
	return "Chatwoot contact " + requesterID + " deleted, with its conversations", nil
}
