package connectors

import (
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"strconv"
	"strings"
	"syscall"
	"time"

	"golang.org/x/oauth2"
)

// Sentinel errors. Connectors wrap them, so test with [errors.Is].
var (
	// ErrUnauthorized: a webhook request is unsigned, forged, signed with
	// another secret, or its timestamp is too old or too far in the future.
	ErrUnauthorized = errors.New("webhook not authenticated")
	// ErrMalformed: a webhook request is authentic but its body cannot be
	// understood.
	ErrMalformed = errors.New("webhook malformed")
	// ErrTicketClosed: the ticket can no longer take comments; open a
	// follow-up ticket instead. It comes wrapped in a ClassPermanent [*Error].
	ErrTicketClosed = errors.New("ticket is closed")
)

// Class says what the caller should do about a failed call.
type Class int

// The error classes.
const (
	// ClassRetry: transient (5xx, timeout, connection reset); retry with
	// backoff. It is also the class of unclassified errors.
	ClassRetry Class = iota
	// ClassRateLimited: the helpdesk throttled us; retry after RetryAfter
	// without counting an attempt.
	ClassRateLimited
	// ClassPermanent: the request is wrong (400, 422...); retrying the same
	// call will fail the same way.
	ClassPermanent
	// ClassAuth: credentials missing, revoked or lacking permission (401,
	// 403); the connection needs an admin's attention.
	ClassAuth
	// ClassNotFound: the resource does not exist (404).
	ClassNotFound
)

// String returns the class name.
func (c Class) String() string {
	switch c {
	case ClassRetry:
		return "retry"
	case ClassRateLimited:
		return "rate_limited"
	case ClassPermanent:
		return "permanent"
	case ClassAuth:
		return "auth"
	case ClassNotFound:
		return "not_found"
	}
	return "class(" + strconv.Itoa(int(c)) + ")"
}

// Error is a classified connector failure. Its message never contains
// credentials.
type Error struct {
	// Class says what to do about it.
	Class Class
	// Status is the HTTP status the helpdesk answered, or 0.
	Status int
	// RetryAfter is how long the helpdesk asked us to wait, or 0.
	RetryAfter time.Duration
	// Message describes the failure.
	Message string
	// Err is the underlying error, if any.
	Err error
}

// Error implements error.
func (e *Error) Error() string {
	var b strings.Builder
	b.WriteString(e.Class.String())
	if e.Status != 0 {
		b.WriteString(" (HTTP ")
		b.WriteString(strconv.Itoa(e.Status))
		b.WriteString(")")
	}
	if e.Message != "" {
		b.WriteString(": ")
		b.WriteString(e.Message)
	}
	if e.Err != nil {
		b.WriteString(": ")
		b.WriteString(e.Err.Error())
	}
	return b.String()
}

// Unwrap returns the underlying error.
func (e *Error) Unwrap() error { return e.Err }

// NewError returns a classified error.
func NewError(class Class, status int, message string) *Error {
	return &Error{Class: class, Status: status, Message: message}
}

// RetryError returns a ClassRetry error wrapping err.
func RetryError(message string, err error) *Error {
	return &Error{Class: ClassRetry, Message: message, Err: err}
}

// PermanentError returns a ClassPermanent error wrapping err.
func PermanentError(message string, err error) *Error {
	return &Error{Class: ClassPermanent, Message: message, Err: err}
}

// AuthError returns a ClassAuth error wrapping err.
func AuthError(message string, err error) *Error {
	return &Error{Class: ClassAuth, Message: message, Err: err}
}

// RateLimitedError returns a ClassRateLimited error.
func RateLimitedError(retryAfter time.Duration, message string) *Error {
	return &Error{Class: ClassRateLimited, Status: http.StatusTooManyRequests, RetryAfter: retryAfter, Message: message}
}

// HTTPError classifies a non-2xx response: 429 is rate limited (with
// Retry-After); 408, 409, 425 and 5xx are retried (honouring a Retry-After);
// 401 and 403 are auth problems; 404 and 410 are not found; any other 4xx is
// permanent. message should be the helpdesk's error text, never a request
// header.
func HTTPError(status int, h http.Header, message string) *Error {
	e := &Error{Status: status, Message: message}
	switch {
	case status == http.StatusTooManyRequests:
		e.Class = ClassRateLimited
		e.RetryAfter = ParseRetryAfter(h.Get("Retry-After"), time.Now())
	case status == http.StatusUnauthorized || status == http.StatusForbidden:
		e.Class = ClassAuth
	case status == http.StatusNotFound || status == http.StatusGone:
		e.Class = ClassNotFound
	case status == http.StatusRequestTimeout || status == http.StatusConflict || status == http.StatusTooEarly || status >= 500:
		e.Class = ClassRetry
		e.RetryAfter = ParseRetryAfter(h.Get("Retry-After"), time.Now())
	default:
		e.Class = ClassPermanent
	}
	return e
}

