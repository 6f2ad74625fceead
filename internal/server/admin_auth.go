package server

import (
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/relaydesk/relaydesk/internal/password"
	"github.com/relaydesk/relaydesk/internal/store"
)

// loginView is the data of login.html.
type loginView struct {
	LoginCSRF string
	Email     string
	Next      string
	Error     string
	NoAdmin   bool
	LoggedOut bool
	Expired   bool // the session expired
	Continue  bool // a page waits behind the login
	Kept      bool // a form posted after the session expired is kept
}

// safeNext keeps a post-login redirect inside the admin page.
func safeNext(next string) string {
	u, err := url.Parse(next)
	if err != nil || u.IsAbs() || u.Host != "" || strings.HasPrefix(next, "//") || strings.Contains(next, "\\") ||
		!(u.Path == "/admin" || strings.HasPrefix(u.Path, "/admin/")) || strings.HasPrefix(u.Path, "/admin/login") {
		return "/admin/numbers"
	}
	return u.RequestURI()
}

func (s *Server) loginPage(c echo.Context) error {
	if session(c) != nil {
		return c.Redirect(http.StatusSeeOther, safeNext(c.QueryParam("next")))
	}
	n, err := s.store.AdminCount(c.Request().Context())
	if err != nil {
		return err
	}
	return s.render(c, http.StatusOK, "login.html", "", loginView{
		LoginCSRF: s.loginCSRFToken(c), Next: c.QueryParam("next"), NoAdmin: n == 0,
		LoggedOut: c.QueryParam("bye") != "", Expired: c.QueryParam("expired") != "", Continue: c.QueryParam("next") != "",
		Kept: c.QueryParam("next") == "/admin/resume",
	})
}

// loginSubmit checks the double-submit token, then the rate limit per IP and
// the delays of the account (loginWait), then the password; a success
// rotates the session.
func (s *Server) loginSubmit(c echo.Context) error {
	ctx := c.Request().Context()
	if !s.checkLoginCSRF(c) {
		return s.forbidden(c, "The login form expired or did not come from this site. Reload the page and try again.")
	}
	v := loginView{LoginCSRF: s.loginCSRFToken(c), Email: strings.TrimSpace(c.FormValue("email")), Next: c.FormValue("next")}
	pw := c.FormValue("password")
	if v.Email == "" || pw == "" {
		v.Error = "Enter your email and password."
		return s.render(c, http.StatusUnprocessableEntity, "login.html", "", v)
	}
	wait, err := s.store.TakeToken(ctx, "login-ip:"+c.RealIP(), loginIPPerSec, loginIPBurst)
	if err == nil && wait == 0 {
		var th store.LoginThrottle
		th, err = s.store.LoginThrottleOf(ctx, v.Email, c.RealIP())
		wait = loginWait(th)
	}
	if err != nil {
		return err
	}
	if wait > 0 {
		c.Response().Header().Set("Retry-After", fmt.Sprint(int(wait.Seconds())+1))
		v.Error = fmt.Sprintf("Too many login attempts. Try again in %s.", roundWait(wait))
		return s.render(c, http.StatusTooManyRequests, "login.html", "", v)
	}
	admin, err := s.store.Authenticate(ctx, v.Email, pw)
	if errors.Is(err, store.ErrBadCredentials) {
		s.log.Warn("admin login failed", "remote_ip", c.RealIP(), "request_id", requestID(c))
		if err := s.store.RecordLoginFailure(ctx, v.Email, c.RealIP()); err != nil {
			return err
		}
		v.Error = "That email and password do not match an admin account."
		return s.render(c, http.StatusUnauthorized, "login.html", "", v)
	}
	if err != nil {
		return err
	}
	if err := s.store.RecordLoginSuccess(ctx, admin.Email, c.RealIP()); err != nil {
		return err
	}
	if _, err := s.startSession(c, admin.ID); err != nil {
		return err
	}
	s.log.Info("admin logged in", "admin", admin.Email, "remote_ip", c.RealIP())
	return c.Redirect(http.StatusSeeOther, safeNext(v.Next))
}

func roundWait(d time.Duration) string {
	if d < time.Minute {
		return plural(int(d.Seconds())+1, "second")
	}
	return plural(int(d.Minutes())+1, "minute")
}

