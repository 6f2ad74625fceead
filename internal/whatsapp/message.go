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
)

// Message is one inbound message (value.messages[]). Exactly the payload
// field matching Type is set; Raw always holds the original JSON.
type Message struct {
	// ID is the message's wamid; deduplicate on it.
	ID string
	// From is the sender's phone number (digits). It may differ from the
	// Contact's WaID; use the wa_id as the customer key.
	From string
	// Timestamp is when WhatsApp received the message (second precision, UTC).
	Timestamp time.Time
	// Type is the message type; compare with the Type* constants.
	Type string

	// Text is the body of a text message.
	Text string
	// Media is set for image, audio, video, document and sticker messages.
	Media *Media
	// Location is set for location messages.
	Location *Location
	// Contacts holds the cards of a contacts message.
	Contacts []SharedContact
	// Interactive is set for replies to interactive messages (reply buttons,
	// list rows, flows).
	Interactive *InteractiveReply
	// Button is set for template quick-reply button taps.
	Button *ButtonReply
	// Reaction is set for reaction messages (including removals).
	Reaction *Reaction
	// Order is set for catalog orders.
	Order *Order
	// System is set for system messages (e.g. the user changed number).
	System *System

	// Context is set when the message replies to, forwards or refers to
	// another message or a product.
	Context *Context
	// Referral is set when the user came from a Click-to-WhatsApp ad or post.
	Referral *Referral
	// Errors holds the errors of unsupported messages (code 131051) and of
	// media the platform could not fetch (131052).
	Errors []Error

	// Raw is the message's original JSON, always kept.
	Raw json.RawMessage
	// DecodeError is non-empty when part of the message had an unexpected
	// shape and could not be decoded; that part is missing from the model
	// but still present in Raw.
	DecodeError string
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
	ID string
	// MimeType is the file's MIME type, e.g. "audio/ogg; codecs=opus".
	MimeType string
	// SHA256 is the file hash as sent by Meta (base64 in webhooks).
	SHA256 string
	// Caption is the image, video or document caption.
	Caption string
	// Filename is the document's file name.
	Filename string
	// Voice is true for audio recorded as a voice note.
	Voice bool
	// Animated is true for animated stickers.
	Animated bool
}

// Location is a shared location.
type Location struct {
	// Lat and Lng are the coordinates in degrees.
	Lat float64
	Lng float64
	// Name and Address label the place (optional).
	Name    string
	Address string
	// URL is the place's website (optional).
	URL string
}

// SharedContact is one contact card of a contacts message, with what is
// needed to render it.
type SharedContact struct {
	// FormattedName is the full name as displayed (always present).
	FormattedName string
	// FirstName and LastName are the structured name parts, if sent.
	FirstName string
	LastName  string
	// Phones, Emails, URLs and Addresses are the card's entries.
	Phones    []ContactPhone
	Emails    []ContactEmail
	URLs      []ContactURL
	Addresses []ContactAddress
	// Org is the card's organisation.
	Org ContactOrg
	// Birthday is "YYYY-MM-DD" when set.
	Birthday string
}

// ContactPhone is a phone number of a shared contact.
type ContactPhone struct {
	// Phone is the number as written on the card.
	Phone string
	// WaID is set when the number is on WhatsApp.
	WaID string
	// Type is e.g. "CELL", "MAIN", "HOME", "WORK".
	Type string
}

// ContactEmail is an email address of a shared contact.
type ContactEmail struct {
	// Email is the address.
	Email string
	// Type is e.g. "HOME" or "WORK".
	Type string
}

// ContactURL is a web address of a shared contact.
type ContactURL struct {
	// URL is the web address.
	URL string
	// Type is e.g. "HOME" or "WORK".
	Type string
}

// ContactAddress is a postal address of a shared contact.
type ContactAddress struct {
	// Street, City, State, Zip, Country and CountryCode are the address
	// parts as sent.
	Street      string
	City        string
	State       string
	Zip         string
	Country     string
	CountryCode string
	// Type is e.g. "HOME" or "WORK".
	Type string
}

// ContactOrg is the organisation of a shared contact.
type ContactOrg struct {
	// Company, Department and Title describe the contact's job.
	Company    string
	Department string
	Title      string
}

