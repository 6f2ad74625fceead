package whatsapp

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strconv"
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

func classifyCode(code int) (Class, bool) {
	switch {
	// Authentication: token invalid, expired or revoked.
	case code == 0, code == 102, code == 190:
		return ClassAuth, true

	// Rate and throughput limits.
	case code == 4, // app-level Graph call rate
		code == 17,     // user-level call rate
		code == 32,     // page-level call rate
		code == 613,    // custom rate limit
		code == 80007,  // WABA rate limit
		code == 130429, // throughput (messages per second per number)
		code == 131048, // spam rate limit (quality)
		code == 131056: // pair rate limit (same business -> same user)
		return ClassWait, true

	// Transient server-side problems.
	case code == 1, // unknown, possibly temporary
		code == 2,      // service temporarily unavailable
		code == 131000, // something went wrong
		code == 131016, // service unavailable
		code == 133000, // incomplete deregistration
		code == 133004: // server temporarily unavailable
		return ClassRetry, true

	// Permanent for this request.
	case code == 3, code == 10, code >= 200 && code <= 299, // permissions
		code == 33,                       // object does not exist / number deleted
		code == 100,                      // invalid parameter
		code == 368,                      // temporarily blocked for policy violations
		code == 2500,                     // unknown path components (bad version/id)
		code == 130472,                   // user's number part of an experiment
		code == 131005,                   // access denied
		code == 131008,                   // required parameter missing
		code == 131009,                   // parameter value invalid
		code == 131021,                   // recipient cannot be sender
		code == 131026,                   // message undeliverable
		code == 131031,                   // account locked
		code == 131037,                   // display name not approved
		code == 131042,                   // payment/eligibility issue
		code == 131045,                   // certificate error
		code == 131047,                   // re-engagement: 24-hour window closed
		code == 131049,                   // marketing message not delivered (ecosystem)
		code == 131050,                   // user stopped marketing messages
		code == 131051,                   // unsupported message type
		code == 131052,                   // media download error
		code == 131053,                   // media upload error
		code >= 132000 && code <= 132999, // template errors
		code == 133010:                   // phone number not registered
		return ClassFinal, true
	}
	return "", false
}

