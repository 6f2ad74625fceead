package whatsapptest

import (
	"bufio"
	"bytes"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"hash"
	"io"
	"mime"
	"mime/multipart"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/relaydesk/relaydesk/internal/whatsapp"
)

// DefaultAccessToken is the token the fake expects unless
// Options.AccessToken says otherwise.
const DefaultAccessToken = "EAAtest-relaydesk-fake-token"

// Options configures a fake Graph API Server. The zero value is usable.
type Options struct {
	// Version is the only Graph version the fake answers under; default
	// whatsapp.DefaultVersion. Requests for another version get Graph's
	// "Unknown path components" error (code 2500).
	Version string
	// AccessToken is the bearer token requests must carry; default
	// DefaultAccessToken. Others get 401 with code 190.
	AccessToken string
	// PhoneNumbers are the business numbers the fake knows; default one
	// number with id FixturePhoneNumberID. Sends from unknown ids get
	// error 100 (subcode 33), as Graph answers.
	PhoneNumbers []whatsapp.PhoneNumberInfo
	// SpecPath is the Graph OpenAPI description to validate requests
	// against; default found via FindSharedDir.
	SpecPath string
	// SkipValidation turns request validation off (load tests): the spec is
	// then not loaded at all.
	SkipValidation bool
	// AllowInvalidRequests stops Start from failing the test when requests
	// failed validation (for tests that send bad requests on purpose).
	AllowInvalidRequests bool
	// DisableRecording stops keeping sent messages, reads, uploads and
	// requests (load tests); counters are still kept.
	DisableRecording bool
	// DiscardUploads keeps only the size and hash of uploaded files, not
	// their bytes (load tests); downloading such media serves zero bytes of
	// the recorded size.
	DiscardUploads bool
	// OnSent, when set, is called (without the fake's lock held) for every
	// message the fake accepted, also with DisableRecording: load tools
	// timestamp and check deliveries with it.
	OnSent func(RecordedMessage)
	// MaxUploadBytes bounds an upload body; default 128 MiB.
	MaxUploadBytes int64
	// MediaURLTTL is how long a media download URL stays valid; default 5
	// minutes, as on Graph.
	MediaURLTTL time.Duration
	// Now is the fake's clock (download URL expiry); default time.Now.
	Now func() time.Time
}

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
	// To is the request's recipient.
	To string
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

// Server is a fake Graph API for the WhatsApp Cloud API, served by
// httptest. It speaks the real wire format for sending messages, marking
// them read, uploading, describing, downloading and deleting media and
// reading phone number details; it validates every request against the
// OpenAPI description (plus an unknown-field check on send bodies), records
// what it accepted, hands out unique wamids and media ids, and can be
// programmed to fail (Fail). It is safe for concurrent use.
type Server struct {
	srv     *httptest.Server
	spec    *spec
	opts    Options
	version string
	urlKey  []byte

	mu         sync.Mutex
	token      string
	phones     map[string]whatsapp.PhoneNumberInfo
	media      map[string]*Media
	faults     []*faultState
	sent       []RecordedMessage
	reads      []RecordedRead
	uploads    []RecordedUpload
	requests   []RecordedRequest
	invalid    []error
	sentCount  int
	traceCount int
}

type faultState struct {
	f         Fault
	remaining int // -1: unlimited
}

