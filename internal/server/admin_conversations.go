package server

import (
	"errors"
	"net/http"
	"strings"
	"unicode/utf8"

	"github.com/labstack/echo/v4"

	"github.com/relaydesk/relaydesk/internal/store"
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
	err = s.bridge.RetryMessage(ctx, id)
	if errors.Is(err, store.ErrNotFound) {
		return s.flash(c, back, "warning", "That message is not failed or held any more, so there is nothing to retry.", "")
	}
	if err != nil {
		return err
	}
	_ = s.store.RecordAudit(ctx, s.actor(c), "message.retry", "message", int64(id), "", map[string]any{"conversation_id": m.ConversationID})
	return s.flash(c, back, "success", "Message queued again.",
		"It keeps its place in the conversation: messages after it wait until it is delivered or fails again.")
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
	s.admin.jobs.ServeHTTP(c.Response(), c.Request())
	return nil
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
