// Package httpapi is the HTTP plumbing relaydesk's helpdesk connectors
// share: sending JSON API requests and classifying their failures
// ([Client.Do]), downloading files ([Client.Download]), building an HTTP
// client whose credentials only ever reach the helpdesk ([NewHTTPClient]),
// and streaming request bodies that carry attachments ([Stream],
// [MultipartPipe]).
//
// What differs between helpdesks stays in each connector: the URL layout,
// the authentication, and the reading of error bodies (Client.Error).
package httpapi

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

	"github.com/relaydesk/relaydesk/connectors"
)

// DefaultMaxResponse is how much of a response body [Client.Do] reads when
// Client.MaxResponse is 0.
const DefaultMaxResponse = 16 << 20

// Client sends one helpdesk's API requests. Every error it returns is
// classified (see [connectors.ClassOf]) and names the helpdesk, the method
// and the request's path, never a credential or a full URL.
type Client struct {
	// Name starts every error message: the connector kind, "zendesk".
	Name string
	// HTTP sends the requests (see [NewHTTPClient]).
	HTTP *http.Client
	// MaxResponse bounds how much of a response body is read; 0 means
	// [DefaultMaxResponse].
	MaxResponse int64
	// Error classifies a non-2xx answer from the helpdesk's error body,
	// usually ending with [StatusError].
	Error func(resp *http.Response, body []byte) error
}

// Request is one API request.
type Request struct {
	Method string
	// URL is the absolute URL without its query.
	URL string
	// Path names the request in error messages: the path, with ids only.
	Path  string
	Query url.Values
	// Header is added to the request (Accept and Content-Type are set by Do).
	Header http.Header
	// JSON, when not nil, is encoded as the body (application/json).
	JSON any
	// Stream, when not nil (and JSON is nil), is the body, with its
	// Content-Type and length. Do closes it; when it broke because of one of
	// its files rather than the connection, Do returns that failure.
	Stream *Stream
	// Body is a raw body, used when JSON and Stream are nil, with its
	// ContentType and ContentLength (-1 when unknown: the body is sent
	// chunked). Do closes a Body that is an io.Closer.
	Body          io.Reader
	ContentType   string
	ContentLength int64
	// Out, when not nil, receives the decoded JSON response.
	Out any
}

// Do sends r and decodes a 2xx answer into r.Out. It returns the response
// headers, or nil when no response arrived.
func (c *Client) Do(ctx context.Context, r Request) (http.Header, error) {
	u := r.URL
	if len(r.Query) > 0 {
		u += "?" + r.Query.Encode()
	}
	var body io.Reader
	ctype, length := "", int64(0)
	switch {
	case r.JSON != nil:
		b, err := json.Marshal(r.JSON)
		if err != nil {
			return nil, connectors.PermanentError(c.Name+": encode "+r.Path, err)
		}
		body, ctype, length = bytes.NewReader(b), "application/json", int64(len(b))
	case r.Stream != nil:
		body, ctype, length = r.Stream, r.Stream.ContentType, r.Stream.Length
		defer r.Stream.Close()
	case r.Body != nil:
		body, ctype, length = r.Body, r.ContentType, r.ContentLength
		if cl, ok := r.Body.(io.Closer); ok {
			defer cl.Close()
		}
	}
	req, err := http.NewRequestWithContext(ctx, r.Method, u, body)
	if err != nil {
		return nil, connectors.PermanentError(c.Name+": build request", err)
	}
	if body != nil {
		req.ContentLength = length // -1: unknown, sent chunked
	}
	for key, vals := range r.Header {
		req.Header[key] = vals
	}
	req.Header.Set("Accept", "application/json")
	if ctype != "" {
		req.Header.Set("Content-Type", ctype)
	}
	resp, err := c.HTTP.Do(req)
	if err != nil {
		if r.JSON == nil && r.Stream != nil {
			r.Stream.Close() // waits for the writer, which records a source failure
			if serr := r.Stream.Err(); serr != nil {
				return nil, fmt.Errorf("%s: %s %s: %w", c.Name, r.Method, r.Path, serr)
			}
		}
		return nil, fmt.Errorf("%s: %s %s: %w", c.Name, r.Method, r.Path, connectors.Classify(UnwrapURL(err)))
	}
	defer resp.Body.Close()
	limit := c.MaxResponse
	if limit == 0 {
		limit = DefaultMaxResponse
	}
	data, err := io.ReadAll(io.LimitReader(resp.Body, limit))
	if err != nil {
		return resp.Header, fmt.Errorf("%s: %s %s: read response: %w", c.Name, r.Method, r.Path, connectors.Classify(err))
	}
	if resp.StatusCode/100 != 2 {
		return resp.Header, fmt.Errorf("%s: %s %s: %w", c.Name, r.Method, r.Path, c.Error(resp, data))
	}
	if r.Out != nil && len(data) > 0 {
		if err := json.Unmarshal(data, r.Out); err != nil {
			return resp.Header, fmt.Errorf("%s: %s %s: %w", c.Name, r.Method, r.Path, connectors.RetryError("unreadable response", err))
		}
	}
	return resp.Header, nil
}

