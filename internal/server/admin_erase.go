package server

import (
	"errors"
	"fmt"
	"strings"

	"github.com/labstack/echo/v4"

	"github.com/relaydesk/relaydesk/internal/store"
)

// conversationErase erases the conversation's customer (an erasure
// request), after the admin ticked the confirmation; with "helpdesk" the
// requester is deleted in helpdesks whose API can, and the page says what
// each did.
func (s *Server) conversationErase(c echo.Context) error {
	ctx := c.Request().Context()
	conv, err := byID(c, s.store.ConversationByID)
	if err != nil {
		return err
	}
	back := "/admin/conversations/" + idText(conv.ID)
	if c.FormValue("confirm") != "1" {
		return s.flash(c, back, "warning", "Nothing was erased.", "Tick the confirmation to erase this customer.")
	}
	contact, err := s.store.ContactOfConversation(ctx, conv.ID)
	if err != nil {
		return err
	}
	e, err := s.bridge.EraseContact(ctx, s.actor(c), contact, c.FormValue("helpdesk") == "1")
	if errors.Is(err, store.ErrNotFound) {
		return s.flash(c, "/admin/conversations", "warning", "This customer was already erased.", "")
	}
	if err != nil {
		return err
	}
	detail := fmt.Sprintf("%d conversations, %d messages, %d raw webhook deliveries, %d API events and %d queued jobs were deleted.",
		e.Conversations, e.Messages, e.WebhookEvents, e.APIEvents, e.Jobs)
	switch {
	case len(e.Helpdesk) > 0:
		detail += " " + strings.Join(e.Helpdesk, " ")
	case len(e.HelpdeskTickets) > 0:
		detail += fmt.Sprintf(" The helpdesk still holds %d tickets of this customer.", len(e.HelpdeskTickets))
	}
	return s.flash(c, "/admin/conversations", "success", "Customer erased.", detail)
}
