package server

import (
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"net/http"
	"net/url"
	"strings"

	"github.com/labstack/echo/v4"

	"github.com/relaydesk/relaydesk/internal/store"
)

// Context keys of the admin middleware.
const (
	ctxSession      = "admin.session"
	ctxSessionToken = "admin.session_token"
)

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
		q := url.Values{}
		if s.cookie(c, "relaydesk_session") != "" {
			q.Set("expired", "1") // a session cookie without a live session
		}
		if c.Request().Method == http.MethodGet && path != "/admin" && path != "/admin/" {
			q.Set("next", c.Request().URL.RequestURI())
		} else if s.keepForm(c) {
			q.Set("next", "/admin/resume")
		}
		if len(q) > 0 {
			target += "?" + q.Encode()
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
