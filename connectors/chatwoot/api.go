package chatwoot

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/relaydesk/relaydesk/connectors"
	"github.com/relaydesk/relaydesk/connectors/internal/httpapi"
)

// defaultThrottle is the wait assumed when Chatwoot throttles without a
// Retry-After header: its rack-attack limits count per minute, and
// rack-attack sends no Retry-After unless configured to.
const defaultThrottle = time.Minute

// call is one API request.
type call struct {
	method string
	path   string // absolute path, for example /api/v1/accounts/1/contacts
	query  url.Values
	in     any // JSON request body, or nil
	body   *httpapi.Stream
	out    any // decoded response, or nil
}

// do runs k with [httpapi.Client.Do]: error messages carry the method, the
// path (ids only) and Chatwoot's own error text, never the token.
func (c *Client) do(ctx context.Context, k call) error {
	_, err := c.site.API.Do(ctx, httpapi.Request{Method: k.method, URL: c.site.Base.String() + k.path, Path: k.path, Query: k.query, JSON: k.in, Stream: k.body, Out: k.out})
	return err
}

// apiError classifies an error response. Chatwoot answers {"error": "..."}
// for most failures, {"message": "...", "attributes": [...]} for invalid
// records, and plain text from its rate limiter ("Retry later").
func apiError(resp *http.Response, data []byte) error {
	var body struct {
		Error   json.RawMessage `json:"error"`
		Message string          `json:"message"`
		Errors  []any           `json:"errors"`
	}
	msg := ""
	if json.Unmarshal(data, &body) == nil {
		var s string
		switch {
		case len(body.Error) > 0 && json.Unmarshal(body.Error, &s) == nil:
			msg = s
		case len(body.Error) > 0:
			msg = string(body.Error)
		}
		if body.Message != "" {
			msg = strings.TrimSpace(msg + " " + body.Message)
		}
		if msg == "" && len(body.Errors) > 0 {
			msg = fmt.Sprint(body.Errors...)
		}
	} else if ct := resp.Header.Get("Content-Type"); strings.HasPrefix(ct, "text/plain") {
		msg = strings.TrimSpace(string(data))
	}
	if msg == "" {
		msg = http.StatusText(resp.StatusCode)
	}
	e := httpapi.StatusError(resp, msg)
	switch {
	case resp.StatusCode == http.StatusTooManyRequests && e.RetryAfter == 0:
		e.RetryAfter = defaultThrottle
	case resp.StatusCode == http.StatusUnprocessableEntity && strings.Contains(strings.ToLower(msg), "too many messages"):
		// Chatwoot's per-conversation flood guard, counted over a minute.
		e.Class, e.RetryAfter = connectors.ClassRateLimited, defaultThrottle
	}
	return e
}

// isInvalidRecord reports whether err is Chatwoot refusing a record as
// invalid (422), as when a unique field is already taken.
func isInvalidRecord(err error) bool {
	var ce *connectors.Error
	return errors.As(err, &ce) && ce.Status == http.StatusUnprocessableEntity && ce.Class == connectors.ClassPermanent
}

// parseID parses a Chatwoot id given as a string.
func parseID(kind, s string) (int64, error) { return httpapi.ParseID(Kind, kind, s) }

func formatID(id int64) string { return strconv.FormatInt(id, 10) }

// Wire types: the fields of Chatwoot's JSON the connector reads.

type contactInbox struct {
	SourceID string `json:"source_id"`
	Inbox    struct {
		ID int64 `json:"id"`
	} `json:"inbox"`
}

type contact struct {
	ID             int64          `json:"id"`
	Name           string         `json:"name"`
	PhoneNumber    string         `json:"phone_number"`
	Identifier     string         `json:"identifier"`
	ContactInboxes []contactInbox `json:"contact_inboxes"`
}

type conversation struct {
	ID                   int64          `json:"id"`
	InboxID              int64          `json:"inbox_id"`
	Status               string         `json:"status"`
	Labels               []string       `json:"labels"`
	AdditionalAttributes map[string]any `json:"additional_attributes"`
}

type attachment struct {
	ID       int64  `json:"id"`
	FileType string `json:"file_type"`
	DataURL  string `json:"data_url"`
	FileSize int64  `json:"file_size"`
}

// message is a message as the messages API returns it: message_type is a
// number there (0 incoming, 1 outgoing, 2 activity, 3 template).
type message struct {
	ID          int64        `json:"id"`
	Content     *string      `json:"content"`
	MessageType int          `json:"message_type"`
	Private     bool         `json:"private"`
	SourceID    *string      `json:"source_id"`
	Attachments []attachment `json:"attachments"`
}

// normalize maps a Chatwoot conversation status onto the normalized ones.
// Chatwoot has no final status.
func normalize(raw string) (connectors.Status, bool) {
	switch strings.ToLower(raw) {
	case "open":
		return connectors.StatusOpen, true
	case "pending", "snoozed":
		return connectors.StatusPending, true
	case "resolved":
		return connectors.StatusSolved, true
	}
	return "", false
}
