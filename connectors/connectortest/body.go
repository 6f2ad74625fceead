package connectortest

// Request and answer bodies of the helpdesk fakes: strict JSON decoding
// with the documented field names, and JSON answers.

import (
	"bytes"
	"encoding/json"
	"io"
	"maps"
	"mime"
	"mime/multipart"
	"net/http"
	"slices"
)

// WriteJSON answers v as JSON (application/json; charset=utf-8).
func WriteJSON(w http.ResponseWriter, status int, v any) {
	body, err := json.Marshal(v)
	if err != nil {
		panic(err)
	}
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(status)
	_, _ = w.Write(body)
}

// BodyError is why a fake refuses a request body; the fake writes it in its
// helpdesk's error format.
type BodyError struct {
	// Status is the status to answer: 400, or 413 for a body over the
	// limit.
	Status int
	// Message is the text for the error body.
	Message string
	// Problem says what is wrong.
	Problem BodyProblem
}

// BodyProblem is what is wrong with a refused request body.
type BodyProblem int

// The problems [DecodeJSON] finds.
const (
	// BodyUnreadable: the body could not be read or is over the limit,
	// which breaks no rule.
	BodyUnreadable BodyProblem = iota + 1
	// BodyNotJSON: the Content-Type is not application/json (a violation).
	BodyNotJSON
	// BodyInvalid: the JSON has an unknown or mistyped field, or data
	// after it (a violation).
	BodyInvalid
)

// DecodeJSON reads r's JSON body, at most limit bytes, strictly into v: the
// Content-Type must be application/json, and unknown fields and data after
// the JSON value are refused, as violations recorded in vs. It returns the
// raw body whenever it was read, even when it is refused.
func DecodeJSON(vs *Violations, r *http.Request, v any, limit int64) ([]byte, *BodyError) {
	refuse := func(p BodyProblem, msg, violation string, args ...any) *BodyError {
		vs.Addf("%s %s: "+violation, append([]any{r.Method, r.URL.Path}, args...)...)
		return &BodyError{Status: http.StatusBadRequest, Message: msg, Problem: p}
	}
	if mt, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type")); mt != "application/json" {
		return nil, refuse(BodyNotJSON, "Content-Type must be application/json", "Content-Type must be application/json, got %q", r.Header.Get("Content-Type"))
	}
	raw, err := io.ReadAll(io.LimitReader(r.Body, limit+1))
	if err != nil {
		return nil, &BodyError{Status: http.StatusBadRequest, Message: err.Error(), Problem: BodyUnreadable}
	}
	if int64(len(raw)) > limit {
		return nil, &BodyError{Status: http.StatusRequestEntityTooLarge, Message: "Request Entity Too Large", Problem: BodyUnreadable}
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return raw, refuse(BodyInvalid, err.Error(), "body rejected: %v", err)
	}
	if dec.More() {
		return raw, refuse(BodyInvalid, "trailing data", "trailing data after the JSON body")
	}
	return raw, nil
}

// JSONKeys returns the top-level keys of a JSON object, sorted, or nil when
// raw is not an object.
func JSONKeys(raw []byte) []string {
	var keys map[string]json.RawMessage
	if json.Unmarshal(raw, &keys) != nil {
		return nil
	}
	return slices.Sorted(maps.Keys(keys))
}

// PeekBody reads r's body for a [Check] and puts it back for the handler.
func PeekBody(r *http.Request) []byte {
	if r.Body == nil {
		return nil
	}
	raw, _ := io.ReadAll(r.Body)
	r.Body.Close()
	r.Body = io.NopCloser(bytes.NewReader(raw))
	return raw
}

// FormFields returns the names of a multipart/form-data body's parts, in
// order, for a [Check]; nil when the body is not multipart.
func FormFields(r *http.Request) []string {
	mt, params, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if mt != "multipart/form-data" || params["boundary"] == "" {
		return nil
	}
	mr := multipart.NewReader(bytes.NewReader(PeekBody(r)), params["boundary"])
	var names []string
	for {
		part, err := mr.NextPart()
		if err != nil {
			return names
		}
		names = append(names, part.FormName())
	}
}
