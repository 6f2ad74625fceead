package server

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"

	"github.com/labstack/echo/v4"

	"github.com/relaydesk/relaydesk/internal/apiauth"
	"github.com/relaydesk/relaydesk/internal/store"
)

// appsView is the data of apps.html.
type appsView struct {
	Apps     []store.APIClient
	Disabled []store.Subscription // subscriptions disabled automatically
}

func (s *Server) appsList(c echo.Context) error {
	ctx := c.Request().Context()
	apps, err := s.store.APIClients(ctx)
	if err != nil {
		return err
	}
	subs, err := s.store.Subscriptions(ctx, 0)
	if err != nil {
		return err
	}
	v := appsView{Apps: apps}
	for _, sub := range subs {
		if !sub.Enabled && strings.HasPrefix(sub.DisabledReason, "disabled automatically") {
			v.Disabled = append(v.Disabled, sub)
		}
	}
	return s.render(c, http.StatusOK, "apps.html", "apps", v)
}

// appForm is the registration form.
type appForm struct {
	Name              string
	RateLimit         string
	RedirectURIs      string
	Scopes            []string
	ClientCredentials bool
	AuthorizationCode bool
	Numbers           []store.AccountID
	CanIntrospect     bool
}

type checkOption struct {
	Name, Description string
	Checked           bool
}

type numberOption struct {
	ID            store.AccountID
	Name, Display string
	Checked       bool
}

// appNewView is the data of app_new.html.
type appNewView struct {
	Form    appForm
	Errors  []string
	Scopes  []checkOption
	Numbers []numberOption
}

func (s *Server) appNewView(c echo.Context, f appForm, problems []string) (appNewView, error) {
	v := appNewView{Form: f, Errors: problems}
	for _, sc := range apiauth.Scopes {
		v.Scopes = append(v.Scopes, checkOption{Name: sc, Description: apiauth.ScopeDescriptions[sc], Checked: slices.Contains(f.Scopes, sc)})
	}
	accounts, err := s.store.Accounts(c.Request().Context())
	if err != nil {
		return v, err
	}
	for _, a := range accounts {
		v.Numbers = append(v.Numbers, numberOption{ID: a.ID, Name: a.Name, Display: a.DisplayPhoneNumber, Checked: slices.Contains(f.Numbers, a.ID)})
	}
	return v, nil
}

func (s *Server) appNew(c echo.Context) error {
	v, err := s.appNewView(c, appForm{RateLimit: "600", ClientCredentials: true,
		Scopes: []string{apiauth.ScopeChatsRead, apiauth.ScopeMessagesRead}}, nil)
	if err != nil {
		return err
	}
	return s.render(c, http.StatusOK, "app_new.html", "apps", v)
}

func (s *Server) appCreate(c echo.Context) error {
	form, err := c.FormParams()
	if err != nil {
		return err
	}
	f := appForm{Name: strings.TrimSpace(form.Get("name")), RateLimit: strings.TrimSpace(form.Get("rate_limit")),
		RedirectURIs: form.Get("redirect_uris"), Scopes: form["scopes"], CanIntrospect: form.Get("can_introspect") != ""}
	n := store.NewAPIClient{Name: f.Name, Scopes: f.Scopes, CanIntrospect: f.CanIntrospect}
	for _, g := range form["grant_types"] {
		n.GrantTypes = append(n.GrantTypes, g)
		f.ClientCredentials = f.ClientCredentials || g == apiauth.GrantClientCredentials
		f.AuthorizationCode = f.AuthorizationCode || g == apiauth.GrantAuthorizationCode
	}
	for _, line := range strings.Split(f.RedirectURIs, "\n") {
		if u := strings.TrimSpace(line); u != "" {
			n.RedirectURIs = append(n.RedirectURIs, u)
		}
	}
	var problems []string
	for _, v := range form["numbers"] {
		id, err := parseID[store.AccountID](v)
		if err != nil {
			problems = append(problems, "unknown number")
			continue
		}
		f.Numbers = append(f.Numbers, id)
	}
	n.AccountIDs = f.Numbers
	if n.RateLimit, err = strconv.Atoi(f.RateLimit); err != nil {
		n.RateLimit = 0
	}
	var app store.APIClient
	var secret string
	if len(problems) == 0 {
		app, secret, err = s.store.CreateAPIClient(c.Request().Context(), n, s.actor(c))
		var verr *store.APIValidationError
		switch {
		case errors.As(err, &verr):
			problems = verr.Problems
		case errors.Is(err, store.ErrAPIClientExists):
			problems = []string{err.Error()}
		case err != nil:
			return err
		}
	}
	if len(problems) > 0 {
		v, err := s.appNewView(c, f, problems)
		if err != nil {
			return err
		}
		return s.render(c, http.StatusUnprocessableEntity, "app_new.html", "apps", v)
	}
	return s.renderApp(c, app, secret)
}

