package server

import (
	"errors"
	"net/http"
	"strconv"

	"github.com/labstack/echo/v4"

	"github.com/relaydesk/relaydesk/internal/store"
)

// routesView is the data of routes.html.
type routesView struct {
	Routes   []store.RouteView
	CanAdd   bool // at least one number and one helpdesk exist
	Accounts int
	Conns    int
}

// routeView is the data of route.html (new and edit).
type routeView struct {
	Route    *store.RouteView // nil when adding
	Fields   []field
	Action   string
	ReadOnly bool
}

func (s *Server) routesList(c echo.Context) error {
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
	return s.render(c, http.StatusOK, "routes.html", "routes", routesView{Routes: routes,
		CanAdd: len(accounts) > 0 && len(conns) > 0, Accounts: len(accounts), Conns: len(conns)})
}

// routeChoices loads what a route may join.
func (s *Server) routeChoices(c echo.Context) ([]store.Account, []store.Connection, error) {
	accounts, err := s.store.Accounts(c.Request().Context())
	if err != nil {
		return nil, nil, err
	}
	conns, err := s.store.Connections(c.Request().Context())
	return accounts, conns, err
}

func (s *Server) routeNew(c echo.Context) error {
	accounts, conns, err := s.routeChoices(c)
	if err != nil {
		return err
	}
	f := &routeForm{Position: "0", MatchKind: "default", ReopenWindow: "72h", Tags: "whatsapp", Errors: map[string]string{}}
	return s.render(c, http.StatusOK, "route.html", "routes", routeView{Fields: f.Fields(accounts, conns, false), Action: "/admin/routes"})
}

func (s *Server) routeCreate(c echo.Context) error {
	accounts, conns, err := s.routeChoices(c)
	if err != nil {
		return err
	}
	f := routeFormFromRequest(c)
	if f.Validate(accounts, conns) {
		_, err := s.store.CreateRoute(c.Request().Context(), f.NewRoute(), s.actor(c))
		var conflict *store.ConflictError
		switch {
		case errors.As(err, &conflict):
			f.Errors[conflict.Field] = capitalize(conflict.Message) + "."
		case err != nil:
			return err
		default:
			return s.flash(c, "/admin/routes", "success", "Route added.", "New conversations on the number now follow it.")
		}
	}
	return s.renderPage(c, http.StatusUnprocessableEntity, "route.html", "routes",
		routeView{Fields: f.Fields(accounts, conns, false), Action: "/admin/routes"},
		&store.Flash{Kind: "error", Message: "Please correct the fields marked below."})
}

func (s *Server) loadRoute(c echo.Context) (store.RouteView, error) {
	id, err := idParam(c)
	if err != nil {
		return store.RouteView{}, err
	}
	r, err := s.store.RouteViewByID(c.Request().Context(), id)
	return r, notFoundOr(err)
}

func (s *Server) routeEdit(c echo.Context) error {
	r, err := s.loadRoute(c)
	if err != nil {
		return err
	}
	accounts, conns, err := s.routeChoices(c)
	if err != nil {
		return err
	}
	return s.render(c, http.StatusOK, "route.html", "routes", routeView{Route: &r,
		Fields: routeFormFrom(r).Fields(accounts, conns, r.ManagedByFile), Action: "/admin/routes/" + strconv.FormatInt(r.ID, 10),
		ReadOnly: r.ManagedByFile})
}

func (s *Server) routeUpdate(c echo.Context) error {
	r, err := s.loadRoute(c)
	if err != nil {
		return err
	}
	if r.ManagedByFile {
		return s.managedRefusal(c)
	}
	accounts, conns, err := s.routeChoices(c)
	if err != nil {
		return err
	}
	self := "/admin/routes/" + strconv.FormatInt(r.ID, 10)
	f := routeFormFromRequest(c)
	if f.Validate(accounts, conns) {
		err := s.store.UpdateRoute(c.Request().Context(), r.ID, f.NewRoute(), s.actor(c))
		var conflict *store.ConflictError
		switch {
		case errors.As(err, &conflict):
			f.Errors[conflict.Field] = capitalize(conflict.Message) + "."
		case errors.Is(err, store.ErrManagedByFile):
			return s.managedRefusal(c)
		case err != nil:
			return err
		default:
			return s.flash(c, "/admin/routes", "success", "Route saved.", "")
		}
	}
	return s.renderPage(c, http.StatusUnprocessableEntity, "route.html", "routes",
		routeView{Route: &r, Fields: f.Fields(accounts, conns, false), Action: self},
		&store.Flash{Kind: "error", Message: "Please correct the fields marked below."})
}

func (s *Server) routeDelete(c echo.Context) error {
	r, err := s.loadRoute(c)
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
