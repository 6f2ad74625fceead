package bridge

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"slices"
	"strings"
	"unicode/utf8"

	"github.com/riverqueue/river"

	"github.com/relaydesk/relaydesk/internal/msgconv"
	"github.com/relaydesk/relaydesk/internal/store"
	"github.com/relaydesk/relaydesk/internal/whatsapp"
)

// ErrOutsideWindow refuses a free-form message (text or media) to a
// customer whose last message is older than the 24-hour customer service
// window, or who never wrote: only a template may be sent then.
var ErrOutsideWindow = errors.New("the customer's last message is more than 24 hours old (or there is none): " +
	"WhatsApp only allows an approved template outside the 24-hour customer service window")

// InvalidSendError says what is wrong with an API send.
type InvalidSendError struct{ Reason string }

func (e *InvalidSendError) Error() string { return e.Reason }

// APISend is a message a third-party application asks relaydesk to send.
type APISend struct {
	// ClientName is the application's name (the message's author is
	// "app:<name>", and the ticket note names it).
	ClientName string
	// ChatID names an existing chat; otherwise AccountID and WaID name the
	// number and the customer (the chat is created when needed).
	ChatID    store.ConversationID
	AccountID store.AccountID
	WaID      string
	// Type is text, image, video, audio, document, sticker or template.
	Type     string
	Text     string
	Link     string
	Caption  string
	Filename string
	Template *APITemplate
}

// APITemplate is a template message (the only kind allowed outside the
// 24-hour window), in the Cloud API's shape.
type APITemplate struct {
	Name       string                 `json:"name"`
	Language   string                 `json:"language"`
	Components []APITemplateComponent `json:"components,omitempty"`
}

// APITemplateComponent fills one template component's variables.
type APITemplateComponent struct {
	Type       string                       `json:"type"`
	SubType    string                       `json:"sub_type,omitempty"`
	Index      int                          `json:"index,omitempty"`
	Parameters []whatsapp.TemplateParameter `json:"parameters,omitempty"`
}

func (t APITemplate) wire() whatsapp.Template {
	out := whatsapp.Template{Name: t.Name, Language: t.Language}
	for _, c := range t.Components {
		out.Components = append(out.Components, whatsapp.TemplateComponent{Type: c.Type, SubType: c.SubType,
			Index: c.Index, Parameters: c.Parameters})
	}
	return out
}

var mediaTypes = []string{whatsapp.TypeImage, whatsapp.TypeVideo, whatsapp.TypeAudio, whatsapp.TypeDocument, whatsapp.TypeSticker}

func (s APISend) validate() error {
	switch {
	case s.Type == whatsapp.TypeText:
		if strings.TrimSpace(s.Text) == "" {
			return &InvalidSendError{"text is required for a text message"}
		}
		if n := utf8.RuneCountInString(s.Text); n > whatsapp.MaxTextLength {
			return &InvalidSendError{fmt.Sprintf("text is %d characters; WhatsApp allows %d", n, whatsapp.MaxTextLength)}
		}
	case slices.Contains(mediaTypes, s.Type):
		u, err := url.Parse(s.Link)
		if err != nil || u.Scheme != "https" || u.Host == "" {
			return &InvalidSendError{"media.link must be a public https URL that WhatsApp can fetch"}
		}
		if s.Caption != "" && s.Type != whatsapp.TypeImage && s.Type != whatsapp.TypeVideo && s.Type != whatsapp.TypeDocument {
			return &InvalidSendError{s.Type + " messages take no caption"}
		}
		if utf8.RuneCountInString(s.Caption) > whatsapp.MaxCaptionLength {
			return &InvalidSendError{fmt.Sprintf("the caption is longer than %d characters", whatsapp.MaxCaptionLength)}
		}
		if s.Filename != "" && s.Type != whatsapp.TypeDocument {
			return &InvalidSendError{"only documents take a filename"}
		}
	case s.Type == whatsapp.TypeTemplate:
		if s.Template == nil || s.Template.Name == "" || s.Template.Language == "" {
			return &InvalidSendError{"template.name and template.language are required"}
		}
		for i, c := range s.Template.Components {
			if c.Type != whatsapp.ComponentHeader && c.Type != whatsapp.ComponentBody && c.Type != whatsapp.ComponentButton {
				return &InvalidSendError{fmt.Sprintf("template.components[%d].type must be header, body or button", i)}
			}
			if c.Type == whatsapp.ComponentButton && c.SubType == "" {
				return &InvalidSendError{fmt.Sprintf("template.components[%d].sub_type is required for a button", i)}
			}
		}
	default:
		return &InvalidSendError{"type must be text, image, video, audio, document, sticker or template"}
	}
	return nil
}

