package connectortest

// The scaffolding the connectors' own client tests share: a connector on
// a fresh fake, and the table-driven checks every client test runs in its
// helpdesk's terms.

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/relaydesk/relaydesk/connectors"
	"github.com/stretchr/testify/require"
)

// Bundle is a connector under test, the fake it talks to and the test's
// context.
type Bundle[C connectors.Connector, F Configured] struct {
	C   C
	F   F
	Ctx context.Context
	// Name is the requester's profile name [Bundle.Ticket] uses.
	Name string
}

// Setup builds a connector with newConnector against fake, with an HTTP
// client that gives up after timeout.
func Setup[C connectors.Connector, F Configured](t *testing.T, fake F, timeout time.Duration, newConnector func(connectors.Config) (C, error)) *Bundle[C, F] {
	t.Helper()
	c := Connect(t, fake, &http.Client{Timeout: timeout}, newConnector)
	return &Bundle[C, F]{C: c, F: fake, Ctx: t.Context(), Name: "Grace"}
}

// Ticket creates the requester with this phone and a ticket whose first
// message says hello, and returns their ids.
func (b *Bundle[C, F]) Ticket(t *testing.T, phone string) (ticketID, requesterID string) {
	t.Helper()
	rid, err := b.C.EnsureRequester(b.Ctx, connectors.Requester{Phone: phone, Name: b.Name})
	require.NoError(t, err)
	tk, _, err := b.C.CreateTicket(b.Ctx, connectors.NewTicket{RequesterID: rid, Subject: "Hi", First: connectors.Message{Key: "wamid." + phone, Body: "hello"}})
	require.NoError(t, err)
	return tk.ID, rid
}

// RequireRefusesPhones runs a subtest: c must refuse, as permanent errors,
// requesters whose numbers are not E.164 (these and a few every helpdesk
// refuses).
func RequireRefusesPhones(t *testing.T, c connectors.Connector, phones ...string) {
	t.Helper()
	t.Run("rejects a number that is not E.164", func(t *testing.T) {
		for _, phone := range append([]string{"447700900123", "+44 7700 900123", "+12", ""}, phones...) {
			_, err := c.EnsureRequester(t.Context(), connectors.Requester{Phone: phone})
			require.True(t, connectors.IsPermanent(err), "phone %q: %v", phone, err)
		}
	})
}

// HTTPFailure is an answer a fake gives once, and how the connector must
// classify it.
type HTTPFailure struct {
	Name   string
	Status int
	Header http.Header
	Body   string
	Class  connectors.Class
	After  time.Duration
}

// FailerWith is a fake that answers the next request as told:
// [Server.FailNextWith].
type FailerWith interface {
	FailNextWith(status int, header http.Header, body string)
}

// RequireHTTPFailures runs a parallel subtest per case. arm prepares a
// fake and returns it with the call to make; the fake answers the call's
// request with the case's answer, and the call must fail with the case's
// class and Retry-After, without secret in its message.
func RequireHTTPFailures(t *testing.T, secret string, cases []HTTPFailure, arm func(t *testing.T) (FailerWith, func() error)) {
	t.Helper()
	for _, tt := range cases {
		t.Run(tt.Name, func(t *testing.T) {
			t.Parallel()
			f, call := arm(t)
			f.FailNextWith(tt.Status, tt.Header, tt.Body)
			err := call()
			var ce *connectors.Error
			require.ErrorAs(t, err, &ce)
			require.Equal(t, tt.Class, ce.Class, "%v", err)
			require.Equal(t, tt.After, ce.RetryAfter)
			require.NotContains(t, err.Error(), secret)
		})
	}
}

// Receiver is a webhook endpoint for tests: it parses each delivery with
// its parse function, answers 401 to one it refuses, and keeps the events
// of the last one it accepted.
type Receiver struct {
	*httptest.Server
	last atomic.Pointer[[]connectors.Event]
}

// NewReceiver starts a receiver, closed at the test's cleanup.
func NewReceiver(t *testing.T, parse func(r *http.Request, body []byte) ([]connectors.Event, error)) *Receiver {
	rc := &Receiver{}
	rc.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		evs, err := parse(r, body)
		if err != nil {
			http.Error(w, err.Error(), http.StatusUnauthorized)
			return
		}
		rc.last.Store(&evs)
	}))
	t.Cleanup(rc.Close)
	return rc
}

// Events returns the events of the last accepted delivery, nil before one.
func (rc *Receiver) Events() []connectors.Event {
	if evs := rc.last.Load(); evs != nil {
		return *evs
	}
	return nil
}

// Violator is a fake that records the requests breaking its rules.
type Violator interface {
	Violations() []string
}

