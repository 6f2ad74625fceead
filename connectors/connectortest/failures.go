package connectortest

// Failure injection and the violation log of the helpdesk fakes. They are
// safe for concurrent use and take no lock of the fake, so a fake may call
// them while it holds its own.

import (
	"fmt"
	"io"
	"maps"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

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
// the other kinds (after the Retry-After header of FailRateLimited).
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
		Canned{Status: in.status, Header: in.header, Body: in.body}.Write(w)
	case FailRateLimited:
		w.Header().Set("Retry-After", strconv.Itoa(int(RateLimitRetryAfter/time.Second)))
		answer(w, in.kind)
	default:
		answer(w, in.kind)
	}
	return true
}

// Canned is an answer written as it is: a status, headers and a body
// (Content-Type defaults to application/json).
type Canned struct {
	Status int
	Header http.Header
	Body   string
}

// Write answers with c.
func (c Canned) Write(w http.ResponseWriter) {
	maps.Copy(w.Header(), c.Header)
	if w.Header().Get("Content-Type") == "" {
		w.Header().Set("Content-Type", "application/json; charset=utf-8")
	}
	w.WriteHeader(c.Status)
	_, _ = io.WriteString(w, c.Body)
}

// CannedFailures is a [Wire] Fail that answers each injected failure with
// the helpdesk's canned answer to it, and a failure it has none for with
// its answer to FailServerError.
func CannedFailures(answers map[Failure]Canned) func(w http.ResponseWriter, kind Failure) {
	return func(w http.ResponseWriter, kind Failure) {
		c, ok := answers[kind]
		if !ok {
			c = answers[FailServerError]
		}
		c.Write(w)
	}
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
