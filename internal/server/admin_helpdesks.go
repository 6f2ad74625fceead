package server

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/relaydesk/relaydesk/connectors"
	"github.com/relaydesk/relaydesk/internal/bridge"
	"github.com/relaydesk/relaydesk/internal/store"
)

// helpdeskRow is one connection in the helpdesks list.
type helpdeskRow struct {
	Conn        store.Connection
	DisplayName string
	AuthMethod  string
	WebhookURL  string
	Breaker     *store.Breaker // the connection's circuit breaker, nil while it never failed
}

// helpdesksView is the data of helpdesks.html.
type helpdesksView struct {
	Rows  []helpdeskRow
	Kinds []connectors.Description
}

// helpdeskView is the data of helpdesk.html (new and edit).
type helpdeskView struct {
	Conn       *store.Connection // nil when adding
	Desc       connectors.Description
	Fields     []field
	Action     string
	ReadOnly   bool
	WebhookURL string
	// CallbackURL is the OAuth2 redirect URL to register with the helpdesk.
	CallbackURL string
	AuthMethod  string
	Installer   bool // the connector installs its webhook itself
	Tester      bool
	OAuth2      bool // the connector supports the OAuth2 flow
	OAuth       *oauthStatus
	// ShownSecret is a webhook secret relaydesk just generated, shown this
	// once so it can be pasted into the helpdesk.
	ShownSecret string
}

// oauthStatus is what the page shows about a connection's OAuth2 token.
type oauthStatus struct {
	Expiry     *time.Time
	Expired    bool
	HasRefresh bool
}

func kindDescriptions() []connectors.Description {
	var out []connectors.Description
	for _, r := range connectors.All() {
		out = append(out, r.Description)
	}
	return out
}

// helpdeskWebhookURL is where a connection's helpdesk sends its events.
func (s *Server) helpdeskWebhookURL(c echo.Context, conn store.Connection) string {
	return bridge.WebhookURL(s.publicBase(c), conn.PublicID)
}

func (s *Server) helpdesksList(c echo.Context) error {
	conns, err := s.store.Connections(c.Request().Context())
	if err != nil {
		return err
	}
	breakers, err := s.breakersOf(c.Request().Context(), store.BreakerConnection)
	if err != nil {
		return err
	}
	v := helpdesksView{Kinds: kindDescriptions()}
	for _, conn := range conns {
		row := helpdeskRow{Conn: conn, DisplayName: conn.Kind, WebhookURL: s.helpdeskWebhookURL(c, conn),
			Breaker: breakers[int64(conn.ID)]}
		if reg, ok := connectors.Lookup(conn.Kind); ok {
			row.DisplayName = reg.Description.DisplayName
			row.AuthMethod = string(reg.Description.AuthMethod(conn.Settings))
		}
		v.Rows = append(v.Rows, row)
	}
	return s.render(c, http.StatusOK, "helpdesks.html", "helpdesks", v)
}

// helpdeskNew shows the kind picker, or the empty form of the chosen kind.
func (s *Server) helpdeskNew(c echo.Context) error {
	reg, ok := connectors.Lookup(c.QueryParam("kind"))
	if !ok {
		return s.render(c, http.StatusOK, "helpdesk_new.html", "helpdesks", helpdesksView{Kinds: kindDescriptions()})
	}
	f := &connectionForm{desc: reg.Description, Settings: map[string]any{}, Credentials: map[string]string{}, Errors: map[string]string{}}
	return s.render(c, http.StatusOK, "helpdesk.html", "helpdesks", s.helpdeskView(c, nil, f, nil))
}

// helpdeskView assembles the form page; conn is nil when adding.
func (s *Server) helpdeskView(c echo.Context, conn *store.Connection, f *connectionForm, stored map[string]string) helpdeskView {
	v := helpdeskView{Conn: conn, Desc: f.desc, Action: "/admin/helpdesks", AuthMethod: string(f.desc.AuthMethod(f.Settings)),
		CallbackURL: s.publicBase(c) + oauthCallbackPath}
	v.OAuth2 = containsMethod(f.desc.AuthMethods, connectors.AuthOAuth2)
	if conn != nil {
		v.Action = "/admin/helpdesks/" + idText(conn.ID)
		v.ReadOnly = conn.ManagedByFile
		v.WebhookURL = s.helpdeskWebhookURL(c, *conn)
		if cn, err := s.connector(*conn); err == nil {
			_, v.Installer = cn.(connectors.WebhookInstaller)
			_, v.Tester = cn.(connectors.Tester)
		}
		if conn.HasOAuthToken() {
			v.OAuth = &oauthStatus{}
			if tok, err := s.store.OAuthToken(*conn); err == nil && tok != nil {
				if !tok.Expiry.IsZero() {
					exp := tok.Expiry
					v.OAuth.Expiry, v.OAuth.Expired = &exp, time.Now().After(exp)
				}
				v.OAuth.HasRefresh = tok.RefreshToken != ""
			}
		}
	}
	v.Fields = f.Fields(stored, v.ReadOnly)
	return v
}

