package whatsapp

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"unicode/utf8"
)

// Limits the Cloud API enforces on outgoing content (whatsapp.md §5, §8).
const (
	// MaxTextLength is the maximum text body length in characters.
	MaxTextLength = 4096
	// MaxCaptionLength is the maximum media caption length in characters.
	MaxCaptionLength = 1024
)

// Template component and parameter types.
const (
	// ComponentHeader, ComponentBody and ComponentButton are
	// TemplateComponent.Type values.
	ComponentHeader = "header"
	ComponentBody   = "body"
	ComponentButton = "button"

	// ButtonQuickReply and ButtonURL are TemplateComponent.SubType values.
	ButtonQuickReply = "quick_reply"
	ButtonURL        = "url"

	// ParamText ... ParamDocument are TemplateParameter.Type values.
	ParamText     = "text"
	ParamCurrency = "currency"
	ParamDateTime = "date_time"
	ParamImage    = "image"
	ParamVideo    = "video"
	ParamDocument = "document"
	// ParamPayload is the quick-reply button parameter type.
	ParamPayload = "payload"
)

// OutgoingMessage is a message to send with Client.Send. Set To, Type and
// the one payload field matching Type; the helpers (SendText, SendMedia...)
// fill it in for the common cases. It is encoded exactly in the
// POST /{phone-number-id}/messages wire format, adding
// messaging_product="whatsapp", recipient_type="individual" and, with
// ReplyTo, context.message_id.
type OutgoingMessage struct {
	// To is the recipient: their wa_id or phone number in international
	// format, or their business-scoped user id (BSUID, see IsBSUID) when
	// WhatsApp hides their phone behind a username. A BSUID goes in the
	// request's "recipient" field, a phone number in "to": Meta's
	// business-scoped user ids page; providers' docs (dualhook, kapso)
	// add that "to" wins when both are sent, so exactly one is sent.
	To string
	// Type is the message type (TypeText, TypeImage, ..., TypeTemplate,
	// TypeReaction, TypeLocation, TypeInteractive).
	Type string
	// ReplyTo is the wamid of the message this one quotes (optional).
	ReplyTo string

	// Text is the payload of TypeText.
	Text *OutgoingText
	// Image, Audio, Video, Document and Sticker are media payloads.
	Image    *MediaRef
	Audio    *MediaRef
	Video    *MediaRef
	Document *MediaRef
	Sticker  *MediaRef
	// Location is the payload of TypeLocation.
	Location *OutgoingLocation
	// Reaction is the payload of TypeReaction.
	Reaction *OutgoingReaction
	// Template is the payload of TypeTemplate.
	Template *Template
	// Interactive is sent verbatim as the "interactive" object.
	Interactive json.RawMessage
}

// OutgoingText is the payload of a text message.
type OutgoingText struct {
	// Body is the text, at most MaxTextLength characters.
	Body string `json:"body"`
	// PreviewURL asks WhatsApp to render a preview of the first URL.
	PreviewURL bool `json:"preview_url"`
}

// OutgoingLocation is the payload of a location message.
type OutgoingLocation struct {
	// Lat and Lng are the coordinates in degrees.
	Lat float64
	Lng float64
	// Name and Address are optional labels.
	Name    string
	Address string
}

// MarshalJSON encodes latitude/longitude as the Graph description's
// strings.
func (l OutgoingLocation) MarshalJSON() ([]byte, error) {
	return json.Marshal(struct {
		Latitude  string `json:"latitude"`
		Longitude string `json:"longitude"`
		Name      string `json:"name,omitempty"`
		Address   string `json:"address,omitempty"`
	}{
		Latitude:  strconv.FormatFloat(l.Lat, 'f', -1, 64),
		Longitude: strconv.FormatFloat(l.Lng, 'f', -1, 64),
		Name:      l.Name,
		Address:   l.Address,
	})
}

// OutgoingReaction is the payload of a reaction message.
type OutgoingReaction struct {
	// MessageID is the wamid reacted to.
	MessageID string `json:"message_id"`
	// Emoji is the reaction; "" removes the business's reaction.
	Emoji string `json:"emoji"`
}

// MediaRef points at media to send: an uploaded media ID (preferred) or a
// public Link fetched by Meta. Exactly one of ID and Link must be set.
type MediaRef struct {
	// ID is an uploaded media id (see Client.UploadMedia).
	ID string `json:"id,omitempty"`
	// Link is a public https URL of the media.
	Link string `json:"link,omitempty"`
	// Caption is allowed for image, video and document messages only.
	Caption string `json:"caption,omitempty"`
	// Filename is allowed for documents only; WhatsApp shows it to the user.
	Filename string `json:"filename,omitempty"`
}