// startSession rotates the session: the old one (if any) ends, a new random
// token is set in an HttpOnly, SameSite=Lax cookie (Secure over HTTPS).
func (s *Server) startSession(c echo.Context, adminID store.AdminID) (store.Session, error) {
	ctx := c.Request().Context()
	if old := s.cookie(c, "relaydesk_session"); old != "" {
		if err := s.store.DeleteSession(ctx, old); err != nil {
			return store.Session{}, err
		}
	}
	tok, sess, err := s.store.CreateSession(ctx, adminID, sessionMax, c.RealIP(), c.Request().UserAgent())
	if err != nil {
		return sess, err
	}
	s.setCookie(c, "relaydesk_session", tok, int(sessionMax.Seconds()), http.SameSiteLaxMode)
	s.setCookie(c, "relaydesk_csrf", "", -1, http.SameSiteStrictMode)
	return sess, nil
}

func (s *Server) logout(c echo.Context) error {
	if tok, _ := c.Get(ctxSessionToken).(string); tok != "" {
		if err := s.store.DeleteSession(c.Request().Context(), tok); err != nil {
			return err
		}
	}
	s.setCookie(c, "relaydesk_session", "", -1, http.SameSiteLaxMode)
	return c.Redirect(http.StatusSeeOther, "/admin/login?bye=1")
}

// setupView is the data of setup.html.
type setupView struct {
	LoginCSRF string
	Token     string
	Email     string
	Errors    map[string]string
	Closed    bool
}

func (s *Server) setupPage(c echo.Context) error {
	ctx := c.Request().Context()
	n, err := s.store.AdminCount(ctx)
	if err != nil {
		return err
	}
	if n > 0 {
		return c.Redirect(http.StatusSeeOther, "/admin/login")
	}
	tok := c.QueryParam("token")
	ok, err := s.store.CheckSetupToken(ctx, tok)
	if err != nil {
		return err
	}
	if !ok {
		return s.errorPage(c, http.StatusForbidden, "This setup link is wrong or has expired. Restart relaydesk to print a new "+
			"one in its log, or create an admin on the server with the command “relaydesk admin create --email you@example.com”.")
	}
	return s.render(c, http.StatusOK, "setup.html", "", setupView{LoginCSRF: s.loginCSRFToken(c), Token: tok})
}

// setupSubmit creates the first admin with the one-time token and logs them in.
func (s *Server) setupSubmit(c echo.Context) error {
	ctx := c.Request().Context()
	if !s.checkLoginCSRF(c) {
		return s.forbidden(c, "The setup form expired or did not come from this site. Reload the page and try again.")
	}
	wait, err := s.store.TakeToken(ctx, "login-ip:"+c.RealIP(), loginIPPerSec, loginIPBurst)
	if err != nil {
		return err
	}
	if wait > 0 {
		return s.errorPage(c, http.StatusTooManyRequests, "Too many attempts. Try again in "+roundWait(wait)+".")
	}
	v := setupView{LoginCSRF: s.loginCSRFToken(c), Token: c.FormValue("token"), Email: strings.TrimSpace(c.FormValue("email")),
		Errors: map[string]string{}}
	pw := c.FormValue("password")
	if _, err := store.NormalizeEmail(v.Email); err != nil {
		v.Errors["email"] = "Enter an email address such as admin@example.com."
	}
	if err := password.Check(pw); err != nil {
		v.Errors["password"] = fmt.Sprintf("Use %d to %d characters.", password.MinLength, password.MaxLength)
	} else if pw != c.FormValue("confirm") {
		v.Errors["confirm"] = "The two passwords differ."
	}
	if len(v.Errors) > 0 {
		return s.render(c, http.StatusUnprocessableEntity, "setup.html", "", v)
	}
	admin, err := s.store.CreateFirstAdmin(ctx, v.Token, v.Email, pw, c.RealIP())
	switch {
	case errors.Is(err, store.ErrSetupClosed):
		return c.Redirect(http.StatusSeeOther, "/admin/login")
	case errors.Is(err, store.ErrBadSetupToken):
		return s.errorPage(c, http.StatusForbidden, err.Error())
	case err != nil:
		return err
	}
	s.log.Info("first admin created through the setup page", "admin", admin.Email, "remote_ip", c.RealIP())
	sess, err := s.startSession(c, admin.ID)
	if err != nil {
		return err
	}
	if err := s.store.SetFlash(ctx, sess.Hash, store.Flash{Kind: "success", Message: "Welcome! Your admin account is ready.",
		Detail: "Start by adding a WhatsApp number, then connect a helpdesk and create a route between them."}); err != nil {
		return err
	}
	return c.Redirect(http.StatusSeeOther, "/admin/numbers")
}