func containsMethod(ms []connectors.AuthMethod, m connectors.AuthMethod) bool {
	for _, x := range ms {
		if x == m {
			return true
		}
	}
	return false
}

// connector builds a connection's connector with its stored credentials.
func (s *Server) connector(conn store.Connection) (connectors.Connector, error) {
	creds, err := s.store.Credentials(conn)
	if err != nil {
		return nil, err
	}
	if s.admin.connectors != nil {
		return s.admin.connectors(conn, creds, s.admin.http)
	}
	return connectors.New(conn.Kind, connectors.Config{Name: conn.Name, BaseURL: conn.BaseURL, Settings: conn.Settings,
		Credentials: creds, HTTPClient: s.admin.http})
}

func (s *Server) helpdeskCreate(c echo.Context) error {
	reg, ok := connectors.Lookup(c.FormValue("kind"))
	if !ok {
		return s.errorPage(c, http.StatusUnprocessableEntity, "Choose a helpdesk kind that relaydesk knows.")
	}
	f := connectionFormFromRequest(c, reg.Description)
	creds, valid := f.Validate(nil)
	if valid && s.connectionURLAllowed(c, f) && s.checkConnection(c, f, store.Connection{Kind: reg.Description.Kind}, creds) {
		conn, err := s.store.CreateConnection(c.Request().Context(), store.NewConnection{Name: f.Name, Kind: reg.Description.Kind,
			BaseURL: f.BaseURL, Settings: f.Settings, Credentials: creds}, s.actor(c))
		if err == nil {
			if err := s.markTested(c, f, conn.ID); err != nil {
				return err
			}
			kind, msg, detail := s.afterSave(c, conn, reg.Description, "Helpdesk "+conn.Name+" added.")
			return s.flash(c, "/admin/helpdesks/"+idText(conn.ID), kind, msg, detail)
		}
		if stop, err := s.writeFailed(c, err, f.Errors); stop {
			return err
		}
	}
	return s.formInvalid(c, "helpdesk.html", "helpdesks", s.helpdeskView(c, nil, f, nil))
}

// afterSave installs the helpdesk-side webhook when the connector can (and
// the connection is authorised), and says what happened.
func (s *Server) afterSave(c echo.Context, conn store.Connection, desc connectors.Description, saved string) (kind, msg, detail string) {
	if desc.AuthMethod(conn.Settings) == connectors.AuthOAuth2 && !conn.HasOAuthToken() {
		return "info", saved, "Now press “Connect with " + desc.DisplayName + "” to authorise relaydesk."
	}
	return s.installWebhook(c, conn, desc, "installed", saved)
}

// installWebhook has the bridge install (or adopt; with how "rotated",
// replace) the helpdesk-side webhook now, and says what happened. A helpdesk that
// cannot be reached leaves the install to a job that retries it. Without a
// WebhookInstaller the admin gets the connector's manual steps.
func (s *Server) installWebhook(c echo.Context, conn store.Connection, desc connectors.Description, how, saved string) (kind, msg, detail string) {
	ctx, cancel := callCtx(c)
	defer cancel()
	res, err := s.bridge.ProvisionWebhook(ctx, conn.ID, bridge.Provision{Base: s.publicBase(c), Rotate: how == "rotated", Who: s.actor(c)})
	switch res.Outcome {
	case bridge.ProvisionSkipped:
		if res.FromFile {
			return "info", saved, res.Detail
		}
		return "info", saved, "Set up the webhook in " + desc.DisplayName + " by hand: follow the steps under “Webhook” below."
	case bridge.ProvisionRotated:
		return "success", "Webhook secret rotated.", desc.DisplayName + " now signs its events with a new secret; the old one no longer works."
	case bridge.ProvisionInstalled:
		return "success", strings.TrimSpace(saved + " relaydesk installed its webhook in " + desc.DisplayName + "."),
			"Agent replies and status changes now reach relaydesk at " + res.Endpoint + "."
	case bridge.ProvisionRetrying, bridge.ProvisionRateLimited:
		if err := s.bridge.EnqueueProvision(context.WithoutCancel(ctx), conn.ID); err != nil {
			return "error", saved + " The webhook could not be installed.", res.Detail
		}
		return "warning", strings.TrimSpace(saved + " The webhook is not installed yet: relaydesk retries in the background."), res.Detail
	case bridge.ProvisionFailed:
		return "error", strings.TrimSpace(saved + " The webhook could not be installed."), res.Detail
	}
	return "error", saved, "The webhook could not be installed: " + err.Error()
}

