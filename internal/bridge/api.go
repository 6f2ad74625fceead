package bridge

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/url"
	"slices"
	"strings"
	"unicode/utf8"

	"github.com/jackc/pgx/v5"
	"github.com/riverqueue/river"

	"github.com/relaydesk/relaydesk/internal/apievents"
	"github.com/relaydesk/relaydesk/internal/apiview"
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
	ChatID    int64
	AccountID int64
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
func (b *Bridge) QueueAPISend(ctx context.Context, tx pgx.Tx, s APISend) (int64, error) {
	if err := s.validate(); err != nil {
		return 0, err
	}
	convID := s.ChatID
	if convID == 0 {
		var err error
		if convID, err = b.store.EnsureConversation(ctx, tx, s.AccountID, s.WaID); err != nil {
			return 0, err
		}
	}
	conv, err := b.store.ConversationByID(ctx, tx, convID)
	if err != nil {
		return 0, err
	}
	inWindow := conv.LastInboundAt != nil && b.now().Sub(*conv.LastInboundAt) < Window
	if s.Type != whatsapp.TypeTemplate && !inWindow {
		return 0, ErrOutsideWindow
	}
	var ticketID *int64
	if t, err := b.store.ActiveTicket(ctx, tx, convID); err == nil {
		ticketID = &t.ID
	} else if !errors.Is(err, store.ErrNotFound) {
		return 0, err
	}
	body := s.Text
	if s.Type != whatsapp.TypeText {
		body = s.Caption
	}
	id, _, err := b.store.InsertOutbound(ctx, tx, store.Outbound{ConversationID: convID, TicketID: ticketID,
		Kind: s.Type, Body: body, Author: "app:" + s.ClientName})
	if err != nil {
		return 0, err
	}
	if s.Type != whatsapp.TypeText {
		p := apiview.APIPayload{Type: s.Type, Link: s.Link, Caption: s.Caption, Filename: s.Filename}
		if s.Template != nil {
			if p.Template, err = json.Marshal(s.Template); err != nil {
				return 0, err
			}
		}
		raw, err := json.Marshal(map[string]any{"api": p})
		if err != nil {
			return 0, err
		}
		if err := b.store.SetMessagePayload(ctx, tx, id, raw); err != nil {
			return 0, err
		}
	}
	var jobs []river.InsertManyParams
	queue, err := b.store.MarkQueued(ctx, tx, convID, store.DirOut)
	if err != nil {
		return 0, err
	}
	if queue {
		jobs = append(jobs, river.InsertManyParams{Args: SendOutboundArgs{ConversationID: convID}})
	}
	if ticketID != nil {
		jobs = append(jobs, river.InsertManyParams{Args: AddNoteArgs{TicketID: *ticketID, Key: fmt.Sprintf("msg-%d-api", id),
			Body: fmt.Sprintf("[relaydesk] The application %q sent this to the customer on WhatsApp through the API: %s",
				s.ClientName, apiSummary(s))}})
	}
	if len(jobs) > 0 {
		if _, err := b.jobs.InsertManyTx(ctx, tx, jobs); err != nil {
			return 0, fmt.Errorf("enqueue: %w", err)
		}
	}
	return id, nil
}

func apiSummary(s APISend) string {
	switch s.Type {
	case whatsapp.TypeText:
		return truncate(s.Text, 1000)
	case whatsapp.TypeTemplate:
		return fmt.Sprintf("template %q (%s)", s.Template.Name, s.Template.Language)
	}
	out := fmt.Sprintf("%s %s", s.Type, s.Link)
	if s.Caption != "" {
		out += " — " + truncate(s.Caption, 500)
	}
	return out
}

// sendAPIMessage sends an API message other than text (media by link, a
// template); text goes the agent replies' way. A template may be sent
// outside the 24-hour window; media follows the window rule.
func (b *Bridge) sendAPIMessage(ctx context.Context, cc *convCtx, m store.Message, p apiview.APIPayload) error {
	to := recipient(cc.conv)
	if p.Type != whatsapp.TypeTemplate {
		if cc.conv.LastInboundAt == nil || b.now().Sub(*cc.conv.LastInboundAt) >= Window {
			return b.outsideWindow(ctx, cc, m)
		}
	}
	if err := b.pace(ctx, cc.account, to); err != nil {
		return err
	}
	sctx, cancel := context.WithTimeout(ctx, b.timeout)
	defer cancel()
	var wamid string
	var err error
	if p.Type == whatsapp.TypeTemplate {
		var t APITemplate
		if err := json.Unmarshal(p.Template, &t); err != nil {
			return b.store.MarkState(ctx, m.ID, store.StateFailed, map[string]string{"reason": "unreadable template: " + err.Error()})
		}
		wamid, err = cc.graph.SendTemplate(sctx, to, t.wire())
	} else {
		wamid, err = cc.graph.SendMedia(sctx, to, p.Type, whatsapp.MediaRef{Link: p.Link, Caption: p.Caption, Filename: p.Filename}, "")
	}
	if err != nil {
		return b.graphErr(ctx, cc.account, m, err)
	}
	return b.store.MarkSent(ctx, m.ID, wamid)
}