// InteractiveReply is the user's answer to an interactive message.
type InteractiveReply struct {
	// Type is InteractiveButtonReply, InteractiveListReply,
	// InteractiveFlowReply or a newer type kept as-is.
	Type string
	// ID is the developer-defined id of the chosen button or row.
	ID string
	// Title is the button or row title the user saw.
	Title string
	// Description is the list row description.
	Description string
	// FlowName is nfm_reply.name (e.g. "flow") for flow replies.
	FlowName string
	// FlowBody is nfm_reply.body (e.g. "Sent") for flow replies.
	FlowBody string
	// FlowResponseJSON is the flow's response, itself a JSON document.
	FlowResponseJSON string
}

// ButtonReply is a tap on a template quick-reply button.
type ButtonReply struct {
	// Payload is the developer-defined payload of the button.
	Payload string
	// Text is the button label.
	Text string
}

// Reaction is an emoji reaction to a message, or its removal.
type Reaction struct {
	// MessageID is the wamid of the message reacted to.
	MessageID string
	// Emoji is the reaction; empty when Removed.
	Emoji string
	// Removed is true when the user removed their reaction (Meta omits the
	// emoji key, or sends it empty).
	Removed bool
}

// Context links a message to an earlier one or to a product.
type Context struct {
	// From is the sender of the referenced message (for a reply to the
	// business: the business display number).
	From string
	// ID is the wamid of the referenced message.
	ID string
	// Forwarded is true when the user forwarded the message.
	Forwarded bool
	// FrequentlyForwarded is true when the message was forwarded more than
	// five times.
	FrequentlyForwarded bool
	// ReferredProduct is set when the user asked about a catalog product.
	ReferredProduct *ReferredProduct
}

// ReferredProduct is the catalog product a message refers to.
type ReferredProduct struct {
	// CatalogID is the catalog's id.
	CatalogID string
	// ProductRetailerID is the product's id in that catalog.
	ProductRetailerID string
}

// Referral describes the Click-to-WhatsApp ad or post the user came from.
type Referral struct {
	// SourceURL is the ad or post URL.
	SourceURL string
	// SourceID is the ad or post id.
	SourceID string
	// SourceType is "ad" or "post".
	SourceType string
	// Headline and Body are the ad's texts.
	Headline string
	Body     string
	// MediaType is "image" or "video".
	MediaType string
	// ImageURL, VideoURL and ThumbnailURL point at the ad's media.
	ImageURL     string
	VideoURL     string
	ThumbnailURL string
	// CtwaClid is the click id of the ad.
	CtwaClid string
	// WelcomeMessage is the ad's welcome message text, if any.
	WelcomeMessage string
}

// Order is a cart sent from a catalog.
type Order struct {
	// CatalogID is the catalog the products come from.
	CatalogID string
	// Text is the user's note (often empty).
	Text string
	// Items are the ordered products.
	Items []OrderItem
}

// OrderItem is one product line of an order.
type OrderItem struct {
	// ProductRetailerID is the product's catalog id.
	ProductRetailerID string
	// Quantity is the number of items.
	Quantity int
	// ItemPrice is the unit price in Currency (ISO 4217).
	ItemPrice float64
	Currency  string
}

// System is a system message, e.g. the customer changed number.
type System struct {
	// Type is e.g. SystemUserChangedNumber.
	Type string
	// Body is the human-readable description.
	Body string
	// NewWaID is the customer's new wa_id (system.wa_id, or new_wa_id in
	// payloads older than Graph v12).
	NewWaID string
}

// Wire shapes of the type-specific payloads.

type wireMedia struct {
	ID       string   `json:"id"`
	MimeType string   `json:"mime_type"`
	SHA256   string   `json:"sha256"`
	Caption  string   `json:"caption"`
	Filename string   `json:"filename"`
	Voice    flexBool `json:"voice"`
	Animated flexBool `json:"animated"`
}

type wireLocation struct {
	Latitude  flexFloat `json:"latitude"`
	Longitude flexFloat `json:"longitude"`
	Name      string    `json:"name"`
	Address   string    `json:"address"`
	URL       string    `json:"url"`
}

type wireSharedContact struct {
	Name struct {
		FormattedName string `json:"formatted_name"`
		FirstName     string `json:"first_name"`
		LastName      string `json:"last_name"`
	} `json:"name"`
	Phones []struct {
		Phone string `json:"phone"`
		WaID  string `json:"wa_id"`
		Type  string `json:"type"`
	} `json:"phones"`
	Emails []struct {
		Email string `json:"email"`
		Type  string `json:"type"`
	} `json:"emails"`
	URLs []struct {
		URL  string `json:"url"`
		Type string `json:"type"`
	} `json:"urls"`
	Addresses []struct {
		Street      string `json:"street"`
		City        string `json:"city"`
		State       string `json:"state"`
		Zip         string `json:"zip"`
		Country     string `json:"country"`
		CountryCode string `json:"country_code"`
		Type        string `json:"type"`
	} `json:"addresses"`
	Org struct {
		Company    string `json:"company"`
		Department string `json:"department"`
		Title      string `json:"title"`
	} `json:"org"`
	Birthday string `json:"birthday"`
}