// connectorFailure records a helpdesk call's failure as the connection's
// health and explains it.
func (s *Server) connectorFailure(ctx context.Context, conn store.Connection, desc connectors.Description, err error, msg string) (kind, m, detail string) {
	detail = bridge.PlainConnectorError(err, desc.DisplayName)
	_ = s.store.SetConnectionHealth(context.WithoutCancel(ctx), conn.ID, bridge.HealthOf(err), detail)
	return "error", msg, detail
}

func (s *Server) loadConnection(c echo.Context) (store.Connection, connectors.Description, error) {
	conn, err := byID(c, s.store.ConnectionByID)
	if err != nil {
		return conn, connectors.Description{}, err
	}
	reg, ok := connectors.Lookup(conn.Kind)
	if !ok {
		return conn, connectors.Description{}, echo.NewHTTPError(http.StatusNotFound, "no connector is registered for kind "+conn.Kind)
	}
	return conn, reg.Description, nil
}

func (s *Server) helpdeskEdit(c echo.Context) error {
	conn, desc, err := s.loadConnection(c)
	if err != nil {
		return err
	}
	stored, err := s.store.Credentials(conn)
	if err != nil {
		return err
	}
	return s.render(c, http.StatusOK, "helpdesk.html", "helpdesks", s.helpdeskView(c, &conn, connectionFormFrom(desc, conn), stored))
}

func (s *Server) helpdeskUpdate(c echo.Context) error {
	conn, desc, err := s.loadConnection(c)
	if err != nil {
		return err
	}
	if conn.ManagedByFile {
		return s.managedRefusal(c)
	}
	stored, err := s.store.Credentials(conn)
	if err != nil {
		return err
	}
	e := s.editedConnection(c, conn, desc, stored)
	f := e.form
	if e.valid && s.connectionURLAllowed(c, f) && s.checkConnection(c, f, e.candidate, e.creds) {
		err := s.store.UpdateConnection(c.Request().Context(), conn.ID, store.NewConnection{Name: f.Name, BaseURL: f.BaseURL,
			Settings: f.Settings, Credentials: e.creds, ForgetOAuth: e.moved}, s.actor(c))
		if err == nil {
			if err := s.markTested(c, f, conn.ID); err != nil {
				return err
			}
			saved, err := s.store.ConnectionByID(c.Request().Context(), conn.ID)
			if err != nil {
				return err
			}
			kind, msg, detail := s.afterSave(c, saved, desc, "Helpdesk "+saved.Name+" saved.")
			return s.flash(c, "/admin/helpdesks/"+idText(conn.ID), kind, msg, detail)
		}
		if stop, err := s.writeFailed(c, err, f.Errors); stop {
			return err
		}
	}
	return s.formInvalid(c, "helpdesk.html", "helpdesks", s.helpdeskView(c, &conn, f, stored))
}

func (s *Server) helpdeskEnabled(c echo.Context) error {
	conn, _, err := s.loadConnection(c)
	if err != nil {
		return err
	}
	enable := c.FormValue("enabled") == "true"
	err = s.store.SetConnectionEnabled(c.Request().Context(), conn.ID, enable, s.actor(c))
	if errors.Is(err, store.ErrManagedByFile) {
		return s.managedRefusal(c)
	}
	if err != nil {
		return err
	}
	self := "/admin/helpdesks/" + idText(conn.ID)
	if enable {
		n, err := s.bridge.ReleaseHeld(c.Request().Context())
		if err != nil {
			return err
		}
		detail := ""
		if n > 0 {
			detail = "The held messages of " + plural(n, "conversation") + " go on now."
		}
		return s.flash(c, self, "success", "Helpdesk "+conn.Name+" is enabled again.", detail)
	}
	return s.flash(c, self, "warning", "Helpdesk "+conn.Name+" is disabled.", "relaydesk opens no ticket in it, posts nothing to it "+
		"and sends none of its replies until you enable it again; messages meanwhile are held on their conversation's page. "+
		"Its webhooks are refused and it is not polled.")
}