// Template is a template message: the only kind allowed outside the 24-hour
// customer service window.
type Template struct {
	// Name is the approved template's name.
	Name string
	// Language is the template language code, e.g. "en_US".
	Language string
	// Components fill the template's variables.
	Components []TemplateComponent
}

// MarshalJSON encodes the wire shape, with language
// {"policy":"deterministic","code":...}.
func (t Template) MarshalJSON() ([]byte, error) {
	type language struct {
		Policy string `json:"policy"`
		Code   string `json:"code"`
	}
	return json.Marshal(struct {
		Name       string              `json:"name"`
		Language   language            `json:"language"`
		Components []TemplateComponent `json:"components,omitempty"`
	}{t.Name, language{"deterministic", t.Language}, t.Components})
}

// TemplateComponent fills the variables of one template component.
type TemplateComponent struct {
	// Type is ComponentHeader, ComponentBody or ComponentButton.
	Type string
	// SubType is ButtonQuickReply or ButtonURL for buttons.
	SubType string
	// Index is the button's position (0-based); used for buttons only.
	Index int
	// Parameters are the values, in variable order.
	Parameters []TemplateParameter
}

// MarshalJSON encodes the wire shape; sub_type and index (as a string) are
// only emitted for buttons.
func (c TemplateComponent) MarshalJSON() ([]byte, error) {
	w := struct {
		Type       string              `json:"type"`
		SubType    string              `json:"sub_type,omitempty"`
		Index      string              `json:"index,omitempty"`
		Parameters []TemplateParameter `json:"parameters,omitempty"`
	}{Type: c.Type, Parameters: c.Parameters}
	if c.Type == ComponentButton {
		w.SubType = c.SubType
		w.Index = strconv.Itoa(c.Index)
	}
	return json.Marshal(w)
}

// TemplateParameter is one template variable value. Set Type and the field
// matching it.
type TemplateParameter struct {
	// Type is ParamText, ParamCurrency, ParamDateTime, ParamImage,
	// ParamVideo, ParamDocument or ParamPayload.
	Type string `json:"type"`
	// ParameterName names the variable a value fills in a template whose
	// parameter_format is NAMED ({{first_name}}); empty for positional ones.
	ParameterName string `json:"parameter_name,omitempty"`
	// Text is the value of a text parameter (or a URL button's suffix).
	Text string `json:"text,omitempty"`
	// Image, Video and Document are media header values (no captions).
	Image    *MediaRef `json:"image,omitempty"`
	Video    *MediaRef `json:"video,omitempty"`
	Document *MediaRef `json:"document,omitempty"`
	// Payload is the quick-reply button payload returned when tapped.
	Payload string `json:"payload,omitempty"`
	// Currency and DateTime are localizable values.
	Currency *Currency `json:"currency,omitempty"`
	DateTime *DateTime `json:"date_time,omitempty"`
}

// Currency is a currency template parameter.
type Currency struct {
	// FallbackValue is shown if localization fails, e.g. "$100.99".
	FallbackValue string `json:"fallback_value"`
	// Code is the ISO 4217 code, e.g. "USD".
	Code string `json:"code"`
	// Amount1000 is the amount times 1000 (100990 for 100.99).
	Amount1000 int64 `json:"amount_1000"`
}

// DateTime is a date_time template parameter; the Cloud API always shows
// FallbackValue.
type DateTime struct {
	// FallbackValue is the text shown, e.g. "February 25, 1977".
	FallbackValue string `json:"fallback_value"`
}

