package server

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"html/template"
	"io"
	"io/fs"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/labstack/echo/v4"
	"riverqueue.com/riverui"

	"github.com/relaydesk/relaydesk/internal/bridge"
	"github.com/relaydesk/relaydesk/internal/store"
	"github.com/relaydesk/relaydesk/web"
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

// Login rate limits, kept in PostgreSQL token buckets (rate_buckets) so that
// every replica shares them: per client IP, and per account (the email
// typed, known or not). A successful login refills the account's bucket.
const (
	loginIPBurst       = 20
	loginIPPerSec      = 20.0 / 600 // 20 attempts per 10 minutes
	loginAccountBurst  = 5
	loginAccountPerSec = 5.0 / 900 // 5 attempts per 15 minutes
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

// Context keys of the admin middleware.
const (
	ctxSession      = "admin.session"
	ctxSessionToken = "admin.session_token"
)

// pageFiles are the templates shared by every page; every other file in
// web/templates is a page and must be listed in adminPages.
var pageFiles = []string{"layout.html", "partials.html"}

// adminPages lists every page template. Parsing fails at start-up when a
// page is missing, broken, or a template file is not listed here.
var adminPages = []string{
	"login.html", "setup.html", "error.html",
	"numbers.html", "number.html",
	"helpdesks.html", "helpdesk_new.html", "helpdesk.html",
	"routes.html", "route.html",
	"webhooks.html",
	"conversations.html", "conversation.html",
	"audit.html",
}

// parsePages parses every page with the shared layout and partials.
func parsePages(files fs.FS, funcs template.FuncMap) (map[string]*template.Template, error) {
	entries, err := fs.ReadDir(files, ".")
	if err != nil {
		return nil, err
	}
	for _, e := range entries {
		if !slices.Contains(pageFiles, e.Name()) && !slices.Contains(adminPages, e.Name()) {
			return nil, fmt.Errorf("template %s is not declared as a page (internal/server/admin.go)", e.Name())
		}
	}
	base, err := template.New("layout.html").Funcs(funcs).ParseFS(files, pageFiles...)
	if err != nil {
		return nil, err
	}
	pages := map[string]*template.Template{}
	for _, name := range adminPages {
		t, err := base.Clone()
		if err != nil {
			return nil, err
		}
		if t, err = t.ParseFS(files, name); err != nil {
			return nil, fmt.Errorf("template %s: %w", name, err)
		}
		if t.Lookup("content") == nil || t.Lookup("title") == nil {
			return nil, fmt.Errorf("template %s must define \"title\" and \"content\"", name)
		}
		pages[name] = t
	}
	return pages, nil
}

// staticVersion is a hash of the static files, appended to their URLs so
// that browsers may cache them for good.
func staticVersion(files fs.FS) string {
	h := sha256.New()
	_ = fs.WalkDir(files, ".", func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := fs.ReadFile(files, path)
		h.Write([]byte(path))
		h.Write(b)
		return err
	})
	return hex.EncodeToString(h.Sum(nil))[:12]
}

// initAdmin parses the templates and prepares the admin page. A template
// error panics: templates are embedded, so a bad one is a build defect that
// every test and every start-up reports at once.
func (s *Server) initAdmin() {
	a := &adminState{http: bridge.DefaultHTTPClient(), connectors: s.opts.Connectors}
	a.staticVersion = staticVersion(web.Static)
	pages, err := parsePages(web.Templates, s.templateFuncs(a.staticVersion))
	if err != nil {
		panic("server: admin templates: " + err.Error())
	}
	a.pages = pages
	a.static = http.StripPrefix("/admin/static/", http.FileServer(http.FS(web.Static)))
	if s.opts.River != nil {
		a.jobs, a.jobsErr = riverui.NewHandler(&riverui.HandlerOpts{
			Endpoints: riverui.NewEndpoints(s.opts.River, nil),
			Logger:    s.log.With("component", "riverui"),
			Prefix:    "/admin/jobs",
		})
	}
	s.admin = a
	s.echo.Renderer = a
}

// Render implements echo.Renderer: name is a page in adminPages.
func (a *adminState) Render(w io.Writer, name string, data any, _ echo.Context) error {
	t, ok := a.pages[name]
	if !ok {
		return fmt.Errorf("no page %q", name)
	}
	return t.ExecuteTemplate(w, "layout.html", data)
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

// cookieName prefixes cookies with __Host- over HTTPS, which pins them to
// this host and path / and requires Secure.
func (s *Server) cookieName(name string) string {
	if s.opts.TLS {
		return "__Host-" + name
	}
	return name
}

func (s *Server) setCookie(c echo.Context, name, value string, maxAge int, sameSite http.SameSite) {
	c.SetCookie(&http.Cookie{
		Name: s.cookieName(name), Value: value, Path: "/", MaxAge: maxAge,
		HttpOnly: true, Secure: s.opts.TLS, SameSite: sameSite,
	})
}

func (s *Server) cookie(c echo.Context, name string) string {
	ck, err := c.Cookie(s.cookieName(name))
	if err != nil {
		return ""
	}
	return ck.Value
}

// session returns the request's admin session (nil when not logged in).
func session(c echo.Context) *store.Session {
	sess, _ := c.Get(ctxSession).(*store.Session)
	return sess
}

// loadSession finds the session named by the cookie, if any and live.
func (s *Server) loadSession(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		if tok := s.cookie(c, "relaydesk_session"); tok != "" && s.store != nil {
			sess, err := s.store.SessionByToken(c.Request().Context(), tok, sessionIdle)
			switch {
			case err == nil:
				c.Set(ctxSession, &sess)
				c.Set(ctxSessionToken, tok)
			case errors.Is(err, store.ErrNotFound):
				s.setCookie(c, "relaydesk_session", "", -1, http.SameSiteLaxMode)
			default:
				return err
			}
		}
		c.Response().Header().Set("Cache-Control", "no-store")
		return next(c)
	}
}

