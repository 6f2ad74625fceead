package server

import (
	"errors"
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/relaydesk/relaydesk/internal/store"
)

// routingRulesView is the data of routing_rules.html.
type routingRulesView struct {
	Rules    []store.RouteView
	CanAdd   bool // at least one number and one helpdesk exist
	Accounts int
	Conns    int
}

// routingRuleView is the data of routing_rule.html (new and edit).
type routingRuleView struct {
	Rule     *store.RouteView // nil when adding
	Fields   []field
	Action   string
	ReadOnly bool
}

func (s *Server) routingRuleList(c echo.Context) error {
	ctx := c.Request().Context()
	routes, err := s.store.RouteViews(ctx)
	if err != nil {
		return err
	}
	accounts, err := s.store.Accounts(ctx)
	if err != nil {
		return err
	}
	conns, err := s.store.Connections(ctx)
	if err != nil {
		return err
	}
	return s.render(c, http.StatusOK, "routing_rules.html", "routes", routingRulesView{Rules: routes,
		CanAdd: len(accounts) > 0 && len(conns) > 0, Accounts: len(accounts), Conns: len(conns)})
}

// routingChoices loads what a routing rule may join.
func (s *Server) routingChoices(c echo.Context) ([]store.Account, []store.Connection, error) {
	accounts, err := s.store.Accounts(c.Request().Context())
	if err != nil {
		return nil, nil, err
	}
	conns, err := s.store.Connections(c.Request().Context())
	return accounts, conns, err
}

func (s *Server) routingRuleNew(c echo.Context) error {
	accounts, conns, err := s.routingChoices(c)
	if err != nil {
		return err
	}
	f := &routingRuleForm{Position: "0", MatchKind: "default", ReopenWindow: "72h", Tags: "whatsapp", Errors: map[string]string{}}
	return s.render(c, http.StatusOK, "routing_rule.html", "routes", routingRuleView{Fields: f.Fields(accounts, conns, false), Action: "/admin/routes"})
}

func (s *Server) routingRuleCreate(c echo.Context) error {
	accounts, conns, err := s.routingChoices(c)
	if err != nil {
		return err
	}
	f := routingRuleFormFromRequest(c)
	if f.Validate(accounts, conns) {
		_, err := s.store.CreateRoute(c.Request().Context(), f.NewRule(), s.actor(c))
		if err == nil {
			return s.flash(c, "/admin/routes", "success", "Route added.", "New conversations on the number now follow it.")
		}
		if stop, err := s.writeFailed(c, err, f.Errors); stop {
			return err
		}
	}
	return s.formInvalid(c, "routing_rule.html", "routes", routingRuleView{Fields: f.Fields(accounts, conns, false), Action: "/admin/routes"})
}

func (s *Server) routingRuleEdit(c echo.Context) error {
	r, err := byID(c, s.store.RouteViewByID)
	if err != nil {
		return err
	}
	accounts, conns, err := s.routingChoices(c)
	if err != nil {
		return err
	}
	return s.render(c, http.StatusOK, "routing_rule.html", "routes", routingRuleView{Rule: &r,
		Fields: routingRuleFormFrom(r).Fields(accounts, conns, r.ManagedByFile), Action: "/admin/routes/" + idText(r.ID),
		ReadOnly: r.ManagedByFile})
}

func (s *Server) routingRuleUpdate(c echo.Context) error {
	r, err := byID(c, s.store.RouteViewByID)
	if err != nil {
		return err
	}
	if r.ManagedByFile {
		return s.managedRefusal(c)
	}
	accounts, conns, err := s.routingChoices(c)
	if err != nil {
		return err
	}
	self := "/admin/routes/" + idText(r.ID)
	f := routingRuleFormFromRequest(c)
	if f.Validate(accounts, conns) {
		err := s.store.UpdateRoute(c.Request().Context(), r.ID, f.NewRule(), s.actor(c))
		if err == nil {
			return s.flash(c, "/admin/routes", "success", "Route saved.", "")
		}
		if stop, err := s.writeFailed(c, err, f.Errors); stop {
			return err
		}
	}
	return s.formInvalid(c, "routing_rule.html", "routes", routingRuleView{Rule: &r, Fields: f.Fields(accounts, conns, false), Action: self})
}

func (s *Server) routingRuleDelete(c echo.Context) error {
	r, err := byID(c, s.store.RouteViewByID)
	if err != nil {
		return err
	}
	err = s.store.DeleteRoute(c.Request().Context(), r.ID, s.actor(c))
	if errors.Is(err, store.ErrManagedByFile) {
		return s.managedRefusal(c)
	}
	if err != nil {
		return notFoundOr(err)
	}
	return s.flash(c, "/admin/routes", "success", "Route "+r.AccountName+" → "+r.ConnectionName+" deleted.",
		"Conversations already open keep their tickets; new ones follow the remaining routes.")
}
