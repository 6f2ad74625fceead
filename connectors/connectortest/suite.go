package connectortest

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/relaydesk/relaydesk/connectors"
)

// Run runs the conformance suite against the connector and fake the harness
// builds. Every subtest gets a fresh fake and runs in parallel.
//
// It checks: requester lookup is idempotent (also under concurrency) and
// finds existing users by exact phone; tickets are created with the first
// comment public and authored by the requester, idempotently on the message
// key; comments keep their order; attachments arrive with their name, type
// and bytes; notes are private; statuses are normalized; a comment on a
// solved ticket reopens it while a closed ticket refuses with
// [connectors.ErrTicketClosed] and a new ticket links the closed one;
// webhooks are authenticated (forged, wrong secret, stale and future
// timestamps, missing headers rejected with [connectors.ErrUnauthorized],
// authentic garbage with [connectors.ErrMalformed]) and parse agent replies,
// requester echoes, notes and status changes, with ids stable across
// redeliveries; HTTP failures are classified (429 with Retry-After, 5xx,
// timeout, 401, 404) without leaking credentials; and the optional
// capabilities the connector implements behave.
func Run(t *testing.T, h Harness) {
	t.Helper()
	require.NotNil(t, h.New, "Harness.New is required")
	s := &suite{h: h}
	t.Run("EnsureRequester", s.testEnsureRequester)
	t.Run("PhonelessRequester", s.testPhonelessRequester)
	t.Run("CreateTicket", s.testCreateTicket)
	t.Run("AddMessage", s.testAddMessage)
	t.Run("AddNote", s.testAddNote)
	t.Run("GetTicket", s.testGetTicket)
	t.Run("ParseWebhook", s.testParseWebhook)
	t.Run("Errors", s.testErrors)
	t.Run("Capabilities", s.testCapabilities)
}

type suite struct{ h Harness }

// bundle is one subtest's connector, fake and context.
type bundle struct {
	c   connectors.Connector
	f   Fake
	ctx context.Context
}

func (s *suite) setup(t *testing.T) *bundle {
	t.Helper()
	return s.setupWith(t, &http.Client{Timeout: 10 * time.Second})
}

func (s *suite) setupWith(t *testing.T, hc *http.Client) *bundle {
	t.Helper()
	c, f := s.h.New(t, hc)
	require.NotNil(t, c)
	require.NotNil(t, f)
	return &bundle{c: c, f: f, ctx: t.Context()}
}

// run runs fn as a parallel subtest with a fresh connector and fake.
func (s *suite) run(t *testing.T, name string, fn func(t *testing.T, b *bundle)) {
	t.Helper()
	t.Run(name, func(t *testing.T) {
		t.Parallel()
		fn(t, s.setup(t))
	})
}

// withTicket runs fn as [suite.run] does, on a ticket of a new requester.
func (s *suite) withTicket(t *testing.T, name string, fn func(t *testing.T, b *bundle, ticketID, requesterID string)) {
	t.Helper()
	s.run(t, name, func(t *testing.T, b *bundle) {
		tid, rid := b.ticket(t)
		fn(t, b, tid, rid)
	})
}

// implements returns the connector as a T, and skips the test when it is
// not one.
func implements[T any](t *testing.T, c connectors.Connector, name string) T {
	t.Helper()
	v, ok := c.(T)
	if !ok {
		t.Skip("connector does not implement " + name)
	}
	return v
}

var phoneSeq atomic.Int64

// newPhone returns a fresh E.164 number.
func newPhone() string { return fmt.Sprintf("+1555%07d", phoneSeq.Add(1)) }

func (b *bundle) requester(t *testing.T) (string, connectors.Requester) {
	t.Helper()
	r := connectors.Requester{Phone: newPhone(), Name: "Ada Lovelace"}
	r.WaID = r.Phone[1:]
	id, err := b.c.EnsureRequester(b.ctx, r)
	require.NoError(t, err)
	require.NotEmpty(t, id)
	return id, r
}

func message(key, body string, files ...File) connectors.Message {
	m := connectors.Message{Key: key, Body: body, At: time.Date(2026, 11, 20, 10, 0, 0, 0, time.UTC)}
	for _, f := range files {
		m.Attachments = append(m.Attachments, attachment(f, nil))
	}
	return m
}

// attachment streams f, counting opens in opens when it is not nil.
func attachment(f File, opens *atomic.Int64) connectors.Attachment {
	return connectors.Attachment{
		Filename:    f.Filename,
		ContentType: f.ContentType,
		Size:        int64(len(f.Data)),
		Open: func(context.Context) (io.ReadCloser, error) {
			if opens != nil {
				opens.Add(1)
			}
			return io.NopCloser(bytes.NewReader(f.Data)), nil
		},
	}
}

// file returns a file with n deterministic, non-text bytes.
func file(name, contentType string, n int) File {
	data := make([]byte, n)
	for i := range data {
		data[i] = byte(i*7 + n)
	}
	return File{Filename: name, ContentType: contentType, Data: data}
}

func (b *bundle) ticket(t *testing.T) (ticketID, requesterID string) {
	t.Helper()
	rid, _ := b.requester(t)
	tk, _, err := b.c.CreateTicket(b.ctx, connectors.NewTicket{
		RequesterID: rid,
		Subject:     "WhatsApp conversation",
		First:       message("wamid.first."+rid, "Hello, my order is late"),
		Tags:        []string{"whatsapp"},
		ExternalID:  "wa:100:" + rid,
	})
	require.NoError(t, err)
	require.NotEmpty(t, tk.ID)
	return tk.ID, rid
}

func usersWithPhone(f Fake, phone string) []User {
	var out []User
	for _, u := range f.Users() {
		if u.Phone == phone {
			out = append(out, u)
		}
	}
	return out
}

func fakeTicket(t *testing.T, f Fake, id string) Ticket {
	t.Helper()
	for _, tk := range f.Tickets() {
		if tk.ID == id {
			return tk
		}
	}
	require.Failf(t, "ticket not in fake", "ticket %s", id)
	return Ticket{}
}