// requireAdmin lets logged-in admins through and sends others to the login
// page (API calls of River UI get 401).
func (s *Server) requireAdmin(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		if session(c) != nil {
			return next(c)
		}
		path := c.Request().URL.Path
		if strings.HasPrefix(path, "/admin/jobs/api") {
			return echo.NewHTTPError(http.StatusUnauthorized, "log in to the admin page first")
		}
		target := "/admin/login"
		if c.Request().Method == http.MethodGet && path != "/admin" && path != "/admin/" {
			target += "?next=" + url.QueryEscape(c.Request().URL.RequestURI())
		}
		return c.Redirect(http.StatusSeeOther, target)
	}
}

func safeMethod(m string) bool {
	return m == http.MethodGet || m == http.MethodHead || m == http.MethodOptions
}

// sameOrigin refuses state-changing requests that a browser marks as coming
// from another site (Sec-Fetch-Site) or whose Origin is not this service.
// With strict, the request must also prove it is same-origin: River UI's
// API has no form token, so one of the two headers must vouch for it.
func (s *Server) sameOrigin(strict bool) echo.MiddlewareFunc {
	return func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(c echo.Context) error {
			req := c.Request()
			if safeMethod(req.Method) {
				return next(c)
			}
			site, origin := req.Header.Get("Sec-Fetch-Site"), req.Header.Get("Origin")
			vouched := false
			if site != "" {
				if site != "same-origin" && site != "none" {
					return s.forbidden(c, "This request came from another site and was refused.")
				}
				vouched = site == "same-origin"
			}
			if origin != "" && origin != "null" {
				if origin != s.originOf(s.publicBase(c)) && origin != c.Scheme()+"://"+req.Host {
					return s.forbidden(c, "This request came from another origin and was refused.")
				}
				vouched = true
			}
			if strict && !vouched {
				return s.forbidden(c, "This request did not come from the admin page and was refused.")
			}
			return next(c)
		}
	}
}

func (s *Server) originOf(base string) string {
	u, err := url.Parse(base)
	if err != nil {
		return ""
	}
	return u.Scheme + "://" + u.Host
}

// requireCSRF checks the synchronizer token bound to the session on every
// state-changing request: forms carry it in the _csrf field.
func (s *Server) requireCSRF(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		if safeMethod(c.Request().Method) {
			return next(c)
		}
		sess := session(c)
		got := c.FormValue("_csrf")
		if sess == nil || got == "" || subtle.ConstantTimeCompare([]byte(got), []byte(sess.CSRFToken)) != 1 {
			return s.forbidden(c, "This form has expired or did not come from the admin page. Reload the page and try again.")
		}
		return next(c)
	}
}

// loginCSRFToken returns the double-submit token of the login and setup
// forms, setting its cookie when missing (there is no session yet to bind a
// token to).
func (s *Server) loginCSRFToken(c echo.Context) string {
	if tok := s.cookie(c, "relaydesk_csrf"); len(tok) >= 32 {
		return tok
	}
	b := make([]byte, 32)
	_, _ = rand.Read(b)
	tok := base64.RawURLEncoding.EncodeToString(b)
	s.setCookie(c, "relaydesk_csrf", tok, 0, http.SameSiteStrictMode)
	return tok
}

// checkLoginCSRF compares the login form's token with its cookie.
func (s *Server) checkLoginCSRF(c echo.Context) bool {
	ck, form := s.cookie(c, "relaydesk_csrf"), c.FormValue("_csrf")
	return ck != "" && form != "" && subtle.ConstantTimeCompare([]byte(ck), []byte(form)) == 1
}

// actor names the logged-in admin for the audit log.
func (s *Server) actor(c echo.Context) store.Actor {
	sess := session(c)
	if sess == nil {
		return store.Actor{Name: "anonymous", IP: c.RealIP()}
	}
	id := sess.AdminID
	return store.Actor{AdminID: &id, Name: sess.Email, IP: c.RealIP()}
}

// page is what every template receives.
type page struct {
	Section string // the nav entry to highlight
	Email   string // the logged-in admin
	CSRF    string // the token every form carries as _csrf
	Flash   *store.Flash
	Data    any
}

// render writes a page. Pages shown to a logged-in admin take the
// session's pending flash message.
func (s *Server) render(c echo.Context, code int, name, section string, data any) error {
	return s.renderPage(c, code, name, section, data, nil)
}

// renderPage writes a page with f as its message, or the session's pending
// one when f is nil.
func (s *Server) renderPage(c echo.Context, code int, name, section string, data any, f *store.Flash) error {
	p := page{Section: section, Data: data, Flash: f}
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

// serveStatic serves /admin/static/: CSS and JS, cached for good when the
// URL carries the current version.
func (s *Server) serveStatic(c echo.Context) error {
	if c.QueryParam("v") == s.admin.staticVersion {
		c.Response().Header().Set("Cache-Control", "public, max-age=31536000, immutable")
	} else {
		c.Response().Header().Set("Cache-Control", "no-cache")
	}
	s.admin.static.ServeHTTP(c.Response(), c.Request())
	return nil
}

// callCtx bounds one call the page makes to Graph or a helpdesk.
func callCtx(c echo.Context) (context.Context, context.CancelFunc) {
	return context.WithTimeout(c.Request().Context(), adminCallTimeout)
}
