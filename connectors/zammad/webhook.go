package zammad

import (
	"bytes"
	"crypto/hmac"
	"crypto/sha1"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/http"
	"regexp"
	"strings"
	"time"

	"golang.org/x/net/html"

	"github.com/relaydesk/relaydesk/connectors"
)

// Webhook request headers Zammad sends.
const (
	// HeaderSignature is "sha1=" and the hex HMAC-SHA1 of the body keyed
	// with the webhook's signature token.
	HeaderSignature = "X-Hub-Signature"
	// HeaderTrigger is the name of the trigger that fired.
	HeaderTrigger = "X-Zammad-Trigger"
	// HeaderDelivery is the delivery's job id; Zammad's retries reuse it.
	HeaderDelivery = "X-Zammad-Delivery"
)

// MaxWebhookAge is how far the newest time in a webhook payload may be from
// now, either way. Zammad signs no timestamp; the payload's own times bound
// replays instead. Zammad retries a failed delivery four times, 10, 20, 30
// and 40 seconds apart, each attempt allowed up to 60 seconds: about seven
// minutes at worst, which this covers with room for clock skew.
const MaxWebhookAge = 8 * time.Minute

// ParseWebhook implements connectors.Connector. It verifies X-Hub-Signature
// in constant time, rejects payloads whose newest time is more than
// [MaxWebhookAge] from now, and parses Zammad's default trigger payload: a
// comment event when it carries an article, and a status event for the
// ticket's state (custom states that the payload cannot map are skipped).
func (c *Client) ParseWebhook(h http.Header, body []byte, secret []byte, now time.Time) ([]connectors.Event, error) {
	if err := verify(h, body, secret); err != nil {
		return nil, err
	}
	return parsePayload(body, now)
}

func verify(h http.Header, body, secret []byte) error {
	if len(secret) == 0 {
		return fmt.Errorf("%w: no signature token configured", connectors.ErrUnauthorized)
	}
	sig := strings.TrimSpace(h.Get(HeaderSignature))
	hexSig, ok := strings.CutPrefix(sig, "sha1=")
	if !ok {
		return fmt.Errorf("%w: missing or unreadable %s", connectors.ErrUnauthorized, HeaderSignature)
	}
	got, err := hex.DecodeString(hexSig)
	if err != nil {
		return fmt.Errorf("%w: signature is not hex", connectors.ErrUnauthorized)
	}
	m := hmac.New(sha1.New, secret)
	m.Write(body)
	if !hmac.Equal(got, m.Sum(nil)) {
		return fmt.Errorf("%w: signature mismatch", connectors.ErrUnauthorized)
	}
	return nil
}

// webhookPayload is Zammad's default webhook payload, reduced to what the
// connector reads.
type webhookPayload struct {
	Ticket *struct {
		ID          flexInt         `json:"id"`
		State       string          `json:"state"`
		Group       json.RawMessage `json:"group"`
		UpdatedAt   flexTime        `json:"updated_at"`
		LastCloseAt flexTime        `json:"last_close_at"`
		CloseAt     flexTime        `json:"close_at"`
	} `json:"ticket"`
	Article *struct {
		ID          flexInt  `json:"id"`
		Body        string   `json:"body"`
		ContentType string   `json:"content_type"`
		Internal    *bool    `json:"internal"`
		Sender      string   `json:"sender"`
		CreatedByID flexInt  `json:"created_by_id"`
		OriginByID  flexInt  `json:"origin_by_id"`
		CreatedAt   flexTime `json:"created_at"`
		UpdatedAt   flexTime `json:"updated_at"`
		Attachments []struct {
			ID          flexInt        `json:"id"`
			Filename    string         `json:"filename"`
			Size        flexInt        `json:"size"`
			Preferences map[string]any `json:"preferences"`
			URL         string         `json:"url"`
		} `json:"attachments"`
	} `json:"article"`
}

