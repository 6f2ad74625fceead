package server

import (
	"cmp"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/labstack/echo/v4"

	"github.com/relaydesk/relaydesk/internal/bridge"
	"github.com/relaydesk/relaydesk/internal/store"
	"github.com/relaydesk/relaydesk/internal/whatsapp"
)

// conversationsView is the data of conversations.html.
type conversationsView struct {
	Query         string
	Conversations []store.ConversationSummary
}

// conversationView is the data of conversation.html.
type conversationView struct {
	Conv     store.Conversation
	Account  store.Account
	Messages []timelineEntry
	Tickets  []store.Ticket
}

// timelineEntry is a message with what the timeline shows beside it.
type timelineEntry struct {
	store.Message
	TicketURL  string
	Connection string
	Reason     string // the error in plain words
	Retryable  bool
	// RetryNote says why there is no Retry button (the window is closed).
	RetryNote string
	// StateLabel and StateBadge are the state as shown: a reply WhatsApp
	// reported failed is "Not delivered", not "Done".
	StateLabel, StateBadge string
	// MediaURL shows the customer's file to the admin; IsImage as a thumbnail.
	MediaURL string
	IsImage  bool
	// Location is a shared place, with a map link.
	Location *whatsapp.Location
	MapURL   string
}

// windowClosedNote says why a free-form reply cannot be sent now: the
// customer's last message is more than 24 hours old ("" when the window is
// open, or m is not such a reply). Sending it again would be refused by the
// same rule and post the same note to the ticket again.
func windowClosedNote(conv store.Conversation, m store.Message, now time.Time) string {
	if m.Direction != "out" || (m.APISend != nil && m.APISend.Type == whatsapp.TypeTemplate) {
		return ""
	}
	if conv.LastInboundAt != nil && now.Sub(*conv.LastInboundAt) < bridge.Window {
		return ""
	}
	if m.State == store.StateWaitingWindow {
		return "Held until the customer writes again: WhatsApp allows a free-form reply only within 24 hours of the " +
			"customer's last message. relaydesk delivers it automatically as soon as they do; there is nothing to retry."
	}
	return "Retry is possible once the customer writes again: WhatsApp allows a free-form reply only within 24 hours of " +
		"the customer's last message, and would refuse it now. A re-engagement template on the route lets relaydesk ask them to."
}

// shownState is a message's state as the timeline shows it.
func shownState(m store.Message) (label, badge string) {
	if m.Direction == "out" && m.Status == whatsapp.StatusFailed {
		return "Not delivered", "bad"
	}
	return titleText(m.State), stateClass(m.State)
}

// mapURL is an OpenStreetMap link to a place.
func mapURL(l *whatsapp.Location) string {
	return fmt.Sprintf("https://www.openstreetmap.org/?mlat=%.6f&mlon=%.6f#map=17/%.6f/%.6f", l.Lat, l.Lng, l.Lat, l.Lng)
}

func (s *Server) conversationsList(c echo.Context) error {
	// A NUL byte or bytes that are not text cannot match anything: dropped.
	q := strings.Map(func(r rune) rune {
		if r == 0 || r == utf8.RuneError {
			return -1
		}
		return r
	}, c.QueryParam("q"))
	convs, err := s.store.SearchConversations(c.Request().Context(), q, 50)
	if err != nil {
		return err
	}
	return s.render(c, http.StatusOK, "conversations.html", "conversations", conversationsView{Query: q, Conversations: convs})
}

func (s *Server) conversationView(c echo.Context) error {
	ctx := c.Request().Context()
	conv, err := byID(c, s.store.ConversationByID)
	if err != nil {
		return err
	}
	id := conv.ID
	noteConversation(c, id)
	acc, err := s.store.AccountByID(ctx, conv.AccountID)
	if err != nil {
		return err
	}
	msgs, tickets, err := s.store.ConversationTimeline(ctx, id)
	if err != nil {
		return err
	}
	conns, err := s.store.Connections(ctx)
	if err != nil {
		return err
	}
	names := map[store.ConnectionID]string{}
	for _, cn := range conns {
		names[cn.ID] = cn.Name
	}
	urls := map[store.TicketID]string{}
	for _, t := range tickets {
		urls[t.ID] = t.URL
	}
	v := conversationView{Conv: conv, Account: acc, Tickets: tickets}
	for _, m := range msgs {
		e := timelineEntry{Message: m, Reason: errorReason(m.Error),
			Retryable: m.State == store.StateFailed || m.State == store.StateWaitingWindow}
		e.StateLabel, e.StateBadge = shownState(m)
		if e.Retryable {
			if e.RetryNote = windowClosedNote(conv, m, time.Now()); e.RetryNote != "" {
				e.Retryable = false
			}
		}
		if m.Media != nil && m.Media.ID != "" {
			e.MediaURL = "/admin/messages/" + idText(m.ID) + "/media"
			e.IsImage = imageType(m.Media.MimeType)
		}
		if m.Inbound != nil && m.Inbound.Location != nil {
			e.Location = m.Inbound.Location
			e.MapURL = mapURL(m.Inbound.Location)
		}
		if m.TicketID != nil {
			e.TicketURL = urls[*m.TicketID]
		}
		if m.ConnectionID != nil {
			e.Connection = names[*m.ConnectionID]
		}
		v.Messages = append(v.Messages, e)
	}
	return s.render(c, http.StatusOK, "conversation.html", "conversations", v)
}

