package whatsapp

import (
	"encoding/json"
	"time"
)

// Inbound message types (messages[].type). Types not listed here are kept
// as-is in Message.Type with their JSON in Message.Raw.
const (
	TypeText        = "text"
	TypeImage       = "image"
	TypeAudio       = "audio"
	TypeVideo       = "video"
	TypeDocument    = "document"
	TypeSticker     = "sticker"
	TypeLocation    = "location"
	TypeContacts    = "contacts"
	TypeInteractive = "interactive"
	TypeButton      = "button"
	TypeReaction    = "reaction"
	TypeOrder       = "order"
	TypeSystem      = "system"
	// TypeUnsupported is sent for content the Cloud API cannot deliver
	// (polls, view-once, edits...); Message.Errors holds code 131051.
	TypeUnsupported = "unsupported"
	// TypeUnknown is the older spelling of TypeUnsupported.
	TypeUnknown = "unknown"
	// TypeTemplate is only used for outgoing messages.
	TypeTemplate = "template"
	// TypeEdit is a customer's edit of an earlier message (coexistence
	// numbers only; Message.Edit). Meta's reference:
	// .../whatsapp/webhooks/reference/messages/edit
	TypeEdit = "edit"
	// TypeRevoke is a customer deleting an earlier message for everyone
	// (coexistence numbers only; Message.Revoke). Meta's reference:
	// .../whatsapp/webhooks/reference/messages/revoke
	TypeRevoke = "revoke"
)

// Interactive reply types (messages[].interactive.type).
const (
	InteractiveButtonReply = "button_reply"
	InteractiveListReply   = "list_reply"
	// InteractiveFlowReply is a WhatsApp Flows completion ("nfm_reply").
	InteractiveFlowReply = "nfm_reply"
)

// System message types (messages[].system.type).
const (
	// SystemUserChangedNumber: the customer moved to a new number;
	// System.NewWaID holds the new wa_id.
	SystemUserChangedNumber = "user_changed_number"
	// SystemUserChangedUserID: the customer's business-scoped user id
	// changed and no phone number can be shared (Meta's changelog, Aug 11
	// 2026); System.PreviousUserID holds the old BSUID, System.UserID the
	// new one.
	SystemUserChangedUserID = "user_changed_user_id"
)

// Message is one inbound message (value.messages[]). Exactly the payload
// field matching Type is set; Raw always holds the original JSON.
//
// The JSON tags of Message and of every type it holds define relaydesk's
// stored shape of a decoded message (snake_case, not the webhook wire
// format): json.Marshal followed by json.Unmarshal gives back an equal
// Message, except Raw, which is never encoded. Errors keep the webhook's
// own error shape (see Error.MarshalJSON).
type Message struct {
	// ID is the message's wamid; deduplicate on it.
	ID string `json:"id"`
	// From is the sender's phone number (digits). It may differ from the
	// Contact's WaID; use the wa_id as the customer key.
	From string `json:"from"`
	// FromUserID is the sender's business-scoped user id when the message
	// itself carries one (from_user_id; the name is UNCONFIRMED in Meta's
	// docs); the contacts[] entry's user_id is the documented place, this
	// is read when present.
	FromUserID string `json:"from_user_id,omitzero"`
	// Timestamp is when WhatsApp received the message (second precision, UTC).
	Timestamp time.Time `json:"timestamp"`
	// Type is the message type; compare with the Type* constants.
	Type string `json:"type"`

	// Text is the body of a text message.
	Text string `json:"text,omitzero"`
	// Media is set for image, audio, video, document and sticker messages.
	Media *Media `json:"media,omitzero"`
	// Location is set for location messages.
	Location *Location `json:"location,omitzero"`
	// Contacts holds the cards of a contacts message.
	Contacts []SharedContact `json:"contacts,omitzero"`
	// Interactive is set for replies to interactive messages (reply buttons,
	// list rows, flows).
	Interactive *InteractiveReply `json:"interactive,omitzero"`
	// Button is set for template quick-reply button taps.
	Button *ButtonReply `json:"button,omitzero"`
	// Reaction is set for reaction messages (including removals).
	Reaction *Reaction `json:"reaction,omitzero"`
	// Order is set for catalog orders.
	Order *Order `json:"order,omitzero"`
	// System is set for system messages (e.g. the user changed number).
	System *System `json:"system,omitzero"`
	// Edit is set for edit messages: the edited message's id and its new
	// content.
	Edit *Edit `json:"edit,omitzero"`
	// Revoke is set for revoke messages: the id of the deleted message.
	Revoke *Revoke `json:"revoke,omitzero"`
	// To is the recipient of an echo (message_echoes[].to): the customer
	// the business wrote to. Empty on customer messages.
	To string `json:"to,omitzero"`
	// ToUserID is the echo recipient's BSUID when the echo carries one
	// (to_user_id; [unverified] name, read when present).
	ToUserID string `json:"to_user_id,omitzero"`

	// Context is set when the message replies to, forwards or refers to
	// another message or a product.
	Context *Context `json:"context,omitzero"`
	// Referral is set when the user came from a Click-to-WhatsApp ad or post.
	Referral *Referral `json:"referral,omitzero"`
	// Errors holds the errors of unsupported messages (code 131051) and of
	// media the platform could not fetch (131052).
	Errors []Error `json:"errors,omitzero"`

	// Raw is the message's original JSON, always kept.
	Raw json.RawMessage `json:"-"`
	// DecodeError is non-empty when part of the message had an unexpected
	// shape and could not be decoded; that part is missing from the model
	// but still present in Raw.
	DecodeError string `json:"decode_error,omitzero"`
}

