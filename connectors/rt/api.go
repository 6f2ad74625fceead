package rt

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/relaydesk/relaydesk/connectors"
	"github.com/relaydesk/relaydesk/connectors/internal/httpapi"
)

// maxResponse bounds how much of a response body is read.
const maxResponse = 32 << 20

// call is one REST2 request.
type call struct {
	method string
	path   string // below /REST/2.0/, without a leading slash
	query  url.Values
	in     any // JSON request body, or nil
	out    any // decoded response, or nil
}

// do runs k with [httpapi.Client.Do]: error messages carry the method, the
// path (ids only) and RT's own error text, never credentials.
func (c *Client) do(ctx context.Context, k call) error {
	_, err := c.site.API.Do(ctx, httpapi.Request{Method: k.method, URL: c.site.Base.String() + "/REST/2.0/" + k.path, Path: k.path, Query: k.query, JSON: k.in, Out: k.out})
	return err
}

// apiError classifies an error response; REST2 answers {"message": "..."}.
func apiError(resp *http.Response, data []byte) error {
	return httpapi.StatusError(resp, httpapi.ErrorText(resp, data, func(body struct {
		Message string `json:"message"`
	}) string {
		return body.Message
	}))
}

// parseID parses an RT id given as a string.
func parseID(kind, s string) (int64, error) { return httpapi.ParseID(Kind, kind, s) }

func formatID(id int64) string { return strconv.FormatInt(id, 10) }

// flexString reads a JSON string or number as a string.
type flexString string

// UnmarshalJSON accepts a string, a number or null.
func (f *flexString) UnmarshalJSON(b []byte) error {
	s, err := httpapi.Scalar(b)
	if err != nil {
		return err
	}
	*f = flexString(s)
	return nil
}

// ref is a link to another record ({"type", "id", "_url"}); for users the
// id is the user name.
type ref struct {
	Type string     `json:"type"`
	ID   flexString `json:"id"`
}

// refOrEmpty reads a ref, or "" (what REST2 gives when a field is empty or
// not visible).
type refOrEmpty struct{ ref }

// UnmarshalJSON accepts an object or a string.
func (r *refOrEmpty) UnmarshalJSON(b []byte) error {
	b = bytes.TrimSpace(b)
	if len(b) > 0 && b[0] == '{' {
		return json.Unmarshal(b, &r.ref)
	}
	return nil
}

// collection is a REST2 search result page.
type collection[T any] struct {
	Items    []T    `json:"items"`
	Count    int    `json:"count"`
	NextPage string `json:"next_page"`
}

// condition is one JSON search condition.
type condition struct {
	Field    string `json:"field"`
	Operator string `json:"operator,omitempty"`
	Value    string `json:"value"`
}

type ticketJSON struct {
	ID           flexString `json:"id"`
	Status       string     `json:"Status"`
	Subject      string     `json:"Subject"`
	Requestor    []ref      `json:"Requestor"`
	CustomFields []struct {
		Name   string   `json:"name"`
		Values []string `json:"values"`
	} `json:"CustomFields"`
}

func (t ticketJSON) status() string { return strings.ToLower(t.Status) }

type userJSON struct {
	ID           flexString `json:"id"`
	Name         string     `json:"Name"`
	EmailAddress string     `json:"EmailAddress"`
	MobilePhone  string     `json:"MobilePhone"`
	Privileged   flexString `json:"Privileged"`
}

type transactionJSON struct {
	ID flexString `json:"id"`
	// Kind takes the record's "type" ("transaction"): without a field of
	// its own, encoding/json's case-insensitive matching would let it
	// overwrite Type, depending on the order of the keys.
	Kind       string     `json:"type"`
	Type       string     `json:"Type"`
	Creator    refOrEmpty `json:"Creator"`
	Created    string     `json:"Created"`
	ObjectID   flexString `json:"ObjectId"`
	ObjectType string     `json:"ObjectType"`
	Field      string     `json:"Field"`
	OldValue   string     `json:"OldValue"`
	NewValue   string     `json:"NewValue"`
	Object     refOrEmpty `json:"Object"`
}

type attachmentJSON struct {
	ID            flexString `json:"id"`
	ContentType   string     `json:"ContentType"`
	Filename      string     `json:"Filename"`
	ContentLength flexString `json:"ContentLength"`
	Content       string     `json:"Content"`
	TransactionID flexString `json:"TransactionId"`
}

// normalize maps an RT status onto the four normalized ones. Statuses of
// custom lifecycles count as open: agents have work to do.
func normalize(raw string) connectors.Status {
	switch strings.ToLower(raw) {
	case "stalled":
		return connectors.StatusPending
	case "resolved":
		return connectors.StatusSolved
	case "rejected", "deleted":
		return connectors.StatusClosed
	}
	return connectors.StatusOpen
}

func parseTime(s string) time.Time {
	t, err := time.Parse(time.RFC3339, s)
	if err != nil {
		return time.Time{}
	}
	return t
}

// decodeContent decodes an attachment's base64 Content.
func decodeContent(s string) ([]byte, error) {
	return base64.StdEncoding.DecodeString(strings.Map(func(r rune) rune {
		if r == '\n' || r == '\r' || r == ' ' {
			return -1
		}
		return r
	}, s))
}
