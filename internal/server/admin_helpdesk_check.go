package server

import (
	"net/http"
	"strings"

	"github.com/labstack/echo/v4"

	"github.com/relaydesk/relaydesk/connectors"
	"github.com/relaydesk/relaydesk/internal/bridge"
	"github.com/relaydesk/relaydesk/internal/store"
)

// A helpdesk form is checked against the helpdesk before anything is saved:
// the connector is built from the typed values (settings it refuses are
// field errors), then its Tester runs with them. Credentials the helpdesk
// refuses, or an address it answers "not found" for, are field errors too.
// Only a helpdesk that cannot be reached may be saved anyway, with the
// form's "save anyway" box ticked.

// saveAnywayField is the checkbox that saves a connection whose helpdesk
// cannot be reached.
const saveAnywayField = "save_anyway"

// checkConnection reports whether the form may be saved. row is the
// connection as it would be saved (its id and OAuth token kept when
// editing); creds are the complete credentials.
func (s *Server) checkConnection(c echo.Context, f *connectionForm, row store.Connection, creds map[string]string) bool {
	row.Name, row.BaseURL, row.Settings = f.Name, f.BaseURL, f.Settings
	var cn connectors.Connector
	var err error
	if s.admin.connectors != nil {
		cn, err = s.admin.connectors(row, creds, s.admin.http)
	} else {
		cn, err = connectors.New(row.Kind, connectors.Config{Name: row.Name, BaseURL: row.BaseURL, Settings: row.Settings,
			Credentials: creds, HTTPClient: s.admin.http})
	}
	if err != nil {
		f.Errors[f.fieldOf(err.Error())] = sentence(err.Error())
		return false
	}
	t, ok := cn.(connectors.Tester)
	if !ok || (f.desc.AuthMethod(f.Settings) == connectors.AuthOAuth2 && !row.HasOAuthToken()) {
		return true // nothing to test yet: an OAuth connection is tested once connected
	}
	ctx, cancel := callCtx(c)
	defer cancel()
	err = t.Test(ctx)
	if err == nil {
		f.tested = true
		return true
	}
	name := f.desc.DisplayName
	switch connectors.ClassOf(err) {
	case connectors.ClassAuth:
		f.Errors[f.credentialField()] = name + " refused these credentials: check them (and that the account may use the API), then type them again."
	case connectors.ClassNotFound:
		f.Errors[addressFieldName(f.desc, f.BaseURL)] = name + " answered “not found” at this address: check it."
	case connectors.ClassPermanent:
		f.Errors[f.credentialField()] = name + " refused relaydesk's request with these settings: " + sentence(err.Error())
	default:
		if f.saveAnyway {
			return true
		}
		f.unreachable = bridge.PlainConnectorError(err, name)
		f.Errors[saveAnywayField] = f.unreachable + " Check the address, or tick this box (and type the secrets " +
			"again) to save anyway: relaydesk keeps trying once it is saved."
	}
	return false
}

// credentialField is the first credential field of the chosen auth method,
// where a refusal of the credentials is shown.
func (f *connectionForm) credentialField() string {
	method := f.desc.AuthMethod(f.Settings)
	for _, fd := range f.desc.Fields {
		if fd.Group == connectors.GroupCredentials && (len(fd.AuthMethods) == 0 || containsMethod(fd.AuthMethods, method)) {
			return settingName(fd)
		}
	}
	return "name"
}

// fieldOf is the field a connector's refusal of its settings names: one
// whose label or key it mentions, else the address for a URL, else the
// credentials for a token or password, else the name.
func (f *connectionForm) fieldOf(msg string) string {
	low := strings.ToLower(msg)
	for _, fd := range f.desc.Fields {
		if strings.Contains(low, strings.ToLower(fd.Label)) || strings.Contains(low, fd.Key) ||
			strings.Contains(low, strings.ReplaceAll(fd.Key, "_", " ")) {
			return settingName(fd)
		}
	}
	switch {
	case strings.Contains(low, "url"):
		return addressFieldName(f.desc, f.BaseURL)
	case strings.Contains(low, "token") || strings.Contains(low, "password") || strings.Contains(low, "credential"):
		return f.credentialField()
	}
	return "name"
}