// IsMedia reports whether the message carries a downloadable media file
// (image, audio, video, document or sticker with a media id).
func (m *Message) IsMedia() bool {
	return IsMediaType(m.Type) && m.Media != nil && m.Media.ID != ""
}

// IsMediaType reports whether t is one of the media message types.
func IsMediaType(t string) bool {
	switch t {
	case TypeImage, TypeAudio, TypeVideo, TypeDocument, TypeSticker:
		return true
	}
	return false
}

// Media describes an inbound media file. Download it with
// Client.DownloadMedia(ID); the webhook never carries a URL.
type Media struct {
	// ID is the media id (numeric string).
	ID string `json:"id"`
	// MimeType is the file's MIME type, e.g. "audio/ogg; codecs=opus".
	MimeType string `json:"mime_type"`
	// SHA256 is the file hash as sent by Meta (base64 in webhooks).
	SHA256 string `json:"sha256"`
	// Caption is the image, video or document caption.
	Caption string `json:"caption"`
	// Filename is the document's file name.
	Filename string `json:"filename"`
	// Voice is true for audio recorded as a voice note.
	Voice bool `json:"voice"`
	// Animated is true for animated stickers.
	Animated bool `json:"animated"`
}

// Location is a shared location.
type Location struct {
	// Lat and Lng are the coordinates in degrees.
	Lat float64 `json:"lat"`
	Lng float64 `json:"lng"`
	// Name and Address label the place (optional).
	Name    string `json:"name,omitzero"`
	Address string `json:"address,omitzero"`
	// URL is the place's website (optional).
	URL string `json:"url,omitzero"`
}

// SharedContact is one contact card of a contacts message, with what is
// needed to render it.
type SharedContact struct {
	// FormattedName is the full name as displayed (always present).
	FormattedName string `json:"formatted_name,omitzero"`
	// FirstName and LastName are the structured name parts, if sent.
	FirstName string `json:"first_name,omitzero"`
	LastName  string `json:"last_name,omitzero"`
	// Phones, Emails, URLs and Addresses are the card's entries.
	Phones    []ContactPhone   `json:"phones,omitzero"`
	Emails    []ContactEmail   `json:"emails,omitzero"`
	URLs      []ContactURL     `json:"urls,omitzero"`
	Addresses []ContactAddress `json:"addresses,omitzero"`
	// Org is the card's organisation.
	Org ContactOrg `json:"org,omitzero"`
	// Birthday is "YYYY-MM-DD" when set.
	Birthday string `json:"birthday,omitzero"`
}

