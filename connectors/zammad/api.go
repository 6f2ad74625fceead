package zammad

import (
	"cmp"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"time"

	"github.com/relaydesk/relaydesk/connectors/internal/httpapi"
)

// call is one API request.
type call struct {
	method string
	path   string // below /api/v1/, without a leading slash
	query  url.Values
	in     any // JSON request body, or nil
	body   *httpapi.Stream
	out    any // decoded response, or nil
}

// do runs k with [httpapi.Client.Do]: error messages carry the method, the
// path (ids only) and Zammad's own error text, never the token.
func (c *Client) do(ctx context.Context, k call) error {
	_, err := c.site.API.Do(ctx, httpapi.Request{Method: k.method, URL: c.site.Base.String() + "/api/v1/" + k.path, Path: k.path, Query: k.query, JSON: k.in, Stream: k.body, Out: k.out})
	return err
}

// apiError classifies an error response. Zammad answers {"error": "...",
// "error_human": "..."}; a reverse proxy may answer HTML (413 for a body
// over its limit).
func apiError(resp *http.Response, data []byte) error {
	msg := httpapi.ErrorText(resp, data, func(body struct {
		Error      string `json:"error"`
		ErrorHuman string `json:"error_human"`
	}) string {
		return cmp.Or(body.ErrorHuman, body.Error)
	})
	if resp.StatusCode == http.StatusRequestEntityTooLarge {
		msg += ": the request is over the web server's body size limit (client_max_body_size); lower max_upload_mb or raise the limit"
	}
	return httpapi.StatusError(resp, msg)
}

// parseID parses a Zammad id given as a string.
func parseID(kind, s string) (int64, error) { return httpapi.ParseID(Kind, kind, s) }

func formatID(id int64) string { return strconv.FormatInt(id, 10) }

// flexInt reads a number Zammad sends as a number or a string (attachment
// sizes are strings).
type flexInt int64

// UnmarshalJSON accepts a JSON number, a numeric string, or null.
func (f *flexInt) UnmarshalJSON(b []byte) error {
	s, err := httpapi.Scalar(b)
	if err != nil || s == "" {
		*f = 0
		return err
	}
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil {
		return fmt.Errorf("%q is not an integer", s)
	}
	*f = flexInt(n)
	return nil
}

// flexTime reads an ISO 8601 time; anything else (null, "") is zero.
type flexTime struct {
	t   time.Time
	raw string
}

// UnmarshalJSON implements json.Unmarshaler.
func (f *flexTime) UnmarshalJSON(b []byte) error {
	var s *string
	if err := json.Unmarshal(b, &s); err != nil || s == nil {
		*f = flexTime{}
		return nil
	}
	f.raw = *s
	f.t, _ = time.Parse(time.RFC3339Nano, *s)
	return nil
}

// Wire types: the fields of Zammad's JSON the connector reads.

type user struct {
	ID        int64  `json:"id"`
	Firstname string `json:"firstname"`
	Lastname  string `json:"lastname"`
	Phone     string `json:"phone"`
	Mobile    string `json:"mobile"`
	Login     string `json:"login"`
	Active    bool   `json:"active"`
}

type ticket struct {
	ID          int64          `json:"id"`
	Title       string         `json:"title"`
	GroupID     int64          `json:"group_id"`
	StateID     int64          `json:"state_id"`
	State       string         `json:"state"`
	CustomerID  int64          `json:"customer_id"`
	ArticleIDs  []int64        `json:"article_ids"`
	Preferences map[string]any `json:"preferences"`
	LastCloseAt flexTime       `json:"last_close_at"`
	CloseAt     flexTime       `json:"close_at"`
	UpdatedAt   flexTime       `json:"updated_at"`
}

type articleAttachment struct {
	ID          int64          `json:"id"`
	Filename    string         `json:"filename"`
	Size        flexInt        `json:"size"`
	Preferences map[string]any `json:"preferences"`
	URL         string         `json:"url"`
}

type article struct {
	ID          int64               `json:"id"`
	TicketID    int64               `json:"ticket_id"`
	Body        string              `json:"body"`
	ContentType string              `json:"content_type"`
	Internal    bool                `json:"internal"`
	Sender      string              `json:"sender"`
	Type        string              `json:"type"`
	CreatedByID int64               `json:"created_by_id"`
	OriginByID  *int64              `json:"origin_by_id"`
	Attachments []articleAttachment `json:"attachments"`
}

// author is who wrote the article: the user an agent recorded it for, or
// its creator.
func (a article) author() int64 {
	if a.OriginByID != nil && *a.OriginByID != 0 {
		return *a.OriginByID
	}
	return a.CreatedByID
}

// mimeType is an attachment's MIME type from its preferences.
func (a articleAttachment) mimeType() string {
	for _, k := range []string{"Mime-Type", "Content-Type", "mime-type"} {
		if v, ok := a.Preferences[k].(string); ok && v != "" {
			return v
		}
	}
	return "application/octet-stream"
}
