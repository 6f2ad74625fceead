package connectortest

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
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

var phoneSeq atomic.Int64

// newPhone returns a fresh E.164 number.
func newPhone() string { return fmt.Sprintf("+1555%07d", phoneSeq.Add(1)) }

func (b *bundle) requester(t *testing.T) (string, connectors.Requester) {
	t.Helper()
	r := connectors.Requester{Phone: newPhone(), Name: "Ada Lovelace"}
	r.WaID = strings.TrimPrefix(r.Phone, "+")
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

func (s *suite) testEnsureRequester(t *testing.T) {
	t.Parallel()

	t.Run("same phone twice returns one user", func(t *testing.T) {
		t.Parallel()
		b := s.setup(t)
		id1, r := b.requester(t)
		id2, err := b.c.EnsureRequester(b.ctx, r)
		require.NoError(t, err)
		require.Equal(t, id1, id2)
		users := usersWithPhone(b.f, r.Phone)
		require.Len(t, users, 1)
		require.Equal(t, id1, users[0].ID)
	})

	t.Run("different phones give different users", func(t *testing.T) {
		t.Parallel()
		b := s.setup(t)
		id1, _ := b.requester(t)
		id2, _ := b.requester(t)
		require.NotEqual(t, id1, id2)
	})

	t.Run("finds an existing user by exact phone", func(t *testing.T) {
		t.Parallel()
		b := s.setup(t)
		phone := newPhone()
		seeded := b.f.SeedUser("Existing Customer", phone)
		id, err := b.c.EnsureRequester(b.ctx, connectors.Requester{Phone: phone, WaID: phone[1:], Name: "Profile Name"})
		require.NoError(t, err)
		require.Equal(t, seeded, id)
		require.Len(t, usersWithPhone(b.f, phone), 1)
	})

	t.Run("concurrent calls create one user", func(t *testing.T) {
		t.Parallel()
		b := s.setup(t)
		phone := newPhone()
		const n = 6
		ids := make([]string, n)
		errs := make([]error, n)
		var wg sync.WaitGroup
		for i := range n {
			wg.Go(func() {
				ids[i], errs[i] = b.c.EnsureRequester(b.ctx, connectors.Requester{Phone: phone, WaID: phone[1:], Name: "Racer"})
			})
		}
		wg.Wait()
		for i := range n {
			require.NoError(t, errs[i])
			require.Equal(t, ids[0], ids[i])
		}
		require.Len(t, usersWithPhone(b.f, phone), 1)
	})
}

func (s *suite) testCreateTicket(t *testing.T) {
	t.Parallel()

	t.Run("first comment is the requester's public message", func(t *testing.T) {
		t.Parallel()
		b := s.setup(t)
		rid, _ := b.requester(t)
		tk, firstID, err := b.c.CreateTicket(b.ctx, connectors.NewTicket{
			RequesterID: rid,
			Subject:     "Order question",
			First:       message("wamid.A1", "Where is my order?"),
			Tags:        []string{"whatsapp", "vip"},
			ExternalID:  "wa:100:15550000001",
		})
		require.NoError(t, err)
		require.NotEmpty(t, tk.ID)
		require.NotEmpty(t, tk.URL)
		require.Equal(t, connectors.StatusOpen, tk.Status)

		ft := fakeTicket(t, b.f, tk.ID)
		require.Equal(t, rid, ft.RequesterID)
		require.Equal(t, "Order question", ft.Subject)
		require.Equal(t, "wa:100:15550000001", ft.ExternalID)
		require.Subset(t, ft.Tags, []string{"whatsapp", "vip"})

		comments := b.f.Comments(tk.ID)
		require.Len(t, comments, 1)
		require.Equal(t, firstID, comments[0].ID)
		require.Equal(t, rid, comments[0].AuthorID)
		require.True(t, comments[0].Public)
		require.Equal(t, "Where is my order?", comments[0].Body)
	})

	t.Run("retry with the same message key creates one ticket", func(t *testing.T) {
		t.Parallel()
		b := s.setup(t)
		rid, _ := b.requester(t)
		nt := connectors.NewTicket{RequesterID: rid, Subject: "Retry", First: message("wamid.R1", "only once")}
		tk1, c1, err := b.c.CreateTicket(b.ctx, nt)
		require.NoError(t, err)
		tk2, c2, err := b.c.CreateTicket(b.ctx, nt)
		require.NoError(t, err)
		require.Equal(t, tk1.ID, tk2.ID)
		require.Equal(t, c1, c2)
		require.Len(t, b.f.Tickets(), 1)
		require.Len(t, b.f.Comments(tk1.ID), 1)
	})

	t.Run("retry of a message with attachments creates one ticket", func(t *testing.T) {
		t.Parallel()
		b := s.setup(t)
		rid, _ := b.requester(t)
		nt := connectors.NewTicket{RequesterID: rid, Subject: "Photo", First: message("wamid.P1", "see photo", file("photo.jpg", "image/jpeg", 2048))}
		tk1, c1, err := b.c.CreateTicket(b.ctx, nt)
		require.NoError(t, err)
		tk2, c2, err := b.c.CreateTicket(b.ctx, nt)
		require.NoError(t, err)
		require.Equal(t, tk1.ID, tk2.ID)
		require.Equal(t, c1, c2)
		require.Len(t, b.f.Tickets(), 1)
	})

	t.Run("attachments arrive intact", func(t *testing.T) {
		t.Parallel()
		b := s.setup(t)
		rid, _ := b.requester(t)
		files := []File{file("photo.jpg", "image/jpeg", 4096), file("invoice.pdf", "application/pdf", 777)}
		tk, _, err := b.c.CreateTicket(b.ctx, connectors.NewTicket{RequesterID: rid, Subject: "Files", First: message("wamid.F1", "two files", files...)})
		require.NoError(t, err)
		comments := b.f.Comments(tk.ID)
		require.Len(t, comments, 1)
		require.Equal(t, files, comments[0].Attachments)
	})

	t.Run("follow-up of a closed ticket links it", func(t *testing.T) {
		t.Parallel()
		b := s.setup(t)
		prev, rid := b.ticket(t)
		b.f.SetStatus(prev, connectors.StatusClosed)
		tk, _, err := b.c.CreateTicket(b.ctx, connectors.NewTicket{
			RequesterID: rid, Subject: "Again", First: message("wamid.N1", "me again"), PreviousTicketID: prev,
		})
		require.NoError(t, err)
		require.NotEqual(t, prev, tk.ID)
		require.Equal(t, prev, fakeTicket(t, b.f, tk.ID).FollowupOf)
	})
}

func (s *suite) testAddMessage(t *testing.T) {
	t.Parallel()

	t.Run("comments keep their order", func(t *testing.T) {
		t.Parallel()
		b := s.setup(t)
		tid, rid := b.ticket(t)
		var ids []string
		for i := range 3 {
			id, err := b.c.AddMessage(b.ctx, tid, rid, message(fmt.Sprintf("wamid.O%d", i), fmt.Sprintf("message %d", i)))
			require.NoError(t, err)
			require.NotEmpty(t, id)
			ids = append(ids, id)
		}
		comments := b.f.Comments(tid)
		require.Len(t, comments, 4)
		for i, c := range comments[1:] {
			require.Equal(t, ids[i], c.ID)
			require.Equal(t, fmt.Sprintf("message %d", i), c.Body)
			require.Equal(t, rid, c.AuthorID)
			require.True(t, c.Public)
		}
	})

	t.Run("attachments are opened lazily and arrive intact", func(t *testing.T) {
		t.Parallel()
		b := s.setup(t)
		tid, rid := b.ticket(t)
		f := file("voice.ogg", "audio/ogg", 3000)
		var opens atomic.Int64
		m := connectors.Message{Key: "wamid.V1", Attachments: []connectors.Attachment{attachment(f, &opens)}}
		require.Zero(t, opens.Load())
		id, err := b.c.AddMessage(b.ctx, tid, rid, m)
		require.NoError(t, err)
		require.GreaterOrEqual(t, opens.Load(), int64(1))
		comments := b.f.Comments(tid)
		last := comments[len(comments)-1]
		require.Equal(t, id, last.ID)
		require.Equal(t, []File{f}, last.Attachments)
	})

	t.Run("a comment on a solved ticket reopens it", func(t *testing.T) {
		t.Parallel()
		b := s.setup(t)
		tid, rid := b.ticket(t)
		b.f.SetStatus(tid, connectors.StatusSolved)
		_, err := b.c.AddMessage(b.ctx, tid, rid, message("wamid.S1", "one more thing"))
		require.NoError(t, err)
		tk, err := b.c.GetTicket(b.ctx, tid)
		require.NoError(t, err)
		require.False(t, tk.Status.IsResolved(), "status %s", tk.Status)
	})

	t.Run("a closed ticket refuses the comment", func(t *testing.T) {
		t.Parallel()
		b := s.setup(t)
		tid, rid := b.ticket(t)
		b.f.SetStatus(tid, connectors.StatusClosed)
		_, err := b.c.AddMessage(b.ctx, tid, rid, message("wamid.C1", "hello?"))
		require.ErrorIs(t, err, connectors.ErrTicketClosed)
		require.True(t, connectors.IsPermanent(err))
		require.Len(t, b.f.Comments(tid), 1)
	})
}

func (s *suite) testAddNote(t *testing.T) {
	t.Parallel()
	b := s.setup(t)
	tid, _ := b.ticket(t)
	id, err := b.c.AddNote(b.ctx, tid, connectors.Note{Key: "note-1", Body: "Message not delivered: outside the 24-hour window."})
	require.NoError(t, err)
	comments := b.f.Comments(tid)
	require.Len(t, comments, 2)
	require.Equal(t, id, comments[1].ID)
	require.False(t, comments[1].Public)
	require.Equal(t, "Message not delivered: outside the 24-hour window.", comments[1].Body)
}

func (s *suite) testGetTicket(t *testing.T) {
	t.Parallel()
	for _, st := range []connectors.Status{connectors.StatusPending, connectors.StatusSolved, connectors.StatusOpen, connectors.StatusClosed} {
		t.Run(string(st), func(t *testing.T) {
			t.Parallel()
			b := s.setup(t)
			tid, _ := b.ticket(t)
			b.f.SetStatus(tid, st)
			tk, err := b.c.GetTicket(b.ctx, tid)
			require.NoError(t, err)
			require.Equal(t, tid, tk.ID)
			require.Equal(t, st, tk.Status)
			require.NotEmpty(t, tk.URL)
		})
	}
	t.Run("unknown ticket is not found", func(t *testing.T) {
		t.Parallel()
		b := s.setup(t)
		_, err := b.c.GetTicket(b.ctx, "987654321")
		require.Error(t, err)
		require.True(t, connectors.IsNotFound(err), "class %s: %v", connectors.ClassOf(err), err)
	})
}

// parse parses d as received at d.At and returns the comment event with id
// commentID (or the only event when commentID is empty).
func (b *bundle) parse(t *testing.T, d Delivery, commentID string) connectors.Event {
	t.Helper()
	evs, err := b.c.ParseWebhook(d.Header, d.Body, b.f.WebhookSecret(), d.At)
	require.NoError(t, err)
	for _, e := range evs {
		if commentID == "" || e.CommentID == commentID {
			return e
		}
	}
	require.Failf(t, "event not found", "comment %q in %+v", commentID, evs)
	return connectors.Event{}
}

func (s *suite) testParseWebhook(t *testing.T) {
	t.Parallel()

	t.Run("agent reply", func(t *testing.T) {
		t.Parallel()
		b := s.setup(t)
		tid, rid := b.ticket(t)
		cid := b.f.AgentReply(tid, "Your order ships today.")
		e := b.parse(t, b.f.CommentDelivery(tid, cid), cid)
		require.Equal(t, connectors.EventComment, e.Type)
		require.Equal(t, tid, e.TicketID)
		require.Equal(t, cid, e.CommentID)
		require.NotEqual(t, rid, e.AuthorID)
		require.True(t, e.Public)
		require.False(t, e.FromRequester)
		require.True(t, e.IsAgentReply())
		require.Contains(t, e.Body, "Your order ships today.")
		require.False(t, e.At.IsZero())
	})

	t.Run("the requester's own comment is flagged", func(t *testing.T) {
		t.Parallel()
		b := s.setup(t)
		tid, rid := b.ticket(t)
		cid, err := b.c.AddMessage(b.ctx, tid, rid, message("wamid.E1", "echo?"))
		require.NoError(t, err)
		e := b.parse(t, b.f.CommentDelivery(tid, cid), cid)
		require.Equal(t, rid, e.AuthorID)
		require.True(t, e.FromRequester)
		require.False(t, e.IsAgentReply())
	})

	t.Run("internal note is private", func(t *testing.T) {
		t.Parallel()
		b := s.setup(t)
		tid, _ := b.ticket(t)
		cid := b.f.AgentNote(tid, "internal only")
		e := b.parse(t, b.f.CommentDelivery(tid, cid), cid)
		require.False(t, e.Public)
		require.False(t, e.IsAgentReply())
	})

	t.Run("status change", func(t *testing.T) {
		t.Parallel()
		b := s.setup(t)
		tid, _ := b.ticket(t)
		d := b.f.SetStatus(tid, connectors.StatusSolved)
		evs, err := b.c.ParseWebhook(d.Header, d.Body, b.f.WebhookSecret(), d.At)
		require.NoError(t, err)
		require.Len(t, evs, 1)
		require.Equal(t, connectors.EventTicketStatus, evs[0].Type)
		require.Equal(t, tid, evs[0].TicketID)
		require.Equal(t, connectors.StatusSolved, evs[0].Status)
	})

	t.Run("a redelivery parses to the same ids", func(t *testing.T) {
		t.Parallel()
		b := s.setup(t)
		tid, _ := b.ticket(t)
		cid := b.f.AgentReply(tid, "hello")
		d := b.f.CommentDelivery(tid, cid)
		first := b.parse(t, d, cid)
		again := b.f.Redeliver(d)
		second := b.parse(t, again, cid)
		require.Equal(t, first.CommentID, second.CommentID)
		require.Equal(t, first.EventID, second.EventID)
		require.Equal(t, first.TicketID, second.TicketID)
	})

	t.Run("rejects unauthenticated requests", func(t *testing.T) {
		t.Parallel()
		b := s.setup(t)
		tid, _ := b.ticket(t)
		cid := b.f.AgentReply(tid, "hello")
		d := b.f.CommentDelivery(tid, cid)
		secret := b.f.WebhookSecret()
		tampered := bytes.Replace(d.Body, []byte("hello"), []byte("HELLO"), 1)
		require.NotEqual(t, d.Body, tampered)

		tests := []struct {
			name   string
			header http.Header
			body   []byte
			secret []byte
			now    time.Time
		}{
			{"forged body", d.Header, tampered, secret, d.At},
			{"wrong secret", d.Header, d.Body, []byte("not-the-secret"), d.At},
			{"empty secret", d.Header, d.Body, nil, d.At},
			{"replayed after 10 minutes", d.Header, d.Body, secret, d.At.Add(10 * time.Minute)},
			{"timestamp 10 minutes in the future", d.Header, d.Body, secret, d.At.Add(-10 * time.Minute)},
			{"no signature headers", http.Header{}, d.Body, secret, d.At},
			{"signature of another timestamp", b.f.Sign(d.Body, d.At.Add(-time.Minute)), d.Body, secret, d.At.Add(-time.Minute).Add(10 * time.Minute)},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				evs, err := b.c.ParseWebhook(tt.header, tt.body, tt.secret, tt.now)
				require.ErrorIs(t, err, connectors.ErrUnauthorized)
				require.Empty(t, evs)
			})
		}
	})

	t.Run("authentic garbage is malformed", func(t *testing.T) {
		t.Parallel()
		b := s.setup(t)
		at := time.Now().UTC().Truncate(time.Second)
		for _, body := range []string{"{not json", "[1, 2]"} {
			evs, err := b.c.ParseWebhook(b.f.Sign([]byte(body), at), []byte(body), b.f.WebhookSecret(), at)
			require.ErrorIs(t, err, connectors.ErrMalformed, "body %s", body)
			require.NotErrorIs(t, err, connectors.ErrUnauthorized)
			require.Empty(t, evs)
		}
	})
}

