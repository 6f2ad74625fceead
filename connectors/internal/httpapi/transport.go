package httpapi

import (
	"net/http"
	"net/url"
	"strings"
	"time"
)

// ParseBaseURL parses a helpdesk's base URL, trailing slashes dropped. ok is
// false unless it is an absolute http(s) URL without query or credentials.
func ParseBaseURL(raw string) (base *url.URL, ok bool) {
	base, err := url.Parse(strings.TrimRight(raw, "/"))
	if err != nil || (base.Scheme != "https" && base.Scheme != "http") || base.Host == "" || base.RawQuery != "" || base.User != nil {
		return nil, false
	}
	return base, true
}

// NewHTTPClient returns the client a connector sends its requests with: a
// copy of given (which is never mutated), or a client with timeout when
// given is nil. Requests for the helpdesk (the scheme and host of base, and
// a path starting with pathPrefix when it is not empty) go through the
// transport auth wraps around the given one; every other request (an
// attachment URL on a file store, a redirect elsewhere) goes out without
// credentials.
func NewHTTPClient(given *http.Client, timeout time.Duration, base *url.URL, pathPrefix string, auth func(next http.RoundTripper) http.RoundTripper) *http.Client {
	hc := &http.Client{Timeout: timeout}
	if given != nil {
		copied := *given
		hc = &copied
	}
	next := hc.Transport
	if next == nil {
		next = http.DefaultTransport
	}
	hc.Transport = hostGate{scheme: base.Scheme, host: base.Host, prefix: pathPrefix, authed: auth(next), plain: next}
	return hc
}

// hostGate sends requests for the helpdesk through the authenticating
// transport and everything else through the plain one.
type hostGate struct {
	scheme, host, prefix string
	authed, plain        http.RoundTripper
}

// RoundTrip implements http.RoundTripper.
func (g hostGate) RoundTrip(req *http.Request) (*http.Response, error) {
	if req.URL.Scheme == g.scheme && req.URL.Host == g.host && strings.HasPrefix(req.URL.Path, g.prefix) {
		return g.authed.RoundTrip(req)
	}
	return g.plain.RoundTrip(req)
}

// BasicAuth returns a transport adding HTTP Basic authentication.
func BasicAuth(next http.RoundTripper, user, password string) http.RoundTripper {
	return roundTripFunc(func(req *http.Request) (*http.Response, error) {
		r := req.Clone(req.Context())
		r.SetBasicAuth(user, password)
		return next.RoundTrip(r)
	})
}

// SetHeader returns a transport setting the header key (a token) on every
// request.
func SetHeader(next http.RoundTripper, key, value string) http.RoundTripper {
	return roundTripFunc(func(req *http.Request) (*http.Response, error) {
		r := req.Clone(req.Context())
		r.Header.Set(key, value)
		return next.RoundTrip(r)
	})
}

type roundTripFunc func(*http.Request) (*http.Response, error)

// RoundTrip implements http.RoundTripper.
func (f roundTripFunc) RoundTrip(req *http.Request) (*http.Response, error) { return f(req) }

// Site is one helpdesk account as a connector reaches it: its base URL and
// the client sending its API requests.
type Site struct {
	// Base is the account's address, without a trailing slash.
	Base *url.URL
	// API sends the requests, with credentials only for the account's own
	// host (see [NewHTTPClient]).
	API Client
}

// NewSite returns the site at base. api's HTTP client is built by
// [NewHTTPClient] from given, timeout, pathPrefix and auth.
func NewSite(base *url.URL, api Client, given *http.Client, timeout time.Duration, pathPrefix string, auth func(next http.RoundTripper) http.RoundTripper) Site {
	api.HTTP = NewHTTPClient(given, timeout, base, pathPrefix, auth)
	return Site{Base: base, API: api}
}
