package zendesk

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/relaydesk/relaydesk/connectors"
	"github.com/relaydesk/relaydesk/connectors/internal/httpapi"
)

// Webhook event types the connector subscribes to and parses.
const (
	EventCommentAdded  = "zen:event-type:ticket.comment_added"
	EventStatusChanged = "zen:event-type:ticket.status_changed"
)

// Signature headers of Zendesk webhook requests.
const (
	HeaderSignature          = "X-Zendesk-Webhook-Signature"
	HeaderSignatureTimestamp = "X-Zendesk-Webhook-Signature-Timestamp"
)

// MaxWebhookAge is how far a signature timestamp may be from now, either
// way, before the request is rejected as replayed (or forged in advance).
const MaxWebhookAge = 5 * time.Minute

// ParseWebhook implements connectors.Connector. It verifies
// X-Zendesk-Webhook-Signature = base64(HMAC-SHA256(secret, timestamp +
// body)) in constant time, rejects timestamps more than [MaxWebhookAge] from
// now, and parses ticket comment and status events. Other event types yield
// no events.
func (c *Client) ParseWebhook(h http.Header, body []byte, secret []byte, now time.Time) ([]connectors.Event, error) {
	if err := verify(h, body, secret, now); err != nil {
		return nil, err
	}
	return parseEvent(body)
}

func verify(h http.Header, body, secret []byte, now time.Time) error {
	if len(secret) == 0 {
		return fmt.Errorf("%w: no signing secret configured", connectors.ErrUnauthorized)
	}
	sig, ts := h.Get(HeaderSignature), h.Get(HeaderSignatureTimestamp)
	if sig == "" || ts == "" {
		return fmt.Errorf("%w: missing signature headers", connectors.ErrUnauthorized)
	}
	at, err := parseTimestamp(ts)
	if err != nil {
		return fmt.Errorf("%w: unreadable signature timestamp", connectors.ErrUnauthorized)
	}
	if d := now.Sub(at); d > MaxWebhookAge || d < -MaxWebhookAge {
		return fmt.Errorf("%w: signature timestamp %s is %s from now", connectors.ErrUnauthorized, ts, d.Round(time.Second))
	}
	got, err := base64.StdEncoding.DecodeString(strings.TrimSpace(sig))
	if err != nil {
		return fmt.Errorf("%w: signature is not base64", connectors.ErrUnauthorized)
	}
	// Zendesk's verification guide signs TIMESTAMP+BODY; an older revision of
	// the same guide (with a worked example) signs BODY+TIMESTAMP. Both need
	// the secret, so accepting either costs no security.
	if !hmac.Equal(got, mac(secret, []byte(ts), body)) && !hmac.Equal(got, mac(secret, body, []byte(ts))) {
		return fmt.Errorf("%w: signature mismatch", connectors.ErrUnauthorized)
	}
	return nil
}

func mac(secret []byte, parts ...[]byte) []byte {
	m := hmac.New(sha256.New, secret)
	for _, p := range parts {
		m.Write(p)
	}
	return m.Sum(nil)
}

// parseTimestamp reads the signature timestamp: ISO 8601 (what Zendesk
// sends), or Unix seconds.
func parseTimestamp(ts string) (time.Time, error) {
	if t, err := time.Parse(time.RFC3339Nano, ts); err == nil {
		return t, nil
	}
	secs, err := strconv.ParseInt(ts, 10, 64)
	if err != nil {
		return time.Time{}, err
	}
	return time.Unix(secs, 0), nil
}

// flexID reads an id Zendesk sends as a string or a number.
type flexID string

// UnmarshalJSON accepts a JSON string or integer, or null.
func (f *flexID) UnmarshalJSON(b []byte) error {
	s, err := httpapi.Scalar(b)
	if err != nil || s == "" {
		*f = ""
		return err
	}
	if _, err := strconv.ParseInt(s, 10, 64); err != nil {
		return fmt.Errorf("id %q is not an integer", s)
	}
	*f = flexID(s)
	return nil
}

