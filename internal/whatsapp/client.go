package whatsapp

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"
)

// Client defaults.
const (
	// DefaultBaseURL is the Graph API host.
	DefaultBaseURL = "https://graph.facebook.com"
	// DefaultVersion is the Graph API version relaydesk uses unless a number
	// says otherwise: the current one in Meta's Graph API changelog (see
	// GraphVersions). The request shapes relaydesk sends are checked against
	// the v23.0 OpenAPI description in shared/specs (with the 2026 additions
	// noted in whatsapptest), the newest Meta published.
	DefaultVersion = "v26.0"
	// DefaultTimeout bounds every JSON call (sends, media info, phone number
	// details). Media uploads and download bodies rely on the caller's ctx.
	DefaultTimeout = 30 * time.Second
	// DefaultUserAgent is sent on every request. The Graph OpenAPI
	// description requires the form "name/x.y.z".
	DefaultUserAgent = "relaydesk/1.0.0"

	// maxJSONResponse caps JSON response bodies read into memory.
	maxJSONResponse = 1 << 20
)

// ClientOpts configures a Client. PhoneNumberID and one of AccessToken or
// TokenSource are required.
type ClientOpts struct {
	// BaseURL is the Graph API base URL; default DefaultBaseURL. Tests point
	// it at whatsapptest's fake.
	BaseURL string
	// Version is the Graph API version path segment, e.g. "v23.0"; default
	// DefaultVersion.
	Version string
	// AccessToken is a static system user access token. It is sent only in
	// the Authorization header and never appears in errors.
	AccessToken string
	// TokenSource, when set, is called before every request and wins over
	// AccessToken (for tokens that can be rotated while the client lives).
	TokenSource func(ctx context.Context) (string, error)
	// PhoneNumberID is the business phone number the client sends from.
	PhoneNumberID string
	// HTTPClient is the client used for every request; default a new
	// http.Client. Leave its Timeout at zero: a client-wide timeout would
	// also cut long media streams; deadlines come from Timeout and ctx.
	HTTPClient *http.Client
	// Timeout bounds each JSON call; default DefaultTimeout. Negative
	// disables the per-call deadline (ctx still applies).
	Timeout time.Duration
	// UserAgent overrides DefaultUserAgent.
	UserAgent string
}

// Client is a Graph API client for one business phone number. It is safe
// for concurrent use. It performs no retries (see Classify).
type Client struct {
	base          *url.URL
	version       string
	phoneNumberID string
	staticToken   string
	tokenSource   func(context.Context) (string, error)
	http          *http.Client
	timeout       time.Duration
	userAgent     string
	now           func() time.Time
}

// NewClient validates opts and returns a Client. It does no network I/O.
func NewClient(opts ClientOpts) (*Client, error) {
	if opts.PhoneNumberID == "" {
		return nil, fmt.Errorf("%w: phone number id is required", ErrInvalidArgument)
	}
	if opts.AccessToken == "" && opts.TokenSource == nil {
		return nil, fmt.Errorf("%w: access token is required", ErrInvalidArgument)
	}
	rawBase := opts.BaseURL
	if rawBase == "" {
		rawBase = DefaultBaseURL
	}
	base, err := url.Parse(strings.TrimRight(rawBase, "/"))
	if err != nil || (base.Scheme != "https" && base.Scheme != "http") || base.Host == "" {
		return nil, fmt.Errorf("%w: base URL %q must be an absolute http(s) URL", ErrInvalidArgument, rawBase)
	}
	version := opts.Version
	if version == "" {
		version = DefaultVersion
	}
	if strings.Contains(version, "/") {
		return nil, fmt.Errorf("%w: version %q", ErrInvalidArgument, version)
	}
	c := &Client{
		base:          base,
		version:       version,
		phoneNumberID: opts.PhoneNumberID,
		staticToken:   opts.AccessToken,
		tokenSource:   opts.TokenSource,
		http:          opts.HTTPClient,
		timeout:       opts.Timeout,
		userAgent:     opts.UserAgent,
		now:           time.Now,
	}
	if c.http == nil {
		c.http = &http.Client{}
	}
	if c.timeout == 0 {
		c.timeout = DefaultTimeout
	}
	if c.userAgent == "" {
		c.userAgent = DefaultUserAgent
	}
	return c, nil
}

// PhoneNumberID returns the business phone number id the client sends from.
func (c *Client) PhoneNumberID() string { return c.phoneNumberID }

// endpoint returns base/version/segments... with each segment path-escaped.
func (c *Client) endpoint(segments ...string) *url.URL {
	u := *c.base
	p := u.Path + "/" + url.PathEscape(c.version)
	for _, s := range segments {
		p += "/" + url.PathEscape(s)
	}
	u.Path = p
	u.RawPath = ""
	return &u
}

func (c *Client) token(ctx context.Context) (string, error) {
	if c.tokenSource != nil {
		tok, err := c.tokenSource(ctx)
		if err != nil {
			return "", fmt.Errorf("whatsapp: access token: %w", err)
		}
		if tok == "" {
			return "", fmt.Errorf("%w: token source returned an empty token", ErrInvalidArgument)
		}
		return tok, nil
	}
	return c.staticToken, nil
}

