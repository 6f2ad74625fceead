package server

import (
	"encoding/json"
	"errors"
	"net/http"
	"slices"

	"github.com/labstack/echo/v4"

	"github.com/relaydesk/relaydesk/internal/apiauth"
	"github.com/relaydesk/relaydesk/internal/apievents"
	"github.com/relaydesk/relaydesk/internal/apiview"
	"github.com/relaydesk/relaydesk/internal/store"
)

// maxSubscriptions bounds an application's subscriptions.
const maxSubscriptions = 10

// eventScope is the scope an application needs to receive an event: the
// same as reading what the event carries.
var eventScope = map[string]string{
	apiview.EventMessageReceived:  apiauth.ScopeMessagesRead,
	apiview.EventMessageStatus:    apiauth.ScopeMessagesRead,
	apiview.EventChatTicketLinked: apiauth.ScopeChatsRead,
}

// listSubscriptions is GET /api/v1/subscriptions.
func (s *Server) listSubscriptions(c echo.Context) error {
	subs, err := s.store.Subscriptions(c.Request().Context(), apiAccess(c).Client.ID)
	if err != nil {
		return err
	}
	out := listPage[apiview.Subscription]{Data: make([]apiview.Subscription, 0, len(subs))}
	for _, sub := range subs {
		out.Data = append(out.Data, apiview.NewSubscription(sub))
	}
	return c.JSON(http.StatusOK, out)
}

// createSubscription is POST /api/v1/subscriptions. The answer carries the
// signing secret, shown only this once.
func (s *Server) createSubscription(c echo.Context) error {
	a := apiAccess(c)
	var r struct {
		URL    string   `json:"url"`
		Events []string `json:"events"`
	}
	dec := json.NewDecoder(http.MaxBytesReader(c.Response(), c.Request().Body, apiMaxBody))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&r); err != nil {
		return s.badRequest(c, "the body must be JSON {\"url\": ..., \"events\": [...]}: "+err.Error())
	}
	if err := apievents.CheckURL(r.URL); err != nil {
		return s.apiProblem(c, http.StatusUnprocessableEntity, "invalid-subscription", "Invalid subscription", err.Error())
	}
	if len(r.Events) == 0 {
		return s.apiProblem(c, http.StatusUnprocessableEntity, "invalid-subscription", "Invalid subscription",
			"events must name at least one of message.received, message.status, chat.ticket_linked")
	}
	var events []string
	for _, e := range r.Events {
		scope, ok := eventScope[e]
		if !ok {
			return s.apiProblem(c, http.StatusUnprocessableEntity, "invalid-subscription", "Invalid subscription",
				"unknown event "+e+"; the events are message.received, message.status, chat.ticket_linked")
		}
		if !slices.Contains(a.Scopes, scope) {
			return s.writeProblem(c, problem{Type: s.publicBase(c) + "/api/v1/docs#problem-insufficient-scope",
				Title: "Insufficient scope", Status: http.StatusForbidden, Scope: scope, Instance: c.Request().URL.Path,
				Detail: "Receiving " + e + " needs the scope " + scope + " as well."})
		}
		if !slices.Contains(events, e) {
			events = append(events, e)
		}
	}
	existing, err := s.store.Subscriptions(c.Request().Context(), a.Client.ID)
	if err != nil {
		return err
	}
	if len(existing) >= maxSubscriptions {
		return s.apiProblem(c, http.StatusUnprocessableEntity, "invalid-subscription", "Too many subscriptions",
			"An application may have at most 10 subscriptions; delete one first.")
	}
	sub, secret, err := s.store.CreateSubscription(c.Request().Context(), a.Client.ID, r.URL, events)
	if err != nil {
		return err
	}
	out := apiview.NewSubscription(sub)
	out.Secret = secret
	c.Response().Header().Set("Location", "/api/v1/subscriptions/"+idText(sub.ID))
	return c.JSON(http.StatusCreated, out)
}

// subscriptionFor loads one of the application's subscriptions.
func (s *Server) subscriptionFor(c echo.Context) (store.Subscription, bool, error) {
	id, valid := apiID[store.SubscriptionID](c, "id")
	if !valid {
		return store.Subscription{}, false, s.apiNotFound(c, "subscription")
	}
	sub, err := s.store.SubscriptionByID(c.Request().Context(), id)
	if errors.Is(err, store.ErrNotFound) || (err == nil && sub.ClientID != apiAccess(c).Client.ID) {
		return sub, false, s.apiNotFound(c, "subscription")
	}
	return sub, err == nil, err
}

// getSubscription is GET /api/v1/subscriptions/{id}.
func (s *Server) getSubscription(c echo.Context) error {
	sub, ok, err := s.subscriptionFor(c)
	if !ok {
		return err
	}
	return c.JSON(http.StatusOK, apiview.NewSubscription(sub))
}

// deleteSubscription is DELETE /api/v1/subscriptions/{id}.
func (s *Server) deleteSubscription(c echo.Context) error {
	sub, ok, err := s.subscriptionFor(c)
	if !ok {
		return err
	}
	if err := s.store.DeleteSubscription(c.Request().Context(), sub.ClientID, sub.ID); err != nil {
		return err
	}
	return c.NoContent(http.StatusNoContent)
}
