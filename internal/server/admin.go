package server

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"html/template"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/labstack/echo/v4"
	"riverqueue.com/riverui"

	"github.com/relaydesk/relaydesk/internal/bridge"
	"github.com/relaydesk/relaydesk/internal/store"
)

// Admin session and login limits.
const (
	// sessionIdle ends a session nobody used for this long.
	sessionIdle = 2 * time.Hour
	// sessionMax ends every session this long after login.
	sessionMax = 12 * time.Hour
	// setupTokenTTL is how long the one-time setup link printed at start works.
	setupTokenTTL = 24 * time.Hour
	// oauthStateTTL is how long an admin has to finish a helpdesk's consent screen.
	oauthStateTTL = 10 * time.Minute
	// adminCallTimeout bounds one call to Graph or a helpdesk from the page.
	adminCallTimeout = 20 * time.Second
)

// Login rate limit per client IP, kept in a PostgreSQL token bucket
// (rate_buckets) so that every replica shares it. The growing delays per
// account are in login_throttle.go.
const (
	loginIPBurst  = 20
	loginIPPerSec = 20.0 / 600 // 20 attempts per 10 minutes
)

// adminState is the admin page's share of the Server.
type adminState struct {
	pages         map[string]*template.Template
	static        http.Handler
	staticVersion string
	jobs          *riverui.Handler
	jobsErr       error
	connectors    bridge.ConnectorFactory
	http          *http.Client
}

// StartAdmin starts the admin page's background parts: River UI's caches,
// and, while no admin account exists, a one-time setup link printed in the
// log. Call it once before serving.
func (s *Server) StartAdmin(ctx context.Context) error {
	if s.admin.jobsErr != nil {
		return fmt.Errorf("river ui: %w", s.admin.jobsErr)
	}
	if s.admin.jobs != nil {
		if err := s.admin.jobs.Start(ctx); err != nil {
			return fmt.Errorf("river ui: %w", err)
		}
	}
	if s.store == nil {
		return nil
	}
	tok, err := s.store.NewSetupToken(ctx, setupTokenTTL)
	if err != nil {
		return fmt.Errorf("admin setup token: %w", err)
	}
	if tok != "" {
		link := s.publicBase(nil) + "/admin/setup?token=" + url.QueryEscape(tok)
		s.log.Warn("no admin account exists yet: open this one-time setup link (valid 24h) to create the first one, "+
			"or run `relaydesk admin create --email you@example.com`", "setup_url", link)
	}
	return nil
}

// publicBase is the service's public URL without a trailing slash: the
// configured base URL, or the one the request came to.
func (s *Server) publicBase(c echo.Context) string {
	if s.opts.BaseURL != nil {
		return strings.TrimRight(s.opts.BaseURL.String(), "/")
	}
	if c == nil {
		return "http://localhost"
	}
	return c.Scheme() + "://" + c.Request().Host
}

// page is what every template receives.
type page struct {
	Section string // the nav entry to highlight
	Email   string // the logged-in admin
	CSRF    string // the token every form carries as _csrf
	Flash   *store.Flash
	Data    any
	// Base is the public base URL the pages give out (callback URLs).
	Base string
}

// render writes a page. Pages shown to a logged-in admin take the
// session's pending flash message.
func (s *Server) render(c echo.Context, code int, name, section string, data any) error {
	return s.renderPage(c, code, name, section, data, nil)
}

// renderPage writes a page with f as its message, or the session's pending
// one when f is nil.
func (s *Server) renderPage(c echo.Context, code int, name, section string, data any, f *store.Flash) error {
	p := page{Section: section, Data: data, Flash: f, Base: s.publicBase(c)}
	if sess := session(c); sess != nil {
		p.Email, p.CSRF = sess.Email, sess.CSRFToken
		if f == nil && sess.HasFlash {
			var err error
			if p.Flash, err = s.store.TakeFlash(c.Request().Context(), sess.Hash); err != nil {
				return err
			}
		}
	}
	var buf bytes.Buffer
	if err := s.admin.Render(&buf, name, p, c); err != nil {
		return err
	}
	return c.HTMLBlob(code, buf.Bytes())
}

// flash keeps a message for the next page and redirects there (303).
func (s *Server) flash(c echo.Context, to, kind, msg, detail string) error {
	if sess := session(c); sess != nil {
		if err := s.store.SetFlash(c.Request().Context(), sess.Hash, store.Flash{Kind: kind, Message: msg, Detail: detail}); err != nil {
			return err
		}
	}
	return c.Redirect(http.StatusSeeOther, to)
}

// errorPage is the data of error.html.
type errorPage struct {
	Code    int
	Title   string
	Message string
}

// forbidden answers 403 with an explanation page.
func (s *Server) forbidden(c echo.Context, msg string) error {
	return s.errorPage(c, http.StatusForbidden, msg)
}

// errorPage renders error.html.
func (s *Server) errorPage(c echo.Context, code int, msg string) error {
	return s.renderPage(c, code, "error.html", "", errorPage{Code: code, Title: http.StatusText(code), Message: msg}, nil)
}

// isAdminHTML reports whether an error on this request should be an HTML
// page rather than a problem document.
func isAdminHTML(c echo.Context) bool {
	p := c.Request().URL.Path
	return (p == "/admin" || strings.HasPrefix(p, "/admin/")) && !strings.HasPrefix(p, "/admin/jobs/api") &&
		!strings.HasPrefix(p, "/admin/static/")
}

// adminError renders errors of admin pages as HTML (see errorHandler).
func (s *Server) adminError(err error, c echo.Context) {
	code, msg := http.StatusInternalServerError, "Something went wrong on our side; the details are in the server log."
	var he *echo.HTTPError
	if errors.As(err, &he) {
		code = he.Code
		msg = http.StatusText(code)
		if m, ok := he.Message.(string); ok && code < 500 {
			msg = m
		}
		if code == http.StatusNotFound {
			msg = "There is no such page."
		}
	} else {
		s.log.Error("admin request failed", "err", err, "route", c.Path(), "request_id", requestID(c))
	}
	if rerr := s.errorPage(c, code, msg); rerr != nil {
		s.log.Error("render error page", "err", rerr)
	}
}

// callCtx bounds one call the page makes to Graph or a helpdesk.
func callCtx(c echo.Context) (context.Context, context.CancelFunc) {
	return context.WithTimeout(c.Request().Context(), adminCallTimeout)
}

// adminHome sends admins to the numbers page.
func (s *Server) adminHome(c echo.Context) error {
	return c.Redirect(http.StatusSeeOther, "/admin/numbers")
}