// loadConnector loads the connection of the request and builds its
// connector; self is the connection's page. When the connector is nil, err
// is the answer to return (a flash when the settings cannot be used).
func (s *Server) loadConnector(c echo.Context) (conn store.Connection, desc connectors.Description, cn connectors.Connector, self string, err error) {
	conn, desc, err = s.loadConnection(c)
	if err != nil {
		return conn, desc, nil, "", err
	}
	self = "/admin/helpdesks/" + idText(conn.ID)
	if cn, err = s.connector(conn); err != nil {
		return conn, desc, nil, self, s.flash(c, self, "error", "The settings could not be used.", err.Error())
	}
	return conn, desc, cn, self, nil
}

// helpdeskTest checks the stored credentials with the connector's cheapest
// authenticated call and records the outcome as the connection's health.
func (s *Server) helpdeskTest(c echo.Context) error {
	if c.FormValue("name") != "" {
		if conn, desc, err := s.loadConnection(c); err != nil {
			return err
		} else if !conn.ManagedByFile {
			return s.helpdeskTestTyped(c, conn, desc)
		}
	}
	conn, desc, cn, self, err := s.loadConnector(c)
	if cn == nil {
		return err
	}
	t, ok := cn.(connectors.Tester)
	if !ok {
		return s.flash(c, self, "info", desc.DisplayName+" connections cannot be tested from here.", "")
	}
	ctx, cancel := callCtx(c)
	defer cancel()
	if err := t.Test(ctx); err != nil {
		kind, msg, detail := s.connectorFailure(ctx, conn, desc, err, "The test failed.")
		return s.flash(c, self, kind, msg, detail)
	}
	if err := s.store.SetConnectionHealth(c.Request().Context(), conn.ID, "healthy", "test connection passed"); err != nil {
		return err
	}
	return s.flash(c, self, "success", "Connection works: "+desc.DisplayName+" accepted relaydesk's credentials.", "")
}

// helpdeskWebhook installs, reinstalls or rotates the helpdesk-side webhook
// (connectors that can, file-managed connections included: the file owns
// the settings, not the webhook), or stores a secret entered or generated
// here (the others). The form's mode is "install" (install or adopt) or
// "rotate"; without one, a stored secret is rotated.
func (s *Server) helpdeskWebhook(c echo.Context) error {
	conn, desc, cn, self, err := s.loadConnector(c)
	if cn == nil {
		return err
	}
	if _, ok := cn.(connectors.WebhookInstaller); ok {
		how := "installed"
		if mode := c.FormValue("mode"); mode == "rotate" || (mode == "" && conn.HasWebhookSecret()) {
			how = "rotated"
		}
		kind, msg, detail := s.installWebhook(c, conn, desc, how, "")
		if msg == "" {
			msg = "Webhook not installed."
		}
		return s.flash(c, self, kind, msg, detail)
	}
	if conn.ManagedByFile {
		return s.managedRefusal(c)
	}
	secret, how := c.FormValue("secret"), "entered"
	if secret == "" {
		secret, how = randomText(32), "generated"
	}
	if err := s.store.ReplaceWebhookSecret(c.Request().Context(), conn.ID, []byte(secret), how, s.actor(c)); err != nil {
		if errors.Is(err, store.ErrManagedByFile) {
			return s.managedRefusal(c)
		}
		return err
	}
	if how == "entered" {
		return s.flash(c, self, "success", "Webhook secret replaced.", "")
	}
	// A generated secret is shown once, on this response only: it is never
	// stored anywhere readable.
	if conn, err = s.store.ConnectionByID(c.Request().Context(), conn.ID); err != nil {
		return err
	}
	stored, err := s.store.Credentials(conn)
	if err != nil {
		return err
	}
	v := s.helpdeskView(c, &conn, connectionFormFrom(desc, conn), stored)
	v.ShownSecret = secret
	return s.renderPage(c, http.StatusOK, "helpdesk.html", "helpdesks", v,
		&store.Flash{Kind: "success", Message: "New webhook secret generated.", Detail: "Copy it into " + desc.DisplayName + " now: it is not shown again."})
}
