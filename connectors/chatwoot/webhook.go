package chatwoot

import (
	"bytes"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"mime"
	"net/http"
	"net/url"
	"path"
	"strconv"
	"strings"
	"time"

	"github.com/relaydesk/relaydesk/connectors"
	"github.com/relaydesk/relaydesk/connectors/internal/httpapi"
)

// Webhook events the connector subscribes to and parses.
const (
	EventMessageCreated            = "message_created"
	EventConversationStatusChanged = "conversation_status_changed"
)

// Webhook request headers.
const (
	// HeaderSignature is "sha256=" and the hex HMAC-SHA256 of
	// "<timestamp>.<body>" (Chatwoot 4.11.2 and later).
	HeaderSignature = "X-Chatwoot-Signature"
	// HeaderTimestamp is the Unix time of the signature.
	HeaderTimestamp = "X-Chatwoot-Timestamp"
	// HeaderDelivery identifies a delivery; retries reuse it.
	HeaderDelivery = "X-Chatwoot-Delivery"
	// HeaderToken carries the "token" query parameter of the callback URL
	// for unsigned webhooks: relaydesk's HTTP layer copies it there.
	HeaderToken = "X-Relaydesk-Token"
	// QueryToken is the callback URL query parameter holding the token.
	QueryToken = "token"
)

// MaxWebhookAge is how far a signature timestamp may be from now, either
// way, before the request is rejected as replayed (or forged in advance).
const MaxWebhookAge = 5 * time.Minute

// ParseWebhook implements connectors.Connector. A signed request (the
// X-Chatwoot-Signature header) is verified in constant time and its
// timestamp must be within [MaxWebhookAge] of now; an unsigned one must carry
// the secret in [HeaderToken]. It parses message_created and
// conversation_status_changed events of the relaydesk inbox; other events,
// other inboxes, activity and template messages yield no events.
func (c *Client) ParseWebhook(h http.Header, body []byte, secret []byte, now time.Time) ([]connectors.Event, error) {
	if err := verify(h, body, secret, now); err != nil {
		return nil, err
	}
	return c.parseEvent(body)
}

func verify(h http.Header, body, secret []byte, now time.Time) error {
	if len(secret) == 0 {
		return fmt.Errorf("%w: no webhook secret configured", connectors.ErrUnauthorized)
	}
	sig := strings.TrimSpace(h.Get(HeaderSignature))
	if sig == "" {
		tok := h.Get(HeaderToken)
		if tok == "" {
			return fmt.Errorf("%w: neither a signature nor a token", connectors.ErrUnauthorized)
		}
		// Compare digests so that the comparison's time does not depend on
		// the lengths either.
		a, b := sha256.Sum256([]byte(tok)), sha256.Sum256(secret)
		if !hmac.Equal(a[:], b[:]) {
			return fmt.Errorf("%w: token mismatch", connectors.ErrUnauthorized)
		}
		return nil
	}
	ts := strings.TrimSpace(h.Get(HeaderTimestamp))
	secs, err := strconv.ParseInt(ts, 10, 64)
	if err != nil {
		return fmt.Errorf("%w: missing or unreadable %s", connectors.ErrUnauthorized, HeaderTimestamp)
	}
	if d := now.Sub(time.Unix(secs, 0)); d > MaxWebhookAge || d < -MaxWebhookAge {
		return fmt.Errorf("%w: signature timestamp is %s from now", connectors.ErrUnauthorized, d.Round(time.Second))
	}
	got, err := hex.DecodeString(strings.TrimPrefix(sig, "sha256="))
	if err != nil || !strings.HasPrefix(sig, "sha256=") {
		return fmt.Errorf("%w: signature is not sha256=<hex>", connectors.ErrUnauthorized)
	}
	m := hmac.New(sha256.New, secret)
	m.Write([]byte(ts))
	m.Write([]byte("."))
	m.Write(body)
	if !hmac.Equal(got, m.Sum(nil)) {
		return fmt.Errorf("%w: signature mismatch", connectors.ErrUnauthorized)
	}
	return nil
}

