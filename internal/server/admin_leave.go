package server

import (
	"errors"
	"net/http"
	"net/url"

	"github.com/labstack/echo/v4"
)

// A form that ends on another site (Connect to a helpdesk's sign-in, an
// application's consent going back to it) cannot answer with a redirect:
// the Content-Security-Policy's form-action 'self' also covers where a form
// submission is redirected, and browsers block it. The form's POST (CSRF
// checked) answers this page instead, which moves on by itself (meta
// refresh, a new navigation that is no form submission) and carries a link
// for when it does not.

// leaveView is the data of leave.html.
type leaveView struct {
	Title, Message, Button string
	URL                    string
}

// leave answers the page that takes the browser to target, an http(s) URL.
func (s *Server) leave(c echo.Context, target string, v leaveView) error {
	u, err := url.Parse(target)
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
		return errors.New("leave: not an http(s) URL")
	}
	v.URL = u.String()
	h := c.Response().Header()
	h.Set("Cache-Control", "no-store")
	h.Set("Referrer-Policy", "no-referrer")
	return s.render(c, http.StatusOK, "leave.html", "", v)
}