// MarshalJSON encodes the message in the wire format.
func (m OutgoingMessage) MarshalJSON() ([]byte, error) {
	type msgContext struct {
		MessageID string `json:"message_id"`
	}
	w := struct {
		MessagingProduct string            `json:"messaging_product"`
		RecipientType    string            `json:"recipient_type"`
		To               string            `json:"to,omitempty"`
		Recipient        string            `json:"recipient,omitempty"`
		Type             string            `json:"type"`
		Context          *msgContext       `json:"context,omitempty"`
		Text             *OutgoingText     `json:"text,omitempty"`
		Image            *MediaRef         `json:"image,omitempty"`
		Audio            *MediaRef         `json:"audio,omitempty"`
		Video            *MediaRef         `json:"video,omitempty"`
		Document         *MediaRef         `json:"document,omitempty"`
		Sticker          *MediaRef         `json:"sticker,omitempty"`
		Location         *OutgoingLocation `json:"location,omitempty"`
		Reaction         *OutgoingReaction `json:"reaction,omitempty"`
		Template         *Template         `json:"template,omitempty"`
		Interactive      json.RawMessage   `json:"interactive,omitempty"`
	}{
		MessagingProduct: "whatsapp",
		RecipientType:    "individual",
		To:               m.To,
		Type:             m.Type,
		Text:             m.Text,
		Image:            m.Image,
		Audio:            m.Audio,
		Video:            m.Video,
		Document:         m.Document,
		Sticker:          m.Sticker,
		Location:         m.Location,
		Reaction:         m.Reaction,
		Template:         m.Template,
		Interactive:      m.Interactive,
	}
	if IsBSUID(m.To) {
		w.To, w.Recipient = "", m.To
	}
	if m.ReplyTo != "" {
		w.Context = &msgContext{MessageID: m.ReplyTo}
	}
	return json.Marshal(w)
}

// IsBSUID reports whether a recipient is a business-scoped user id (an
// ISO country code, a dot, alphanumerics: "US.13491208655302741918"; a
// parent BSUID is "US.ENT.…") rather than a phone number, which never has
// a dot.
func IsBSUID(to string) bool {
	return strings.Contains(to, ".")
}

// SendResult is the Graph response to a send.
type SendResult struct {
	// MessageID is the new message's wamid (messages[0].id). Status
	// webhooks refer to it.
	MessageID string
	// WaID is the recipient's wa_id as resolved by WhatsApp; empty for a
	// send to a BSUID.
	WaID string
	// UserID is the recipient's BSUID, returned for a send to a BSUID.
	UserID string
	// Input is the recipient as sent.
	Input string
	// MessageStatus is messages[0].message_status for templates ("accepted",
	// "held_for_quality_assessment", "paused"), else "".
	MessageStatus string
}

type wireSendResponse struct {
	Contacts []struct {
		Input  string `json:"input"`
		WaID   string `json:"wa_id"`
		UserID string `json:"user_id"`
	} `json:"contacts"`
	Messages []struct {
		ID            string `json:"id"`
		MessageStatus string `json:"message_status"`
	} `json:"messages"`
}

// Send posts msg to /{phone-number-id}/messages. A nil error means Meta
// accepted the message, not that it was delivered: delivery and failures
// arrive later as status webhooks. On a timeout the message may still have
// been accepted; the Cloud API has no idempotency key.
func (c *Client) Send(ctx context.Context, msg OutgoingMessage) (SendResult, error) {
	if err := checkNotEmpty("recipient", msg.To, "message type", msg.Type); err != nil {
		return SendResult{}, err
	}
	var resp wireSendResponse
	if err := c.doJSON(ctx, http.MethodPost, c.endpoint(c.phoneNumberID, "messages"), msg, &resp); err != nil {
		return SendResult{}, err
	}
	if len(resp.Messages) == 0 || resp.Messages[0].ID == "" {
		return SendResult{}, errNoMessageID
	}
	r := SendResult{MessageID: resp.Messages[0].ID, MessageStatus: resp.Messages[0].MessageStatus}
	if len(resp.Contacts) > 0 {
		r.WaID, r.UserID, r.Input = resp.Contacts[0].WaID, resp.Contacts[0].UserID, resp.Contacts[0].Input
	}
	return r, nil
}

// SendText sends a text message and returns its wamid. replyTo (optional)
// quotes an earlier message.
func (c *Client) SendText(ctx context.Context, to, body string, previewURL bool, replyTo string) (string, error) {
	if err := checkNotEmpty("text body", body); err != nil {
		return "", err
	}
	if n := utf8.RuneCountInString(body); n > MaxTextLength {
		return "", fmt.Errorf("%w: text is %d characters, WhatsApp allows %d", ErrInvalidArgument, n, MaxTextLength)
	}
	r, err := c.Send(ctx, OutgoingMessage{
		To: to, Type: TypeText, ReplyTo: replyTo,
		Text: &OutgoingText{Body: body, PreviewURL: previewURL},
	})
	return r.MessageID, err
}

