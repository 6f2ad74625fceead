package zammad

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/relaydesk/relaydesk/connectors"
)

// maxResponse bounds how much of a response body is read.
const maxResponse = 16 << 20

// call is one API request.
type call struct {
	method string
	path   string // below /api/v1/, without a leading slash
	query  url.Values
	in     any // JSON request body, or nil
	body   *streamBody
	out    any // decoded response, or nil
}

// do runs k and classifies every failure. Error messages carry the method,
// the path (ids only) and Zammad's own error text, never the token.
func (c *Client) do(ctx context.Context, k call) error {
	u := c.base.String() + "/api/v1/" + k.path
	if len(k.query) > 0 {
		u += "?" + k.query.Encode()
	}
	var body io.Reader
	switch {
	case k.in != nil:
		b, err := json.Marshal(k.in)
		if err != nil {
			return connectors.PermanentError("zammad: encode "+k.path, err)
		}
		body = bytes.NewReader(b)
	case k.body != nil:
		body = k.body
		defer k.body.Close()
	}
	req, err := http.NewRequestWithContext(ctx, k.method, u, body)
	if err != nil {
		return connectors.PermanentError("zammad: build request", err)
	}
	if k.body != nil {
		req.ContentLength = k.body.length // -1: unknown, sent chunked
	}
	req.Header.Set("Accept", "application/json")
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := c.hc.Do(req)
	if err != nil {
		if k.body != nil {
			k.body.Close() // waits for the writer, which records a source failure
			if serr := k.body.sourceErr(); serr != nil {
				return fmt.Errorf("zammad: %s %s: %w", k.method, k.path, serr)
			}
		}
		return fmt.Errorf("zammad: %s %s: %w", k.method, k.path, connectors.Classify(unwrapURL(err)))
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, maxResponse))
	if err != nil {
		return fmt.Errorf("zammad: %s %s: read response: %w", k.method, k.path, connectors.Classify(err))
	}
	if resp.StatusCode/100 != 2 {
		return fmt.Errorf("zammad: %s %s: %w", k.method, k.path, apiError(resp, data))
	}
	if k.out != nil && len(data) > 0 {
		if err := json.Unmarshal(data, k.out); err != nil {
			return fmt.Errorf("zammad: %s %s: %w", k.method, k.path, connectors.RetryError("unreadable response", err))
		}
	}
	return nil
}

// unwrapURL drops *url.Error's wrapper, whose message repeats the URL.
func unwrapURL(err error) error {
	var ue *url.Error
	if errors.As(err, &ue) {
		return ue.Err
	}
	return err
}

// apiError classifies an error response. Zammad answers {"error": "...",
// "error_human": "..."}; a reverse proxy may answer HTML (413 for a body
// over its limit).
func apiError(resp *http.Response, data []byte) error {
	var body struct {
		Error      string `json:"error"`
		ErrorHuman string `json:"error_human"`
	}
	msg := ""
	if json.Unmarshal(data, &body) == nil {
		msg = body.ErrorHuman
		if msg == "" {
			msg = body.Error
		}
	}
	if msg == "" {
		msg = http.StatusText(resp.StatusCode)
	}
	if resp.StatusCode == http.StatusRequestEntityTooLarge {
		msg += ": the request is over the web server's body size limit (client_max_body_size); lower max_upload_mb or raise the limit"
	}
	if len(msg) > 400 {
		msg = msg[:400] + "..."
	}
	return connectors.HTTPError(resp.StatusCode, resp.Header, msg)
}

// parseID parses a Zammad id given as a string.
func parseID(kind, s string) (int64, error) {
	id, err := strconv.ParseInt(strings.TrimSpace(s), 10, 64)
	if err != nil || id <= 0 {
		return 0, connectors.PermanentError(fmt.Sprintf("zammad: invalid %s id %q", kind, s), nil)
	}
	return id, nil
}

func formatID(id int64) string { return strconv.FormatInt(id, 10) }

// keyedLocks serializes work per key (a phone number) within this process.
type keyedLocks struct {
	mu sync.Mutex
	m  map[string]*keyedLock
}

type keyedLock struct {
	mu   sync.Mutex
	refs int
}

// lock takes the lock of key and returns its release.
func (k *keyedLocks) lock(key string) func() {
	k.mu.Lock()
	if k.m == nil {
		k.m = map[string]*keyedLock{}
	}
	l := k.m[key]
	if l == nil {
		l = &keyedLock{}
		k.m[key] = l
	}
	l.refs++
	k.mu.Unlock()
	l.mu.Lock()
	return func() {
		l.mu.Unlock()
		k.mu.Lock()
		l.refs--
		if l.refs == 0 {
			delete(k.m, key)
		}
		k.mu.Unlock()
	}
}

// flexInt reads a number Zammad sends as a number or a string (attachment
// sizes are strings).
type flexInt int64

// UnmarshalJSON accepts a JSON number, a numeric string, or null.
func (f *flexInt) UnmarshalJSON(b []byte) error {
	b = bytes.TrimSpace(b)
	if string(b) == "null" {
		*f = 0
		return nil
	}
	s := string(b)
	if len(b) > 0 && b[0] == '"' {
		if err := json.Unmarshal(b, &s); err != nil {
			return err
		}
	}
	if s == "" {
		*f = 0
		return nil
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
