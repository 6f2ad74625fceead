package whatsapp

import (
	"encoding/json"
	"errors"
	"fmt"
)

// ObjectWhatsAppBusinessAccount is the only "object" value of a WhatsApp
// webhook delivery.
const ObjectWhatsAppBusinessAccount = "whatsapp_business_account"

// Webhook field names (entry[].changes[].field). [FieldMessages],
// [FieldStandby], [FieldSMBMessageEchoes] and [FieldMessagingHandovers] are
// parsed into a [Change] (see [ConversationFields]); every other field,
// known or not, becomes an [AccountEvent].
const (
	// FieldMessages carries inbound messages, outbound message statuses and
	// value-level errors for one business phone number.
	FieldMessages = "messages"
	// FieldAccountUpdate reports WABA-level changes (bans, restrictions,
	// verification).
	FieldAccountUpdate = "account_update"
	// FieldMessageTemplateStatusUpdate reports template approval, rejection,
	// pausing and disabling.
	FieldMessageTemplateStatusUpdate = "message_template_status_update"
	// FieldMessageTemplateQualityUpdate reports template quality changes.
	FieldMessageTemplateQualityUpdate = "message_template_quality_update"
	// FieldPhoneNumberQualityUpdate reports quality rating and messaging
	// limit changes of a business number.
	FieldPhoneNumberQualityUpdate = "phone_number_quality_update"
	// FieldPhoneNumberNameUpdate reports display name review results.
	FieldPhoneNumberNameUpdate = "phone_number_name_update"
)

var (
	// ErrMalformedDelivery is returned by ParseDelivery and PeekAccounts when
	// the body is not JSON or its envelope (object, entry, changes, value,
	// metadata) does not have the documented shape.
	ErrMalformedDelivery = errors.New("whatsapp: malformed webhook delivery")
	// ErrUnexpectedObject is returned by ParseDelivery when the delivery's
	// "object" is not "whatsapp_business_account" (for example a Messenger
	// or Instagram webhook sent to the WhatsApp endpoint).
	ErrUnexpectedObject = errors.New("whatsapp: unexpected webhook object")
)

// Delivery is the webhook envelope exactly as Meta sends it. Most callers
// want [ParseDelivery], which flattens it into a [Batch].
type Delivery struct {
	// Object is always "whatsapp_business_account" for WhatsApp.
	Object string `json:"object"`
	// Entries are the per-WABA groups of changes.
	Entries []Entry `json:"entry"`
}

// Entry is one entry[] item of a delivery: the changes of one WhatsApp
// Business Account.
type Entry struct {
	// ID is the WhatsApp Business Account (WABA) id.
	ID string `json:"id"`
	// Changes are the events, each with its field name and raw value.
	Changes []EntryChange `json:"changes"`
}

// EntryChange is one entry[].changes[] item before its value is decoded.
type EntryChange struct {
	// Field names the subscription field, e.g. "messages".
	Field string `json:"field"`
	// Value is the field-specific payload.
	Value json.RawMessage `json:"value"`
}

// Batch is a parsed webhook delivery, flattened: every change of every entry,
// in delivery order.
type Batch struct {
	// Object is the delivery's object ("whatsapp_business_account").
	Object string
	// Changes holds one item per "messages" change. Each belongs to exactly
	// one business phone number (Change.PhoneNumberID); a batch may hold
	// changes for several numbers and several WABAs.
	Changes []Change
	// AccountEvents holds every change of any other field, unparsed.
	AccountEvents []AccountEvent
}

// PhoneNumberIDs returns the distinct phone_number_id values of the batch's
// changes and account events (changes first), in order of first appearance.
// Empty ids are skipped.
func (b *Batch) PhoneNumberIDs() []string {
	return b.distinct(func(c *Change) string { return c.PhoneNumberID }, func(e *AccountEvent) string { return e.PhoneNumberID })
}

// WABAIDs returns the distinct WhatsApp Business Account ids (entry[].id) of
// the batch's changes and account events (changes first), in order of first
// appearance, as PeekAccounts names them. Empty ids are skipped, and so is
// an entry without any change, which gives nothing to route.
func (b *Batch) WABAIDs() []string {
	return b.distinct(func(c *Change) string { return c.WABAID }, func(e *AccountEvent) string { return e.WABAID })
}