// NewServer starts a fake. The caller must Close it. Tests usually call
// Start instead.
func NewServer(opts Options) (*Server, error) {
	s := &Server{
		opts:    opts,
		version: opts.Version,
		token:   opts.AccessToken,
		phones:  map[string]whatsapp.PhoneNumberInfo{},
		media:   map[string]*Media{},
		urlKey:  make([]byte, 32),
	}
	if s.version == "" {
		s.version = whatsapp.DefaultVersion
	}
	if s.token == "" {
		s.token = DefaultAccessToken
	}
	if s.opts.MaxUploadBytes == 0 {
		s.opts.MaxUploadBytes = 128 << 20
	}
	if s.opts.MediaURLTTL == 0 {
		s.opts.MediaURLTTL = 5 * time.Minute
	}
	if s.opts.Now == nil {
		s.opts.Now = time.Now
	}
	phones := opts.PhoneNumbers
	if len(phones) == 0 {
		phones = []whatsapp.PhoneNumberInfo{{
			ID: FixturePhoneNumberID, DisplayPhoneNumber: "+1 555-078-3881",
			VerifiedName: "Relaydesk Test", QualityRating: whatsapp.QualityGreen,
		}}
	}
	for _, p := range phones {
		s.phones[p.ID] = p
	}
	if _, err := rand.Read(s.urlKey); err != nil {
		return nil, err
	}
	if !opts.SkipValidation {
		path := opts.SpecPath
		if path == "" {
			dir, err := FindSharedDir()
			if err != nil {
				return nil, fmt.Errorf("whatsapptest: locate the Graph OpenAPI description: %w", err)
			}
			path = filepath.Join(dir, specRelPath)
		}
		sp, err := loadSpec(path)
		if err != nil {
			return nil, err
		}
		s.spec = sp
	}
	s.srv = httptest.NewServer(http.HandlerFunc(s.serveHTTP))
	return s, nil
}

// Start starts a fake for a test: the OpenAPI description is taken from
// SharedDir, the server is closed at cleanup, and the test fails at cleanup
// if any request failed validation (unless opts.AllowInvalidRequests).
func Start(tb testing.TB, opts Options) *Server {
	tb.Helper()
	if opts.SpecPath == "" && !opts.SkipValidation {
		opts.SpecPath = SpecPath(tb)
	}
	s, err := NewServer(opts)
	if err != nil {
		tb.Fatalf("whatsapptest: start fake Graph API: %v", err)
	}
	tb.Cleanup(func() {
		s.Close()
		if opts.AllowInvalidRequests {
			return
		}
		for _, err := range s.ValidationErrors() {
			tb.Errorf("whatsapptest: fake Graph API received an invalid request: %v", err)
		}
	})
	return s
}

// URL is the fake's base URL (use as ClientOpts.BaseURL).
func (s *Server) URL() string { return s.srv.URL }

// Version is the Graph version the fake serves.
func (s *Server) Version() string { return s.version }

// HTTPClient returns an http.Client configured for the fake.
func (s *Server) HTTPClient() *http.Client { return s.srv.Client() }

// Close shuts the fake down, waiting for in-flight requests.
func (s *Server) Close() { s.srv.Close() }

// AccessToken returns the token the fake currently accepts.
func (s *Server) AccessToken() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.token
}

// SetAccessToken changes the accepted token, e.g. to simulate a revoked
// token: requests with the old one then get 401 / code 190.
func (s *Server) SetAccessToken(token string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.token = token
}

// ClientOpts returns options for a whatsapp.Client talking to the fake as
// business number phoneNumberID (the first configured number when empty).
func (s *Server) ClientOpts(phoneNumberID string) whatsapp.ClientOpts {
	if phoneNumberID == "" {
		if len(s.opts.PhoneNumbers) > 0 {
			phoneNumberID = s.opts.PhoneNumbers[0].ID
		} else {
			phoneNumberID = FixturePhoneNumberID
		}
	}
	return whatsapp.ClientOpts{
		BaseURL:       s.URL(),
		Version:       s.version,
		AccessToken:   s.AccessToken(),
		PhoneNumberID: phoneNumberID,
		HTTPClient:    s.HTTPClient(),
	}
}

// NewClient returns a whatsapp.Client for the fake (see ClientOpts).
func (s *Server) NewClient(tb testing.TB, phoneNumberID string) *whatsapp.Client {
	tb.Helper()
	c, err := whatsapp.NewClient(s.ClientOpts(phoneNumberID))
	if err != nil {
		tb.Fatalf("whatsapptest: new client: %v", err)
	}
	return c
}

// AddPhoneNumber adds or replaces a business number.
func (s *Server) AddPhoneNumber(p whatsapp.PhoneNumberInfo) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.phones[p.ID] = p
}

