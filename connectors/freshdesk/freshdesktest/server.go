package freshdesktest

import (
	"encoding/base64"
	"fmt"
	"io"
	"mime"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/relaydesk/relaydesk/connectors/connectortest"
)

func (f *Fake) routes() []connectortest.Route {
	page := []string{"page", "per_page"}
	return []connectortest.Route{
		{Pattern: "GET /api/v2/agents/me", Handle: f.handleMe},
		{Pattern: "GET /api/v2/contacts", Query: append([]string{"email", "mobile", "phone", "state", "company_id", "_updated_since"}, page...), Handle: f.handleListContacts},
		{Pattern: "POST /api/v2/contacts", Handle: f.handleCreateContact},
		{Pattern: "GET /api/v2/tickets", Query: append([]string{"filter", "requester_id", "email", "company_id", "updated_since", "order_by", "order_type", "include"}, page...), Handle: f.handleListTickets},
		{Pattern: "POST /api/v2/tickets", Handle: f.handleCreateTicket},
		{Pattern: "GET /api/v2/tickets/{id}", Query: []string{"include"}, Handle: f.handleShowTicket},
		{Pattern: "PUT /api/v2/tickets/{id}", Handle: f.handleUpdateTicket},
		{Pattern: "POST /api/v2/tickets/{id}/notes", Handle: f.handleNote},
		{Pattern: "GET /api/v2/tickets/{id}/conversations", Query: page, Handle: f.handleConversations},
		{Pattern: "GET /files/{token}", Query: []string{"X-Amz-Signature"}, Handle: f.handleDownload},
	}
}

func (f *Fake) handler() http.Handler {
	router := connectortest.NewRouter(f.routes())
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		f.requests.Add(Request{Method: r.Method, Path: r.URL.Path, Query: r.URL.RawQuery})
		f.mu.Lock()
		w.Header().Set("Date", f.now().UTC().Format(http.TimeFormat))
		f.mu.Unlock()
		if !strings.HasPrefix(r.URL.Path, "/files/") {
			if !f.spend(w) {
				return
			}
		}
		if f.failures.Inject(w, r, failWith) {
			return
		}
		switch status, param := router.Check(r, &f.violations, "Freshdesk"); status {
		case http.StatusNotFound:
			writeError(w, http.StatusNotFound, "", "Resource not found")
			return
		case http.StatusBadRequest:
			writeValidation(w, param, "invalid_field", "Unexpected/invalid field in request")
			return
		}
		if strings.HasPrefix(r.URL.Path, "/api/v2/") {
			if r.Header.Get("Authorization") != "Basic "+base64.StdEncoding.EncodeToString([]byte(APIKey+":X")) {
				connectortest.WriteJSON(w, http.StatusUnauthorized, map[string]any{"code": "invalid_credentials", "message": "You have to be logged in to perform this action."})
				return
			}
			if !strings.Contains(r.Header.Get("Accept"), "application/json") {
				f.violations.Addf("%s %s: Accept must be application/json, got %q", r.Method, r.URL.Path, r.Header.Get("Accept"))
				writeError(w, http.StatusNotAcceptable, "", "Accept must be application/json")
				return
			}
		}
		router.ServeHTTP(w, r)
	})
}

// spend counts the request against the per-minute budget and writes the
// rate-limit headers, or a 429 when the budget is spent.
func (f *Fake) spend(w http.ResponseWriter) bool {
	f.mu.Lock()
	now := f.now()
	if win := now.Truncate(time.Minute); !win.Equal(f.rateWindow) {
		f.rateWindow, f.rateUsed = win, 0
	}
	total := f.rateTotal
	over := f.rateUsed >= total
	if !over {
		f.rateUsed++
	}
	remaining := total - f.rateUsed
	retry := int(f.rateWindow.Add(time.Minute).Sub(now).Seconds()) + 1
	f.mu.Unlock()
	w.Header().Set("X-RateLimit-Total", strconv.Itoa(total))
	w.Header().Set("X-RateLimit-Remaining", strconv.Itoa(remaining))
	w.Header().Set("X-RateLimit-Used-CurrentRequest", "1")
	if over {
		w.Header().Set("Retry-After", strconv.Itoa(retry))
		writeError(w, http.StatusTooManyRequests, "", "You have exceeded the limit of requests per minute")
		return false
	}
	return true
}

// failWith answers an injected failure as Freshdesk does.
func failWith(w http.ResponseWriter, kind connectortest.Failure) {
	switch kind {
	case connectortest.FailRateLimited:
		w.Header().Set("Retry-After", strconv.Itoa(int(connectortest.RateLimitRetryAfter/time.Second)))
		w.Header().Set("X-RateLimit-Remaining", "0")
		writeError(w, http.StatusTooManyRequests, "", "You have exceeded the limit of requests per minute")
	case connectortest.FailServerError:
		writeError(w, http.StatusInternalServerError, "", "Internal server error")
	case connectortest.FailUnauthorized:
		connectortest.WriteJSON(w, http.StatusUnauthorized, map[string]any{"code": "invalid_credentials", "message": "You have to be logged in to perform this action."})
	default:
		writeError(w, http.StatusInternalServerError, "", "unknown injected failure")
	}
}