// DefaultWait is the wait Classify suggests for a ClassWait error when the
// server sent no Retry-After:
//   - 130429 throughput: 5 s (limits are per second);
//   - 131056 pair rate: 15 s (about one message per 6 s to one user, with
//     burst time to pay back);
//   - 131048 spam rate limit: 1 h;
//   - 4, 17, 32, 613, 80007 Graph/WABA call-rate limits: 5 min (these
//     windows are rolling hours);
//   - anything else (e.g. a bare HTTP 429): 30 s.
func DefaultWait(code int) time.Duration {
	switch code {
	case 130429:
		return 5 * time.Second
	case 131056:
		return 15 * time.Second
	case 131048:
		return time.Hour
	case 4, 17, 32, 613, 80007:
		return 5 * time.Minute
	}
	return 30 * time.Second
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

// PlainReason explains an error code in one or two sentences an agent can
// act on; relaydesk adds it as an internal note when a message fails. Unknown
// codes get a generic sentence naming the code.
func PlainReason(code int) string {
	switch {
	case code == 0 || code == 102 || code == 190:
		return "WhatsApp rejected relaydesk's access token (expired or revoked). An admin must reconnect this WhatsApp number; queued messages will be sent afterwards."
	case code == 3 || code == 10 || (code >= 200 && code <= 299):
		return "The WhatsApp app is missing a permission (whatsapp_business_messaging). An admin must fix the app's permissions in Meta Business Manager."
	case code == 4 || code == 17 || code == 32 || code == 613 || code == 80007:
		return "WhatsApp's API rate limit for this business account was reached. relaydesk will retry automatically."
	case code == 130429:
		return "Too many messages were sent from this number at once. relaydesk will retry automatically."
	case code == 131056:
		return "Too many messages were sent to this customer in a short time. relaydesk will retry in a few seconds."
	case code == 131048:
		return "WhatsApp is limiting this number because earlier messages were blocked or reported as spam. Check the number's quality in WhatsApp Manager."
	case code == 1 || code == 2 || code == 131000 || code == 131016 || code == 133000 || code == 133004:
		return "WhatsApp had a temporary problem. relaydesk will retry automatically."
	case code == 131047:
		return "The customer's last message is older than 24 hours; WhatsApp only allows a template now."
	case code == 131026:
		return "WhatsApp could not deliver this message: the number may not be on WhatsApp, may use an outdated app, or may have blocked this business."
	case code == 131049:
		return "WhatsApp did not deliver this marketing message to keep the customer's engagement healthy. Do not resend it right away."
	case code == 131050:
		return "The customer has stopped marketing messages from this business."
	case code == 131051:
		return "The customer sent a message type WhatsApp does not support for businesses (for example a poll or a view-once message). Ask them to send it another way."
	case code == 131052:
		return "WhatsApp could not fetch the customer's media file. Ask the customer to send it again."
	case code == 131053:
		return "WhatsApp could not use the attached file (unsupported format, too large, or the link was unreachable)."
	case code == 131021:
		return "The recipient is the business number itself; WhatsApp does not allow sending to yourself."
	case code == 131008 || code == 131009 || code == 100:
		return "WhatsApp rejected the message as invalid (a missing or wrong value). This is likely a relaydesk bug or unsupported content; please report it."
	case code == 131031:
		return "This WhatsApp business account is locked. An admin must resolve it in Meta Business Manager."
	case code == 368:
		return "This WhatsApp business account is temporarily blocked for policy violations. An admin should check Meta Business Manager."
	case code == 133010:
		return "This phone number is not registered with the WhatsApp Cloud API. An admin must register it."
	case code == 130472:
		return "WhatsApp did not deliver this message because the customer's number is part of a Meta experiment."
	case code == 132000:
		return "The template was sent with the wrong number of variables."
	case code == 132001:
		return "The template does not exist in this language, or is not approved yet."
	case code == 132005:
		return "The template's text is too long once its variables are filled in."
	case code == 132007:
		return "The template's content breaks WhatsApp's formatting or policy rules."
	case code == 132012:
		return "A template variable has the wrong format (for example text where an image is expected)."
	case code == 132015:
		return "The template is paused because of low quality. Use another template."
	case code == 132016:
		return "The template is disabled because of low quality. Use another template."
	case code >= 132000 && code <= 132999:
		return "WhatsApp rejected the template message. Check the template's name, language and variables."
	}
	return fmt.Sprintf("WhatsApp rejected the message (error code %d).", code)
}

// wireGraphError is the Graph error response body.
type wireGraphError struct {
	Error *struct {
		Message        string          `json:"message"`
		Type           string          `json:"type"`
		Code           flexInt         `json:"code"`
		ErrorSubcode   flexInt         `json:"error_subcode"`
		IsTransient    bool            `json:"is_transient"`
		ErrorUserTitle string          `json:"error_user_title"`
		ErrorUserMsg   string          `json:"error_user_msg"`
		FBTraceID      string          `json:"fbtrace_id"`
		ErrorData      json.RawMessage `json:"error_data"`
	} `json:"error"`
}

// newAPIError builds an APIError from a non-2xx response. redact removes
// secrets (the access token) from texts taken from the body.
func newAPIError(resp *http.Response, body []byte, redact func(string) string, now time.Time) *APIError {
	e := &APIError{HTTPStatus: resp.StatusCode}
	var w wireGraphError
	if json.Unmarshal(body, &w) == nil && w.Error != nil {
		ge := w.Error
		e.GraphError = true
		e.Code = int(ge.Code)
		e.Subcode = int(ge.ErrorSubcode)
		e.Type = ge.Type
		e.Message = redact(ge.Message)
		e.UserTitle = redact(ge.ErrorUserTitle)
		e.UserMessage = redact(ge.ErrorUserMsg)
		e.IsTransient = ge.IsTransient
		e.FBTraceID = ge.FBTraceID
		e.Details = redact(errorDataDetails(ge.ErrorData))
	} else {
		e.Message = redact(snippet(body))
	}
	if d, ok := parseRetryAfter(resp.Header.Get("Retry-After"), now); ok {
		e.RetryAfter = d
	} else if d, ok := parseBUCUsage(resp.Header.Get("X-Business-Use-Case-Usage")); ok {
		e.RetryAfter = d
	}
	return e
}

// errorDataDetails returns error_data.details. error_data is usually an
// object but older Graph errors send it as a JSON-encoded string.
func errorDataDetails(raw json.RawMessage) string {
	if isJSONNull(raw) {
		return ""
	}
	var obj struct {
		Details string `json:"details"`
	}
	if json.Unmarshal(raw, &obj) == nil {
		return obj.Details
	}
	var s string
	if json.Unmarshal(raw, &s) == nil {
		if json.Unmarshal([]byte(s), &obj) == nil {
			return obj.Details
		}
		return s
	}
	return ""
}

// snippet returns the start of a non-JSON error body, on one line.
func snippet(body []byte) string {
	const max = 200
	s := strings.TrimSpace(string(body))
	if len(s) > max {
		s = s[:max] + "…"
	}
	return strings.Join(strings.Fields(s), " ")
}

// parseRetryAfter parses a Retry-After value: delay-seconds or an HTTP date.
func parseRetryAfter(v string, now time.Time) (time.Duration, bool) {
	v = strings.TrimSpace(v)
	if v == "" {
		return 0, false
	}
	if secs, err := strconv.Atoi(v); err == nil {
		if secs <= 0 {
			return 0, false
		}
		return time.Duration(secs) * time.Second, true
	}
	if t, err := http.ParseTime(v); err == nil {
		if d := t.Sub(now); d > 0 {
			return d, true
		}
	}
	return 0, false
}

// parseBUCUsage reads the largest estimated_time_to_regain_access (minutes)
// from an x-business-use-case-usage header:
// {"<business id>":[{"type":"whatsapp","call_count":..,"estimated_time_to_regain_access":N}]}.
func parseBUCUsage(v string) (time.Duration, bool) {
	if v == "" {
		return 0, false
	}
	var usage map[string][]struct {
		EstimatedTimeToRegainAccess flexInt `json:"estimated_time_to_regain_access"`
	}
	if json.Unmarshal([]byte(v), &usage) != nil {
		return 0, false
	}
	var maxMin int64
	for _, entries := range usage {
		for _, e := range entries {
			maxMin = max(maxMin, int64(e.EstimatedTimeToRegainAccess))
		}
	}
	if maxMin <= 0 {
		return 0, false
	}
	return time.Duration(maxMin) * time.Minute, true
}