// distinct collects one id of every change, then of every account event.
func (b *Batch) distinct(ofChange func(*Change) string, ofEvent func(*AccountEvent) string) []string {
	var ids idList
	for i := range b.Changes {
		ids.add(ofChange(&b.Changes[i]))
	}
	for i := range b.AccountEvents {
		ids.add(ofEvent(&b.AccountEvents[i]))
	}
	return ids.ids
}

// idList collects distinct non-empty ids in order of first appearance.
type idList struct {
	ids  []string
	seen map[string]bool
}

func (l *idList) add(id string) {
	if id == "" || l.seen[id] {
		return
	}
	if l.seen == nil {
		l.seen = map[string]bool{}
	}
	l.seen[id] = true
	l.ids = append(l.ids, id)
}

// Change is one "messages" change: the events of one business phone number
// within one entry. A change usually holds either messages (with contacts)
// or statuses or errors, but may hold several of each.
type Change struct {
	// WABAID is the WhatsApp Business Account id (entry[].id).
	WABAID string
	// Field is the webhook field: FieldMessages, or FieldStandby (the
	// conversation is held by Meta's AI: Messages are the customer's,
	// Echoes the AI's replies), FieldSMBMessageEchoes or
	// FieldMessagingHandovers.
	Field string
	// PhoneNumberID identifies the business number (value.metadata.phone_number_id).
	// Route by this id, never by the display number.
	PhoneNumberID string
	// DisplayPhoneNumber is the business number as shown to users.
	DisplayPhoneNumber string
	// Contacts are the senders' WhatsApp profiles. System messages come
	// without contacts.
	Contacts []Contact
	// Messages are inbound messages, in the order Meta listed them.
	Messages []Message
	// Statuses are status updates for messages the business sent.
	Statuses []Status
	// Errors are value-level errors (e.g. 130429 throughput limit reached).
	Errors []Error
	// Echoes are messages sent on the business's side, not by relaydesk
	// (value.message_echoes): from the WhatsApp Business app on a
	// coexistence number (Field FieldSMBMessageEchoes) or Meta's AI agent's
	// replies (Field FieldStandby). Message.To names the customer.
	Echoes []Message
	// Handovers are thread control changes (Field FieldMessagingHandovers).
	Handovers []Handover
	// Raw is the change's original value JSON.
	Raw json.RawMessage
}

// ContactName returns the profile name of the contact with the given wa_id,
// or "" when the change holds no such contact.
func (c *Change) ContactName(waID string) string {
	for _, ct := range c.Contacts {
		if ct.WaID == waID {
			return ct.Name
		}
	}
	return ""
}

// Contact is a WhatsApp user's profile as sent with inbound messages
// (value.contacts[]).
type Contact struct {
	// WaID is the user's WhatsApp id; use it as the customer key. It may
	// differ from Message.From.
	WaID string
	// Name is the user's profile name (may be empty).
	Name string
	// UserID is the business-scoped user id (BSUID, contacts[].user_id)
	// sent since April 2026 (not in the v23 spec); empty otherwise. With
	// it, WaID may be empty: a customer with a username can hide their
	// phone number.
	UserID string
	// Username is the customer's WhatsApp username (profile.username),
	// when they adopted one.
	Username string
}

// AccountEvent is a change of any field other than "messages" (template
// status, quality rating, account updates, group events, and fields Meta adds
// later). It is kept unparsed so nothing is lost; it never fails a delivery.
type AccountEvent struct {
	// Field is the webhook field name.
	Field string
	// WABAID is the WhatsApp Business Account id (entry[].id).
	WABAID string
	// PhoneNumberID is value.metadata.phone_number_id when the value carries
	// one, else "".
	PhoneNumberID string
	// Raw is the change's original value JSON.
	Raw json.RawMessage
}