// appViewData is the data of app.html.
type appViewData struct {
	App           store.APIClient
	Secret        string // shown once, right after registration or rotation
	Base          string
	Numbers       []string
	Grants        []store.APIGrant
	Subscriptions []subscriptionView
}

type subscriptionView struct {
	Sub        store.Subscription
	Deliveries []store.Delivery
}

func (s *Server) appView(c echo.Context) error {
	app, err := byID(c, s.store.APIClientByID)
	if err != nil {
		return err
	}
	return s.renderApp(c, app, "")
}

func (s *Server) renderApp(c echo.Context, app store.APIClient, secret string) error {
	ctx := c.Request().Context()
	v := appViewData{App: app, Secret: secret, Base: s.publicBase(c)}
	accounts, err := s.store.Accounts(ctx)
	if err != nil {
		return err
	}
	for _, a := range accounts {
		if slices.Contains(app.AccountIDs, a.ID) {
			v.Numbers = append(v.Numbers, strings.TrimSpace(a.Name+" "+a.DisplayPhoneNumber))
		}
	}
	if v.Grants, err = s.store.APIGrants(ctx, app.ID); err != nil {
		return err
	}
	subs, err := s.store.Subscriptions(ctx, app.ID)
	if err != nil {
		return err
	}
	for _, sub := range subs {
		ds, err := s.store.RecentDeliveries(ctx, sub.ID, 20)
		if err != nil {
			return err
		}
		v.Subscriptions = append(v.Subscriptions, subscriptionView{Sub: sub, Deliveries: ds})
	}
	return s.render(c, http.StatusOK, "app.html", "apps", v)
}

// appChange makes change to the application the :id path parameter names,
// then redirects to the page change returns with its message. An error of
// change about a missing entry is a 404.
func (s *Server) appChange(c echo.Context, change func(ctx context.Context, app store.APIClient) (to, msg string, err error)) error {
	app, err := byID(c, s.store.APIClientByID)
	if err != nil {
		return err
	}
	to, msg, err := change(c.Request().Context(), app)
	if err != nil {
		return notFoundOr(err)
	}
	return s.flash(c, to, "success", msg, "")
}

// appPath is the page of an application.
func appPath(app store.APIClient) string { return fmt.Sprintf("/admin/apps/%d", app.ID) }

func (s *Server) appEnabled(c echo.Context) error {
	return s.appChange(c, func(ctx context.Context, app store.APIClient) (string, string, error) {
		on := c.FormValue("enabled") == "true"
		msg := app.Name + " is disabled: its tokens stopped working."
		if on {
			msg = app.Name + " is enabled."
		}
		return appPath(app), msg, s.store.SetAPIClientEnabled(ctx, app.ID, on, s.actor(c))
	})
}

func (s *Server) appRotateSecret(c echo.Context) error {
	app, err := byID(c, s.store.APIClientByID)
	if err != nil {
		return err
	}
	secret, err := s.store.RotateAPIClientSecret(c.Request().Context(), app.ID, s.actor(c))
	if err != nil {
		return notFoundOr(err)
	}
	return s.renderApp(c, app, secret)
}

func (s *Server) appRevokeAll(c echo.Context) error {
	return s.appChange(c, func(ctx context.Context, app store.APIClient) (string, string, error) {
		return appPath(app), "Every token of " + app.Name + " is revoked.", s.store.RevokeAllAPIGrants(ctx, app.ID, s.actor(c))
	})
}

func (s *Server) appRevokeGrant(c echo.Context) error {
	return s.appChange(c, func(ctx context.Context, app store.APIClient) (string, string, error) {
		gid, err := pathID[store.GrantID](c, "grant")
		if err != nil {
			return "", "", err
		}
		return appPath(app), "The grant and its tokens are revoked.", s.store.RevokeAPIGrant(ctx, app.ID, gid, s.actor(c))
	})
}

