package whatsapptest

import (
	"bytes"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"path/filepath"
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
	// TemplatePageSize is the most templates one catalogue page holds
	// (GET /{waba-id}/message_templates), whatever limit is asked;
	// default 25, as on Graph.
	TemplatePageSize int
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
	templates  map[string][]whatsapp.TemplateInfo // WABA id -> catalogue
	numberWABA map[string]string                  // phone number id -> WABA id (default FixtureWABAID)
	convOf     map[string]string                  // wamid -> "<phone number id>/<wa_id>" of its conversation
	// threadOwner is who handles a customer's conversation on a number
	// ("<phone_number_id>/<wa_id>" -> whatsapp.OwnerAI or OwnerApp), for
	// tests of Meta's AI handover; unset means the app.
	threadOwner map[string]string
	sentCount   int
	traceCount  int
}

type faultState struct {
	f         Fault
	remaining int // -1: unlimited
}

// NewServer starts a fake. The caller must Close it. Tests usually call
// Start instead.
func NewServer(opts Options) (*Server, error) {
	s := &Server{
		opts:       opts,
		version:    opts.Version,
		token:      opts.AccessToken,
		phones:     map[string]whatsapp.PhoneNumberInfo{},
		media:      map[string]*Media{},
		templates:  map[string][]whatsapp.TemplateInfo{},
		numberWABA: map[string]string{},
		convOf:     map[string]string{},
		urlKey:     make([]byte, 32),

		threadOwner: map[string]string{},
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
	if s.opts.TemplatePageSize <= 0 {
		s.opts.TemplatePageSize = 25
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

// SetThreadOwner says who handles a customer's conversation on a number:
// whatsapp.OwnerAI while Meta's AI agent holds it (the test then delivers
// standby webhooks). A service message sent to the customer makes the app
// the owner again, as Meta documents.
func (s *Server) SetThreadOwner(phoneNumberID, waID, owner string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.threadOwner[phoneNumberID+"/"+digits(waID)] = owner
}

// ThreadOwner reports who handles a customer's conversation on a number
// (whatsapp.OwnerApp when never set).
func (s *Server) ThreadOwner(phoneNumberID, waID string) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	if o := s.threadOwner[phoneNumberID+"/"+digits(waID)]; o != "" {
		return o
	}
	return whatsapp.OwnerApp
}

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