func writeError(w http.ResponseWriter, status int, code, message string) {
	body := map[string]any{"message": message}
	if code != "" {
		body["code"] = code
	}
	connectortest.WriteJSON(w, status, body)
}

func writeValidation(w http.ResponseWriter, field, code, message string) {
	connectortest.WriteJSON(w, http.StatusBadRequest, map[string]any{
		"description": "Validation failed",
		"errors":      []map[string]string{{"field": field, "message": message, "code": code}},
	})
}

// decodeJSON reads a JSON object strictly into v, writing the 400 itself.
func (f *Fake) decodeJSON(w http.ResponseWriter, r *http.Request, v any) bool {
	if _, bad := connectortest.DecodeJSON(&f.violations, r, v, 8<<20); bad != nil {
		code := "invalid_field"
		if bad.Problem == connectortest.BodyUnreadable {
			code = "invalid_value"
		}
		writeValidation(w, "body", code, bad.Message)
		return false
	}
	return true
}

// formFile is a file part of a multipart request.
type formFile struct {
	name, contentType string
	data              []byte
}

// readBody reads a JSON body into v, or a multipart/form-data body whose
// plain fields must be among allowed (JSON names; "tags[]" and
// "custom_fields[...]" spelled as Freshdesk's form syntax) and are returned
// as values. It writes the 400 itself.
func (f *Fake) readBody(w http.ResponseWriter, r *http.Request, v any, allowed []string) (form url.Values, files []formFile, ok bool) {
	mt, params, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
	switch mt {
	case "application/json":
		return nil, nil, f.decodeJSON(w, r, v)
	case "multipart/form-data":
	default:
		f.violations.Addf("%s %s: Content-Type must be application/json or multipart/form-data, got %q", r.Method, r.URL.Path, r.Header.Get("Content-Type"))
		writeError(w, http.StatusUnsupportedMediaType, "invalid_content_type", "Content-Type header should have application/json")
		return nil, nil, false
	}
	if params["boundary"] == "" {
		f.violations.Addf("%s %s: multipart without boundary", r.Method, r.URL.Path)
		writeValidation(w, "body", "invalid_value", "no boundary")
		return nil, nil, false
	}
	if err := r.ParseMultipartForm(32 << 20); err != nil {
		f.violations.Addf("%s %s: unreadable multipart body: %v", r.Method, r.URL.Path, err)
		writeValidation(w, "body", "invalid_value", err.Error())
		return nil, nil, false
	}
	for key := range r.MultipartForm.Value {
		name := key
		if strings.HasPrefix(key, "custom_fields[") && strings.HasSuffix(key, "]") {
			name = "custom_fields"
		}
		name = strings.TrimSuffix(name, "[]")
		if !slices.Contains(allowed, name) {
			f.violations.Addf("%s %s: unknown form field %q", r.Method, r.URL.Path, key)
			writeValidation(w, key, "invalid_field", "Unexpected/invalid field in request")
			return nil, nil, false
		}
	}
	for key, fhs := range r.MultipartForm.File {
		if key != "attachments[]" {
			f.violations.Addf("%s %s: file part named %q, want attachments[]", r.Method, r.URL.Path, key)
			writeValidation(w, key, "invalid_field", "Unexpected/invalid field in request")
			return nil, nil, false
		}
		for _, fh := range fhs {
			fd, err := fh.Open()
			if err != nil {
				writeValidation(w, key, "invalid_value", err.Error())
				return nil, nil, false
			}
			data, _ := io.ReadAll(fd)
			fd.Close()
			files = append(files, formFile{name: fh.Filename, contentType: fh.Header.Get("Content-Type"), data: data})
		}
	}
	return url.Values(r.MultipartForm.Value), files, true
}

// paginate answers items[page] with a Link rel="next" header when more
// remain. Callers hold no lock.
func paginate[T any](f *Fake, w http.ResponseWriter, r *http.Request, items []T) {
	q := r.URL.Query()
	per := 30
	if v := q.Get("per_page"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > 100 {
			writeValidation(w, "per_page", "invalid_value", "It should be a Positive Integer less than or equal to 100")
			return
		}
		per = n
	}
	f.mu.Lock()
	if f.pageSize > 0 {
		per = f.pageSize
	}
	f.mu.Unlock()
	page := 1
	if v := q.Get("page"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 {
			writeValidation(w, "page", "invalid_value", "It should be a Positive Integer")
			return
		}
		page = n
	}
	start := min((page-1)*per, len(items))
	end := min(start+per, len(items))
	if end < len(items) {
		next := *r.URL
		nq := next.Query()
		nq.Set("page", strconv.Itoa(page+1))
		next.RawQuery = nq.Encode()
		w.Header().Set("Link", fmt.Sprintf(`<%s%s>; rel="next"`, f.URL, next.RequestURI()))
	}
	out := items[start:end]
	if out == nil {
		out = []T{}
	}
	connectortest.WriteJSON(w, http.StatusOK, out)
}