// failing runs one call against a fake failing with f and returns its error.
func (s *suite) failing(t *testing.T, f Failure) error {
	t.Helper()
	hc := &http.Client{Timeout: 10 * time.Second}
	if f == FailTimeout {
		hc.Timeout = 250 * time.Millisecond
	}
	b := s.setupWith(t, hc)
	b.f.FailNext(1, f)
	_, err := b.c.GetTicket(b.ctx, "424242")
	require.Error(t, err)
	for _, secret := range s.h.Secrets {
		if secret != "" {
			require.NotContains(t, err.Error(), secret, "error message leaks a credential")
		}
	}
	return err
}

func (s *suite) testErrors(t *testing.T) {
	t.Parallel()

	t.Run("429 is rate limited with Retry-After", func(t *testing.T) {
		t.Parallel()
		err := s.failing(t, FailRateLimited)
		after, ok := connectors.IsRateLimited(err)
		require.True(t, ok, "class %s: %v", connectors.ClassOf(err), err)
		require.Equal(t, RateLimitRetryAfter, after)
		require.True(t, connectors.IsRetryable(err))
	})

	tests := []struct {
		failure Failure
		class   connectors.Class
	}{
		{FailServerError, connectors.ClassRetry},
		{FailTimeout, connectors.ClassRetry},
		{FailUnauthorized, connectors.ClassAuth},
	}
	for _, tt := range tests {
		t.Run(tt.failure.String()+" is "+tt.class.String(), func(t *testing.T) {
			t.Parallel()
			err := s.failing(t, tt.failure)
			require.Equal(t, tt.class, connectors.ClassOf(err), "%v", err)
		})
	}

	t.Run("the next call succeeds after a failure", func(t *testing.T) {
		t.Parallel()
		b := s.setup(t)
		tid, rid := b.ticket(t)
		b.f.FailNext(1, FailServerError)
		_, err := b.c.AddMessage(b.ctx, tid, rid, message("wamid.X1", "retry me"))
		require.True(t, connectors.IsRetryable(err), "%v", err)
		_, err = b.c.AddMessage(b.ctx, tid, rid, message("wamid.X1", "retry me"))
		require.NoError(t, err)
		require.Len(t, b.f.Comments(tid), 2)
	})

	t.Run("a rate-limited write is classified", func(t *testing.T) {
		t.Parallel()
		b := s.setup(t)
		b.f.FailNext(1, FailRateLimited)
		_, err := b.c.EnsureRequester(b.ctx, connectors.Requester{Phone: newPhone(), Name: "X"})
		after, ok := connectors.IsRateLimited(err)
		require.True(t, ok, "%v", err)
		require.Equal(t, RateLimitRetryAfter, after)
	})
}

