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

	"github.com/relaydesk/relaydesk/connectors/connectortest"
)

func (f *Fake) routes() []connectortest.Route {
	page := []string{"page", "per_page"}
	return []connectortest.Route{
		{Pattern: "GET /api/v2/agents/me", Handle: connectortest.Locking(&f.Mu, f.handleMe)},
		{Pattern: "GET /api/v2/contacts", Query: append([]string{"email", "mobile", "phone", "unique_external_id", "state", "company_id", "_updated_since"}, page...), Handle: f.handleListContacts},
		{Pattern: "POST /api/v2/contacts", Handle: f.handleCreateContact},
		{Pattern: "DELETE /api/v2/contacts/{id}", Handle: connectortest.Locking(&f.Mu, f.handleDeleteContact)},
		{Pattern: "DELETE /api/v2/contacts/{id}/hard_delete", Query: []string{"force"}, Handle: connectortest.Locking(&f.Mu, f.handleHardDeleteContact)},
		{Pattern: "GET /api/v2/tickets", Query: append([]string{"filter", "requester_id", "email", "company_id", "updated_since", "order_by", "order_type", "include"}, page...), Handle: f.handleListTickets},
		{Pattern: "POST /api/v2/tickets", Handle: f.handleCreateTicket},
		{Pattern: "GET /api/v2/tickets/{id}", Query: []string{"include"}, Handle: connectortest.Locking(&f.Mu, f.handleShowTicket)},
		{Pattern: "PUT /api/v2/tickets/{id}", Handle: f.handleUpdateTicket},
		{Pattern: "POST /api/v2/tickets/{id}/notes", Handle: f.handleNote},
		{Pattern: "GET /api/v2/tickets/{id}/conversations", Query: page, Handle: f.handleConversations},
		{Pattern: "GET /files/{token}", Query: []string{"X-Amz-Signature"}, Handle: f.handleDownload},
	}
}

func (f *Fake) wire() connectortest.Wire {
	return connectortest.Wire{
		Helpdesk: "Freshdesk", Prefix: "freshdesktest", Routes: f.routes(), Fail: connectortest.CannedFailures(failures),
		Before: func(w http.ResponseWriter, r *http.Request) bool {
			f.Mu.Lock()
			w.Header().Set("Date", f.now().UTC().Format(http.TimeFormat))
			f.Mu.Unlock()
			return strings.HasPrefix(r.URL.Path, "/files/") || f.spend(w)
		},
		Refuse: func(w http.ResponseWriter, r *http.Request, status int, msg string) {
			if status == http.StatusNotFound {
				writeError(w, http.StatusNotFound, "", "Resource not found")
				return
			}
			field, _ := strings.CutPrefix(msg, "unknown parameter ")
			writeValidation(w, field, "invalid_field", "Unexpected/invalid field in request")
		},
		Guard: func(w http.ResponseWriter, r *http.Request) bool {
			if !strings.HasPrefix(r.URL.Path, "/api/v2/") {
				return true
			}
			if r.Header.Get("Authorization") != "Basic "+base64.StdEncoding.EncodeToString([]byte(APIKey+":X")) {
				connectortest.WriteJSON(w, http.StatusUnauthorized, map[string]any{"code": "invalid_credentials", "message": "You have to be logged in to perform this action."})
				return false
			}
			if !strings.Contains(r.Header.Get("Accept"), "application/json") {
				f.Violate("%s %s: Accept must be application/json, got %q", r.Method, r.URL.Path, r.Header.Get("Accept"))
				writeError(w, http.StatusNotAcceptable, "", "Accept must be application/json")
				return false
			}
			return true
		},
	}
}

// failures are Freshdesk's answers to injected failures.
var failures = map[connectortest.Failure]connectortest.Canned{
	connectortest.FailServerError:  {Status: http.StatusInternalServerError, Body: `{"message":"Internal server error"}`},
	connectortest.FailUnauthorized: {Status: http.StatusUnauthorized, Body: `{"code":"invalid_credentials","message":"You have to be logged in to perform this action."}`},
	connectortest.FailRateLimited: {Status: http.StatusTooManyRequests, Header: http.Header{"X-Ratelimit-Remaining": {"0"}},
		Body: `{"message":"You have exceeded the limit of requests per minute"}`},
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
	if _, bad := f.DecodeJSON(r, v, 8<<20); bad != nil {
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
		f.Violate("%s %s: Content-Type must be application/json or multipart/form-data, got %q", r.Method, r.URL.Path, r.Header.Get("Content-Type"))
		writeError(w, http.StatusUnsupportedMediaType, "invalid_content_type", "Content-Type header should have application/json")
		return nil, nil, false
	}
	if params["boundary"] == "" {
		f.Violate("%s %s: multipart without boundary", r.Method, r.URL.Path)
		writeValidation(w, "body", "invalid_value", "no boundary")
		return nil, nil, false
	}
	if err := r.ParseMultipartForm(32 << 20); err != nil {
		f.Violate("%s %s: unreadable multipart body: %v", r.Method, r.URL.Path, err)
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
			f.Violate("%s %s: unknown form field %q", r.Method, r.URL.Path, key)
			writeValidation(w, key, "invalid_field", "Unexpected/invalid field in request")
			return nil, nil, false
		}
	}
	for key, fhs := range r.MultipartForm.File {
		if key != "attachments[]" {
			f.Violate("%s %s: file part named %q, want attachments[]", r.Method, r.URL.Path, key)
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
	f.Mu.Lock()
	if f.pageSize > 0 {
		per = f.pageSize
	}
	f.Mu.Unlock()
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

func intField(form map[string][]string, key string) (*int64, bool) {
	v, ok := form[key]
	if !ok {
		return nil, true
	}
	n, err := strconv.ParseInt(v[0], 10, 64)
	if err != nil {
		return nil, false
	}
	return &n, true
}

// fromForm fills in from multipart fields; false on a non-integer number.
func (in *ticketInput) fromForm(form map[string][]string) bool {
	str := func(key string) *string {
		if v, ok := form[key]; ok {
			return &v[0]
		}
		return nil
	}
	in.Subject, in.Description, in.Type = str("subject"), str("description"), str("type")
	in.Tags = form["tags[]"]
	for key, v := range form {
		if name, ok := strings.CutPrefix(key, "custom_fields["); ok {
			if in.CustomFields == nil {
				in.CustomFields = map[string]string{}
			}
			in.CustomFields[strings.TrimSuffix(name, "]")] = v[0]
		}
	}
	var ok bool
	var n *int64
	for _, k := range []struct {
		key string
		dst **int
	}{{"status", &in.Status}, {"priority", &in.Priority}, {"source", &in.Source}} {
		if n, ok = intField(form, k.key); !ok {
			return false
		}
		if n != nil {
			v := int(*n)
			*k.dst = &v
		}
	}
	if in.RequesterID, ok = intField(form, "requester_id"); !ok {
		return false
	}
	return true
}