// SendMedia sends an image, audio, video, document or sticker message and
// returns its wamid. kind is the media type (TypeImage...). Captions are
// allowed for image, video and document; a filename for documents only.
func (c *Client) SendMedia(ctx context.Context, to, kind string, ref MediaRef, replyTo string) (string, error) {
	if err := validateMediaRef(kind, ref); err != nil {
		return "", err
	}
	msg := OutgoingMessage{To: to, Type: kind, ReplyTo: replyTo}
	switch kind {
	case TypeImage:
		msg.Image = &ref
	case TypeAudio:
		msg.Audio = &ref
	case TypeVideo:
		msg.Video = &ref
	case TypeDocument:
		msg.Document = &ref
	case TypeSticker:
		msg.Sticker = &ref
	}
	r, err := c.Send(ctx, msg)
	return r.MessageID, err
}

func validateMediaRef(kind string, ref MediaRef) error {
	if !IsMediaType(kind) {
		return fmt.Errorf("%w: %q is not a media type", ErrInvalidArgument, kind)
	}
	if (ref.ID == "") == (ref.Link == "") {
		return fmt.Errorf("%w: exactly one of media id and link is required", ErrInvalidArgument)
	}
	if ref.Caption != "" {
		if kind != TypeImage && kind != TypeVideo && kind != TypeDocument {
			return fmt.Errorf("%w: %s messages take no caption", ErrInvalidArgument, kind)
		}
		if n := utf8.RuneCountInString(ref.Caption); n > MaxCaptionLength {
			return fmt.Errorf("%w: caption is %d characters, WhatsApp allows %d", ErrInvalidArgument, n, MaxCaptionLength)
		}
	}
	if ref.Filename != "" && kind != TypeDocument {
		return fmt.Errorf("%w: only documents take a filename", ErrInvalidArgument)
	}
	return nil
}

// SendTemplate sends a template message and returns its wamid.
func (c *Client) SendTemplate(ctx context.Context, to string, tpl Template) (string, error) {
	if err := checkNotEmpty("template name", tpl.Name, "template language", tpl.Language); err != nil {
		return "", err
	}
	for i, comp := range tpl.Components {
		if err := checkNotEmpty(fmt.Sprintf("components[%d].type", i), comp.Type); err != nil {
			return "", err
		}
		if comp.Type == ComponentButton && comp.SubType == "" {
			return "", fmt.Errorf("%w: components[%d]: button sub_type is required", ErrInvalidArgument, i)
		}
	}
	r, err := c.Send(ctx, OutgoingMessage{To: to, Type: TypeTemplate, Template: &tpl})
	return r.MessageID, err
}

// SendReaction reacts with emoji to the message messageID (a wamid) and
// returns the reaction's own wamid. An empty emoji removes the business's
// reaction.
func (c *Client) SendReaction(ctx context.Context, to, messageID, emoji string) (string, error) {
	if err := checkNotEmpty("message id", messageID); err != nil {
		return "", err
	}
	r, err := c.Send(ctx, OutgoingMessage{
		To: to, Type: TypeReaction,
		Reaction: &OutgoingReaction{MessageID: messageID, Emoji: emoji},
	})
	return r.MessageID, err
}

// MarkRead marks the inbound message messageID (a wamid) as read, which
// shows the customer blue ticks.
func (c *Client) MarkRead(ctx context.Context, messageID string) error {
	if err := checkNotEmpty("message id", messageID); err != nil {
		return err
	}
	in := struct {
		MessagingProduct string `json:"messaging_product"`
		Status           string `json:"status"`
		MessageID        string `json:"message_id"`
	}{"whatsapp", StatusRead, messageID}
	return c.doSuccess(ctx, http.MethodPost, c.endpoint(c.phoneNumberID, "messages"), in, "mark read")
}

// MarkReadTyping marks the inbound message messageID read and shows the
// customer the typing indicator, in one call (Meta's typing indicators
// page, updated Jun 17 2026: the indicator is dismissed by the reply or
// after 25 seconds; show it only when a reply is coming).
func (c *Client) MarkReadTyping(ctx context.Context, messageID string) error {
	if err := checkNotEmpty("message id", messageID); err != nil {
		return err
	}
	type typing struct {
		Type string `json:"type"`
	}
	in := struct {
		MessagingProduct string `json:"messaging_product"`
		Status           string `json:"status"`
		MessageID        string `json:"message_id"`
		TypingIndicator  typing `json:"typing_indicator"`
	}{"whatsapp", StatusRead, messageID, typing{"text"}}
	return c.doSuccess(ctx, http.MethodPost, c.endpoint(c.phoneNumberID, "messages"), in, "mark read with typing indicator")
}