// AddMedia registers a media object (e.g. the file behind an inbound
// webhook's media id) and returns its id.
func (s *Server) AddMedia(m Media) string {
	if m.ID == "" {
		m.ID = NewMediaID()
	}
	if m.Open == nil {
		data := m.Data
		m.Size = int64(len(data))
		m.Open = func() io.Reader { return bytes.NewReader(data) }
	}
	if m.SHA256 == "" && m.Data != nil {
		sum := sha256.Sum256(m.Data)
		m.SHA256 = hex.EncodeToString(sum[:])
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.media[m.ID] = &m
	return m.ID
}

// Fail programs a fault (see Fault).
func (s *Server) Fail(f Fault) {
	s.mu.Lock()
	defer s.mu.Unlock()
	remaining := f.Times
	if remaining <= 0 {
		remaining = -1
	}
	s.faults = append(s.faults, &faultState{f: f, remaining: remaining})
}

// ClearFaults removes all programmed faults.
func (s *Server) ClearFaults() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.faults = nil
}

// Sent returns the messages accepted so far, in order.
func (s *Server) Sent() []RecordedMessage {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]RecordedMessage(nil), s.sent...)
}

// SentCount returns how many messages were accepted (also with
// DisableRecording).
func (s *Server) SentCount() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.sentCount
}

// Reads returns the mark-as-read calls accepted so far.
func (s *Server) Reads() []RecordedRead {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]RecordedRead(nil), s.reads...)
}

// Uploads returns the media uploads accepted so far.
func (s *Server) Uploads() []RecordedUpload {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]RecordedUpload(nil), s.uploads...)
}

// Requests returns every request received so far, including failed ones.
func (s *Server) Requests() []RecordedRequest {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]RecordedRequest(nil), s.requests...)
}

// ValidationErrors returns the validation errors of invalid requests.
func (s *Server) ValidationErrors() []error {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]error(nil), s.invalid...)
}

// statusWriter records the status and supports hijacking.
type statusWriter struct {
	http.ResponseWriter
	status int
}