// eventPayload is a Zendesk event-subscription payload, reduced to what the
// connector reads.
type eventPayload struct {
	Type    string `json:"type"`
	ID      string `json:"id"`
	Time    string `json:"time"`
	Subject string `json:"subject"`
	Detail  struct {
		ID          flexID `json:"id"`
		RequesterID flexID `json:"requester_id"`
		Status      string `json:"status"`
	} `json:"detail"`
	Event json.RawMessage `json:"event"`
}

type commentEvent struct {
	Comment struct {
		ID       flexID `json:"id"`
		Body     string `json:"body"`
		IsPublic *bool  `json:"is_public"`
		Author   struct {
			ID      flexID `json:"id"`
			IsStaff *bool  `json:"is_staff"`
		} `json:"author"`
	} `json:"comment"`
}

type statusEvent struct {
	Current  string `json:"current"`
	Previous string `json:"previous"`
}

func parseEvent(body []byte) ([]connectors.Event, error) {
	var p eventPayload
	if err := json.Unmarshal(body, &p); err != nil {
		return nil, fmt.Errorf("%w: %v", connectors.ErrMalformed, err)
	}
	if p.Type != EventCommentAdded && p.Type != EventStatusChanged {
		return nil, nil
	}
	ticketID := string(p.Detail.ID)
	if ticketID == "" {
		ticketID = strings.TrimPrefix(p.Subject, "zen:ticket:")
		if _, err := strconv.ParseInt(ticketID, 10, 64); err != nil {
			return nil, fmt.Errorf("%w: %s without a ticket id", connectors.ErrMalformed, p.Type)
		}
	}
	e := connectors.Event{EventID: p.ID, TicketID: ticketID}
	if at, err := time.Parse(time.RFC3339Nano, p.Time); err == nil {
		e.At = at
	}
	ticketStatus, _ := normalize(p.Detail.Status)

	switch p.Type {
	case EventCommentAdded:
		var ce commentEvent
		if err := json.Unmarshal(p.Event, &ce); err != nil {
			return nil, fmt.Errorf("%w: comment event: %v", connectors.ErrMalformed, err)
		}
		cm := ce.Comment
		if cm.ID == "" || cm.Author.ID == "" || cm.IsPublic == nil {
			return nil, fmt.Errorf("%w: comment event without comment id, author or visibility", connectors.ErrMalformed)
		}
		e.Type = connectors.EventComment
		e.CommentID = string(cm.ID)
		e.AuthorID = string(cm.Author.ID)
		e.Public = *cm.IsPublic
		e.Body = cm.Body
		e.Status = ticketStatus
		// An end user (not staff) is never an agent replying: that covers the
		// requester's own comments, which relaydesk posts itself.
		e.FromRequester = e.AuthorID == string(p.Detail.RequesterID) || (cm.Author.IsStaff != nil && !*cm.Author.IsStaff)
	case EventStatusChanged:
		var se statusEvent
		if err := json.Unmarshal(p.Event, &se); err != nil {
			return nil, fmt.Errorf("%w: status event: %v", connectors.ErrMalformed, err)
		}
		st, ok := normalize(se.Current)
		if !ok {
			return nil, fmt.Errorf("%w: unknown status %q", connectors.ErrMalformed, se.Current)
		}
		e.Type = connectors.EventTicketStatus
		e.Status = st
	}
	return []connectors.Event{e}, nil
}

// webhookSubscriptions are the events relaydesk's webhook subscribes to.
var webhookSubscriptions = []string{EventCommentAdded, EventStatusChanged}

type webhookJSON struct {
	ID            string   `json:"id"`
	Endpoint      string   `json:"endpoint"`
	Status        string   `json:"status"`
	Subscriptions []string `json:"subscriptions"`
}

