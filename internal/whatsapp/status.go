package whatsapp

import (
	"encoding/json"
	"fmt"
	"time"
)

// Status values of value.statuses[].status. The v23 spec lists exactly these
// four; any other value is kept as-is in Status.Status.
const (
	StatusSent      = "sent"
	StatusDelivered = "delivered"
	StatusRead      = "read"
	StatusFailed    = "failed"
)

// Status is a status update for a message the business sent
// (value.statuses[]). Deduplicate on (ID, Status): Meta redelivers, and
// statuses arrive out of order. Which status wins is decided where it is
// stored (the SQL function relaydesk_status_rank: sent < failed < delivered
// < read < played, unknown values never overwrite).
type Status struct {
	// ID is the wamid of the message the business sent.
	ID string
	// Status is "sent", "delivered", "read", "failed", "played" (a voice
	// note the customer played, since March 2026) or a newer value kept
	// as-is.
	Status string
	// Timestamp is when the status changed (second precision, UTC).
	Timestamp time.Time
	// RecipientID is the customer's wa_id; absent for a message sent to
	// a business-scoped user id when WhatsApp hides the phone.
	RecipientID string
	// RecipientUserID is the customer's business-scoped user id
	// (recipient_user_id: Meta's business-scoped user ids page; providers'
	// docs say a failed status sent to a phone number omits it).
	RecipientUserID string
	// GroupID is set for messages sent to a group.
	GroupID string
	// BizOpaqueCallbackData echoes the tracking string sent with the message.
	BizOpaqueCallbackData string
	// Errors explains a "failed" status (e.g. 131047 outside the 24-hour
	// window); see Classify and PlainReason.
	Errors []Error
	// Conversation is the pricing conversation; often absent under
	// per-message pricing.
	Conversation *Conversation
	// Pricing describes how the message is billed; may be absent.
	Pricing *Pricing
	// Raw is the status's original JSON, always kept.
	Raw json.RawMessage
	// DecodeError is non-empty when part of the status had an unexpected
	// shape; that part is missing from the model but still present in Raw.
	DecodeError string
}

// Conversation is the conversation object of a status.
type Conversation struct {
	// ID is the conversation id.
	ID string
	// OriginType is e.g. "service", "utility", "marketing",
	// "authentication", "referral_conversion".
	OriginType string
	// ExpiresAt is set on the first status of a conversation only.
	ExpiresAt time.Time
}

// Pricing is the pricing object of a status.
type Pricing struct {
	// Billable reports whether the message is charged.
	Billable bool
	// PricingModel is "CBP" (conversation-based) or "PMP" (per-message).
	PricingModel string
	// Category is e.g. "service", "utility", "marketing", "authentication".
	Category string
	// Type is the per-message-pricing type, e.g. "regular",
	// "free_customer_service", "free_entry_point" (not in the v23 spec).
	Type string
}

type wireConversation struct {
	ID                  string   `json:"id"`
	ExpirationTimestamp unixTime `json:"expiration_timestamp"`
	Origin              struct {
		Type string `json:"type"`
	} `json:"origin"`
}

type wirePricing struct {
	Billable     flexBool `json:"billable"`
	PricingModel string   `json:"pricing_model"`
	Category     string   `json:"category"`
	Type         string   `json:"type"`
}

// decodeStatus turns one statuses[] item into a Status. It never fails.
func decodeStatus(raw json.RawMessage) Status {
	s := Status{Raw: raw}
	d := newFieldDecoder(raw)
	d.strings(map[string]*string{
		"id": &s.ID, "status": &s.Status, "recipient_id": &s.RecipientID, "recipient_user_id": &s.RecipientUserID,
		"group_id": &s.GroupID, "biz_opaque_callback_data": &s.BizOpaqueCallbackData,
	})
	d.time("timestamp", &s.Timestamp)
	d.decode("errors", &s.Errors)
	s.Conversation = decodeWith(d, "conversation", func(w wireConversation) *Conversation {
		return &Conversation{ID: w.ID, OriginType: w.Origin.Type, ExpiresAt: w.ExpirationTimestamp.Time()}
	})
	s.Pricing = decodeWith(d, "pricing", func(w wirePricing) *Pricing {
		return &Pricing{Billable: bool(w.Billable), PricingModel: w.PricingModel, Category: w.Category, Type: w.Type}
	})
	s.DecodeError = d.problem()
	return s
}

// Error is an error reported in a webhook: value.errors[],
// messages[].errors[] or statuses[].errors[].
type Error struct {
	// Code is the WhatsApp error code; see Classify and PlainReason.
	Code int
	// Title is the short title (Meta advises against relying on it).
	Title string
	// Message is the error message.
	Message string
	// Details is error_data.details, the most useful explanation.
	Details string
	// Href links to Meta's error code documentation.
	Href string
}

type wireError struct {
	Code      flexInt `json:"code"`
	Title     string  `json:"title"`
	Message   string  `json:"message"`
	Href      string  `json:"href,omitempty"`
	ErrorData *struct {
		Details string `json:"details"`
	} `json:"error_data,omitempty"`
}

// UnmarshalJSON decodes the webhook wire shape
// {code, title, message, error_data: {details}, href}.
func (e *Error) UnmarshalJSON(data []byte) error {
	var w wireError
	if err := json.Unmarshal(data, &w); err != nil {
		return err
	}
	*e = Error{Code: int(w.Code), Title: w.Title, Message: w.Message, Href: w.Href}
	if w.ErrorData != nil {
		e.Details = w.ErrorData.Details
	}
	return nil
}

// MarshalJSON encodes the webhook wire shape (used by test builders).
func (e Error) MarshalJSON() ([]byte, error) {
	w := struct {
		Code      int    `json:"code"`
		Title     string `json:"title,omitempty"`
		Message   string `json:"message,omitempty"`
		Href      string `json:"href,omitempty"`
		ErrorData *struct {
			Details string `json:"details"`
		} `json:"error_data,omitempty"`
	}{Code: e.Code, Title: e.Title, Message: e.Message, Href: e.Href}
	if e.Details != "" {
		w.ErrorData = &struct {
			Details string `json:"details"`
		}{e.Details}
	}
	return json.Marshal(w)
}

// String renders the error for logs and notes, e.g.
// "131047 Re-engagement message: Message failed to send because ...".
func (e Error) String() string {
	text := e.Title
	if text == "" {
		text = e.Message
	}
	if e.Details != "" && e.Details != text {
		if text != "" {
			text += ": "
		}
		text += e.Details
	}
	return fmt.Sprintf("%d %s", e.Code, text)
}