// sentence turns a connector's error ("zammad: base URL must be ...") into
// a sentence: without the kind's prefix, capitalised, with a full stop.
func sentence(msg string) string {
	if i := strings.Index(msg, ": "); i > 0 && !strings.Contains(msg[:i], " ") {
		msg = msg[i+2:]
	}
	msg = strings.TrimSpace(msg)
	if msg == "" {
		return "These settings cannot be used."
	}
	msg = capitalize(msg)
	if !strings.HasSuffix(msg, ".") {
		msg += "."
	}
	return msg
}

// markTested records a connection checked on save as healthy.
func (s *Server) markTested(c echo.Context, f *connectionForm, id store.ConnectionID) error {
	if !f.tested {
		return nil
	}
	return s.store.SetConnectionHealth(c.Request().Context(), id, "healthy", "checked when saved")
}

// helpdeskTestTyped tests the values typed in the connection's form (the
// Test button submits the form) with the checks of Save, without saving
// them, and shows the form again with them and the outcome.
func (s *Server) helpdeskTestTyped(c echo.Context, conn store.Connection, desc connectors.Description) error {
	stored, err := s.store.Credentials(conn)
	if err != nil {
		return err
	}
	e := s.editedConnection(c, conn, desc, stored)
	f := e.form
	f.saveAnyway = false
	if !e.valid || !s.connectionURLAllowed(c, f) || !s.checkConnection(c, f, e.candidate, e.creds) {
		delete(f.Errors, saveAnywayField)
		if len(f.Errors) == 0 { // unreachable: said in the flash, there is nothing to save anyway here
			return s.renderPage(c, http.StatusOK, "helpdesk.html", "helpdesks", s.helpdeskView(c, &conn, f, stored),
				&store.Flash{Kind: "error", Message: "The test failed.", Detail: f.unreachable})
		}
		return s.formInvalid(c, "helpdesk.html", "helpdesks", s.helpdeskView(c, &conn, f, stored))
	}
	fl := &store.Flash{Kind: "success", Message: "Connection works with the values in the form: " + desc.DisplayName +
		" accepted them.", Detail: "Nothing is saved until you press Save changes."}
	if !f.tested {
		fl = &store.Flash{Kind: "info", Message: "The values in the form are valid.", Detail: desc.DisplayName +
			" cannot be asked before the connection is authorised; nothing is saved until you press Save changes."}
	}
	if len(f.Credentials) > 0 {
		fl.Detail += " Secrets are never shown again: type them once more before saving."
	}
	return s.renderPage(c, http.StatusOK, "helpdesk.html", "helpdesks", s.helpdeskView(c, &conn, f, stored), fl)
}

// editedConnection is a posted edit of conn, validated against the
// description and the stored credentials.
type editedConnection struct {
	form  *connectionForm
	creds map[string]string // the complete credentials to store
	// moved is true when the address changed: the stored secrets and
	// OAuth token do not follow it, and candidate (the connection to test
	// the edit as) has no token.
	moved     bool
	candidate store.Connection
	valid     bool
}

func (s *Server) editedConnection(c echo.Context, conn store.Connection, desc connectors.Description, stored map[string]string) editedConnection {
	e := editedConnection{form: connectionFormFromRequest(c, desc), candidate: conn}
	f := e.form
	e.moved = origin(desc.BaseURL(conn.BaseURL, conn.Settings)) != origin(desc.BaseURL(f.BaseURL, f.Settings))
	e.creds, e.valid = f.Validate(keptCredentials(desc, stored, e.moved))
	if e.moved {
		f.requireMovedSecrets(stored)
		e.valid = len(f.Errors) == 0
		e.candidate = store.Connection{ID: conn.ID, Kind: conn.Kind, PublicID: conn.PublicID}
	}
	return e
}