// flexInt reads an id or a count Chatwoot sends as a number or a string.
type flexInt int64

// UnmarshalJSON accepts a JSON number, a numeric string, or null.
func (f *flexInt) UnmarshalJSON(b []byte) error {
	s, err := httpapi.Scalar(b)
	if err != nil || s == "" {
		*f = 0
		return err
	}
	n, err := strconv.ParseFloat(s, 64)
	if err != nil || n != float64(int64(n)) {
		return fmt.Errorf("%q is not an integer", s)
	}
	*f = flexInt(n)
	return nil
}

// flexTime reads a time Chatwoot sends as an ISO 8601 string, as "2006-01-02
// 15:04:05 UTC", or as Unix seconds (possibly fractional).
type flexTime struct {
	t   time.Time
	raw string
}

// UnmarshalJSON implements json.Unmarshaler; unreadable times are zero.
func (f *flexTime) UnmarshalJSON(b []byte) error {
	b = bytes.TrimSpace(b)
	f.raw = strings.Trim(string(b), `"`)
	if f.raw == "null" || f.raw == "" {
		*f = flexTime{}
		return nil
	}
	for _, layout := range []string{time.RFC3339Nano, "2006-01-02 15:04:05 MST", "2006-01-02 15:04:05 -0700"} {
		if t, err := time.Parse(layout, f.raw); err == nil {
			f.t = t
			return nil
		}
	}
	if secs, err := strconv.ParseFloat(f.raw, 64); err == nil {
		f.t = time.Unix(0, int64(secs*float64(time.Second))).UTC()
	}
	return nil
}

// webhookPayload is a Chatwoot webhook body, reduced to what the connector
// reads. message_created carries a message with its conversation;
// conversation_status_changed carries the conversation itself.
type webhookPayload struct {
	Event       string   `json:"event"`
	ID          flexInt  `json:"id"`
	Content     *string  `json:"content"`
	MessageType string   `json:"message_type"`
	Private     *bool    `json:"private"`
	CreatedAt   flexTime `json:"created_at"`
	Sender      *struct {
		ID   flexInt `json:"id"`
		Type string  `json:"type"`
	} `json:"sender"`
	Inbox *struct {
		ID flexInt `json:"id"`
	} `json:"inbox"`
	Conversation *struct {
		ID      flexInt `json:"id"`
		InboxID flexInt `json:"inbox_id"`
		Status  string  `json:"status"`
		Meta    struct {
			Sender struct {
				ID flexInt `json:"id"`
			} `json:"sender"`
		} `json:"meta"`
	} `json:"conversation"`
	// ContentAttributes: in_reply_to is the Chatwoot id of the message an
	// agent replied to (Chatwoot's "Reply to" on a message); is_reaction
	// marks a reaction to that message, its emoji the content (Chatwoot
	// builds with agent reactions, such as fazer-ai's; upstream Chatwoot
	// has none yet [unverified for later upstream releases]).
	ContentAttributes *struct {
		InReplyTo  flexInt `json:"in_reply_to"`
		IsReaction bool    `json:"is_reaction"`
		Deleted    bool    `json:"deleted"`
	} `json:"content_attributes"`
	Attachments []struct {
		ID       flexInt `json:"id"`
		FileType string  `json:"file_type"`
		DataURL  string  `json:"data_url"`
		FileSize flexInt `json:"file_size"`
	} `json:"attachments"`
	// conversation_status_changed
	InboxID   flexInt  `json:"inbox_id"`
	Status    string   `json:"status"`
	UpdatedAt flexTime `json:"updated_at"`
	Timestamp flexTime `json:"timestamp"`
}

