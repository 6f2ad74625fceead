package whatsapp

import (
	"encoding/json"
	"strings"
	"time"
)

// Webhook fields of the 2026 platform (not in the v23 spec). Each carries
// value.metadata.phone_number_id like "messages" and is parsed into a
// [Change] with its Field set.
const (
	// FieldStandby carries a conversation held by another responder, Meta's
	// AI agent (Meta Business Agent): the customer's messages in
	// value.messages and the AI's replies as value.message_echoes, plus
	// the statuses of the AI's messages. Meta's reference:
	// developers.facebook.com/documentation/business-messaging/whatsapp/webhooks/reference/standby/
	// (Aug 4 2026). The value's inner layout is the standard messages
	// layout per 360dialog's MBA webhook page; Meta's own syntax block
	// could not be read in full, so it is parsed tolerantly [unverified].
	FieldStandby = "standby"
	// FieldMessagingHandovers reports thread control changes between
	// Meta's AI and the app (control_passed to the new owner,
	// control_taken to the previous one). Meta's reference:
	// .../whatsapp/webhooks/reference/messaging-handovers/ (Sep 22 2026).
	FieldMessagingHandovers = "messaging_handovers"
	// FieldSMBMessageEchoes carries messages a coexistence number's
	// business sent from the WhatsApp Business app (also its edits and
	// deletes), in value.message_echoes. Meta's reference:
	// .../whatsapp/webhooks/reference/smb_message_echoes/
	FieldSMBMessageEchoes = "smb_message_echoes"
)

// StatusPlayed is the status of a voice message the customer played (since
// March 2026, for audio sent with voice=true). It ranks after read.
const StatusPlayed = "played"

// ConversationFields are the webhook fields parsed into a [Change]: the ones
// about one number's conversations. The admin page asks to subscribe to
// each of them.
var ConversationFields = []string{FieldMessages, FieldStandby, FieldMessagingHandovers, FieldSMBMessageEchoes}

// IsConversationField reports whether a webhook field is parsed into a
// [Change] rather than kept as an [AccountEvent].
func IsConversationField(field string) bool {
	for _, f := range ConversationFields {
		if f == field {
			return true
		}
	}
	return false
}

// Edit is the content of an edit message: which message the customer
// changed and what it says now.
type Edit struct {
	// OriginalID is the wamid of the edited message (original_message_id).
	OriginalID string `json:"original_message_id,omitzero"`
	// Message is the new content, itself message-shaped (type and payload,
	// e.g. text.body or image.caption).
	Message *Message `json:"message,omitzero"`
}

// NewText is the edited message's new text or caption.
func (e *Edit) NewText() string {
	if e == nil || e.Message == nil {
		return ""
	}
	if e.Message.Text != "" {
		return e.Message.Text
	}
	if e.Message.Media != nil {
		return e.Message.Media.Caption
	}
	return ""
}

// Revoke is the content of a revoke message.
type Revoke struct {
	// OriginalID is the wamid of the deleted message (original_message_id).
	OriginalID string `json:"original_message_id,omitzero"`
}

type wireEdit struct {
	OriginalMessageID string          `json:"original_message_id"`
	Message           json.RawMessage `json:"message"`
}

// convertEdit decodes the nested message tolerantly: without a type, a text
// body or a caption is still found.
func convertEdit(w wireEdit) *Edit {
	e := &Edit{OriginalID: w.OriginalMessageID}
	if len(w.Message) == 0 || isJSONNull(w.Message) {
		return e
	}
	m := decodeMessage(w.Message)
	if m.Type == "" {
		var guess struct {
			Text *wireText `json:"text"`
		}
		if json.Unmarshal(w.Message, &guess) == nil && guess.Text != nil {
			m.Type, m.Text = TypeText, guess.Text.Body
		}
	}
	m.Raw = nil
	e.Message = &m
	return e
}

// Thread owners named in handover notifications, as relaydesk reads them.
const (
	// OwnerApp is the app receiving the webhook (relaydesk and its agents).
	OwnerApp = "app"
	// OwnerAI is Meta's AI agent (or another responder that is not us).
	OwnerAI = "ai"
)

// Handover types (the notification's type).
const (
	HandoverControlPassed = "control_passed"
	HandoverControlTaken  = "control_taken"
)

