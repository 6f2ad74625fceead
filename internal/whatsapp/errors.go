package whatsapp

import (
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"
)

// Client-side errors: the request was refused before anything was sent.
// Classify reports them as ClassFinal.
var (
	// ErrInvalidArgument: a required argument is missing or out of range
	// (empty recipient, text over 4096 characters, caption on audio...).
	ErrInvalidArgument = errors.New("whatsapp: invalid argument")
	// ErrUnsupportedMediaType: the MIME type cannot be sent on WhatsApp.
	ErrUnsupportedMediaType = errors.New("whatsapp: unsupported media type")
	// ErrMediaTooLarge: the file exceeds the size limit of its media class.
	ErrMediaTooLarge = errors.New("whatsapp: media too large")
	// ErrMediaURLRejected: Graph returned a media download URL the client
	// will not send the access token to (not https, or another scheme than
	// the configured base URL).
	ErrMediaURLRejected = errors.New("whatsapp: media URL rejected")
)

// Class tells the caller what to do about a failed Graph call. Its values
// are stable strings usable as metric labels.
type Class string

const (
	// ClassNone is returned by Classify for a nil error.
	ClassNone Class = ""
	// ClassRetry: transient (server error, network error, timeout). Retry
	// with backoff.
	ClassRetry Class = "retry"
	// ClassWait: a rate or throughput limit. Retry after the suggested
	// delay without counting it as a failure (River: JobSnooze).
	ClassWait Class = "wait"
	// ClassFinal: retrying will not help (outside the 24-hour window,
	// undeliverable, invalid request, template problem, policy block,
	// missing permission). Give up and tell the agent (PlainReason).
	ClassFinal Class = "final"
	// ClassAuth: the access token is invalid or expired. Stop using the
	// account and ask an admin to reconnect it; queued work can resume after.
	ClassAuth Class = "auth"
)

// String returns the class name.
func (c Class) String() string {
	if c == ClassNone {
		return "none"
	}
	return string(c)
}

// APIError is an error response from the Graph API:
// {"error":{"message","type","code","error_subcode","error_data":{"details"},"fbtrace_id"}}.
type APIError struct {
	// HTTPStatus is the response status code.
	HTTPStatus int
	// GraphError is true when the body carried a Graph error object. When
	// false (e.g. an HTML 502 from a proxy) Code is meaningless and Class
	// falls back to the HTTP status.
	GraphError bool
	// Code is the Graph/WhatsApp error code (0 is also AuthException).
	Code int
	// Subcode is error_subcode (deprecated by Meta since v16, often 0).
	Subcode int
	// Type is the Graph error type, e.g. "OAuthException".
	Type string
	// Message is the error message, with the access token redacted.
	Message string
	// Details is error_data.details, with the access token redacted.
	Details string
	// UserTitle is error_user_title, when sent.
	UserTitle string
	// UserMessage is error_user_msg, when sent.
	UserMessage string
	// IsTransient is the Graph is_transient flag.
	IsTransient bool
	// FBTraceID identifies the request for Meta support.
	FBTraceID string
	// RetryAfter is the server's requested wait: the Retry-After header, or
	// else the estimated_time_to_regain_access of the
	// x-business-use-case-usage header. 0 when absent.
	RetryAfter time.Duration
}

// Error implements error.
func (e *APIError) Error() string {
	var b strings.Builder
	b.WriteString("whatsapp: graph api error")
	if e.GraphError {
		fmt.Fprintf(&b, " %d", e.Code)
		if e.Subcode != 0 {
			fmt.Fprintf(&b, "/%d", e.Subcode)
		}
	}
	fmt.Fprintf(&b, " (http %d)", e.HTTPStatus)
	if e.Message != "" {
		b.WriteString(": ")
		b.WriteString(e.Message)
	}
	if e.Details != "" && e.Details != e.Message {
		b.WriteString(": ")
		b.WriteString(e.Details)
	}
	if e.FBTraceID != "" {
		fmt.Fprintf(&b, " [fbtrace_id %s]", e.FBTraceID)
	}
	return b.String()
}

// PlainReason explains the error to an agent; see the package func
// PlainReason.
func (e *APIError) PlainReason() string {
	if !e.GraphError {
		return fmt.Sprintf("WhatsApp's servers answered with HTTP status %d.", e.HTTPStatus)
	}
	return PlainReason(e.Code)
}

// Class classifies the error: by error code first (Graph codes are
// authoritative; code 3 arrives with HTTP 500 yet is a permission problem),
// then by HTTP status for codes not known here (401 auth, 429 wait, 5xx
// retry, other 4xx final), then by the is_transient flag.
func (e *APIError) Class() Class {
	if e.GraphError {
		if c, ok := classifyCode(e.Code); ok {
			return c
		}
	}
	switch {
	case e.HTTPStatus == http.StatusUnauthorized:
		return ClassAuth
	case e.HTTPStatus == http.StatusTooManyRequests:
		return ClassWait
	case e.HTTPStatus >= 500:
		return ClassRetry
	case e.IsTransient:
		return ClassRetry
	}
	return ClassFinal
}

// Wait returns how long to wait before retrying: RetryAfter when the server
// sent one, else for ClassWait the default for the code (see
// DefaultWait), else 0 (use your own backoff).
func (e *APIError) Wait() time.Duration {
	if e.RetryAfter > 0 {
		return e.RetryAfter
	}
	if e.Class() == ClassWait {
		return DefaultWait(e.Code)
	}
	return 0
}

// Classify classifies any error returned by this package's client:
//   - *APIError: see APIError.Class and APIError.Wait;
//   - ErrInvalidArgument, ErrUnsupportedMediaType, ErrMediaTooLarge,
//     ErrMediaURLRejected: ClassFinal;
//   - everything else (timeouts, context deadline or cancellation,
//     connection refused or reset, dropped connections, DNS and TLS
//     errors): ClassRetry, so a broken network delays work but never drops
//     it. The caller's attempt limit bounds the retries.
//
// The duration is the suggested wait (0: use your own backoff). Classify(nil)
// returns ClassNone.
func Classify(err error) (Class, time.Duration) {
	if err == nil {
		return ClassNone, 0
	}
	var apiErr *APIError
	if errors.As(err, &apiErr) {
		return apiErr.Class(), apiErr.Wait()
	}
	if errors.Is(err, ErrInvalidArgument) ||
		errors.Is(err, ErrUnsupportedMediaType) ||
		errors.Is(err, ErrMediaTooLarge) ||
		errors.Is(err, ErrMediaURLRejected) {
		return ClassFinal, 0
	}
	// Network errors, timeouts (context.DeadlineExceeded), cancellation
	// (e.g. shutdown: context.Canceled) and anything unknown.
	return ClassRetry, 0
}