// Download GETs a file. It returns the response of a 2xx answer, whose body
// the caller closes; other answers are classified with c.Error.
func (c *Client) Download(ctx context.Context, rawURL string) (*http.Response, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, rawURL, nil)
	if err != nil {
		return nil, connectors.PermanentError(c.Name+": build request", err)
	}
	resp, err := c.HTTP.Do(req)
	if err != nil {
		return nil, fmt.Errorf("%s: download attachment: %w", c.Name, connectors.Classify(UnwrapURL(err)))
	}
	if resp.StatusCode/100 != 2 {
		defer resp.Body.Close()
		data, _ := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
		return nil, fmt.Errorf("%s: download attachment: %w", c.Name, c.Error(resp, data))
	}
	return resp, nil
}

// Fetch downloads a file and returns its body, which the caller closes,
// and its content type: the response's, or fallback when the response names
// none or only application/octet-stream.
func (c *Client) Fetch(ctx context.Context, rawURL, fallback string) (io.ReadCloser, string, error) {
	resp, err := c.Download(ctx, rawURL)
	if err != nil {
		return nil, "", err
	}
	ct := resp.Header.Get("Content-Type")
	if ct == "" || strings.HasPrefix(ct, "application/octet-stream") {
		ct = fallback
	}
	return resp.Body, ct, nil
}

// OpenRemote opens a helpdesk attachment whose URL must be an absolute
// http(s) URL (see [Client.Fetch]).
func (c *Client) OpenRemote(ctx context.Context, a connectors.RemoteAttachment) (io.ReadCloser, string, error) {
	u, err := url.Parse(a.URL)
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
		return nil, "", connectors.PermanentError(c.Name+": attachment URL is not an absolute http(s) URL", nil)
	}
	return c.Fetch(ctx, u.String(), a.ContentType)
}

// UnwrapURL drops *url.Error's wrapper: its message repeats the full URL,
// which for downloads may carry a signed token.
func UnwrapURL(err error) error {
	var ue *url.Error
	if errors.As(err, &ue) {
		return ue.Err
	}
	return err
}

// ErrorText is the message of a helpdesk's error answer: what text picks
// from the JSON body decoded into T, or the status text when the body is not
// such JSON or text picks nothing.
func ErrorText[T any](resp *http.Response, data []byte, text func(body T) string) string {
	var body T
	if json.Unmarshal(data, &body) == nil {
		if msg := text(body); msg != "" {
			return msg
		}
	}
	return http.StatusText(resp.StatusCode)
}

// StatusError classifies a non-2xx answer with [connectors.HTTPError],
// msg (the helpdesk's error text) cut to 400 bytes.
func StatusError(resp *http.Response, msg string) *connectors.Error {
	if len(msg) > 400 {
		msg = msg[:400] + "..."
	}
	return connectors.HTTPError(resp.StatusCode, resp.Header, msg)
}