func (s *Server) appSubscriptionEnabled(c echo.Context) error {
	return s.appChange(c, func(ctx context.Context, app store.APIClient) (string, string, error) {
		sid, err := pathID[store.SubscriptionID](c, "sub")
		if err != nil {
			return "", "", err
		}
		sub, err := s.store.SubscriptionByID(ctx, sid)
		if err != nil || sub.ClientID != app.ID {
			return "", "", echo.NewHTTPError(http.StatusNotFound)
		}
		on := c.FormValue("enabled") == "true"
		return appPath(app), "The subscription is updated.", s.store.SetSubscriptionEnabled(ctx, sid, on, s.actor(c))
	})
}

func (s *Server) appDelete(c echo.Context) error {
	return s.appChange(c, func(ctx context.Context, app store.APIClient) (string, string, error) {
		return "/admin/apps", app.Name + " is deleted.", s.store.DeleteAPIClient(ctx, app.ID, s.actor(c))
	})
}

// consentView is the data of consent.html.
type consentView struct {
	App          store.APIClient
	RedirectHost string
	Scopes       []checkOption
	Numbers      []string
	Hidden       []hiddenField
}

type hiddenField struct{ Name, Value string }

// consentPage asks the logged-in admin to approve an authorization request
// that /oauth/authorize checked and forwarded.
func (s *Server) consentPage(c echo.Context) error {
	r, aerr := s.checkAuthRequest(c, c.QueryParams())
	if aerr != nil {
		return s.answerAuthError(c, aerr)
	}
	v := consentView{App: r.Client}
	if u, err := url.Parse(r.RedirectURI); err == nil {
		v.RedirectHost = u.Host
	}
	for _, sc := range r.Scopes {
		v.Scopes = append(v.Scopes, checkOption{Name: sc, Description: apiauth.ScopeDescriptions[sc]})
	}
	accounts, err := s.store.Accounts(c.Request().Context())
	if err != nil {
		return err
	}
	for _, a := range accounts {
		if slices.Contains(r.Client.AccountIDs, a.ID) {
			v.Numbers = append(v.Numbers, strings.TrimSpace(a.Name+" "+a.DisplayPhoneNumber))
		}
	}
	q, _ := url.ParseQuery(r.Query())
	for _, k := range []string{"response_type", "client_id", "redirect_uri", "scope", "state", "code_challenge", "code_challenge_method"} {
		if q.Has(k) {
			v.Hidden = append(v.Hidden, hiddenField{k, q.Get(k)})
		}
	}
	c.Response().Header().Set("X-Frame-Options", "DENY")
	return s.render(c, http.StatusOK, "consent.html", "apps", v)
}

// consentSubmit records the admin's decision and sends the browser back to
// the application: a single-use code (with state and iss), or
// access_denied.
func (s *Server) consentSubmit(c echo.Context) error {
	form, err := c.FormParams()
	if err != nil {
		return err
	}
	q := url.Values{}
	for _, k := range []string{"response_type", "client_id", "redirect_uri", "scope", "state", "code_challenge", "code_challenge_method"} {
		if vs, ok := form[k]; ok {
			q[k] = vs
		}
	}
	r, aerr := s.checkAuthRequest(c, q)
	if aerr != nil {
		return s.answerAuthError(c, aerr)
	}
	if form.Get("decision") != "approve" {
		return s.answerAuthError(c, &authError{redirect: r.RedirectURI, state: r.State,
			err: apiauth.Errorf(apiauth.ErrAccessDenied, "the admin denied the request")})
	}
	sess := session(c)
	code, err := s.store.CreateAuthCode(c.Request().Context(), store.NewAuthCode{ClientID: r.Client.ID, AdminID: sess.AdminID,
		RedirectURI: r.RedirectURI, RedirectGiven: r.RedirectGiven, Scopes: r.Scopes, Challenge: r.Challenge})
	if err != nil {
		return err
	}
	if err := s.store.RecordAudit(c.Request().Context(), s.actor(c), "api_client.authorize", "api_client", int64(r.Client.ID), r.Client.Name,
		map[string]any{"scopes": r.Scopes, "redirect_uri": r.RedirectURI}); err != nil {
		return err
	}
	return s.leave(c, s.withIss(c, apiauth.RedirectURL(r.RedirectURI, url.Values{"code": {code}, "state": {r.State}})),
		leaveView{Title: "Access granted", Button: "Return to the application",
			Message: "You allowed the application; taking you back to it."})
}

// oauthErrorPage shows an authorization error that must not be redirected.
func (s *Server) oauthErrorPage(c echo.Context, e *apiauth.Error) error {
	return s.errorPage(c, http.StatusBadRequest, "This authorization request cannot be completed: "+e.Description+" ("+e.Code+").")
}
