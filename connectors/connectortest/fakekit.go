package connectortest

// The plumbing helpdesk fakes share: routing with the documented query
// parameters, a request log, a violation log, failure injection and strict
// JSON bodies. Each fake keeps its helpdesk's wire format (error bodies,
// authentication, the answers to injected failures); these pieces do the
// bookkeeping around it. They are safe for concurrent use and take no lock
// of the fake, so a fake may call them while it holds its own.

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"mime"
	"net/http"
	"slices"
	"strings"
	"sync"
	"testing"
)

// Route is one endpoint of a fake, with the query parameters the helpdesk
// documents for it.
type Route struct {
	// Pattern is an http.ServeMux pattern: "GET /api/v2/users/{id}".
	Pattern string
	// Query are the documented query parameters.
	Query  []string
	Handle http.HandlerFunc
}

// Router serves a fake's routes and checks requests against them.
type Router struct {
	mux   *http.ServeMux
	query map[string][]string
}

// NewRouter returns a router of routes.
func NewRouter(routes []Route) *Router {
	rt := &Router{mux: http.NewServeMux(), query: map[string][]string{}}
	for _, r := range routes {
		rt.mux.HandleFunc(r.Pattern, r.Handle)
		rt.query[r.Pattern] = r.Query
	}
	return rt
}

// Check reports whether r is for a documented endpoint with documented
// query parameters. Otherwise it records the violation in vs ("no such
// <helpdesk> endpoint" or "undocumented query parameter") and returns the
// status the fake answers: http.StatusNotFound, or http.StatusBadRequest
// with the offending parameter.
func (rt *Router) Check(r *http.Request, vs *Violations, helpdesk string) (status int, param string) {
	_, pattern := rt.mux.Handler(r)
	if pattern == "" {
		vs.Addf("%s %s: no such %s endpoint", r.Method, r.URL.Path, helpdesk)
		return http.StatusNotFound, ""
	}
	for key := range r.URL.Query() {
		if !slices.Contains(rt.query[pattern], key) {
			vs.Addf("%s %s: undocumented query parameter %q", r.Method, r.URL.Path, key)
			return http.StatusBadRequest, key
		}
	}
	return 0, ""
}

// ServeHTTP serves r with its route's handler.
func (rt *Router) ServeHTTP(w http.ResponseWriter, r *http.Request) { rt.mux.ServeHTTP(w, r) }

// RequestLog keeps the requests a fake received (in the fake's own type R),
// for assertions, and counts them. The zero value keeps every request.
type RequestLog[R any] struct {
	// Max, when positive, is how many requests the log keeps: the oldest
	// go first.
	Max int

	mu    sync.Mutex
	items []R
	count int
}

// Add records a request.
func (l *RequestLog[R]) Add(req R) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.count++
	if l.Max > 0 && len(l.items) == l.Max {
		l.items = slices.Delete(l.items, 0, 1)
	}
	l.items = append(l.items, req)
}

// UpdateLast changes the last recorded request (a handler noting what it
// read of the body).
func (l *RequestLog[R]) UpdateLast(update func(req *R)) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if n := len(l.items); n > 0 {
		update(&l.items[n-1])
	}
}

// All returns the kept requests, oldest first.
func (l *RequestLog[R]) All() []R {
	l.mu.Lock()
	defer l.mu.Unlock()
	return slices.Clone(l.items)
}

// Count returns how many requests were recorded, including the ones no
// longer kept.
func (l *RequestLog[R]) Count() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.count
}

// Violations records the rules of the helpdesk a client broke. When TB is
// set each violation also fails the test.
type Violations struct {
	// TB, when not nil, gets every violation as an error.
	TB testing.TB
	// Prefix starts the test errors: the fake's package name.
	Prefix string

	mu   sync.Mutex
	list []string
}

// Addf records a violation.
func (v *Violations) Addf(format string, args ...any) {
	msg := fmt.Sprintf(format, args...)
	v.mu.Lock()
	v.list = append(v.list, msg)
	v.mu.Unlock()
	if v.TB != nil {
		v.TB.Errorf("%s: %s", v.Prefix, msg)
	}
}

