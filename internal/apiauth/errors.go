package apiauth

import (
	"net/http"
	"net/url"
	"strings"
)

// Error codes of RFC 6749 §4.1.2.1 and §5.2, RFC 7009 §2.2.1 and RFC 6750 §3.1.
const (
	ErrInvalidRequest          = "invalid_request"
	ErrInvalidClient           = "invalid_client"
	ErrInvalidGrant            = "invalid_grant"
	ErrUnauthorizedClient      = "unauthorized_client"
	ErrUnsupportedGrantType    = "unsupported_grant_type"
	ErrInvalidScope            = "invalid_scope"
	ErrAccessDenied            = "access_denied"
	ErrUnsupportedResponseType = "unsupported_response_type"
	ErrServerError             = "server_error"
	ErrUnsupportedTokenType    = "unsupported_token_type"
	ErrInvalidToken            = "invalid_token"
	ErrInsufficientScope       = "insufficient_scope"
)

// Error is an OAuth 2.0 error response. Status is the HTTP status for the
// token, revocation and introspection endpoints; the authorization endpoint
// sends it in the redirect instead.
type Error struct {
	Code        string
	Description string
	Status      int
	// Basic asks for "WWW-Authenticate: Basic" (a 401 to a client that
	// authenticated, or tried to, with HTTP Basic: RFC 6749 §5.2).
	Basic bool
}

func (e *Error) Error() string { return e.Code + ": " + e.Description }

// Errorf builds an Error answered with 400.
func Errorf(code, description string) *Error {
	return &Error{Code: code, Description: description, Status: http.StatusBadRequest}
}

// Body is the JSON body of an error response (RFC 6749 §5.2).
func (e *Error) Body() map[string]string {
	m := map[string]string{"error": e.Code}
	if e.Description != "" {
		m["error_description"] = sanitizeDescription(e.Description)
	}
	return m
}

// sanitizeDescription keeps error_description within the characters RFC 6749
// allows (%x20-21 / %x23-5B / %x5D-7E).
func sanitizeDescription(s string) string {
	return strings.Map(func(r rune) rune {
		if r < 0x20 || r > 0x7e || r == '"' || r == '\\' {
			return '\''
		}
		return r
	}, s)
}

// RedirectURL adds params to a registered redirect URI, keeping its own
// query (RFC 6749 §3.1.2: the query component must be retained).
func RedirectURL(redirectURI string, params url.Values) string {
	u, err := url.Parse(redirectURI)
	if err != nil {
		return redirectURI
	}
	q := u.Query()
	for k, vs := range params {
		for _, v := range vs {
			if v != "" {
				q.Set(k, v)
			}
		}
	}
	u.RawQuery = q.Encode()
	return u.String()
}

// ErrorRedirect is the redirect URL carrying an authorization error
// (RFC 6749 §4.1.2.1), with state echoed.
func ErrorRedirect(redirectURI string, e *Error, state string) string {
	return RedirectURL(redirectURI, url.Values{
		"error": {e.Code}, "error_description": {sanitizeDescription(e.Description)}, "state": {state},
	})
}