type wireInteractive struct {
	Type        string `json:"type"`
	ButtonReply *struct {
		ID    string `json:"id"`
		Title string `json:"title"`
	} `json:"button_reply"`
	ListReply *struct {
		ID          string `json:"id"`
		Title       string `json:"title"`
		Description string `json:"description"`
	} `json:"list_reply"`
	NfmReply *struct {
		Name         string `json:"name"`
		Body         string `json:"body"`
		ResponseJSON string `json:"response_json"`
	} `json:"nfm_reply"`
}

type wireReaction struct {
	MessageID string  `json:"message_id"`
	Emoji     *string `json:"emoji"`
}

type wireContext struct {
	From                string   `json:"from"`
	ID                  string   `json:"id"`
	Forwarded           flexBool `json:"forwarded"`
	FrequentlyForwarded flexBool `json:"frequently_forwarded"`
	ReferredProduct     *struct {
		CatalogID         string `json:"catalog_id"`
		ProductRetailerID string `json:"product_retailer_id"`
	} `json:"referred_product"`
}

type wireReferral struct {
	SourceURL      string `json:"source_url"`
	SourceID       string `json:"source_id"`
	SourceType     string `json:"source_type"`
	Headline       string `json:"headline"`
	Body           string `json:"body"`
	MediaType      string `json:"media_type"`
	ImageURL       string `json:"image_url"`
	VideoURL       string `json:"video_url"`
	ThumbnailURL   string `json:"thumbnail_url"`
	CtwaClid       string `json:"ctwa_clid"`
	WelcomeMessage *struct {
		Text string `json:"text"`
	} `json:"welcome_message"`
}

type wireOrder struct {
	CatalogID    string `json:"catalog_id"`
	Text         string `json:"text"`
	ProductItems []struct {
		ProductRetailerID string    `json:"product_retailer_id"`
		Quantity          flexInt   `json:"quantity"`
		ItemPrice         flexFloat `json:"item_price"`
		Currency          string    `json:"currency"`
	} `json:"product_items"`
}

type wireSystem struct {
	Type    string `json:"type"`
	Body    string `json:"body"`
	WaID    string `json:"wa_id"`
	NewWaID string `json:"new_wa_id"`
}