// redactor returns a func that removes tok from texts.
func redactor(tok string) func(string) string {
	return func(s string) string {
		if tok == "" || !strings.Contains(s, tok) {
			return s
		}
		return strings.ReplaceAll(s, tok, "[REDACTED]")
	}
}

// redactErr rewrites err's text when it contains the token, keeping it
// matchable with errors.Is/As.
func redactErr(err error, tok string) error {
	if err == nil || tok == "" || !strings.Contains(err.Error(), tok) {
		return err
	}
	return &redactedError{msg: strings.ReplaceAll(err.Error(), tok, "[REDACTED]"), err: err}
}

type redactedError struct {
	msg string
	err error
}

func (e *redactedError) Error() string { return e.msg }
func (e *redactedError) Unwrap() error { return e.err }

// request is one Graph call for Client.do.
type request struct {
	// op names the call in errors, e.g. "upload media".
	op     string
	method string
	url    *url.URL
	body   io.Reader
	// contentType is the body's type; "" sends no Content-Type.
	contentType string
	// rawAccept leaves Accept unset (file downloads); JSON calls send
	// Accept: application/json.
	rawAccept bool
}

// do sends r with the token, user agent and accept headers. Transport
// errors are wrapped with r.op and have the token redacted. The caller
// closes the response body.
func (c *Client) do(ctx context.Context, tok string, r request) (*http.Response, error) {
	req, err := http.NewRequestWithContext(ctx, r.method, r.url.String(), r.body)
	if err != nil {
		return nil, fmt.Errorf("whatsapp: build request: %w", err)
	}
	req.Header.Set("Authorization", "Bearer "+tok)
	req.Header.Set("User-Agent", c.userAgent)
	if !r.rawAccept {
		req.Header.Set("Accept", "application/json")
	}
	if r.contentType != "" {
		req.Header.Set("Content-Type", r.contentType)
	}
	resp, err := c.http.Do(req)
	if err != nil {
		return nil, redactErr(fmt.Errorf("whatsapp: %s: %w", r.op, err), tok)
	}
	return resp, nil
}

// doJSON performs a JSON call under the per-call timeout. in (if non-nil) is
// sent as the JSON body; a 2xx response is decoded into out (if non-nil).
// Non-2xx responses become *APIError.
func (c *Client) doJSON(ctx context.Context, method string, u *url.URL, in, out any) error {
	if c.timeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, c.timeout)
		defer cancel()
	}
	tok, err := c.token(ctx)
	if err != nil {
		return err
	}
	r := request{op: method + " " + u.Path, method: method, url: u}
	if in != nil {
		data, err := json.Marshal(in)
		if err != nil {
			return fmt.Errorf("whatsapp: encode request: %w", err)
		}
		r.body = bytes.NewReader(data)
	}
	if in != nil || method == http.MethodDelete {
		// The Graph description requires Content-Type on sends and deletes.
		r.contentType = "application/json"
	}
	resp, err := c.do(ctx, tok, r)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	return c.readJSON(resp, out, tok)
}

// doSuccess performs a JSON call whose response is {"success": true}; what
// names the call in the error for any other answer.
func (c *Client) doSuccess(ctx context.Context, method string, u *url.URL, in any, what string) error {
	var out struct {
		Success bool `json:"success"`
	}
	if err := c.doJSON(ctx, method, u, in, &out); err != nil {
		return err
	}
	if !out.Success {
		return fmt.Errorf("whatsapp: %s: response without success", what)
	}
	return nil
}

// readJSON reads a (size-capped) response and decodes it or turns it into an
// *APIError. The body is always consumed up to the cap.
func (c *Client) readJSON(resp *http.Response, out any, tok string) error {
	data, err := io.ReadAll(io.LimitReader(resp.Body, maxJSONResponse+1))
	if err != nil {
		return redactErr(fmt.Errorf("whatsapp: read response: %w", err), tok)
	}
	if len(data) > maxJSONResponse {
		return fmt.Errorf("whatsapp: response larger than %d bytes", maxJSONResponse)
	}
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return newAPIError(resp, data, redactor(tok), c.now())
	}
	if out == nil {
		return nil
	}
	if err := json.Unmarshal(data, out); err != nil {
		return fmt.Errorf("whatsapp: decode response (http %d): %w", resp.StatusCode, err)
	}
	return nil
}

// errorFromResponse reads an error response body (capped) into an *APIError.
func (c *Client) errorFromResponse(resp *http.Response, tok string) error {
	data, _ := io.ReadAll(io.LimitReader(resp.Body, maxJSONResponse))
	return newAPIError(resp, data, redactor(tok), c.now())
}

// checkNotEmpty returns ErrInvalidArgument naming the first empty value.
func checkNotEmpty(pairs ...string) error {
	for i := 0; i+1 < len(pairs); i += 2 {
		if strings.TrimSpace(pairs[i+1]) == "" {
			return fmt.Errorf("%w: %s is required", ErrInvalidArgument, pairs[i])
		}
	}
	return nil
}

// isSuccess reports a 2xx status.
func isSuccess(code int) bool { return code >= 200 && code <= 299 }

var errNoMessageID = errors.New("whatsapp: send response carries no message id")