// InstallWebhook implements connectors.WebhookInstaller: it creates an
// active webhook subscribed to ticket comment and status events (or reuses
// one already pointing at callbackURL with those subscriptions) and returns
// its signing secret.
func (c *Client) InstallWebhook(ctx context.Context, callbackURL string) ([]byte, error) {
	if u, err := url.Parse(callbackURL); err != nil || u.Host == "" || (u.Scheme != "https" && u.Scheme != "http") {
		return nil, connectors.PermanentError("zendesk: callback URL must be an absolute http(s) URL", nil)
	}
	hooks, err := c.webhooks(ctx)
	if err != nil {
		return nil, err
	}
	id := ""
	for _, w := range hooks {
		if w.Endpoint == callbackURL && w.Status == "active" && containsAll(w.Subscriptions, webhookSubscriptions) {
			id = w.ID
			break
		}
	}
	if id == "" {
		name := "relaydesk"
		if c.name != "" {
			name += " (" + c.name + ")"
		}
		in := map[string]any{"webhook": map[string]any{
			"name": name, "description": "Agent replies and status changes for relaydesk (WhatsApp).",
			"endpoint": callbackURL, "http_method": "POST", "request_format": "json", "status": "active",
			"subscriptions": webhookSubscriptions,
		}}
		var out struct {
			Webhook webhookJSON `json:"webhook"`
		}
		if err := c.do(ctx, call{method: http.MethodPost, path: "webhooks", in: in, out: &out}); err != nil {
			return nil, err
		}
		if out.Webhook.ID == "" {
			return nil, connectors.RetryError("zendesk: created webhook has no id", nil)
		}
		id = out.Webhook.ID
	}
	var sec struct {
		SigningSecret struct {
			Algorithm string `json:"algorithm"`
			Secret    string `json:"secret"`
		} `json:"signing_secret"`
	}
	if err := c.do(ctx, call{method: http.MethodGet, path: "webhooks/" + url.PathEscape(id) + "/signing_secret", out: &sec}); err != nil {
		return nil, err
	}
	if sec.SigningSecret.Secret == "" {
		return nil, connectors.RetryError("zendesk: webhook has no signing secret", nil)
	}
	if a := sec.SigningSecret.Algorithm; a != "" && !strings.EqualFold(a, "sha256") {
		return nil, connectors.PermanentError("zendesk: unsupported signing algorithm "+strconv.Quote(a), nil)
	}
	return []byte(sec.SigningSecret.Secret), nil
}

// UninstallWebhook implements connectors.WebhookInstaller.
func (c *Client) UninstallWebhook(ctx context.Context, callbackURL string) error {
	hooks, err := c.webhooks(ctx)
	if err != nil {
		return err
	}
	for _, w := range hooks {
		if w.Endpoint != callbackURL {
			continue
		}
		err := c.do(ctx, call{method: http.MethodDelete, path: "webhooks/" + url.PathEscape(w.ID)})
		if err != nil && !connectors.IsNotFound(err) {
			return err
		}
	}
	return nil
}

// webhooks lists the account's webhooks (cursor pagination).
func (c *Client) webhooks(ctx context.Context) ([]webhookJSON, error) {
	var all []webhookJSON
	q := url.Values{"page[size]": {"100"}}
	for range maxPages {
		var page struct {
			Webhooks []webhookJSON `json:"webhooks"`
			cursorPage
		}
		if err := c.do(ctx, call{method: http.MethodGet, path: "webhooks", query: q, out: &page}); err != nil {
			return nil, err
		}
		all = append(all, page.Webhooks...)
		if !page.Meta.HasMore {
			return all, nil
		}
		q.Set("page[after]", page.Meta.AfterCursor)
	}
	return nil, connectors.PermanentError("zendesk: too many webhooks to list", errors.New("more than 1000"))
}

func containsAll(have, want []string) bool {
	for _, w := range want {
		if !slices.Contains(have, w) {
			return false
		}
	}
	return true
}