// decodeMessage turns one messages[] item into a Message. It never fails:
// members with an unexpected shape are skipped and reported in DecodeError.
func decodeMessage(raw json.RawMessage) Message {
	m := Message{Raw: raw}
	fields, err := decodeFields(raw)
	if err != nil {
		m.DecodeError = err.Error()
		return m
	}
	d := &fieldDecoder{fields: fields}
	d.decode("id", &m.ID)
	d.decode("from", &m.From)
	d.decode("type", &m.Type)
	var ts unixTime
	if d.decode("timestamp", &ts) {
		m.Timestamp = ts.Time()
	}

	switch m.Type {
	case TypeText:
		var t struct {
			Body string `json:"body"`
		}
		if d.decode("text", &t) {
			m.Text = t.Body
		}
	case TypeImage, TypeAudio, TypeVideo, TypeDocument, TypeSticker:
		var w wireMedia
		if d.decode(m.Type, &w) {
			m.Media = &Media{
				ID:       w.ID,
				MimeType: w.MimeType,
				SHA256:   w.SHA256,
				Caption:  w.Caption,
				Filename: w.Filename,
				Voice:    bool(w.Voice),
				Animated: bool(w.Animated),
			}
		}
	case TypeLocation:
		var w wireLocation
		if d.decode("location", &w) {
			m.Location = &Location{
				Lat:     float64(w.Latitude),
				Lng:     float64(w.Longitude),
				Name:    w.Name,
				Address: w.Address,
				URL:     w.URL,
			}
		}
	case TypeContacts:
		var ws []wireSharedContact
		if d.decode("contacts", &ws) {
			m.Contacts = convertSharedContacts(ws)
		}
	case TypeInteractive:
		var w wireInteractive
		if d.decode("interactive", &w) {
			m.Interactive = convertInteractive(w)
		}
	case TypeButton:
		var w struct {
			Payload string `json:"payload"`
			Text    string `json:"text"`
		}
		if d.decode("button", &w) {
			m.Button = &ButtonReply{Payload: w.Payload, Text: w.Text}
		}
	case TypeReaction:
		var w wireReaction
		if d.decode("reaction", &w) {
			r := &Reaction{MessageID: w.MessageID}
			if w.Emoji != nil {
				r.Emoji = *w.Emoji
			}
			r.Removed = r.Emoji == ""
			m.Reaction = r
		}
	case TypeOrder:
		var w wireOrder
		if d.decode("order", &w) {
			o := &Order{CatalogID: w.CatalogID, Text: w.Text}
			for _, it := range w.ProductItems {
				o.Items = append(o.Items, OrderItem{
					ProductRetailerID: it.ProductRetailerID,
					Quantity:          int(it.Quantity),
					ItemPrice:         float64(it.ItemPrice),
					Currency:          it.Currency,
				})
			}
			m.Order = o
		}
	case TypeSystem:
		var w wireSystem
		if d.decode("system", &w) {
			s := &System{Type: w.Type, Body: w.Body, NewWaID: w.WaID}
			if s.NewWaID == "" {
				s.NewWaID = w.NewWaID
			}
			m.System = s
		}
	}

	var wc wireContext
	if d.decode("context", &wc) {
		c := &Context{
			From:                wc.From,
			ID:                  wc.ID,
			Forwarded:           bool(wc.Forwarded),
			FrequentlyForwarded: bool(wc.FrequentlyForwarded),
		}
		if wc.ReferredProduct != nil {
			c.ReferredProduct = &ReferredProduct{
				CatalogID:         wc.ReferredProduct.CatalogID,
				ProductRetailerID: wc.ReferredProduct.ProductRetailerID,
			}
		}
		m.Context = c
	}
	var wr wireReferral
	if d.decode("referral", &wr) {
		r := &Referral{
			SourceURL:    wr.SourceURL,
			SourceID:     wr.SourceID,
			SourceType:   wr.SourceType,
			Headline:     wr.Headline,
			Body:         wr.Body,
			MediaType:    wr.MediaType,
			ImageURL:     wr.ImageURL,
			VideoURL:     wr.VideoURL,
			ThumbnailURL: wr.ThumbnailURL,
			CtwaClid:     wr.CtwaClid,
		}
		if wr.WelcomeMessage != nil {
			r.WelcomeMessage = wr.WelcomeMessage.Text
		}
		m.Referral = r
	}
	d.decode("errors", &m.Errors)
	m.DecodeError = d.problem()
	return m
}

func convertSharedContacts(ws []wireSharedContact) []SharedContact {
	out := make([]SharedContact, 0, len(ws))
	for _, w := range ws {
		c := SharedContact{
			FormattedName: w.Name.FormattedName,
			FirstName:     w.Name.FirstName,
			LastName:      w.Name.LastName,
			Org:           ContactOrg{Company: w.Org.Company, Department: w.Org.Department, Title: w.Org.Title},
			Birthday:      w.Birthday,
		}
		for _, p := range w.Phones {
			c.Phones = append(c.Phones, ContactPhone{Phone: p.Phone, WaID: p.WaID, Type: p.Type})
		}
		for _, e := range w.Emails {
			c.Emails = append(c.Emails, ContactEmail{Email: e.Email, Type: e.Type})
		}
		for _, u := range w.URLs {
			c.URLs = append(c.URLs, ContactURL{URL: u.URL, Type: u.Type})
		}
		for _, a := range w.Addresses {
			c.Addresses = append(c.Addresses, ContactAddress{
				Street: a.Street, City: a.City, State: a.State, Zip: a.Zip,
				Country: a.Country, CountryCode: a.CountryCode, Type: a.Type,
			})
		}
		out = append(out, c)
	}
	return out
}

func convertInteractive(w wireInteractive) *InteractiveReply {
	r := &InteractiveReply{Type: w.Type}
	switch {
	case w.Type == InteractiveButtonReply && w.ButtonReply != nil:
		r.ID, r.Title = w.ButtonReply.ID, w.ButtonReply.Title
	case w.Type == InteractiveListReply && w.ListReply != nil:
		r.ID, r.Title, r.Description = w.ListReply.ID, w.ListReply.Title, w.ListReply.Description
	case w.Type == InteractiveFlowReply && w.NfmReply != nil:
		r.FlowName, r.FlowBody, r.FlowResponseJSON = w.NfmReply.Name, w.NfmReply.Body, w.NfmReply.ResponseJSON
	}
	return r
}