// Handover is one thread control change (messaging_handovers).
//
// Meta documents the envelope only in part here: the notification's type
// names one of two objects, control_passed or control_taken, present
// alongside it, each naming the role that held the thread before and the
// one holding it now. The member names inside those objects and the
// customer's id field could not be confirmed [unverified]; they are read
// tolerantly (any "previous..."/"new..." member, sender.{phone_number,
// user_id, wa_id, id}, from, wa_id, user_id), and Raw always keeps the JSON.
type Handover struct {
	// Type is HandoverControlPassed, HandoverControlTaken or a newer
	// value kept as-is.
	Type string
	// PreviousOwner and NewOwner are the roles as sent (e.g. "ai_agent").
	PreviousOwner, NewOwner string
	// WaID and UserID identify the customer (phone, BSUID) when sent.
	WaID, UserID string
	// Timestamp is when control changed, when sent.
	Timestamp time.Time
	// Raw is the notification's JSON.
	Raw json.RawMessage
}

// NowOwner says who holds the thread after the change: OwnerApp or OwnerAI.
// control_taken is delivered to the previous owner (Meta: "the designated
// escalation partner takes the thread"), control_passed to the new one;
// a role naming an AI decides when one is sent.
func (h Handover) NowOwner() string {
	switch role := strings.ToLower(h.NewOwner); {
	case strings.Contains(role, "ai") || (strings.Contains(role, "agent") && !strings.Contains(role, "human")):
		return OwnerAI
	case role != "":
		return OwnerApp
	}
	if h.Type == HandoverControlTaken {
		return OwnerAI
	}
	return OwnerApp
}

// parseHandoverChange reads a messaging_handovers value: either one
// notification or a list of them under messaging_handovers. It never fails.
func parseHandoverChange(c Change, value json.RawMessage) Change {
	var v map[string]json.RawMessage
	if json.Unmarshal(value, &v) != nil {
		return c
	}
	if raw, ok := v["metadata"]; ok {
		var md wireMetadata
		if json.Unmarshal(raw, &md) == nil {
			c.PhoneNumberID, c.DisplayPhoneNumber = md.PhoneNumberID, md.DisplayPhoneNumber
		}
	}
	var items []json.RawMessage
	if raw, ok := v["messaging_handovers"]; ok && json.Unmarshal(raw, &items) == nil {
		for _, it := range items {
			c.Handovers = append(c.Handovers, decodeHandover(it))
		}
		return c
	}
	c.Handovers = append(c.Handovers, decodeHandover(value))
	return c
}

func decodeHandover(raw json.RawMessage) Handover {
	h := Handover{Raw: raw}
	var v map[string]json.RawMessage
	if json.Unmarshal(raw, &v) != nil {
		return h
	}
	str := func(m map[string]json.RawMessage, key string) string {
		var s string
		if r, ok := m[key]; ok {
			_ = json.Unmarshal(r, &s)
		}
		return s
	}
	h.Type = str(v, "type")
	var obj map[string]json.RawMessage
	for _, key := range []string{h.Type, HandoverControlPassed, HandoverControlTaken} {
		if key == "" {
			continue
		}
		if r, ok := v[key]; ok && json.Unmarshal(r, &obj) == nil {
			if h.Type == "" {
				h.Type = key
			}
			break
		}
	}
	for k := range obj {
		switch s := str(obj, k); {
		case s == "":
		case strings.HasPrefix(k, "previous"):
			h.PreviousOwner = s
		case strings.HasPrefix(k, "new") || k == "owner" || k == "role":
			h.NewOwner = s
		}
	}
	h.WaID, h.UserID = str(v, "wa_id"), str(v, "user_id")
	if h.WaID == "" {
		h.WaID = str(v, "from")
	}
	var sender map[string]json.RawMessage
	if r, ok := v["sender"]; ok && json.Unmarshal(r, &sender) == nil {
		if h.WaID == "" {
			h.WaID = firstNonEmpty(str(sender, "phone_number"), str(sender, "wa_id"))
		}
		if h.UserID == "" {
			h.UserID = str(sender, "user_id")
		}
		if h.WaID == "" && h.UserID == "" {
			h.WaID = str(sender, "id")
		}
	}
	h.WaID = strings.TrimPrefix(h.WaID, "+")
	var ts unixTime
	if r, ok := v["timestamp"]; ok && json.Unmarshal(r, &ts) == nil {
		h.Timestamp = ts.Time()
	}
	return h
}

func firstNonEmpty(ss ...string) string {
	for _, s := range ss {
		if s != "" {
			return s
		}
	}
	return ""
}