func (c *Client) parseEvent(body []byte) ([]connectors.Event, error) {
	var p webhookPayload
	if err := json.Unmarshal(body, &p); err != nil {
		return nil, fmt.Errorf("%w: %v", connectors.ErrMalformed, err)
	}
	switch p.Event {
	case EventMessageCreated:
		return c.parseMessage(p)
	case EventConversationStatusChanged:
		if p.ID == 0 || p.Status == "" {
			return nil, fmt.Errorf("%w: %s without conversation id or status", connectors.ErrMalformed, p.Event)
		}
		if int64(p.InboxID) != c.inboxID {
			return nil, nil
		}
		st, ok := normalize(p.Status)
		if !ok {
			return nil, fmt.Errorf("%w: unknown status %q", connectors.ErrMalformed, p.Status)
		}
		at := p.UpdatedAt
		if at.t.IsZero() {
			at = p.Timestamp
		}
		return []connectors.Event{{
			Type: connectors.EventTicketStatus, TicketID: formatID(int64(p.ID)), Status: st, At: at.t,
			EventID: fmt.Sprintf("conversation:%d:%s:%s", p.ID, p.Status, at.raw),
		}}, nil
	}
	return nil, nil
}

func (c *Client) parseMessage(p webhookPayload) ([]connectors.Event, error) {
	if p.ID == 0 || p.Conversation == nil || p.Conversation.ID == 0 {
		return nil, fmt.Errorf("%w: message_created without message or conversation id", connectors.ErrMalformed)
	}
	// Very old Chatwoot versions omit "private": without it a note cannot
	// be told from a reply, so nothing is sent to the customer.
	private := p.Private == nil || *p.Private
	inbox := int64(p.Conversation.InboxID)
	if p.Inbox != nil && p.Inbox.ID != 0 {
		inbox = int64(p.Inbox.ID)
	}
	if inbox != c.inboxID {
		return nil, nil
	}
	var fromRequester bool
	switch p.MessageType {
	case "incoming":
		fromRequester = true
	case "outgoing":
	default:
		// activity (status notices) and template (bot forms, CSAT) messages
		// are not conversation replies.
		return nil, nil
	}
	e := connectors.Event{
		Type: connectors.EventComment, EventID: "message:" + formatID(int64(p.ID)), TicketID: formatID(int64(p.Conversation.ID)),
		CommentID: formatID(int64(p.ID)), Public: !private, FromRequester: fromRequester, At: p.CreatedAt.t,
	}
	if p.Content != nil {
		e.Body = *p.Content
	}
	if ca := p.ContentAttributes; ca != nil && ca.InReplyTo != 0 {
		e.InReplyTo = formatID(int64(ca.InReplyTo))
		if ca.IsReaction {
			e.Reaction = true
			if ca.Deleted {
				e.Body = "" // a reaction taken back
			}
		}
	}
	switch {
	case p.Sender != nil && p.Sender.ID != 0:
		e.AuthorID = formatID(int64(p.Sender.ID))
	case fromRequester:
		e.AuthorID = formatID(int64(p.Conversation.Meta.Sender.ID))
	}
	if st, ok := normalize(p.Conversation.Status); ok {
		e.Status = st
	}
	for _, a := range p.Attachments {
		if a.DataURL == "" {
			continue // locations and contact cards have no file
		}
		name := attachmentName(a.DataURL, a.FileType, int64(a.ID))
		size := int64(a.FileSize)
		if size == 0 {
			size = -1
		}
		e.Attachments = append(e.Attachments, connectors.RemoteAttachment{URL: a.DataURL, Filename: name, ContentType: typeByName(name), Size: size})
	}
	return []connectors.Event{e}, nil
}

// attachmentName recovers a file's name from its Active Storage URL, which
// ends with the file name; webhook payloads have no name field.
func attachmentName(dataURL, fileType string, id int64) string {
	if u, err := url.Parse(dataURL); err == nil {
		if name := path.Base(u.Path); name != "." && name != "/" && strings.Contains(name, ".") {
			return name
		}
	}
	return fmt.Sprintf("%s-%d", fileType, id)
}

// typeByName guesses a MIME type from a file name's extension.
func typeByName(name string) string {
	if t := mime.TypeByExtension(strings.ToLower(path.Ext(name))); t != "" {
		mt, _, err := mime.ParseMediaType(t)
		if err == nil {
			return mt
		}
	}
	return "application/octet-stream"
}