// messageRetry puts a failed message back in its conversation's queue.
func (s *Server) messageRetry(c echo.Context) error {
	ctx := c.Request().Context()
	m, err := byID(c, s.store.MessageByID)
	if err != nil {
		return err
	}
	id := m.ID
	back := "/admin/conversations/" + idText(m.ConversationID)
	if m.State == store.StateFailed || m.State == store.StateWaitingWindow {
		conv, err := s.store.ConversationByID(ctx, m.ConversationID)
		if err != nil {
			return err
		}
		if note := windowClosedNote(conv, m, time.Now()); note != "" {
			return s.flash(c, back, "warning", "Not retried: the customer's 24-hour window is closed.",
				note+" Nothing was sent and no note was added to the ticket.")
		}
	}
	err = s.bridge.RetryMessage(ctx, id)
	if errors.Is(err, store.ErrNotFound) {
		return s.flash(c, back, "warning", "That message is not failed or held any more, so there is nothing to retry.", "")
	}
	if err != nil {
		return err
	}
	_ = s.store.RecordAudit(ctx, s.actor(c), "message.retry", "message", int64(id), "", map[string]any{"conversation_id": m.ConversationID})
	what := "relaydesk sends it to the customer now"
	if m.Direction == "in" {
		what = "relaydesk posts it to the helpdesk now"
	}
	return s.flash(c, back, "success", "Message queued again.",
		what+". It keeps its place in the conversation: messages after it wait until it is delivered or fails again; "+
			"if it fails again, the reason appears here.")
}

// imageType reports whether a MIME type is an image a browser shows.
func imageType(mime string) bool {
	switch strings.TrimSpace(strings.SplitN(mime, ";", 2)[0]) {
	case "image/jpeg", "image/png", "image/webp", "image/gif":
		return true
	}
	return false
}

// adminMessageMedia shows a customer's file to the admin, streamed from Graph
// while WhatsApp keeps it: images inline (for the timeline's thumbnail),
// anything else as a download.
func (s *Server) adminMessageMedia(c echo.Context) error {
	ctx := c.Request().Context()
	m, err := byID(c, s.store.MessageByID)
	if err != nil {
		return err
	}
	if m.Media == nil || m.Media.ID == "" {
		return echo.NewHTTPError(http.StatusNotFound)
	}
	conv, err := s.store.ConversationByID(ctx, m.ConversationID)
	if err != nil {
		return err
	}
	rc, info, err := s.bridge.OpenMedia(ctx, conv.AccountID, m.Media.ID)
	var ae *whatsapp.APIError
	switch {
	case errors.As(err, &ae) && (ae.HTTPStatus == http.StatusNotFound || ae.HTTPStatus == http.StatusBadRequest):
		return s.errorPage(c, http.StatusGone, "WhatsApp no longer has this file (it keeps media for 30 days).")
	case err != nil:
		s.log.Warn("admin media download failed", "err", err, "message_id", m.ID)
		return s.errorPage(c, http.StatusBadGateway, "WhatsApp did not deliver the file; try again later.")
	}
	defer rc.Close()
	h := c.Response().Header()
	h.Set("Cache-Control", "private, no-store")
	h.Set("X-Content-Type-Options", "nosniff")
	ctype := cmp.Or(info.MimeType, m.Media.MimeType)
	if imageType(ctype) {
		h.Set("Content-Disposition", "inline")
	} else {
		ctype = cmp.Or(ctype, "application/octet-stream")
		h.Set("Content-Disposition", "attachment")
	}
	h.Set("Content-Type", ctype)
	c.Response().WriteHeader(http.StatusOK)
	_, err = io.Copy(c.Response(), rc)
	return err
}

// auditView is the data of audit.html.
type auditView struct {
	Entries []store.AuditEntry
}

func (s *Server) auditPage(c echo.Context) error {
	entries, err := s.store.AuditLog(c.Request().Context(), 200)
	if err != nil {
		return err
	}
	return s.render(c, http.StatusOK, "audit.html", "audit", auditView{Entries: entries})
}

// jobsHandler serves River UI, or says why it is not available.
func (s *Server) jobsHandler(c echo.Context) error {
	if s.admin.jobs == nil {
		return s.errorPage(c, http.StatusServiceUnavailable, "The jobs view is not available in this process (no River client).")
	}
	if strings.HasPrefix(c.Request().URL.Path, "/admin/jobs/api") {
		s.admin.jobs.ServeHTTP(c.Response(), c.Request())
		return nil
	}
	w := &backLinkWriter{ResponseWriter: c.Response().Writer}
	s.admin.jobs.ServeHTTP(w, c.Request())
	return w.finish()
}

// jobsCSP relaxes the style policy for River UI, a prebuilt single-page app
// that sets inline styles; scripts stay 'self' only.
func (s *Server) jobsCSP(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		c.Response().Header().Set("Content-Security-Policy", "default-src 'self'; img-src 'self' data:; "+
			"style-src 'self' 'unsafe-inline'; script-src 'self'; frame-ancestors 'none'; form-action 'self'")
		return next(c)
	}
}