func (s *suite) testCapabilities(t *testing.T) {
	t.Parallel()

	t.Run("Tester", func(t *testing.T) {
		t.Parallel()
		b := s.setup(t)
		tester, ok := b.c.(connectors.Tester)
		if !ok {
			t.Skip("connector does not implement Tester")
		}
		require.NoError(t, tester.Test(b.ctx))
		b.f.FailNext(1, FailUnauthorized)
		err := tester.Test(b.ctx)
		require.True(t, connectors.IsAuth(err), "%v", err)
	})

	t.Run("MessageFinder", func(t *testing.T) {
		t.Parallel()
		b := s.setup(t)
		finder, ok := b.c.(connectors.MessageFinder)
		if !ok {
			t.Skip("connector does not implement MessageFinder")
		}
		tid, rid := b.ticket(t)
		m := message("wamid.M1", "did this land?")
		_, found, err := finder.FindMessage(b.ctx, tid, rid, m)
		require.NoError(t, err)
		require.False(t, found)
		id, err := b.c.AddMessage(b.ctx, tid, rid, m)
		require.NoError(t, err)
		b.f.AgentReply(tid, "an agent answer in between")
		got, found, err := finder.FindMessage(b.ctx, tid, rid, m)
		require.NoError(t, err)
		require.True(t, found)
		require.Equal(t, id, got)
	})

	t.Run("agent attachments reach the bridge", func(t *testing.T) {
		t.Parallel()
		b := s.setup(t)
		tid, _ := b.ticket(t)
		f := file("label.pdf", "application/pdf", 1500)
		cid := b.f.AgentReply(tid, "here is your label", f)
		e := b.parse(t, b.f.CommentDelivery(tid, cid), cid)
		if h, ok := b.c.(connectors.EventHydrator); ok {
			var err error
			e, err = h.HydrateEvent(b.ctx, e)
			require.NoError(t, err)
		}
		require.Len(t, e.Attachments, 1)
		require.Equal(t, f.Filename, e.Attachments[0].Filename)
		require.Equal(t, f.ContentType, e.Attachments[0].ContentType)
		fetcher, ok := b.c.(connectors.AttachmentFetcher)
		if !ok {
			return
		}
		rc, ct, err := fetcher.OpenAttachment(b.ctx, e.Attachments[0])
		require.NoError(t, err)
		defer rc.Close()
		data, err := io.ReadAll(rc)
		require.NoError(t, err)
		require.Equal(t, f.Data, data)
		require.Equal(t, f.ContentType, ct)
	})

	t.Run("WebhookInstaller", func(t *testing.T) {
		t.Parallel()
		b := s.setup(t)
		inst, ok := b.c.(connectors.WebhookInstaller)
		if !ok {
			t.Skip("connector does not implement WebhookInstaller")
		}
		const callback = "https://relaydesk.example/webhooks/helpdesk/7"
		secret, err := inst.InstallWebhook(b.ctx, callback)
		require.NoError(t, err)
		require.Equal(t, b.f.WebhookSecret(), secret)
		again, err := inst.InstallWebhook(b.ctx, callback)
		require.NoError(t, err)
		require.Equal(t, secret, again)
		require.NoError(t, inst.UninstallWebhook(b.ctx, callback))
		require.NoError(t, inst.UninstallWebhook(b.ctx, callback))
	})

	t.Run("errors stay classified through wrapping", func(t *testing.T) {
		t.Parallel()
		b := s.setup(t)
		_, err := b.c.GetTicket(b.ctx, "987654321")
		wrapped := fmt.Errorf("bridge: %w", err)
		require.True(t, connectors.IsNotFound(wrapped))
		var ce *connectors.Error
		require.True(t, errors.As(wrapped, &ce))
	})
}