// ContactPhone is a phone number of a shared contact.
type ContactPhone struct {
	// Phone is the number as written on the card.
	Phone string `json:"phone,omitzero"`
	// WaID is set when the number is on WhatsApp.
	WaID string `json:"wa_id,omitzero"`
	// Type is e.g. "CELL", "MAIN", "HOME", "WORK".
	Type string `json:"type,omitzero"`
}

// ContactEmail is an email address of a shared contact.
type ContactEmail struct {
	// Email is the address.
	Email string `json:"email,omitzero"`
	// Type is e.g. "HOME" or "WORK".
	Type string `json:"type,omitzero"`
}

// ContactURL is a web address of a shared contact.
type ContactURL struct {
	// URL is the web address.
	URL string `json:"url,omitzero"`
	// Type is e.g. "HOME" or "WORK".
	Type string `json:"type,omitzero"`
}

// ContactAddress is a postal address of a shared contact.
type ContactAddress struct {
	// Street, City, State, Zip, Country and CountryCode are the address
	// parts as sent.
	Street      string `json:"street,omitzero"`
	City        string `json:"city,omitzero"`
	State       string `json:"state,omitzero"`
	Zip         string `json:"zip,omitzero"`
	Country     string `json:"country,omitzero"`
	CountryCode string `json:"country_code,omitzero"`
	// Type is e.g. "HOME" or "WORK".
	Type string `json:"type,omitzero"`
}

// ContactOrg is the organisation of a shared contact.
type ContactOrg struct {
	// Company, Department and Title describe the contact's job.
	Company    string `json:"company,omitzero"`
	Department string `json:"department,omitzero"`
	Title      string `json:"title,omitzero"`
}

// InteractiveReply is the user's answer to an interactive message.
type InteractiveReply struct {
	// Type is InteractiveButtonReply, InteractiveListReply,
	// InteractiveFlowReply or a newer type kept as-is.
	Type string `json:"type,omitzero"`
	// ID is the developer-defined id of the chosen button or row.
	ID string `json:"id,omitzero"`
	// Title is the button or row title the user saw.
	Title string `json:"title,omitzero"`
	// Description is the list row description.
	Description string `json:"description,omitzero"`
	// FlowName is nfm_reply.name (e.g. "flow") for flow replies.
	FlowName string `json:"flow_name,omitzero"`
	// FlowBody is nfm_reply.body (e.g. "Sent") for flow replies.
	FlowBody string `json:"flow_body,omitzero"`
	// FlowResponseJSON is the flow's response, itself a JSON document.
	FlowResponseJSON string `json:"flow_response_json,omitzero"`
}

// ButtonReply is a tap on a template quick-reply button.
type ButtonReply struct {
	// Payload is the developer-defined payload of the button.
	Payload string `json:"payload,omitzero"`
	// Text is the button label.
	Text string `json:"text,omitzero"`
}

// Reaction is an emoji reaction to a message, or its removal.
type Reaction struct {
	// MessageID is the wamid of the message reacted to.
	MessageID string `json:"message_id,omitzero"`
	// Emoji is the reaction; empty when Removed.
	Emoji string `json:"emoji,omitzero"`
	// Removed is true when the user removed their reaction (Meta omits the
	// emoji key, or sends it empty).
	Removed bool `json:"removed,omitzero"`
}

// Context links a message to an earlier one or to a product.
type Context struct {
	// From is the sender of the referenced message (for a reply to the
	// business: the business display number).
	From string `json:"from,omitzero"`
	// ID is the wamid of the referenced message.
	ID string `json:"id,omitzero"`
	// Forwarded is true when the user forwarded the message.
	Forwarded bool `json:"forwarded,omitzero"`
	// FrequentlyForwarded is true when the message was forwarded more than
	// five times.
	FrequentlyForwarded bool `json:"frequently_forwarded,omitzero"`
	// ReferredProduct is set when the user asked about a catalog product.
	ReferredProduct *ReferredProduct `json:"referred_product,omitzero"`
}