// RequireUnknownField sends req, a request with a field the helpdesk does
// not document, to fake: it must be refused with 400 and recorded as the
// one violation, naming field.
func RequireUnknownField(t *testing.T, fake Violator, req *http.Request, field string) {
	t.Helper()
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	resp.Body.Close()
	require.Equal(t, http.StatusBadRequest, resp.StatusCode)
	require.Len(t, fake.Violations(), 1)
	require.Contains(t, fake.Violations()[0], `unknown field "`+field+`"`)
}

// NewRequest returns a request with a body, for [RequireUnknownField].
func NewRequest(t *testing.T, method, url, body string) *http.Request {
	t.Helper()
	req, err := http.NewRequest(method, url, strings.NewReader(body))
	require.NoError(t, err)
	return req
}

// RequireRegistered checks that kind is registered under displayName and
// builds a connector of that kind from cfg; it returns the registration
// for further checks.
func RequireRegistered(t *testing.T, kind, displayName string, cfg connectors.Config) connectors.Registration {
	t.Helper()
	reg, ok := connectors.Lookup(kind)
	require.True(t, ok)
	require.Equal(t, displayName, reg.Description.DisplayName)
	c, err := connectors.New(kind, cfg)
	require.NoError(t, err)
	require.Equal(t, kind, c.Kind())
	return reg
}

// RequireInstall installs the webhook for callback through c and requires
// the fake's signing secret back.
func RequireInstall(t *testing.T, c connectors.WebhookInstaller, fake Fake, callback string) []byte {
	t.Helper()
	secret, err := c.InstallWebhook(t.Context(), callback)
	require.NoError(t, err)
	require.Equal(t, fake.WebhookSecret(), secret)
	return secret
}

// Add adds m to a ticket as its requester's message and returns the
// comment's id.
func (b *Bundle[C, F]) Add(t *testing.T, ticketID, requesterID string, m connectors.Message) string {
	t.Helper()
	id, err := b.C.AddMessage(b.Ctx, ticketID, requesterID, m)
	require.NoError(t, err)
	return id
}

// Fill adds n agent replies to a ticket, to push older comments to later
// pages.
func (b *Bundle[C, F]) Fill(ticketID string, n int) {
	for i := range n {
		b.F.AgentReply(ticketID, fmt.Sprintf("filler %d", i))
	}
}

// Last returns a ticket's last comment in the fake.
func (b *Bundle[C, F]) Last(t *testing.T, ticketID string) Comment {
	t.Helper()
	comments := b.F.Comments(ticketID)
	require.NotEmpty(t, comments)
	return comments[len(comments)-1]
}

// RequireLength checks the Content-Length recorded by [RecordLength]: set
// when the upload's size was known, -1 (chunked) when it was not.
func RequireLength(t *testing.T, length *atomic.Int64, known bool) {
	t.Helper()
	if known {
		require.Positive(t, length.Load())
	} else {
		require.Equal(t, int64(-1), length.Load())
	}
}

// Phones hands out fresh E.164 numbers: a prefix and a five-digit
// sequence. It is safe for concurrent use.
type Phones struct {
	prefix string
	n      atomic.Int64
}

// NewPhones returns numbers starting with prefix.
func NewPhones(prefix string) *Phones { return &Phones{prefix: prefix} }

// Next returns the next number.
func (p *Phones) Next() string { return fmt.Sprintf("%s%05d", p.prefix, p.n.Add(1)) }

// MustPoll polls p from cursor, and returns the events and the next
// cursor; an error fails the test.
func MustPoll(t *testing.T, p connectors.Poller, cursor string) ([]connectors.Event, string) {
	t.Helper()
	evs, next, err := p.Poll(t.Context(), cursor)
	require.NoError(t, err)
	return evs, next
}

// RequireRefusesCursor runs a subtest: p must refuse a cursor it cannot
// read with a permanent error.
func RequireRefusesCursor(t *testing.T, p connectors.Poller, cursor string) {
	t.Helper()
	t.Run("an unreadable cursor is a permanent error", func(t *testing.T) {
		_, _, err := p.Poll(t.Context(), cursor)
		require.True(t, connectors.IsPermanent(err), "%v", err)
	})
}

// RequireIdempotentCreate creates nt twice through c and requires the same
// ticket and first comment both times; it returns them.
func RequireIdempotentCreate(t *testing.T, c connectors.Connector, nt connectors.NewTicket) (connectors.Ticket, string) {
	t.Helper()
	tk1, c1, err := c.CreateTicket(t.Context(), nt)
	require.NoError(t, err)
	tk2, c2, err := c.CreateTicket(t.Context(), nt)
	require.NoError(t, err)
	require.Equal(t, tk1.ID, tk2.ID)
	require.Equal(t, c1, c2)
	return tk1, c1
}
