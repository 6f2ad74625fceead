// Package apiview holds the JSON shapes of the public API (/api/v1): chats,
// messages, contacts and event envelopes, built from store rows. The HTTP
// handlers and the bridge's event emission share them, so an event carries
// exactly what the API would answer. api/openapi.yaml describes the same
// shapes; a test validates real responses against it.
package apiview

import (
	"encoding/json"
	"fmt"
	"time"

	"github.com/relaydesk/relaydesk/internal/store"
)

// Number is a business WhatsApp number.
type Number struct {
	PhoneNumberID      string `json:"phone_number_id"`
	DisplayPhoneNumber string `json:"display_phone_number"`
}

// Ticket is a chat's linked helpdesk ticket.
type Ticket struct {
	ID        string    `json:"id"` // the helpdesk's ticket id
	URL       string    `json:"url,omitempty"`
	Status    string    `json:"status"`
	Open      bool      `json:"open"`
	CreatedAt time.Time `json:"created_at"`
}

// ChatContact is the customer of a chat. A customer who hides their
// phone number behind a WhatsApp username has no wa_id and no phone, only
// a user_id (the business-scoped user id, BSUID).
type ChatContact struct {
	WaID        *string `json:"wa_id"`
	Phone       *string `json:"phone"` // "+" and wa_id
	UserID      *string `json:"user_id"`
	Username    *string `json:"username"`
	ProfileName string  `json:"profile_name"`
}

// orNull is s, or nil when s is empty.
func orNull(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}

// phoneOf is the E.164 phone number of a wa_id, or nil without one.
func phoneOf(waID string) *string {
	if waID == "" {
		return nil
	}
	p := "+" + waID
	return &p
}

// Chat is one customer's conversation with one number.
type Chat struct {
	ID            store.ConversationID `json:"id"`
	Number        Number               `json:"number"`
	Contact       ChatContact          `json:"contact"`
	LastInboundAt *time.Time           `json:"last_inbound_at"`
	// WindowOpenUntil is when the 24-hour customer service window closes
	// (null: no customer message yet); after it only templates may be sent.
	WindowOpenUntil *time.Time `json:"window_open_until"`
	Ticket          *Ticket    `json:"ticket"`
	CreatedAt       time.Time  `json:"created_at"`
	UpdatedAt       time.Time  `json:"updated_at"`
}

// NewChat builds a Chat.
func NewChat(c store.APIChat, window time.Duration) Chat {
	out := Chat{ID: c.ID, Number: Number{c.PhoneNumberID, c.DisplayPhoneNumber},
		Contact: ChatContact{WaID: orNull(c.WaID), Phone: phoneOf(c.WaID), UserID: orNull(c.UserID), Username: orNull(c.Username),
			ProfileName: c.ProfileName}, LastInboundAt: utc(c.LastInboundAt),
		CreatedAt: inRange(c.CreatedAt), UpdatedAt: inRange(c.UpdatedAt)}
	if c.LastInboundAt != nil {
		until := inRange(c.LastInboundAt.Add(window))
		out.WindowOpenUntil = &until
	}
	if c.Ticket != nil {
		out.Ticket = &Ticket{ID: c.Ticket.RemoteID, URL: c.Ticket.URL, Status: c.Ticket.Status, Open: c.Ticket.Open(),
			CreatedAt: inRange(c.Ticket.CreatedAt)}
	}
	return out
}

// Media describes a message's media.
type Media struct {
	MimeType string `json:"mime_type,omitempty"`
	SHA256   string `json:"sha256,omitempty"`
	Filename string `json:"filename,omitempty"`
	Caption  string `json:"caption,omitempty"`
	Voice    bool   `json:"voice,omitempty"`
	// DownloadURL streams an inbound message's file through relaydesk.
	DownloadURL string `json:"download_url,omitempty"`
	// Link is where an outbound media-by-link message's file was fetched from.
	Link string `json:"link,omitempty"`
}

// Template names the template of an outbound template message.
type Template struct {
	Name     string `json:"name"`
	Language string `json:"language"`
}

// Message is one message, either direction.
type Message struct {
	ID        store.MessageID      `json:"id"`
	ChatID    store.ConversationID `json:"chat_id"`
	Direction string               `json:"direction"` // inbound | outbound
	Type      string               `json:"type"`
	Text      string               `json:"text"`
	Media     *Media               `json:"media"`
	Template  *Template            `json:"template,omitempty"`
	// State is relaydesk's progress: pending, done, failed, waiting_window.
	State string `json:"state"`
	// Status is WhatsApp's delivery status of an outbound message
	// (accepted, sent, delivered, read, failed); "" for inbound.
	Status   string              `json:"status"`
	StatusAt *time.Time          `json:"status_at"`
	Error    *store.MessageError `json:"error"`
	WAMID    string              `json:"wamid"`
	// Author is "customer", "agent:<helpdesk user id>" or "app:<application name>",
	// or one of the 2026 authors (store.AuthorCustomerAI, AuthorMetaAI,
	// AuthorBusinessApp, AuthorWhatsApp).
	Author string `json:"author"`
	// Timestamp is WhatsApp's time of an inbound message, else CreatedAt.
	Timestamp time.Time `json:"timestamp"`
	CreatedAt time.Time `json:"created_at"`
}

