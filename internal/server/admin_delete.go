package server

import (
	"net/http"
	"strconv"

	"github.com/labstack/echo/v4"

	"github.com/relaydesk/relaydesk/internal/store"
)

// Numbers and helpdesk connections made in the admin page can be deleted
// after a confirmation page that says what goes with them. Entries of the
// configuration file are removed from the file instead (it would declare
// them again).

// deleteView is the data of delete.html.
type deleteView struct {
	What, Name   string
	Takes, Notes []string
	Action, Back string
}

func (s *Server) numberDeleteConfirm(c echo.Context) error {
	id, err := pathID[store.AccountID](c, "id")
	if err != nil {
		return err
	}
	f, err := s.store.AccountFootprint(c.Request().Context(), id)
	if err != nil {
		return notFoundOr(err)
	}
	if f.ManagedByFile {
		return s.managedRefusal(c)
	}
	self := "/admin/numbers/" + idText(id)
	return s.render(c, http.StatusOK, "delete.html", "numbers", deleteView{What: "WhatsApp number", Name: f.Name,
		Takes: []string{
			plural(f.Conversations, "conversation") + " with " + plural(f.Messages, "message") + " (customer messages and replies)",
			plural(f.Pending, "message") + " not yet delivered: they are dropped, not sent",
			plural(f.Tickets, "ticket link") + " (the tickets stay in the helpdesk)",
			plural(f.Routes, "route"),
		},
		Notes: []string{"Meta keeps sending this number's webhooks until you remove the callback in the App Dashboard; " +
			"relaydesk acknowledges them and lists them as an unknown number."},
		Action: self + "/delete", Back: self})
}

func (s *Server) numberDelete(c echo.Context) error {
	id, err := pathID[store.AccountID](c, "id")
	if err != nil {
		return err
	}
	f, err := s.store.AccountFootprint(c.Request().Context(), id)
	if err != nil {
		return notFoundOr(err)
	}
	if err := s.store.DeleteAccount(c.Request().Context(), id, s.actor(c)); err != nil {
		if stop, err := s.writeFailed(c, err, map[string]string{}); stop {
			return err
		}
	}
	return s.flash(c, "/admin/numbers", "success", "Number "+f.Name+" deleted.",
		"With it went "+plural(f.Conversations, "conversation")+" and "+plural(f.Routes, "route")+".")
}

func (s *Server) helpdeskDeleteConfirm(c echo.Context) error {
	id, err := pathID[store.ConnectionID](c, "id")
	if err != nil {
		return err
	}
	f, err := s.store.ConnectionFootprint(c.Request().Context(), id)
	if err != nil {
		return notFoundOr(err)
	}
	if f.ManagedByFile {
		return s.managedRefusal(c)
	}
	self := "/admin/helpdesks/" + idText(id)
	return s.render(c, http.StatusOK, "delete.html", "helpdesks", deleteView{What: "helpdesk connection", Name: f.Name,
		Takes: []string{
			plural(f.Routes, "route") + " to it",
			plural(f.Tickets, "ticket link") + " in " + plural(f.Conversations, "conversation") +
				" (the conversations and their messages stay; the tickets stay in the helpdesk)",
			"agent replies not yet sent (" + strconv.Itoa(f.Pending) + "): they are marked failed, not sent",
		},
		Notes: []string{"A customer's next message opens a ticket through the number's other routes, or waits among " +
			"the unrouted messages. relaydesk does not remove the webhook it installed in the helpdesk: delete it there."},
		Action: self + "/delete", Back: self})
}

func (s *Server) helpdeskDelete(c echo.Context) error {
	id, err := pathID[store.ConnectionID](c, "id")
	if err != nil {
		return err
	}
	ctx := c.Request().Context()
	f, err := s.store.ConnectionFootprint(ctx, id)
	if err != nil {
		return notFoundOr(err)
	}
	if err := s.store.DeleteConnection(ctx, id, s.actor(c)); err != nil {
		if stop, err := s.writeFailed(c, err, map[string]string{}); stop {
			return err
		}
	}
	if _, err := s.bridge.ReleaseHeld(ctx); err != nil {
		return err
	}
	return s.flash(c, "/admin/helpdesks", "success", "Helpdesk "+f.Name+" deleted.",
		"With it went "+plural(f.Routes, "route")+" and "+plural(f.Tickets, "ticket link")+".")
}
