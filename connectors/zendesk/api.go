package zendesk

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/relaydesk/relaydesk/connectors"
	"github.com/relaydesk/relaydesk/connectors/internal/httpapi"
)

// call is one API request.
type call struct {
	method string
	path   string // below /api/v2/, without a leading slash
	query  url.Values
	in     any       // JSON request body, or nil
	body   io.Reader // raw request body (uploads), with contentType
	length int64     // raw body length, -1 if unknown
	ctype  string
	header http.Header
	out    any // decoded response envelope, or nil
}

// do runs k with [httpapi.Client.Do]: error messages carry the method, the
// path (ids only) and Zendesk's own error text, never credentials.
func (c *Client) do(ctx context.Context, k call) error {
	_, err := c.site.API.Do(ctx, httpapi.Request{
		Method: k.method, URL: c.site.Base.String() + "/api/v2/" + k.path, Path: k.path, Query: k.query, Header: k.header,
		JSON: k.in, Body: k.body, ContentType: k.ctype, ContentLength: k.length, Out: k.out,
	})
	return err
}

// apiError classifies an error response. Zendesk answers
// {"error": "Code", "description": "...", "details": {...}}, where "error"
// is sometimes an object {"title", "message"}.
func apiError(resp *http.Response, data []byte) error {
	var body struct {
		Error       json.RawMessage `json:"error"`
		Description string          `json:"description"`
		Details     json.RawMessage `json:"details"`
	}
	msg := http.StatusText(resp.StatusCode)
	if json.Unmarshal(data, &body) == nil && len(body.Error) > 0 {
		var code string
		var obj struct{ Title, Message string }
		switch {
		case json.Unmarshal(body.Error, &code) == nil:
		case json.Unmarshal(body.Error, &obj) == nil:
			code = strings.TrimSpace(obj.Title + ": " + obj.Message)
		}
		parts := []string{code}
		if body.Description != "" {
			parts = append(parts, body.Description)
		}
		if len(body.Details) > 0 && string(body.Details) != "null" {
			parts = append(parts, string(body.Details))
		}
		msg = strings.Join(parts, ": ")
	}
	e := httpapi.StatusError(resp, msg)
	if resp.StatusCode == http.StatusUnprocessableEntity && strings.Contains(strings.ToLower(msg), "closed") {
		e.Err = connectors.ErrTicketClosed
	}
	return e
}

// isIdempotencyConflict reports whether err is Zendesk refusing an
// Idempotency-Key reused with a different body.
func isIdempotencyConflict(err error) bool {
	var ce *connectors.Error
	if !errors.As(err, &ce) {
		return false
	}
	if ce.Class != connectors.ClassPermanent && ce.Status != http.StatusConflict {
		return false
	}
	return strings.Contains(strings.ToLower(ce.Message), "idempot")
}

// parseID parses a Zendesk id given as a string.
func parseID(kind, s string) (int64, error) { return httpapi.ParseID(Kind, kind, s) }

func formatID(id int64) string { return strconv.FormatInt(id, 10) }

// Wire types: the fields of Zendesk's JSON the connector reads and writes.

type user struct {
	ID         int64  `json:"id"`
	Name       string `json:"name"`
	Phone      string `json:"phone"`
	ExternalID string `json:"external_id"`
	Role       string `json:"role"`
}

type ticket struct {
	ID          int64  `json:"id"`
	Status      string `json:"status"`
	RequesterID int64  `json:"requester_id"`
}

type attachment struct {
	ID          int64  `json:"id"`
	FileName    string `json:"file_name"`
	ContentURL  string `json:"content_url"`
	ContentType string `json:"content_type"`
	Size        int64  `json:"size"`
}

type comment struct {
	ID          int64        `json:"id"`
	Type        string       `json:"type"`
	AuthorID    int64        `json:"author_id"`
	Body        string       `json:"body"`
	PlainBody   string       `json:"plain_body"`
	Public      bool         `json:"public"`
	Attachments []attachment `json:"attachments"`
}

type audit struct {
	Events []comment `json:"events"`
}

// commentID returns the id of the Comment event of an audit, or 0.
func (a audit) commentID() int64 {
	for _, e := range a.Events {
		if e.Type == "Comment" || e.Type == "VoiceComment" {
			return e.ID
		}
	}
	return 0
}

type ticketEnvelope struct {
	Ticket ticket `json:"ticket"`
	Audit  audit  `json:"audit"`
}

type commentInput struct {
	Body     string   `json:"body"`
	Public   bool     `json:"public"`
	AuthorID int64    `json:"author_id,omitempty"`
	Uploads  []string `json:"uploads,omitempty"`
}

type cursorPage struct {
	Meta struct {
		HasMore     bool   `json:"has_more"`
		AfterCursor string `json:"after_cursor"`
	} `json:"meta"`
}

// normalize maps a Zendesk status onto the four normalized ones; archived
// and deleted tickets count as closed.
func normalize(raw string) (connectors.Status, bool) {
	switch strings.ToLower(raw) {
	case "new", "open":
		return connectors.StatusOpen, true
	case "pending", "hold":
		return connectors.StatusPending, true
	case "solved":
		return connectors.StatusSolved, true
	case "closed", "archived", "deleted":
		return connectors.StatusClosed, true
	}
	return "", false
}
