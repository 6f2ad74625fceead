package whatsapptest

import (
	"net/http"
	"time"
)

// Op names an operation of the fake, for faults and recorded requests.
type Op string

// Operations the fake serves.
const (
	OpSendMessage   Op = "send_message"
	OpMarkRead      Op = "mark_read"
	OpUploadMedia   Op = "upload_media"
	OpMediaInfo     Op = "media_info"
	OpDownloadMedia Op = "download_media"
	OpDeleteMedia   Op = "delete_media"
	OpPhoneNumber   Op = "phone_number"
	OpTemplates     Op = "list_templates"
)

// Fault programs the fake to misbehave. A fault applies to requests whose
// operation is Op (any operation when empty) and for which Match (if set)
// returns true; it applies to the next Times such requests, or to all of
// them when Times is 0. Faults are tried in the order they were added; the
// first applicable one wins. Requests are still validated first, so a
// fault never hides a malformed request.
//
// What happens: Delay is waited first (cut short if the client goes away).
// Then, if DropConnection, the connection is closed without a response.
// Otherwise, if Body is set, it is sent verbatim; else, if HTTPStatus or
// Code is set, a Graph error response is sent:
// {"error":{"message","type","code","error_subcode","error_data":{"details"},
// "fbtrace_id"}} with status HTTPStatus (default 400) and a Retry-After
// header when RetryAfter > 0. A fault with only Delay slows the request
// down and then serves it normally.
//
// Note that Go's http.Transport transparently retries idempotent requests
// (GET) once when a reused connection is dropped; use a POST operation to
// test dropped connections deterministically.
type Fault struct {
	// Op restricts the fault to one operation.
	Op Op
	// Match further restricts it; it sees the request and its body.
	Match func(r *http.Request, body []byte) bool
	// Times is how many matching requests fail (0: all).
	Times int

	// Delay is waited before answering.
	Delay time.Duration
	// DropConnection closes the connection without answering.
	DropConnection bool
	// HTTPStatus is the error response status (default 400 when Code is set).
	HTTPStatus int
	// Code is the Graph error code.
	Code int
	// Subcode is error_subcode (omitted when 0).
	Subcode int
	// Message is error.message; default "(#<code>) Fake error".
	Message string
	// Details is error_data.details (omitted when empty).
	Details string
	// Type is error.type; default "OAuthException".
	Type string
	// RetryAfter, when > 0, is sent as a Retry-After header (whole seconds).
	RetryAfter time.Duration
	// Body, when set, is sent verbatim as text/html instead of a Graph
	// error body, with HTTPStatus (default 502): what a proxy or load
	// balancer in front of Graph answers.
	Body string
}

// ErrorFault returns a fault answering with Graph error code, using the
// HTTP status and message Graph uses for that code. It applies to every
// operation, every time; set Op, Times or Match on the result to narrow it.
func ErrorFault(code int) Fault {
	f := Fault{Code: code, HTTPStatus: http.StatusBadRequest, Message: "Fake error", Type: "OAuthException"}
	switch code {
	case 0:
		f.HTTPStatus, f.Message = http.StatusUnauthorized, "AuthException: We were unable to authenticate the app user."
	case 190:
		f.HTTPStatus, f.Message, f.Subcode = http.StatusUnauthorized, "Error validating access token: Session has expired.", 463
	case 3:
		f.HTTPStatus, f.Message = http.StatusInternalServerError, "(#3) Application does not have the capability to make this API call."
	case 10:
		f.HTTPStatus, f.Message = http.StatusForbidden, "(#10) Application does not have permission for this action"
	case 4:
		f.Message = "(#4) Application request limit reached"
	case 80007:
		f.Message = "(#80007) There have been too many calls to this WhatsApp Business account."
	case 130429:
		f.Message, f.Details = "(#130429) Rate limit hit", "Message failed to send because there were too many messages sent from this phone number in a short period of time"
	case 131056:
		f.Message, f.Details = "(#131056) (Business Account, Consumer Account) pair rate limit hit", "Message failed to send because there were too many messages sent from this phone number to the same phone number in a short period of time"
	case 131000:
		f.HTTPStatus, f.Message = http.StatusInternalServerError, "(#131000) Something went wrong"
	case 131016:
		f.HTTPStatus, f.Message = http.StatusServiceUnavailable, "(#131016) Service unavailable"
	case 133004:
		f.HTTPStatus, f.Message = http.StatusServiceUnavailable, "(#133004) Server temporarily unavailable"
	case 131047:
		f.Message, f.Details = "(#131047) Re-engagement message", "Message failed to send because more than 24 hours have passed since the customer last replied to this number."
	case 131026:
		f.Message = "(#131026) Message undeliverable"
	case 131062:
		// Shape from providers' docs (dualhook): Meta's exact wording is
		// unconfirmed.
		f.Message = "(#131062) Business-scoped User ID recipients are not supported for this message"
	case 131009:
		f.Message = "(#131009) Parameter value is not valid"
	case 100:
		f.Message = "(#100) Invalid parameter"
	case 132001:
		f.HTTPStatus, f.Message, f.Details = http.StatusNotFound, "(#132001) Template name does not exist in the translation", "template name (x) does not exist in en_US"
	case 368:
		f.HTTPStatus, f.Message = http.StatusForbidden, "(#368) Temporarily blocked for policies violations"
	case 131031:
		f.HTTPStatus, f.Message = http.StatusForbidden, "(#131031) Business Account locked"
	}
	return f
}