func (w *statusWriter) WriteHeader(code int) {
	if w.status == 0 {
		w.status = code
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *statusWriter) Write(p []byte) (int, error) {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	return w.ResponseWriter.Write(p)
}

func (w *statusWriter) Hijack() (net.Conn, *bufio.ReadWriter, error) {
	hj, ok := w.ResponseWriter.(http.Hijacker)
	if !ok {
		return nil, nil, errors.New("hijacking not supported")
	}
	return hj.Hijack()
}

// exchange is the state of one request being served.
type exchange struct {
	w     *statusWriter
	r     *http.Request
	rec   RecordedRequest
	body  []byte
	segs  []string
	fault bool
}

const attachmentsPath = "/whatsapp_business/attachments/"

func (s *Server) serveHTTP(rw http.ResponseWriter, r *http.Request) {
	x := &exchange{w: &statusWriter{ResponseWriter: rw}, r: r, rec: RecordedRequest{Method: r.Method, Path: r.URL.Path}}
	defer func() {
		x.rec.Status = x.w.status
		x.rec.Fault = x.fault
		s.mu.Lock()
		if !s.opts.DisableRecording {
			s.requests = append(s.requests, x.rec)
		}
		s.mu.Unlock()
	}()

	if !s.checkAuth(x) {
		return
	}
	if r.URL.Path == attachmentsPath && r.Method == http.MethodGet {
		x.rec.Op = OpDownloadMedia
		if s.applyFault(x) {
			return
		}
		s.handleDownload(x)
		return
	}
	x.segs = strings.Split(strings.Trim(r.URL.Path, "/"), "/")
	switch {
	case len(x.segs) == 3 && x.segs[2] == "messages" && r.Method == http.MethodPost:
		s.handleMessages(x)
	case len(x.segs) == 3 && x.segs[2] == "media" && r.Method == http.MethodPost:
		s.handleUpload(x)
	case len(x.segs) == 2 && r.Method == http.MethodGet:
		s.handleGetObject(x)
	case len(x.segs) == 2 && r.Method == http.MethodDelete:
		x.rec.Op = OpDeleteMedia
		s.handleDelete(x)
	default:
		s.graphError(x, http.StatusBadRequest, 2500, 0, "Unknown path components: "+r.URL.Path, "")
	}
}

// checkAuth answers 401 / 190 unless the request carries the current token.
func (s *Server) checkAuth(x *exchange) bool {
	auth := x.r.Header.Get("Authorization")
	tok, ok := strings.CutPrefix(auth, "Bearer ")
	if ok && tok != "" && hmac.Equal([]byte(tok), []byte(s.AccessToken())) {
		return true
	}
	if auth == "" {
		s.graphError(x, http.StatusUnauthorized, 190, 0, "An active access token must be used to query information about the current user.", "")
	} else {
		s.graphError(x, http.StatusUnauthorized, 190, 463, "Error validating access token: Session has expired.", "")
	}
	return false
}

// readBody reads the whole request body (bounded).
func (s *Server) readBody(x *exchange, limit int64) bool {
	data, err := io.ReadAll(io.LimitReader(x.r.Body, limit+1))
	if err != nil {
		s.graphError(x, http.StatusBadRequest, 100, 0, "Could not read request body: "+err.Error(), "")
		return false
	}
	if int64(len(data)) > limit {
		s.graphError(x, http.StatusRequestEntityTooLarge, 100, 0, "Request body too large", "")
		return false
	}
	x.body = data
	return true
}

// validate checks the request against the spec operation at specPath and
// the version segment. It answers 400 and records the error when invalid.
func (s *Server) validate(x *exchange, specPath string) bool {
	if s.spec != nil {
		if err := s.spec.validateRequest(x.r.Context(), specPath, x.r, x.body); err != nil {
			err = fmt.Errorf("%s %s: %w", x.r.Method, x.r.URL.Path, err)
			x.rec.Invalid = err
			s.mu.Lock()
			s.invalid = append(s.invalid, err)
			s.mu.Unlock()
			s.graphError(x, http.StatusBadRequest, 100, 0, "(#100) Invalid parameter", "fake Graph API: request does not match the OpenAPI description: "+err.Error())
			return false
		}
	}
	if x.segs[0] != s.version {
		s.graphError(x, http.StatusBadRequest, 2500, 0, fmt.Sprintf("Unknown path components: /%s (this fake serves %s)", x.segs[0], s.version), "")
		return false
	}
	return true
}

// applyFault runs the first applicable fault; it reports whether the
// request has been answered (or dropped).
func (s *Server) applyFault(x *exchange) bool {
	f, ok := s.takeFault(x)
	if !ok {
		return false
	}
	if f.Delay > 0 {
		t := time.NewTimer(f.Delay)
		select {
		case <-t.C:
		case <-x.r.Context().Done():
			t.Stop()
		}
	}
	if f.DropConnection {
		x.fault = true
		if conn, _, err := x.w.Hijack(); err == nil {
			conn.Close()
		}
		return true
	}
	if f.HTTPStatus == 0 && f.Code == 0 && f.Body == "" {
		return false // delay only
	}
	x.fault = true
	if f.RetryAfter > 0 {
		secs := int((f.RetryAfter + time.Second - 1) / time.Second)
		x.w.Header().Set("Retry-After", strconv.Itoa(secs))
	}
	status := f.HTTPStatus
	if f.Body != "" {
		if status == 0 {
			status = http.StatusBadGateway
		}
		x.w.Header().Set("Content-Type", "text/html; charset=utf-8")
		x.w.WriteHeader(status)
		_, _ = io.WriteString(x.w, f.Body)
		return true
	}
	if status == 0 {
		status = http.StatusBadRequest
	}
	msg := f.Message
	if msg == "" {
		msg = fmt.Sprintf("(#%d) Fake error", f.Code)
	}
	s.writeGraphError(x, status, f.Code, f.Subcode, f.Type, msg, f.Details)
	return true
}

func (s *Server) takeFault(x *exchange) (Fault, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for i, fs := range s.faults {
		if fs.f.Op != "" && fs.f.Op != x.rec.Op {
			continue
		}
		if fs.f.Match != nil && !fs.f.Match(x.r, x.body) {
			continue
		}
		if fs.remaining > 0 {
			fs.remaining--
			if fs.remaining == 0 {
				s.faults = append(s.faults[:i:i], s.faults[i+1:]...)
			}
		}
		return fs.f, true
	}
	return Fault{}, false
}

func (s *Server) graphError(x *exchange, status, code, subcode int, message, details string) {
	s.writeGraphError(x, status, code, subcode, "OAuthException", message, details)
}

func (s *Server) writeGraphError(x *exchange, status, code, subcode int, typ, message, details string) {
	if typ == "" {
		typ = "OAuthException"
	}
	s.mu.Lock()
	s.traceCount++
	trace := fmt.Sprintf("AFakeTrace%s%06d", runID, s.traceCount)
	s.mu.Unlock()
	e := map[string]any{"message": message, "type": typ, "code": code, "fbtrace_id": trace}
	if subcode != 0 {
		e["error_subcode"] = subcode
	}
	if details != "" {
		e["error_data"] = map[string]any{"messaging_product": "whatsapp", "details": details}
	}
	writeJSON(x.w, status, map[string]any{"error": e})
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	data, _ := json.Marshal(v)
	w.Header().Set("Content-Type", "application/json; charset=UTF-8")
	w.Header().Set("Content-Length", strconv.Itoa(len(data)))
	w.WriteHeader(status)
	_, _ = w.Write(data)
}

func (s *Server) phone(id string) (whatsapp.PhoneNumberInfo, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	p, ok := s.phones[id]
	return p, ok
}

func (s *Server) unknownObject(x *exchange, id, method string) {
	s.graphError(x, http.StatusBadRequest, 100, 33,
		fmt.Sprintf("Unsupported %s request. Object with ID '%s' does not exist, cannot be loaded due to missing permissions, or does not support this operation.", method, id), "")
}

// handleMessages serves sends and mark-as-read.
func (s *Server) handleMessages(x *exchange) {
	x.rec.Op = OpSendMessage
	if !s.readBody(x, 4<<20) {
		return
	}
	var probe struct {
		Status string `json:"status"`
	}
	if json.Unmarshal(x.body, &probe) == nil && probe.Status != "" {
		x.rec.Op = OpMarkRead
	}
	if !s.validate(x, specPathMessages) || s.applyFault(x) {
		return
	}
	pnid := x.segs[1]
	if _, ok := s.phone(pnid); !ok {
		s.unknownObject(x, pnid, "post")
		return
	}
	var msg struct {
		To        string `json:"to"`
		Type      string `json:"type"`
		MessageID string `json:"message_id"`
		Text      *struct {
			Body string `json:"body"`
		} `json:"text"`
		Context *struct {
			MessageID string `json:"message_id"`
		} `json:"context"`
	}
	if err := json.Unmarshal(x.body, &msg); err != nil {
		s.graphError(x, http.StatusBadRequest, 100, 0, "(#100) Invalid parameter", err.Error())
		return
	}
	if x.rec.Op == OpMarkRead {
		s.mu.Lock()
		if !s.opts.DisableRecording {
			s.reads = append(s.reads, RecordedRead{PhoneNumberID: pnid, MessageID: msg.MessageID})
		}
		s.mu.Unlock()
		writeJSON(x.w, http.StatusOK, map[string]any{"success": true})
		return
	}
	rm := RecordedMessage{PhoneNumberID: pnid, ID: NewWAMID(), To: msg.To, Type: msg.Type, Body: append(json.RawMessage(nil), x.body...)}
	if msg.Text != nil {
		rm.Text = msg.Text.Body
	}
	if msg.Context != nil {
		rm.ReplyTo = msg.Context.MessageID
	}
	s.mu.Lock()
	s.sentCount++
	if !s.opts.DisableRecording {
		s.sent = append(s.sent, rm)
	}
	s.mu.Unlock()
	if s.opts.OnSent != nil {
		s.opts.OnSent(rm)
	}
	out := map[string]any{"id": rm.ID}
	if msg.Type == whatsapp.TypeTemplate {
		out["message_status"] = "accepted"
	}
	writeJSON(x.w, http.StatusOK, map[string]any{
		"messaging_product": "whatsapp",
		"contacts":          []map[string]any{{"input": msg.To, "wa_id": digits(msg.To)}},
		"messages":          []map[string]any{out},
	})
}

func digits(s string) string {
	var b strings.Builder
	for _, r := range s {
		if r >= '0' && r <= '9' {
			b.WriteRune(r)
		}
	}
	return b.String()
}

// handleUpload serves POST /{phone-number-id}/media. With validation the
// body is buffered (the validator needs it); without, it is streamed.
func (s *Server) handleUpload(x *exchange) {
	x.rec.Op = OpUploadMedia
	var form io.Reader
	if s.spec != nil {
		if !s.readBody(x, s.opts.MaxUploadBytes) {
			return
		}
		form = bytes.NewReader(x.body)
	} else {
		form = io.LimitReader(x.r.Body, s.opts.MaxUploadBytes)
	}
	if !s.validate(x, specPathMedia) || s.applyFault(x) {
		return
	}
	pnid := x.segs[1]
	if _, ok := s.phone(pnid); !ok {
		s.unknownObject(x, pnid, "post")
		return
	}
	_, params, err := mime.ParseMediaType(x.r.Header.Get("Content-Type"))
	if err != nil || params["boundary"] == "" {
		s.graphError(x, http.StatusBadRequest, 100, 0, "(#100) Invalid parameter", "expected multipart/form-data")
		return
	}
	up, fields, err := s.readUploadForm(multipart.NewReader(form, params["boundary"]))
	if err != nil {
		s.graphError(x, http.StatusBadRequest, 100, 0, "(#100) Invalid parameter", err.Error())
		return
	}
	switch {
	case fields["messaging_product"] != "whatsapp":
		s.graphError(x, http.StatusBadRequest, 100, 0, "(#100) The parameter messaging_product is required.", "")
		return
	case fields["type"] == "":
		s.graphError(x, http.StatusBadRequest, 100, 0, "(#100) The parameter type is required.", "")
		return
	case up == nil:
		s.graphError(x, http.StatusBadRequest, 100, 0, "(#100) The parameter file is required.", "")
		return
	}
	up.MimeType = fields["type"]
	if _, err := whatsapp.CheckMedia(up.MimeType, up.Size); err != nil {
		s.graphError(x, http.StatusBadRequest, 131053, 0, "(#131053) Media upload error", err.Error())
		return
	}
	up.PhoneNumberID = pnid
	up.ID = NewMediaID()
	m := &Media{ID: up.ID, PhoneNumberID: pnid, MimeType: up.MimeType, Size: up.Size, SHA256: up.SHA256}
	if up.Data != nil {
		data := up.Data
		m.Data = data
		m.Open = func() io.Reader { return bytes.NewReader(data) }
	} else {
		size := up.Size
		m.Open = func() io.Reader { return io.LimitReader(zeroReader{}, size) }
	}
	s.mu.Lock()
	s.media[m.ID] = m
	if !s.opts.DisableRecording {
		s.uploads = append(s.uploads, *up)
	}
	s.mu.Unlock()
	writeJSON(x.w, http.StatusOK, map[string]any{"id": up.ID})
}

func (s *Server) readUploadForm(mr *multipart.Reader) (*RecordedUpload, map[string]string, error) {
	fields := map[string]string{}
	var up *RecordedUpload
	for {
		part, err := mr.NextPart()
		if err == io.EOF {
			return up, fields, nil
		}
		if err != nil {
			return nil, nil, err
		}
		name := part.FormName()
		if name == "file" {
			up = &RecordedUpload{Filename: part.FileName()}
			h := sha256.New()
			var sink io.Writer = h
			var buf *bytes.Buffer
			if !s.opts.DiscardUploads {
				buf = &bytes.Buffer{}
				sink = io.MultiWriter(h, buf)
			}
			n, err := io.Copy(sink, part)
			if err != nil {
				return nil, nil, err
			}
			up.Size = n
			up.SHA256 = hexSum(h)
			if buf != nil {
				up.Data = buf.Bytes()
			}
			continue
		}
		v, err := io.ReadAll(io.LimitReader(part, 1<<10))
		if err != nil {
			return nil, nil, err
		}
		fields[name] = string(v)
	}
}

func hexSum(h hash.Hash) string { return hex.EncodeToString(h.Sum(nil)) }

type zeroReader struct{}

func (zeroReader) Read(p []byte) (int, error) {
	clear(p)
	return len(p), nil
}

// handleGetObject serves GET /{id}: a phone number or a media object.
func (s *Server) handleGetObject(x *exchange) {
	id := x.segs[1]
	s.mu.Lock()
	m, isMedia := s.media[id]
	s.mu.Unlock()
	if isMedia {
		x.rec.Op = OpMediaInfo
		if !s.validate(x, specPathMediaID) || s.applyFault(x) {
			return
		}
		if pn := x.r.URL.Query().Get("phone_number_id"); pn != "" && m.PhoneNumberID != "" && pn != m.PhoneNumberID {
			s.unknownObject(x, id, "get")
			return
		}
		writeJSON(x.w, http.StatusOK, map[string]any{
			"messaging_product": "whatsapp",
			"url":               s.mediaURL(id),
			"mime_type":         m.MimeType,
			"sha256":            m.SHA256,
			"file_size":         strconv.FormatInt(m.Size, 10),
			"id":                id,
		})
		return
	}
	x.rec.Op = OpPhoneNumber
	if !s.validate(x, specPathPhone) || s.applyFault(x) {
		return
	}
	p, ok := s.phone(id)
	if !ok {
		s.unknownObject(x, id, "get")
		return
	}
	writeJSON(x.w, http.StatusOK, p)
}

// handleDelete serves DELETE /{media-id}.
func (s *Server) handleDelete(x *exchange) {
	if !s.validate(x, specPathMediaID) || s.applyFault(x) {
		return
	}
	id := x.segs[1]
	s.mu.Lock()
	m, ok := s.media[id]
	if ok {
		if pn := x.r.URL.Query().Get("phone_number_id"); pn != "" && m.PhoneNumberID != "" && pn != m.PhoneNumberID {
			ok = false
		} else {
			delete(s.media, id)
		}
	}
	s.mu.Unlock()
	if !ok {
		s.unknownObject(x, id, "delete")
		return
	}
	writeJSON(x.w, http.StatusOK, map[string]any{"success": true})
}

// mediaURL returns a signed, short-lived download URL under the fake, in the
// shape of Graph's lookaside URLs.
func (s *Server) mediaURL(id string) string {
	exp := strconv.FormatInt(s.opts.Now().Add(s.opts.MediaURLTTL).Unix(), 10)
	q := url.Values{"mid": {id}, "ext": {exp}, "hash": {s.urlMAC(id, exp)}}
	return s.srv.URL + attachmentsPath + "?" + q.Encode()
}

func (s *Server) urlMAC(id, exp string) string {
	mac := hmac.New(sha256.New, s.urlKey)
	mac.Write([]byte(id + "|" + exp))
	return hex.EncodeToString(mac.Sum(nil))
}

// handleDownload streams a media file. The URL must be one the fake handed
// out and not expired; the bearer token is required (checked earlier). This
// endpoint is not validated against the description, which models it as
// "/{Version}/{Media-URL}", a shape real download URLs do not have.
func (s *Server) handleDownload(x *exchange) {
	q := x.r.URL.Query()
	id, exp := q.Get("mid"), q.Get("ext")
	expUnix, err := strconv.ParseInt(exp, 10, 64)
	if err != nil || !hmac.Equal([]byte(q.Get("hash")), []byte(s.urlMAC(id, exp))) || s.opts.Now().Unix() > expUnix {
		http.Error(x.w, "URL signature mismatch or expired", http.StatusNotFound)
		return
	}
	s.mu.Lock()
	m, ok := s.media[id]
	s.mu.Unlock()
	if !ok {
		http.Error(x.w, "not found", http.StatusNotFound)
		return
	}
	x.w.Header().Set("Content-Type", m.MimeType)
	x.w.Header().Set("Content-Length", strconv.FormatInt(m.Size, 10))
	x.w.WriteHeader(http.StatusOK)
	_, _ = io.Copy(x.w, io.LimitReader(m.Open(), m.Size))
}
