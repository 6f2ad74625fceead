package whatsapptest

import (
	"bufio"
	"crypto/hmac"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/relaydesk/relaydesk/internal/whatsapp"
)

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
		record(s, &s.requests, x.rec)
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
		x.rec.Op = OpSendMessage // or OpMarkRead, once the body is read
		s.handleMessages(x)
	case len(x.segs) == 3 && x.segs[2] == "message_templates" && r.Method == http.MethodGet:
		x.rec.Op = OpTemplates
		s.handleTemplates(x)
	case len(x.segs) == 3 && x.segs[2] == "media" && r.Method == http.MethodPost:
		x.rec.Op = OpUploadMedia
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

// admit validates the request against specPath and then runs any
// programmed fault; it reports whether the handler should go on.
func (s *Server) admit(x *exchange, specPath string) bool {
	return s.validate(x, specPath) && !s.applyFault(x)
}

// admitNumber is admit for POSTs under /{phone-number-id}/: it also answers
// Graph's "object does not exist" error for unknown business numbers, and
// returns the number.
func (s *Server) admitNumber(x *exchange, specPath string) (string, bool) {
	if !s.admit(x, specPath) {
		return "", false
	}
	pnid := x.segs[1]
	if _, ok := s.phone(pnid); !ok {
		s.unknownObject(x, pnid, "post")
		return "", false
	}
	return pnid, true
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
