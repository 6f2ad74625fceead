package whatsapptest

import (
	"encoding/json"
	"io"
)

// Media is a media object the fake can serve, e.g. the file behind an
// inbound webhook's media id.
type Media struct {
	// ID is the media id; generated when empty.
	ID string
	// PhoneNumberID owns the media; empty means any number may fetch it.
	PhoneNumberID string
	// MimeType is the file's MIME type.
	MimeType string
	// Data is the file content (small files).
	Data []byte
	// Size and Open describe large or generated content instead of Data:
	// Open is called once per download and must yield exactly Size bytes.
	Size int64
	// Open returns a fresh reader of the content.
	Open func() io.Reader
	// SHA256 is reported by the media info call; computed from Data when
	// empty.
	SHA256 string
}

// RecordedMessage is a message the fake accepted on POST .../messages.
type RecordedMessage struct {
	// PhoneNumberID is the sending business number.
	PhoneNumberID string
	// ID is the wamid the fake assigned.
	ID string
	// To is the request's "to": the customer's phone number.
	To string
	// Recipient is the request's "recipient": the customer's
	// business-scoped user id, for a customer without a phone. Exactly
	// one of To and Recipient is set.
	Recipient string
	// Type is the request's message type.
	Type string
	// Text is text.body for text messages.
	Text string
	// ReplyTo is context.message_id, if any.
	ReplyTo string
	// Body is the full request body, for assertions on other fields.
	Body json.RawMessage
}

// RecordedRead is a mark-as-read call the fake accepted.
type RecordedRead struct {
	// PhoneNumberID is the business number.
	PhoneNumberID string
	// MessageID is the wamid marked read.
	MessageID string
	// Typing is set when the call also showed the typing indicator.
	Typing bool
}

// RecordedUpload is a media upload the fake accepted.
type RecordedUpload struct {
	// PhoneNumberID is the business number.
	PhoneNumberID string
	// ID is the media id the fake assigned.
	ID string
	// Filename is the file part's file name.
	Filename string
	// MimeType is the form's "type" field.
	MimeType string
	// Size is the content length in bytes.
	Size int64
	// SHA256 is the hex SHA-256 of the content.
	SHA256 string
	// Data is the content (nil with Options.DiscardUploads).
	Data []byte
}

// RecordedRequest is any request the fake received.
type RecordedRequest struct {
	// Op is the operation ("" for unknown paths).
	Op Op
	// Method and Path are the request line.
	Method string
	Path   string
	// Status is the HTTP status answered (0 for dropped connections).
	Status int
	// Fault is true when a programmed fault handled the request.
	Fault bool
	// Invalid is the validation error, if the request failed validation.
	Invalid error
}

// Sent returns the messages accepted so far, in order.
func (s *Server) Sent() []RecordedMessage { return snapshot(s, &s.sent) }

// SentCount returns how many messages were accepted (also with
// DisableRecording).
func (s *Server) SentCount() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.sentCount
}

// Reads returns the mark-as-read calls accepted so far.
func (s *Server) Reads() []RecordedRead { return snapshot(s, &s.reads) }

// Uploads returns the media uploads accepted so far.
func (s *Server) Uploads() []RecordedUpload { return snapshot(s, &s.uploads) }

// Requests returns every request received so far, including failed ones.
func (s *Server) Requests() []RecordedRequest { return snapshot(s, &s.requests) }

// ValidationErrors returns the validation errors of invalid requests.
func (s *Server) ValidationErrors() []error { return snapshot(s, &s.invalid) }

// snapshot copies one of the server's recorded lists under its lock.
func snapshot[T any](s *Server, list *[]T) []T {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]T(nil), *list...)
}

// record appends v to one of the server's recorded lists, unless recording
// is disabled.
func record[T any](s *Server, list *[]T, v T) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if !s.opts.DisableRecording {
		*list = append(*list, v)
	}
}