// NewMessage builds a Message; baseURL prefixes media download URLs.
func NewMessage(m store.APIMessage, baseURL string) Message {
	out := Message{ID: m.ID, ChatID: m.ConversationID, Direction: "inbound", Type: m.Kind, Text: m.Body,
		State: m.State, Status: m.Status, StatusAt: utc(m.StatusAt), WAMID: m.WAMID, Author: m.Author,
		Timestamp: inRange(m.CreatedAt), CreatedAt: inRange(m.CreatedAt)}
	out.Error = m.Error
	if m.WATimestamp != nil {
		out.Timestamp = inRange(*m.WATimestamp)
	}
	if m.Direction == "out" {
		out.Direction = "outbound"
		if p := m.APISend; p != nil {
			out.Type = p.Type
			if p.Link != "" {
				out.Media = &Media{Link: p.Link, Caption: p.Caption, Filename: p.Filename}
			}
			if len(p.Template) > 0 {
				var t Template
				_ = json.Unmarshal(p.Template, &t)
				out.Template = &t
			}
		}
		return out
	}
	if im := m.Media; im != nil && im.ID != "" {
		out.Media = &Media{MimeType: im.MimeType, SHA256: im.SHA256, Filename: im.Filename, Caption: im.Caption,
			Voice: im.Voice, DownloadURL: fmt.Sprintf("%s/api/v1/messages/%d/media", baseURL, m.ID)}
	}
	return out
}

// MediaID returns the Graph media id of an inbound message, if any.
func MediaID(m store.APIMessage) string {
	if m.Direction != "in" || m.Media == nil {
		return ""
	}
	return m.Media.ID
}

// Contact is a customer, found by phone number or BSUID.
type Contact struct {
	WaID        *string `json:"wa_id"`
	Phone       *string `json:"phone"`
	UserID      *string `json:"user_id"`
	Username    *string `json:"username"`
	ProfileName string  `json:"profile_name"`
	// ChangedToWaID is the customer's new number, when WhatsApp reported a change.
	ChangedToWaID string                 `json:"changed_to_wa_id,omitempty"`
	ChatIDs       []store.ConversationID `json:"chat_ids"`
	CreatedAt     time.Time              `json:"created_at"`
	UpdatedAt     time.Time              `json:"updated_at"`
}

// NewContact builds a Contact.
func NewContact(c store.APIContact) Contact {
	return Contact{WaID: orNull(c.WaID), Phone: phoneOf(c.WaID), UserID: orNull(c.UserID), Username: orNull(c.Username),
		ProfileName: c.ProfileName, ChangedToWaID: c.ChangedToWaID, ChatIDs: c.ChatIDs,
		CreatedAt: inRange(c.CreatedAt), UpdatedAt: inRange(c.UpdatedAt)}
}

// Event types.
const (
	EventMessageReceived  = "message.received"
	EventMessageStatus    = "message.status"
	EventChatTicketLinked = "chat.ticket_linked"
)

// EventTypes lists every event type.
var EventTypes = []string{EventMessageReceived, EventMessageStatus, EventChatTicketLinked}

// EventData is an event's data member.
type EventData struct {
	Chat    *Chat    `json:"chat,omitempty"`
	Message *Message `json:"message,omitempty"`
}

// Event is the body of an event delivery.
type Event struct {
	ID        string    `json:"id"`
	Type      string    `json:"type"`
	CreatedAt time.Time `json:"created_at"`
	Data      EventData `json:"data"`
}

// Subscription is an event subscription.
type Subscription struct {
	ID     store.SubscriptionID `json:"id"`
	URL    string               `json:"url"`
	Events []string             `json:"events"`
	// Secret signs deliveries; it is only in the answer that creates it.
	Secret         string     `json:"secret,omitempty"`
	Enabled        bool       `json:"enabled"`
	DisabledReason string     `json:"disabled_reason,omitempty"`
	FailingSince   *time.Time `json:"failing_since"`
	LastSuccessAt  *time.Time `json:"last_success_at"`
	CreatedAt      time.Time  `json:"created_at"`
}

// NewSubscription builds a Subscription.
func NewSubscription(s store.Subscription) Subscription {
	return Subscription{ID: s.ID, URL: s.URL, Events: s.Events, Enabled: s.Enabled, DisabledReason: s.DisabledReason,
		FailingSince: utc(s.FailingSince), LastSuccessAt: utc(s.LastSuccessAt), CreatedAt: inRange(s.CreatedAt)}
}

func utc(t *time.Time) *time.Time {
	if t == nil {
		return nil
	}
	u := inRange(*t)
	return &u
}

// lastWritable is the latest time RFC 3339, and so JSON, can express.
var lastWritable = time.Date(9999, 12, 31, 23, 59, 59, 0, time.UTC)

// inRange returns t in UTC, capped to what JSON can express: a stored time
// past year 9999 (or a window computed past it) must not fail a whole page
// of the API.
func inRange(t time.Time) time.Time {
	t = t.UTC()
	switch {
	case t.After(lastWritable):
		return lastWritable
	case t.Year() < 0:
		return time.Time{}
	}
	return t
}
