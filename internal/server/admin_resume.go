package server

import (
	"encoding/base64"
	"encoding/json"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/labstack/echo/v4"
)

// A form posted after the session ended (idle 2 hours, or 12 hours old) is
// not lost: requireAdmin keeps its values, without the CSRF token and
// without secrets, in a cookie sealed with the data key (resumeCookie), and
// the login page says the session expired. After login, /admin/resume shows
// what was typed and posts it again with the new session's CSRF token on
// the admin's click; the form's handler checks it as always (a form that
// needs its secrets shows itself again with the values and asks for them).
// Only same-origin posts are kept, so another site cannot plant a change.

const (
	resumeCookie  = "relaydesk_resume"
	resumePurpose = "admin-resume"
	resumeTTL     = 30 * time.Minute
	resumeMaxSize = 3000 // bytes of cookie value; larger forms are not kept
)

// resumeForm is what the cookie holds.
type resumeForm struct {
	Path    string     `json:"path"`
	Values  url.Values `json:"values"`
	Dropped []string   `json:"dropped,omitempty"` // secret fields left out
	Expires time.Time  `json:"expires"`
}

// secretField reports whether a form field holds a secret, which is never
// kept outside the session.
func secretField(name string) bool {
	switch name {
	case "password", "confirm", "access_token", "app_secret", "verify_token", "client_secret":
		return true
	}
	return strings.HasPrefix(name, "credentials.")
}

// keepForm stores a same-origin form post of a logged-out visitor in the
// resume cookie and reports whether it did.
func (s *Server) keepForm(c echo.Context) bool {
	req := c.Request()
	if req.Method != http.MethodPost || s.store == nil || req.ContentLength > 64<<10 ||
		!strings.HasPrefix(req.Header.Get("Content-Type"), "application/x-www-form-urlencoded") ||
		req.URL.Path == "/admin/logout" {
		return false
	}
	site, origin := req.Header.Get("Sec-Fetch-Site"), req.Header.Get("Origin")
	if site != "same-origin" && (origin == "" || (origin != s.originOf(s.publicBase(c)) && origin != c.Scheme()+"://"+req.Host)) {
		return false
	}
	req.Body = http.MaxBytesReader(c.Response(), req.Body, 64<<10)
	form, err := c.FormParams()
	if err != nil {
		return false
	}
	kept := resumeForm{Path: req.URL.Path, Values: url.Values{}, Expires: time.Now().Add(resumeTTL)}
	for k, vs := range form {
		switch {
		case k == "_csrf":
		case secretField(k):
			if slices.ContainsFunc(vs, func(v string) bool { return v != "" }) {
				kept.Dropped = append(kept.Dropped, k)
			}
		default:
			kept.Values[k] = vs
		}
	}
	slices.Sort(kept.Dropped)
	raw, err := json.Marshal(kept)
	if err != nil {
		return false
	}
	val := base64.RawURLEncoding.EncodeToString(s.store.Keys().Seal(raw, resumePurpose))
	if len(val) > resumeMaxSize {
		return false
	}
	s.setCookie(c, resumeCookie, val, int(resumeTTL.Seconds()), http.SameSiteStrictMode)
	return true
}

// keptForm reads the resume cookie; ok is false when there is none, it is
// not ours or it has expired.
func (s *Server) keptForm(c echo.Context) (resumeForm, bool) {
	var f resumeForm
	raw, err := base64.RawURLEncoding.DecodeString(s.cookie(c, resumeCookie))
	if err != nil || len(raw) == 0 {
		return f, false
	}
	pt, err := s.store.Keys().Open(raw, resumePurpose)
	if err != nil || json.Unmarshal(pt, &f) != nil || !time.Now().Before(f.Expires) ||
		!strings.HasPrefix(f.Path, "/admin/") || strings.HasPrefix(f.Path, "/admin/login") {
		return f, false
	}
	return f, true
}

// resumeView is the data of resume.html.
type resumeView struct {
	Path    string
	Fields  []resumeField
	Dropped []string
	Back    string
}

type resumeField struct {
	Name, Value string
	Shown       bool // a value the admin typed, listed on the page
}

// resumePage shows the form kept when the session expired, ready to be
// sent again.
func (s *Server) resumePage(c echo.Context) error {
	f, ok := s.keptForm(c)
	s.setCookie(c, resumeCookie, "", -1, http.SameSiteStrictMode)
	if !ok {
		return s.flash(c, "/admin/numbers", "info", "There is no unsaved change to resume.",
			"Changes are kept for 30 minutes after a session expires.")
	}
	v := resumeView{Path: f.Path, Dropped: f.Dropped, Back: backOf(f.Path)}
	keys := make([]string, 0, len(f.Values))
	for k := range f.Values {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	for _, k := range keys {
		for _, val := range f.Values[k] {
			v.Fields = append(v.Fields, resumeField{Name: k, Value: val, Shown: val != "" && k != "kind"})
		}
	}
	return s.render(c, http.StatusOK, "resume.html", "", v)
}

// backOf is the page of the form posted to path: /admin/numbers/5/test is
// the number's page, /admin/numbers (create) its list.
func backOf(path string) string {
	p := strings.TrimSuffix(path, "/")
	for _, suffix := range []string{"/test", "/enabled", "/retry", "/erase", "/delete"} {
		p = strings.TrimSuffix(p, suffix)
	}
	if p == "" || !strings.HasPrefix(p, "/admin/") {
		return "/admin/numbers"
	}
	return p
}