// ParseRetryAfter reads a Retry-After header: delay seconds or an HTTP date.
// It returns 0 when the header is absent or unreadable.
func ParseRetryAfter(v string, now time.Time) time.Duration {
	v = strings.TrimSpace(v)
	if v == "" {
		return 0
	}
	if secs, err := strconv.ParseFloat(v, 64); err == nil {
		if secs <= 0 {
			return 0
		}
		return time.Duration(secs * float64(time.Second))
	}
	if t, err := http.ParseTime(v); err == nil {
		if d := t.Sub(now); d > 0 {
			return d
		}
	}
	return 0
}

// Classify turns a transport error into a classified one: timeouts,
// cancellations, connection resets and refusals, and truncated responses are
// ClassRetry; a failed OAuth2 token refresh is ClassAuth (ClassRetry when
// the token endpoint answered 5xx). An [*Error] is returned as is, nil stays
// nil, and other errors are wrapped as ClassRetry, the safe default: a broken
// helpdesk delays work, it never drops it.
func Classify(err error) error {
	if err == nil {
		return nil
	}
	var ce *Error
	if errors.As(err, &ce) {
		return err
	}
	var re *oauth2.RetrieveError
	if errors.As(err, &re) {
		status := 0
		if re.Response != nil {
			status = re.Response.StatusCode
		}
		if status >= 500 || status == http.StatusTooManyRequests {
			return &Error{Class: ClassRetry, Status: status, Message: "oauth2 token endpoint unavailable", Err: errors.New(redactRetrieve(re))}
		}
		return &Error{Class: ClassAuth, Status: status, Message: "oauth2 token refresh failed", Err: errors.New(redactRetrieve(re))}
	}
	msg := "transport error"
	var ne net.Error
	switch {
	case errors.Is(err, context.DeadlineExceeded), errors.As(err, &ne) && ne.Timeout():
		msg = "timeout"
	case errors.Is(err, context.Canceled):
		msg = "canceled"
	case errors.Is(err, syscall.ECONNRESET), errors.Is(err, syscall.ECONNREFUSED), errors.Is(err, syscall.EPIPE):
		msg = "connection failed"
	case errors.Is(err, io.ErrUnexpectedEOF), errors.Is(err, io.EOF):
		msg = "connection closed early"
	}
	return &Error{Class: ClassRetry, Message: msg, Err: err}
}

// redactRetrieve describes a token endpoint failure by its OAuth2 error code
// only: the raw body could echo a token or secret.
func redactRetrieve(re *oauth2.RetrieveError) string {
	if re.ErrorCode != "" {
		return "oauth2 error " + strconv.Quote(re.ErrorCode)
	}
	return "oauth2 token endpoint error"
}

// ClassOf returns the class of err: the class of the first [*Error] in its
// chain, or ClassRetry for an unclassified error. It must not be called with
// a nil error.
func ClassOf(err error) Class {
	var ce *Error
	if errors.As(err, &ce) {
		return ce.Class
	}
	return ClassRetry
}

// IsRetryable reports whether err is worth retrying with backoff (ClassRetry
// or ClassRateLimited).
func IsRetryable(err error) bool {
	c := ClassOf(err)
	return err != nil && (c == ClassRetry || c == ClassRateLimited)
}

// IsRateLimited reports whether err is a rate limit and how long to wait.
func IsRateLimited(err error) (retryAfter time.Duration, ok bool) {
	var ce *Error
	if errors.As(err, &ce) && ce.Class == ClassRateLimited {
		return ce.RetryAfter, true
	}
	return 0, false
}

// IsPermanent reports whether err is ClassPermanent.
func IsPermanent(err error) bool { return err != nil && ClassOf(err) == ClassPermanent }

// IsAuth reports whether err is ClassAuth.
func IsAuth(err error) bool { return err != nil && ClassOf(err) == ClassAuth }

// IsNotFound reports whether err is ClassNotFound.
func IsNotFound(err error) bool { return err != nil && ClassOf(err) == ClassNotFound }