// ReferredProduct is the catalog product a message refers to.
type ReferredProduct struct {
	// CatalogID is the catalog's id.
	CatalogID string `json:"catalog_id,omitzero"`
	// ProductRetailerID is the product's id in that catalog.
	ProductRetailerID string `json:"product_retailer_id,omitzero"`
}

// Referral describes the Click-to-WhatsApp ad or post the user came from.
type Referral struct {
	// SourceURL is the ad or post URL.
	SourceURL string `json:"source_url,omitzero"`
	// SourceID is the ad or post id.
	SourceID string `json:"source_id,omitzero"`
	// SourceType is "ad" or "post".
	SourceType string `json:"source_type,omitzero"`
	// Headline and Body are the ad's texts.
	Headline string `json:"headline,omitzero"`
	Body     string `json:"body,omitzero"`
	// MediaType is "image" or "video".
	MediaType string `json:"media_type,omitzero"`
	// ImageURL, VideoURL and ThumbnailURL point at the ad's media.
	ImageURL     string `json:"image_url,omitzero"`
	VideoURL     string `json:"video_url,omitzero"`
	ThumbnailURL string `json:"thumbnail_url,omitzero"`
	// CtwaClid is the click id of the ad.
	CtwaClid string `json:"ctwa_clid,omitzero"`
	// WelcomeMessage is the ad's welcome message text, if any.
	WelcomeMessage string `json:"welcome_message,omitzero"`
}

// Order is a cart sent from a catalog.
type Order struct {
	// CatalogID is the catalog the products come from.
	CatalogID string `json:"catalog_id,omitzero"`
	// Text is the user's note (often empty).
	Text string `json:"text,omitzero"`
	// Items are the ordered products.
	Items []OrderItem `json:"items,omitzero"`
}

// OrderItem is one product line of an order.
type OrderItem struct {
	// ProductRetailerID is the product's catalog id.
	ProductRetailerID string `json:"product_retailer_id,omitzero"`
	// Quantity is the number of items.
	Quantity int `json:"quantity"`
	// ItemPrice is the unit price in Currency (ISO 4217).
	ItemPrice float64 `json:"item_price"`
	Currency  string  `json:"currency,omitzero"`
}

// System is a system message, e.g. the customer changed number.
type System struct {
	// Type is e.g. SystemUserChangedNumber.
	Type string `json:"type,omitzero"`
	// Body is the human-readable description.
	Body string `json:"body,omitzero"`
	// NewWaID is the customer's new wa_id (system.wa_id, or new_wa_id in
	// payloads older than Graph v12).
	NewWaID string `json:"new_wa_id,omitzero"`
	// UserID and ParentUserID are the customer's new business-scoped user
	// id (and parent id) after a user_changed_user_id or
	// user_changed_number. UNCONFIRMED: Meta's changelog says the new
	// values come "alongside" the previous ones without naming them;
	// system.user_id / system.parent_user_id are assumed, and the
	// message's from_user_id is used when they are absent.
	UserID       string `json:"user_id,omitzero"`
	ParentUserID string `json:"parent_user_id,omitzero"`
	// PreviousUserID and PreviousParentUserID are the customer's
	// business-scoped user id (and parent id) before the change
	// (system.previous_user_id, system.previous_parent_user_id: Meta's
	// changelog, Aug 11 2026).
	PreviousUserID       string `json:"previous_user_id,omitzero"`
	PreviousParentUserID string `json:"previous_parent_user_id,omitzero"`
}

// NewUserID is the customer's business-scoped user id after a system
// message's change: system.user_id, else the message's from_user_id.
func (m Message) NewUserID() string {
	if m.System != nil && m.System.UserID != "" {
		return m.System.UserID
	}
	return m.FromUserID
}