// QueueAPISend stores an application's message as an outbound message of
// its chat and enqueues the ordered send job, in tx, so it is sent by the
// same job as agent replies (window, pacing, error classes). A free-form
// message outside the 24-hour window is refused with ErrOutsideWindow. When
// the chat has a ticket, an internal note saying which application sent the
// message is queued in the same transaction. It returns the message id.
func (b *Bridge) QueueAPISend(ctx context.Context, tx *store.Tx, s APISend) (store.MessageID, error) {
	if err := s.validate(); err != nil {
		return 0, err
	}
	convID := s.ChatID
	if convID == 0 {
		var err error
		if convID, err = tx.EnsureConversation(ctx, s.AccountID, s.WaID); err != nil {
			if errors.Is(err, store.ErrNotFound) && store.IsBSUID(s.WaID) {
				return 0, &InvalidSendError{Reason: "no customer of this number's business account has this business-scoped user id: " +
					"a BSUID is only known once the customer wrote"}
			}
			return 0, fmt.Errorf("ensure chat: %w", err)
		}
	}
	conv, err := tx.ConversationByID(ctx, convID)
	if err != nil {
		return 0, fmt.Errorf("load chat: %w", err)
	}
	if needsWindow(s.Type) && !b.inWindow(conv) {
		return 0, ErrOutsideWindow
	}
	var ticketID *store.TicketID
	if t, err := tx.ActiveTicket(ctx, convID); err == nil {
		ticketID = &t.ID
	} else if !errors.Is(err, store.ErrNotFound) {
		return 0, err
	}
	id, err := b.storeAPISend(ctx, tx, convID, ticketID, s)
	if err != nil {
		return 0, err
	}
	jobs, err := b.wake(ctx, tx, convID, store.DirOut)
	if err != nil {
		return 0, err
	}
	if ticketID != nil {
		jobs = append(jobs, river.InsertManyParams{Args: AddNoteArgs{TicketID: *ticketID, Key: fmt.Sprintf("msg-%d-api", id),
			Body: fmt.Sprintf("[relaydesk] The application %q sent this to the customer on WhatsApp through the API: %s",
				s.ClientName, apiSummary(s))}})
	}
	if err := b.enqueue(ctx, tx, jobs); err != nil {
		return 0, err
	}
	return id, nil
}

// storeAPISend inserts the outbound message of an API send, with what the
// send job needs beyond its text (a media link, a template) in APISend.
func (b *Bridge) storeAPISend(ctx context.Context, tx *store.Tx, convID store.ConversationID, ticketID *store.TicketID,
	s APISend) (store.MessageID, error) {
	o := store.Outbound{ConversationID: convID, TicketID: ticketID, Kind: s.Type, Body: s.Text, Author: "app:" + s.ClientName}
	if s.Type != whatsapp.TypeText {
		o.Body = s.Caption
		o.APISend = &store.APISend{Type: s.Type, Link: s.Link, Caption: s.Caption, Filename: s.Filename}
		if s.Template != nil {
			var err error
			if o.APISend.Template, err = json.Marshal(s.Template); err != nil {
				return 0, fmt.Errorf("encode template: %w", err)
			}
		}
	}
	id, _, err := tx.InsertOutbound(ctx, o)
	return id, err
}

func apiSummary(s APISend) string {
	switch s.Type {
	case whatsapp.TypeText:
		return msgconv.Truncate(s.Text, 1000)
	case whatsapp.TypeTemplate:
		return fmt.Sprintf("template %q (%s)", s.Template.Name, s.Template.Language)
	}
	out := fmt.Sprintf("%s %s", s.Type, s.Link)
	if s.Caption != "" {
		out += " — " + msgconv.Truncate(s.Caption, 500)
	}
	return out
}