// All returns the violations recorded so far.
func (v *Violations) All() []string {
	v.mu.Lock()
	defer v.mu.Unlock()
	return slices.Clone(v.list)
}

// Failures is a fake's failure injection: the failures queued with
// FailNext, FailNextWith and FailMatching, which the requests that follow
// take in order. The zero value has none queued.
type Failures struct {
	mu      sync.Mutex
	queue   []injected
	closing chan struct{}
	once    sync.Once
}

type injected struct {
	kind Failure // 0 for a canned answer
	// status, header and body are the canned answer.
	status int
	header http.Header
	body   string
	// method and path, when method is set, select the request that fails.
	method, path string
}

// FailNext makes the next n requests fail with kind.
func (fs *Failures) FailNext(n int, kind Failure) {
	fs.mu.Lock()
	defer fs.mu.Unlock()
	for range n {
		fs.queue = append(fs.queue, injected{kind: kind})
	}
}

// FailNextWith makes the next request fail with this status, headers and
// body (Content-Type defaults to application/json).
func (fs *Failures) FailNextWith(status int, header http.Header, body string) {
	fs.mu.Lock()
	defer fs.mu.Unlock()
	fs.queue = append(fs.queue, injected{status: status, header: header.Clone(), body: body})
}

// FailMatching makes the next request with this method whose path ends
// with suffix fail with kind; other requests go through.
func (fs *Failures) FailMatching(method, suffix string, kind Failure) {
	fs.mu.Lock()
	defer fs.mu.Unlock()
	fs.queue = append(fs.queue, injected{kind: kind, method: method, path: suffix})
}

// Inject answers r with the first queued failure that applies to it, and
// reports whether there was one. It drains the request body. FailTimeout
// holds the request until the client gives up or Close is called; canned
// answers are written as queued; answer writes the helpdesk's own answer to
// the other kinds.
func (fs *Failures) Inject(w http.ResponseWriter, r *http.Request, answer func(w http.ResponseWriter, kind Failure)) bool {
	fs.mu.Lock()
	i := slices.IndexFunc(fs.queue, func(in injected) bool {
		return in.method == "" || (in.method == r.Method && strings.HasSuffix(r.URL.Path, in.path))
	})
	if i < 0 {
		fs.mu.Unlock()
		return false
	}
	in := fs.queue[i]
	fs.queue = slices.Delete(fs.queue, i, i+1)
	closing := fs.closingLocked()
	fs.mu.Unlock()
	_, _ = io.Copy(io.Discard, r.Body)
	switch in.kind {
	case FailTimeout:
		select {
		case <-r.Context().Done():
		case <-closing:
		}
	case 0:
		maps.Copy(w.Header(), in.header)
		if w.Header().Get("Content-Type") == "" {
			w.Header().Set("Content-Type", "application/json; charset=utf-8")
		}
		w.WriteHeader(in.status)
		_, _ = io.WriteString(w, in.body)
	default:
		answer(w, in.kind)
	}
	return true
}

// Close releases the requests FailTimeout holds, now and later.
func (fs *Failures) Close() {
	fs.mu.Lock()
	closing := fs.closingLocked()
	fs.mu.Unlock()
	fs.once.Do(func() { close(closing) })
}

func (fs *Failures) closingLocked() chan struct{} {
	if fs.closing == nil {
		fs.closing = make(chan struct{})
	}
	return fs.closing
}

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

// DeliverTo posts d to a webhook endpoint, as the helpdesk would. An answer
// other than 2xx is an error.
func DeliverTo(ctx context.Context, hc *http.Client, endpoint string, d Delivery) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, endpoint, bytes.NewReader(d.Body))
	if err != nil {
		return err
	}
	req.Header = d.Header.Clone()
	resp, err := hc.Do(req)
	if err != nil {
		return err
	}
	resp.Body.Close()
	if resp.StatusCode/100 != 2 {
		return errors.New("deliver to " + endpoint + ": " + resp.Status)
	}
	return nil
}