// apiMessageOf reports whether m is an API send the agent-reply path does
// not handle (media by link, template).
func apiMessageOf(m store.Message) (apiview.APIPayload, bool) {
	if m.Direction != "out" || !strings.HasPrefix(m.Author, "app:") {
		return apiview.APIPayload{}, false
	}
	p, ok := apiview.DecodeAPIPayload(m.Payload)
	return p, ok && p.Type != whatsapp.TypeText
}

// emitReceived emits message.received for the customer messages a delivery
// stored in this transaction. With no subscriber it costs one query.
func (b *Bridge) emitReceived(ctx context.Context, tx pgx.Tx, accountID, convID int64) error {
	subs, err := b.store.EventSubscribers(ctx, tx, apiview.EventMessageReceived, accountID)
	if err != nil || len(subs) == 0 {
		return err
	}
	ids, err := b.store.InboundInsertedInTx(ctx, tx, convID)
	if err != nil {
		return err
	}
	for _, id := range ids {
		if err := b.emitMessage(ctx, tx, apiview.EventMessageReceived, accountID, id, subs); err != nil {
			return err
		}
	}
	return nil
}

// emitStatus emits message.status for an outbound message whose status
// moved forward.
func (b *Bridge) emitStatus(ctx context.Context, tx pgx.Tx, accountID, messageID int64) error {
	subs, err := b.store.EventSubscribers(ctx, tx, apiview.EventMessageStatus, accountID)
	if err != nil || len(subs) == 0 {
		return err
	}
	return b.emitMessage(ctx, tx, apiview.EventMessageStatus, accountID, messageID, subs)
}

func (b *Bridge) emitMessage(ctx context.Context, tx pgx.Tx, typ string, accountID, messageID int64, subs []int64) error {
	m, err := b.store.APIMessageByID(ctx, tx, messageID)
	if err != nil {
		return err
	}
	chat, err := b.store.APIChatByID(ctx, tx, m.ConversationID)
	if err != nil {
		return err
	}
	c := apiview.NewChat(chat, Window)
	msg := apiview.NewMessage(m, b.apiBase)
	key := fmt.Sprintf("received:%d", m.ID)
	if typ == apiview.EventMessageStatus {
		key = fmt.Sprintf("status:%d:%s", m.ID, m.Status)
	}
	return b.insertEvent(ctx, tx, typ, key, accountID, apiview.EventData{Chat: &c, Message: &msg}, subs)
}

// emitTicketLinked emits chat.ticket_linked when a chat gets a new ticket.
func (b *Bridge) emitTicketLinked(ctx context.Context, tx pgx.Tx, accountID, convID int64) error {
	subs, err := b.store.EventSubscribers(ctx, tx, apiview.EventChatTicketLinked, accountID)
	if err != nil || len(subs) == 0 {
		return err
	}
	chat, err := b.store.APIChatByID(ctx, tx, convID)
	if err != nil {
		return err
	}
	c := apiview.NewChat(chat, Window)
	key := fmt.Sprintf("chat:%d", convID)
	if chat.Ticket != nil {
		key = fmt.Sprintf("ticket:%d", chat.Ticket.ID)
	}
	return b.insertEvent(ctx, tx, apiview.EventChatTicketLinked, key, accountID, apiview.EventData{Chat: &c}, subs)
}

func (b *Bridge) insertEvent(ctx context.Context, tx pgx.Tx, typ, key string, accountID int64, data apiview.EventData, subs []int64) error {
	payload, err := json.Marshal(data)
	if err != nil {
		return err
	}
	deliveries, err := b.store.InsertEvent(ctx, tx, typ, key, accountID, payload, subs)
	if err != nil || len(deliveries) == 0 {
		return err
	}
	jobs := make([]river.InsertManyParams, 0, len(deliveries))
	for _, d := range deliveries {
		jobs = append(jobs, river.InsertManyParams{Args: apievents.DeliverArgs{DeliveryID: d}})
	}
	_, err = b.jobs.InsertManyTx(ctx, tx, jobs)
	return err
}

// OpenMedia streams an inbound media file of a number from Graph (the
// public API's download endpoint). The caller closes the reader.
func (b *Bridge) OpenMedia(ctx context.Context, accountID int64, mediaID string) (io.ReadCloser, whatsapp.MediaInfo, error) {
	acc, err := b.store.AccountByID(ctx, b.store.Pool(), accountID)
	if err != nil {
		return nil, whatsapp.MediaInfo{}, err
	}
	graph, err := b.graphClient(acc)
	if err != nil {
		return nil, whatsapp.MediaInfo{}, err
	}
	return graph.DownloadMedia(ctx, mediaID)
}
