package chatwoot

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
	body   *streamBody
	out    any // decoded response, or nil
}

// do runs k and classifies every failure. Error messages carry the method,
// the path (ids only) and Chatwoot's own error text, never the token.
func (c *Client) do(ctx context.Context, k call) error {
	u := c.base.String() + k.path
	if len(k.query) > 0 {
		u += "?" + k.query.Encode()
	}
	var body io.Reader
	ctype := ""
	switch {
	case k.in != nil:
		b, err := json.Marshal(k.in)
		if err != nil {
			return connectors.PermanentError("chatwoot: encode "+k.path, err)
		}
		body, ctype = bytes.NewReader(b), "application/json"
	case k.body != nil:
		body, ctype = k.body, k.body.contentType
		defer k.body.Close()
	}
	req, err := http.NewRequestWithContext(ctx, k.method, u, body)
	if err != nil {
		return connectors.PermanentError("chatwoot: build request", err)
	}
	if k.body != nil {
		req.ContentLength = k.body.length // -1: unknown, sent chunked
	}
	req.Header.Set("Accept", "application/json")
	if ctype != "" {
		req.Header.Set("Content-Type", ctype)
	}
	resp, err := c.hc.Do(req)
	if err != nil {
		if k.body != nil {
			k.body.Close() // waits for the writer, which records a source failure
			if serr := k.body.sourceErr(); serr != nil {
				return fmt.Errorf("chatwoot: %s %s: %w", k.method, k.path, serr)
			}
		}
		return fmt.Errorf("chatwoot: %s %s: %w", k.method, k.path, connectors.Classify(unwrapURL(err)))
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, maxResponse))
	if err != nil {
		return fmt.Errorf("chatwoot: %s %s: read response: %w", k.method, k.path, connectors.Classify(err))
	}
	if resp.StatusCode/100 != 2 {
		return fmt.Errorf("chatwoot: %s %s: %w", k.method, k.path, apiError(resp, data))
	}
	if k.out != nil && len(data) > 0 {
		if err := json.Unmarshal(data, k.out); err != nil {
			return fmt.Errorf("chatwoot: %s %s: %w", k.method, k.path, connectors.RetryError("unreadable response", err))
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
	if len(msg) > 400 {
		msg = msg[:400] + "..."
	}
	e := connectors.HTTPError(resp.StatusCode, resp.Header, msg)
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
func parseID(kind, s string) (int64, error) {
	id, err := strconv.ParseInt(strings.TrimSpace(s), 10, 64)
	if err != nil || id <= 0 {
		return 0, connectors.PermanentError(fmt.Sprintf("chatwoot: invalid %s id %q", kind, s), nil)
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