func parsePayload(body []byte, now time.Time) ([]connectors.Event, error) {
	var p webhookPayload
	if err := json.Unmarshal(body, &p); err != nil {
		return nil, fmt.Errorf("%w: %v", connectors.ErrMalformed, err)
	}
	if p.Ticket == nil || p.Ticket.ID == 0 {
		return nil, fmt.Errorf("%w: payload without ticket id", connectors.ErrMalformed)
	}
	t := p.Ticket
	newest := t.UpdatedAt.t
	if p.Article != nil {
		for _, at := range []time.Time{p.Article.CreatedAt.t, p.Article.UpdatedAt.t} {
			if at.After(newest) {
				newest = at
			}
		}
	}
	if newest.IsZero() {
		return nil, fmt.Errorf("%w: payload without times", connectors.ErrMalformed)
	}
	if d := now.Sub(newest); d > MaxWebhookAge || d < -MaxWebhookAge {
		return nil, fmt.Errorf("%w: payload is %s from now (replayed?)", connectors.ErrUnauthorized, d.Round(time.Second))
	}
	ticketID := formatID(int64(t.ID))

	var policy groupPolicy
	policy.followUp = "yes"
	if g := bytes.TrimSpace(t.Group); len(g) > 0 && g[0] == '{' {
		var group struct {
			FollowUpPossible string  `json:"follow_up_possible"`
			ReopenTimeInDays flexInt `json:"reopen_time_in_days"`
		}
		if err := json.Unmarshal(g, &group); err == nil && group.FollowUpPossible != "" {
			policy.followUp, policy.reopenDays = group.FollowUpPossible, int64(group.ReopenTimeInDays)
		}
	}
	closedAt := t.LastCloseAt.t
	if closedAt.IsZero() {
		closedAt = t.CloseAt.t
	}
	status, known := normalizeType(defaultStateTypes[strings.ToLower(t.State)], func() connectors.Status {
		return closedStatus(policy, closedAt, now)
	})

	var events []connectors.Event
	if a := p.Article; a != nil && a.ID != 0 {
		if a.Internal == nil || a.Sender == "" || a.CreatedByID == 0 {
			return nil, fmt.Errorf("%w: article without visibility, sender or author", connectors.ErrMalformed)
		}
		author := a.OriginByID
		if author == 0 {
			author = a.CreatedByID
		}
		e := connectors.Event{
			Type: connectors.EventComment, EventID: "article:" + formatID(int64(a.ID)), TicketID: ticketID,
			CommentID: formatID(int64(a.ID)), AuthorID: formatID(int64(author)), Public: !*a.Internal,
			// Customer articles are the ones relaydesk records (and any a
			// customer wrote); only agents' articles go to WhatsApp.
			FromRequester: !strings.EqualFold(a.Sender, "Agent"), Body: plainText(a.Body, a.ContentType),
			At: a.CreatedAt.t,
		}
		if known {
			e.Status = status
		}
		for _, att := range a.Attachments {
			if disp, _ := att.Preferences["Content-Disposition"].(string); strings.EqualFold(disp, "inline") {
				continue // inline images of the HTML body
			}
			size := int64(att.Size)
			if size == 0 {
				size = -1
			}
			e.Attachments = append(e.Attachments, connectors.RemoteAttachment{
				URL: att.URL, Filename: att.Filename, ContentType: articleAttachment{Preferences: att.Preferences}.mimeType(), Size: size,
			})
		}
		events = append(events, e)
	}
	if known {
		events = append(events, connectors.Event{
			Type: connectors.EventTicketStatus, TicketID: ticketID, Status: status, At: t.UpdatedAt.t,
			EventID: fmt.Sprintf("ticket:%d:%s:%s", t.ID, strings.ToLower(t.State), t.UpdatedAt.raw),
		})
	}
	return events, nil
}

// plainText turns an article body into text: Zammad agents write HTML.
func plainText(body, contentType string) string {
	if !strings.Contains(strings.ToLower(contentType), "html") {
		return body
	}
	doc, err := html.Parse(strings.NewReader(body))
	if err != nil {
		return body
	}
	var b strings.Builder
	newline := func() {
		if s := b.String(); s != "" && !strings.HasSuffix(s, "\n") {
			b.WriteString("\n")
		}
	}
	var walk func(n *html.Node, pre bool)
	walk = func(n *html.Node, pre bool) {
		switch n.Type {
		case html.TextNode:
			if pre {
				b.WriteString(n.Data)
			} else {
				b.WriteString(spaces.ReplaceAllString(n.Data, " "))
			}
			return
		case html.ElementNode:
			switch n.Data {
			case "script", "style", "head", "img":
				return
			case "br":
				b.WriteString("\n")
				return
			case "pre":
				pre = true
			}
		}
		block := n.Type == html.ElementNode && blocks[n.Data]
		if block {
			newline()
		}
		for ch := n.FirstChild; ch != nil; ch = ch.NextSibling {
			walk(ch, pre)
		}
		if block {
			newline()
		}
	}
	walk(doc, false)
	lines := strings.Split(b.String(), "\n")
	for i, l := range lines {
		lines[i] = strings.TrimSpace(l)
	}
	return strings.TrimSpace(blankLines.ReplaceAllString(strings.Join(lines, "\n"), "\n\n"))
}

var (
	spaces     = regexp.MustCompile(`\s+`)
	blankLines = regexp.MustCompile(`\n{3,}`)
	blocks     = map[string]bool{
		"p": true, "div": true, "li": true, "ul": true, "ol": true, "tr": true, "table": true, "blockquote": true, "pre": true,
		"h1": true, "h2": true, "h3": true, "h4": true, "h5": true, "h6": true, "hr": true,
	}
)

// Zammad's stock article senders: their ids are fixed by its seeds.
const senderAgentID = 1