// wireValue is the value of a "messages" change. Messages and statuses are
// decoded one by one, so a single odd item cannot fail the delivery.
type wireValue struct {
	Metadata *wireMetadata     `json:"metadata"`
	Contacts []wireContact     `json:"contacts"`
	Messages []json.RawMessage `json:"messages"`
	Statuses []json.RawMessage `json:"statuses"`
	Errors   []Error           `json:"errors"`
	// MessageEchoes are messages the business's side sent: from the
	// WhatsApp Business app (smb_message_echoes) or by Meta's AI (standby).
	MessageEchoes []json.RawMessage `json:"message_echoes"`
}

type wireMetadata struct {
	DisplayPhoneNumber string `json:"display_phone_number"`
	PhoneNumberID      string `json:"phone_number_id"`
}

type wireContact struct {
	WaID    string `json:"wa_id"`
	UserID  string `json:"user_id"`
	Profile struct {
		Name     string `json:"name"`
		Username string `json:"username"`
	} `json:"profile"`
}

// ParseDelivery parses a webhook POST body into a Batch. It returns
// ErrMalformedDelivery (wrapped, with the location) when the body is not JSON
// or the envelope has the wrong shape, and ErrUnexpectedObject when the
// object is not "whatsapp_business_account". Unknown fields, message types,
// status values and webhook fields never cause an error. Verify the signature
// first: ParseDelivery trusts its input.
func ParseDelivery(body []byte) (*Batch, error) {
	var d Delivery
	if err := json.Unmarshal(body, &d); err != nil {
		return nil, fmt.Errorf("%w: %v", ErrMalformedDelivery, err)
	}
	if d.Object != ObjectWhatsAppBusinessAccount {
		return nil, fmt.Errorf("%w: %.64q", ErrUnexpectedObject, d.Object)
	}
	b := &Batch{Object: d.Object}
	for i, entry := range d.Entries {
		for j, ch := range entry.Changes {
			if !IsConversationField(ch.Field) {
				b.AccountEvents = append(b.AccountEvents, AccountEvent{
					Field:         ch.Field,
					WABAID:        entry.ID,
					PhoneNumberID: peekPhoneNumberID(ch.Value),
					Raw:           ch.Value,
				})
				continue
			}
			c, err := parseChange(entry.ID, ch)
			if err != nil {
				return nil, fmt.Errorf("%w: entry[%d].changes[%d]: %v", ErrMalformedDelivery, i, j, err)
			}
			b.Changes = append(b.Changes, c)
		}
	}
	return b, nil
}

func parseChange(wabaID string, ch EntryChange) (Change, error) {
	c := Change{WABAID: wabaID, Field: ch.Field, Raw: ch.Value}
	if isJSONNull(ch.Value) {
		return c, nil
	}
	if ch.Field == FieldMessagingHandovers {
		return parseHandoverChange(c, ch.Value), nil
	}
	var v wireValue
	if err := json.Unmarshal(ch.Value, &v); err != nil {
		return c, err
	}
	if v.Metadata != nil {
		c.PhoneNumberID = v.Metadata.PhoneNumberID
		c.DisplayPhoneNumber = v.Metadata.DisplayPhoneNumber
	}
	for _, wc := range v.Contacts {
		c.Contacts = append(c.Contacts, Contact{WaID: wc.WaID, Name: wc.Profile.Name, UserID: wc.UserID, Username: wc.Profile.Username})
	}
	for _, raw := range v.Messages {
		c.Messages = append(c.Messages, decodeMessage(raw))
	}
	for _, raw := range v.Statuses {
		c.Statuses = append(c.Statuses, decodeStatus(raw))
	}
	for _, raw := range v.MessageEchoes {
		c.Echoes = append(c.Echoes, decodeMessage(raw))
	}
	c.Errors = v.Errors
	return c, nil
}

// peekPhoneNumberID returns value.metadata.phone_number_id if the value has
// that shape, else "". It never fails.
func peekPhoneNumberID(value json.RawMessage) string {
	var v struct {
		Metadata struct {
			PhoneNumberID string `json:"phone_number_id"`
		} `json:"metadata"`
	}
	if isJSONNull(value) || json.Unmarshal(value, &v) != nil {
		return ""
	}
	return v.Metadata.PhoneNumberID
}
