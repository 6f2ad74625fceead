package chatwoot

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"

	"github.com/relaydesk/relaydesk/connectors"
	"github.com/relaydesk/relaydesk/connectors/internal/httpapi"
)

// Keys relaydesk stores in a conversation's additional_attributes.
const (
	AttrKey                  = "relaydesk_key"
	AttrSubject              = "relaydesk_subject"
	AttrExternalID           = "relaydesk_external_id"
	AttrPreviousConversation = "relaydesk_previous_conversation_id"
)

// Chatwoot's numeric message types, as the messages API returns them.
const (
	typeIncoming = 0
	typeOutgoing = 1
)

// CreateTicket implements connectors.Connector: a conversation in the API
// inbox whose first message is t.First as an incoming message. Chatwoot has
// no idempotency key, so the conversation records t.First.Key in its
// additional_attributes and the message carries it as source_id: a retry
// finds the conversation (and the message, when it was posted) among the
// contact's conversations instead of creating another.
func (c *Client) CreateTicket(ctx context.Context, t connectors.NewTicket) (connectors.Ticket, string, error) {
	rid, err := parseID("requester", t.RequesterID)
	if err != nil {
		return connectors.Ticket{}, "", err
	}
	if err := checkMessage(t.First); err != nil {
		return connectors.Ticket{}, "", err
	}
	key := messageKey(t.First, rid)
	conv, found, err := c.findConversation(ctx, rid, key)
	if err != nil {
		return connectors.Ticket{}, "", err
	}
	if !found {
		if conv, err = c.createConversation(ctx, rid, key, t); err != nil {
			return connectors.Ticket{}, "", err
		}
	}
	if len(t.Tags) > 0 && len(conv.Labels) == 0 {
		// Labels replace the conversation's labels: set them only while it
		// has none (a retry must not undo an agent's labels).
		in := map[string]any{"labels": labels(t.Tags)}
		if err := c.do(ctx, call{method: http.MethodPost, path: c.accountPath("conversations/" + formatID(conv.ID) + "/labels"), in: in}); err != nil {
			return connectors.Ticket{}, "", err
		}
	}
	var msgID string
	if found {
		if id, ok, err := c.findBySource(ctx, conv.ID, key); err != nil {
			return connectors.Ticket{}, "", err
		} else if ok {
			msgID = id
		}
	}
	if msgID == "" {
		if msgID, err = c.postIncoming(ctx, conv.ID, t.First, key); err != nil {
			return connectors.Ticket{}, "", err
		}
	}
	st, ok := normalize(conv.Status)
	if !ok {
		st = connectors.StatusOpen
	}
	id := formatID(conv.ID)
	return connectors.Ticket{ID: id, Status: st, URL: c.conversationURL(id)}, msgID, nil
}

func (c *Client) createConversation(ctx context.Context, rid int64, key string, t connectors.NewTicket) (conversation, error) {
	source, err := c.sourceID(ctx, rid)
	if err != nil {
		return conversation{}, err
	}
	attrs := map[string]any{AttrKey: key}
	if t.Subject != "" {
		attrs[AttrSubject] = t.Subject
	}
	if t.ExternalID != "" {
		attrs[AttrExternalID] = t.ExternalID
	}
	if t.PreviousTicketID != "" {
		// Chatwoot cannot link conversations; keep the reference.
		attrs[AttrPreviousConversation] = t.PreviousTicketID
	}
	in := map[string]any{
		"source_id": source, "inbox_id": c.inboxID, "contact_id": rid, "status": "open", "additional_attributes": attrs,
	}
	var conv conversation
	if err := c.do(ctx, call{method: http.MethodPost, path: c.accountPath("conversations"), in: in, out: &conv}); err != nil {
		return conversation{}, err
	}
	if conv.ID == 0 {
		return conversation{}, connectors.RetryError("chatwoot: created conversation has no id", nil)
	}
	return conv, nil
}

// findConversation looks among the contact's conversations (the 20 most
// recently active, which include any created moments ago) for the one a
// previous attempt created for key.
func (c *Client) findConversation(ctx context.Context, rid int64, key string) (conversation, bool, error) {
	var out struct {
		Payload []conversation `json:"payload"`
	}
	err := c.do(ctx, call{method: http.MethodGet, path: c.accountPath("contacts/" + formatID(rid) + "/conversations"), out: &out})
	if err != nil {
		return conversation{}, false, err
	}
	for _, cv := range out.Payload {
		if cv.InboxID == c.inboxID && fmt.Sprint(cv.AdditionalAttributes[AttrKey]) == key {
			return cv, true, nil
		}
	}
	return conversation{}, false, nil
}

// messageKey is the source_id of a customer message: its WhatsApp id, or a
// digest of its content when the bridge gave none.
func messageKey(m connectors.Message, rid int64) string {
	if m.Key != "" {
		return m.Key
	}
	names := make([]string, len(m.Attachments))
	for i, a := range m.Attachments {
		names[i] = httpapi.FileName(a)
	}
	sum := sha256.Sum256(fmt.Appendf(nil, "%d\x00%d\x00%s\x00%s", rid, m.At.UnixNano(), m.Body, strings.Join(names, "\x00")))
	return "relaydesk-" + base64.RawURLEncoding.EncodeToString(sum[:18])
}

// labels turns tags into Chatwoot label names (lower case, no spaces).
func labels(tags []string) []string {
	var out []string
	for _, t := range tags {
		t = strings.ToLower(strings.Join(strings.Fields(t), "-"))
		if t != "" && !slices.Contains(out, t) {
			out = append(out, t)
		}
	}
	return out
}

func checkMessage(m connectors.Message) error {
	if strings.TrimSpace(m.Body) == "" && len(m.Attachments) == 0 {
		return connectors.PermanentError("chatwoot: empty message", nil)
	}
	return nil
}

// AddMessage implements connectors.Connector: an incoming message in the
// conversation, authored by its contact. Chatwoot reopens a resolved or
// snoozed conversation when an incoming message arrives; it has no status
// that refuses messages (a deleted conversation answers 404).
func (c *Client) AddMessage(ctx context.Context, ticketID, requesterID string, m connectors.Message) (string, error) {
	id, err := parseID("conversation", ticketID)
	if err != nil {
		return "", err
	}
	rid, err := parseID("requester", requesterID)
	if err != nil {
		return "", err
	}
	if err := checkMessage(m); err != nil {
		return "", err
	}
	return c.postIncoming(ctx, id, m, messageKey(m, rid))
}

// postIncoming posts m as an incoming message with source_id key: JSON when
// it has no files, a streamed multipart/form-data body otherwise.
func (c *Client) postIncoming(ctx context.Context, convID int64, m connectors.Message, key string) (string, error) {
	p := c.accountPath("conversations/" + formatID(convID) + "/messages")
	var out message
	if len(m.Attachments) == 0 {
		in := map[string]any{"content": m.Body, "message_type": "incoming", "private": false, "source_id": key}
		if err := c.do(ctx, call{method: http.MethodPost, path: p, in: in, out: &out}); err != nil {
			return "", err
		}
	} else {
		files, err := httpapi.OpenFiles(ctx, Kind, m.Attachments)
		if err != nil {
			return "", err
		}
		fields := []formField{{"message_type", "incoming"}, {"private", "false"}, {"source_id", key}}
		if strings.TrimSpace(m.Body) != "" {
			fields = append([]formField{{"content", m.Body}}, fields...)
		}
		body, err := newMultipart(fields, "attachments[]", files)
		if err != nil {
			return "", err
		}
		if err := c.do(ctx, call{method: http.MethodPost, path: p, body: body, out: &out}); err != nil {
			return "", err
		}
	}
	return httpapi.CreatedID(Kind, "message", out.ID)
}

// AddNote implements connectors.Connector: a private note, shown to agents
// only and never sent to the contact.
func (c *Client) AddNote(ctx context.Context, ticketID string, n connectors.Note) (string, error) {
	id, err := httpapi.NoteTarget(Kind, "conversation", ticketID, n)
	if err != nil {
		return "", err
	}
	in := map[string]any{"content": n.Body, "message_type": "outgoing", "private": true}
	var out message
	if err := c.do(ctx, call{method: http.MethodPost, path: c.accountPath("conversations/" + formatID(id) + "/messages"), in: in, out: &out}); err != nil {
		return "", err
	}
	return httpapi.CreatedID(Kind, "note", out.ID)
}

// GetTicket implements connectors.Connector.
func (c *Client) GetTicket(ctx context.Context, ticketID string) (connectors.Ticket, error) {
	id, err := parseID("conversation", ticketID)
	if err != nil {
		return connectors.Ticket{}, err
	}
	var conv conversation
	if err := c.do(ctx, call{method: http.MethodGet, path: c.accountPath("conversations/" + formatID(id)), out: &conv}); err != nil {
		return connectors.Ticket{}, err
	}
	st, ok := normalize(conv.Status)
	if !ok {
		return connectors.Ticket{}, connectors.RetryError(fmt.Sprintf("chatwoot: conversation %d has unknown status %q", id, conv.Status), nil)
	}
	return connectors.Ticket{ID: formatID(id), Status: st, URL: c.conversationURL(formatID(id))}, nil
}

// FindMessage implements connectors.MessageFinder: it reads the
// conversation's messages newest first (a page of 20 at a time) for an
// incoming message whose source_id is m's key.
func (c *Client) FindMessage(ctx context.Context, ticketID, requesterID string, m connectors.Message) (string, bool, error) {
	id, err := parseID("conversation", ticketID)
	if err != nil {
		return "", false, err
	}
	rid, err := parseID("requester", requesterID)
	if err != nil {
		return "", false, err
	}
	return c.findBySource(ctx, id, messageKey(m, rid))
}

func (c *Client) findBySource(ctx context.Context, convID int64, key string) (string, bool, error) {
	q := url.Values{}
	for range maxPages {
		var out struct {
			Payload []message `json:"payload"`
		}
		if err := c.do(ctx, call{method: http.MethodGet, path: c.accountPath("conversations/" + formatID(convID) + "/messages"), query: q, out: &out}); err != nil {
			return "", false, err
		}
		if len(out.Payload) == 0 {
			return "", false, nil
		}
		oldest := out.Payload[0].ID
		for i := len(out.Payload) - 1; i >= 0; i-- {
			msg := out.Payload[i]
			oldest = min(oldest, msg.ID)
			if msg.MessageType == typeIncoming && msg.SourceID != nil && *msg.SourceID == key {
				return formatID(msg.ID), true, nil
			}
		}
		q = url.Values{"before": {strconv.FormatInt(oldest, 10)}}
	}
	return "", false, nil
}

// Test implements connectors.Tester: it reads the configured inbox, which
// checks the token, the account and the inbox (it must be an API inbox).
func (c *Client) Test(ctx context.Context) error {
	var in struct {
		ID          int64  `json:"id"`
		ChannelType string `json:"channel_type"`
	}
	if err := c.do(ctx, call{method: http.MethodGet, path: c.accountPath("inboxes/" + formatID(c.inboxID)), out: &in}); err != nil {
		return err
	}
	if in.ChannelType != "" && in.ChannelType != "Channel::Api" {
		return connectors.PermanentError(fmt.Sprintf("chatwoot: inbox %d is a %s inbox, not an API inbox", c.inboxID, in.ChannelType), nil)
	}
	return nil
}
