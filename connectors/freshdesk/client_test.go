package freshdesk_test

import (
	"context"
	"encoding/base64"
	"fmt"
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/relaydesk/relaydesk/connectors"
	"github.com/relaydesk/relaydesk/connectors/freshdesk"
	"github.com/relaydesk/relaydesk/connectors/freshdesk/freshdesktest"
)

type testBundle struct {
	c     *freshdesk.Client
	f     *freshdesktest.Fake
	ctx   context.Context
	clock *clock
}

// clock is a settable clock for the fake.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) add(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// setup builds a connector on a fake whose clock stands still one second
// after now, so that everything happens within one second unless a test
// moves the clock.
func setup(t *testing.T) *testBundle {
	t.Helper()
	f := freshdesktest.New(t)
	cl := &clock{t: time.Now().UTC().Truncate(time.Second).Add(time.Second)}
	f.SetNow(cl.now)
	cfg := f.Config()
	cfg.HTTPClient = &http.Client{Timeout: 10 * time.Second}
	c, err := freshdesk.New(cfg)
	require.NoError(t, err)
	return &testBundle{c: c, f: f, ctx: t.Context(), clock: cl}
}

var phoneSeq sync.Mutex
var phoneN int

func (b *testBundle) ticket(t *testing.T) (ticketID, requesterID string) {
	t.Helper()
	phoneSeq.Lock()
	phoneN++
	phone := fmt.Sprintf("+4477009%05d", phoneN)
	phoneSeq.Unlock()
	rid, err := b.c.EnsureRequester(b.ctx, connectors.Requester{Phone: phone, Name: "Grace"})
	require.NoError(t, err)
	tk, _, err := b.c.CreateTicket(b.ctx, connectors.NewTicket{RequesterID: rid, Subject: "Hi", First: connectors.Message{Key: "wamid." + phone, Body: "hello"}})
	require.NoError(t, err)
	return tk.ID, rid
}

func (b *testBundle) startCursor(t *testing.T) string {
	t.Helper()
	evs, cur, err := b.c.Poll(b.ctx, "")
	require.NoError(t, err)
	require.Empty(t, evs)
	require.NotEmpty(t, cur)
	return cur
}

func agentReplies(evs []connectors.Event) []string {
	var ids []string
	for _, e := range evs {
		if e.IsAgentReply() {
			ids = append(ids, e.CommentID)
		}
	}
	return ids
}

func TestPollCursorProgresses(t *testing.T) {
	t.Parallel()
	b := setup(t)
	cur := b.startCursor(t)
	tid, rid := b.ticket(t)
	_, err := b.c.AddMessage(b.ctx, tid, rid, connectors.Message{Key: "wamid.2", Body: "still there?"})
	require.NoError(t, err)
	reply := b.f.AgentReply(tid, "Yes, on it.")

	evs, next, err := b.c.Poll(b.ctx, cur)
	require.NoError(t, err)
	require.Equal(t, []string{reply}, agentReplies(evs))
	var echoes, statuses int
	for _, e := range evs {
		switch {
		case e.Type == connectors.EventComment && e.FromRequester:
			echoes++
			require.Equal(t, rid, e.AuthorID)
		case e.Type == connectors.EventTicketStatus:
			statuses++
			require.Equal(t, tid, e.TicketID)
			require.Equal(t, connectors.StatusOpen, e.Status)
		}
	}
	require.Equal(t, 1, echoes, "the requester's own note is reported, flagged")
	require.Equal(t, 1, statuses)

	evs, next2, err := b.c.Poll(b.ctx, next)
	require.NoError(t, err)
	require.Empty(t, evs, "nothing new")

	b.clock.add(3 * time.Second)
	second := b.f.AgentReply(tid, "Shipped.")
	evs, _, err = b.c.Poll(b.ctx, next2)
	require.NoError(t, err)
	require.Equal(t, []string{second}, agentReplies(evs))

	t.Run("an unreadable cursor is a permanent error", func(t *testing.T) {
		_, _, err := b.c.Poll(b.ctx, "not a cursor")
		require.True(t, connectors.IsPermanent(err), "%v", err)
	})
}

func TestPollSameSecondBoundary(t *testing.T) {
	t.Parallel()
	b := setup(t)
	cur := b.startCursor(t)
	tid, _ := b.ticket(t)
	first := b.f.AgentReply(tid, "one")
	evs, cur, err := b.c.Poll(b.ctx, cur)
	require.NoError(t, err)
	require.Equal(t, []string{first}, agentReplies(evs))

	// Same second: the high-water mark equals these timestamps.
	second := b.f.AgentReply(tid, "two")
	evs, cur, err = b.c.Poll(b.ctx, cur)
	require.NoError(t, err)
	require.Equal(t, []string{second}, agentReplies(evs), "only the new reply, not the one at the mark again")

	evs, _, err = b.c.Poll(b.ctx, cur)
	require.NoError(t, err)
	require.Empty(t, agentReplies(evs))
	for _, e := range evs {
		require.NotEqual(t, connectors.EventComment, e.Type, "%+v", e)
	}
}

func TestPollPagesWithoutDuplicates(t *testing.T) {
	t.Parallel()
	b := setup(t)
	cur := b.startCursor(t)
	b.f.SetPageSize(2)
	var want []string
	for i := range 5 {
		tid, _ := b.ticket(t)
		want = append(want, b.f.AgentReply(tid, fmt.Sprintf("reply %d", i)))
		want = append(want, b.f.AgentReply(tid, fmt.Sprintf("reply %d bis", i)))
		b.clock.add(time.Second)
	}
	evs, cur, err := b.c.Poll(b.ctx, cur)
	require.NoError(t, err)
	require.ElementsMatch(t, want, agentReplies(evs))
	require.Len(t, agentReplies(evs), len(want), "no duplicates")

	evs, _, err = b.c.Poll(b.ctx, cur)
	require.NoError(t, err)
	require.Empty(t, agentReplies(evs))
}

func TestPollStopsBeforeTheRateLimit(t *testing.T) {
	t.Parallel()
	b := setup(t)
	cur := b.startCursor(t)
	var want []string
	for i := range 12 {
		tid, _ := b.ticket(t)
		want = append(want, b.f.AgentReply(tid, fmt.Sprintf("reply %d", i)))
	}
	b.clock.add(time.Second) // the poll comes later
	// 20 calls left this minute: the poll reads a few tickets and leaves
	// the last 10 calls to the delivery jobs.
	b.f.SetRateLimit(20, 0)
	evs, cur, err := b.c.Poll(b.ctx, cur)
	require.NoError(t, err)
	got := agentReplies(evs)
	require.NotEmpty(t, got)
	require.Less(t, len(got), len(want), "stopped early")

	b.clock.add(time.Minute) // a new budget
	evs, cur, err = b.c.Poll(b.ctx, cur)
	require.NoError(t, err)
	got = append(got, agentReplies(evs)...)
	require.ElementsMatch(t, want, got, "the rest, without duplicates")

	evs, _, err = b.c.Poll(b.ctx, cur)
	require.NoError(t, err)
	require.Empty(t, agentReplies(evs))
}

func TestPollRateLimited(t *testing.T) {
	t.Parallel()
	b := setup(t)
	cur := b.startCursor(t)
	b.f.SetRateLimit(5, 5)
	_, next, err := b.c.Poll(b.ctx, cur)
	after, ok := connectors.IsRateLimited(err)
	require.True(t, ok, "%v", err)
	require.Positive(t, after)
	require.Empty(t, next)
}

func TestWebhook(t *testing.T) {
	t.Parallel()
	b := setup(t)
	secret := []byte("s3cret-shared-with-freshdesk")
	body := []byte(`{"relaydesk": 1, "ticket_id": "42", "status": "Resolved"}`)
	now := time.Now()
	withHeader := func(v string) http.Header {
		h := http.Header{}
		h.Set("Content-Type", "application/json")
		h.Set(freshdesk.WebhookSecretHeader, v)
		return h
	}
	basic := func(user, pw string) http.Header {
		h := http.Header{}
		h.Set("Authorization", "Basic "+base64.StdEncoding.EncodeToString([]byte(user+":"+pw)))
		return h
	}

	t.Run("valid secret header", func(t *testing.T) {
		evs, err := b.c.ParseWebhook(withHeader(string(secret)), body, secret, now)
		require.NoError(t, err)
		require.Len(t, evs, 1)
		require.Equal(t, connectors.EventTicketStatus, evs[0].Type)
		require.Equal(t, "42", evs[0].TicketID)
		require.Equal(t, connectors.StatusSolved, evs[0].Status)
		again, err := b.c.ParseWebhook(withHeader(string(secret)), body, secret, now.Add(time.Hour))
		require.NoError(t, err)
		require.Equal(t, evs[0].EventID, again[0].EventID, "a redelivery has the same id")
	})

	t.Run("valid basic authentication", func(t *testing.T) {
		evs, err := b.c.ParseWebhook(basic("freshdesk", string(secret)), []byte(`{"relaydesk":1,"ticket_id":7,"status":"Waiting on Customer"}`), secret, now)
		require.NoError(t, err)
		require.Len(t, evs, 1)
		require.Equal(t, "7", evs[0].TicketID)
		require.Equal(t, connectors.StatusPending, evs[0].Status, "custom statuses are pending")
	})

	for name, h := range map[string]http.Header{
		"forged secret":         withHeader("s3cret-shared-with-freshdeskX"),
		"prefix of the secret":  withHeader("s3cret"),
		"no secret":             {},
		"basic with wrong pass": basic("freshdesk", "guess"),
	} {
		t.Run(name, func(t *testing.T) {
			evs, err := b.c.ParseWebhook(h, body, secret, now)
			require.ErrorIs(t, err, connectors.ErrUnauthorized)
			require.Empty(t, evs)
		})
	}

	t.Run("no secret configured", func(t *testing.T) {
		_, err := b.c.ParseWebhook(withHeader(""), body, nil, now)
		require.ErrorIs(t, err, connectors.ErrUnauthorized)
	})

	t.Run("authentic garbage is malformed", func(t *testing.T) {
		for _, bad := range []string{"{not json", `[1]`, `{"relaydesk":1,"ticket_id":"x","status":"Open"}`, `{"relaydesk":1,"ticket_id":"3"}`} {
			_, err := b.c.ParseWebhook(withHeader(string(secret)), []byte(bad), secret, now)
			require.ErrorIs(t, err, connectors.ErrMalformed, bad)
		}
	})

	t.Run("other bodies yield nothing", func(t *testing.T) {
		evs, err := b.c.ParseWebhook(withHeader(string(secret)), []byte(`{"ticket_id": 3}`), secret, now)
		require.NoError(t, err)
		require.Empty(t, evs)
	})
}

func TestStatusMapping(t *testing.T) {
	t.Parallel()
	b := setup(t)
	tid, rid := b.ticket(t)
	for raw, want := range map[int]connectors.Status{2: connectors.StatusOpen, 3: connectors.StatusPending, 4: connectors.StatusSolved, 5: connectors.StatusClosed, 7: connectors.StatusPending} {
		b.f.SetRawStatus(tid, raw)
		tk, err := b.c.GetTicket(b.ctx, tid)
		require.NoError(t, err)
		require.Equal(t, want, tk.Status, "status %d", raw)
	}
	t.Run("a pending ticket is reopened by the customer", func(t *testing.T) {
		b.f.SetRawStatus(tid, 3)
		_, err := b.c.AddMessage(b.ctx, tid, rid, connectors.Message{Key: "k", Body: "hello again"})
		require.NoError(t, err)
		require.Equal(t, 2, b.f.RawStatus(tid))
	})
	t.Run("a custom status is left alone", func(t *testing.T) {
		b.f.SetRawStatus(tid, 7)
		_, err := b.c.AddMessage(b.ctx, tid, rid, connectors.Message{Key: "k2", Body: "and again"})
		require.NoError(t, err)
		require.Equal(t, 7, b.f.RawStatus(tid))
	})
}

func TestMultipartAndFields(t *testing.T) {
	t.Parallel()
	b := setup(t)
	tid, _ := b.ticket(t)
	var note *freshdesktest.Request
	for _, r := range b.f.Requests() {
		if r.Method == http.MethodPost && r.Path == "/api/v2/tickets" {
			note = &r
		}
	}
	require.NotNil(t, note)
	tickets := b.f.Tickets()
	require.Equal(t, tid, tickets[len(tickets)-1].ID)
	require.Empty(t, b.f.Violations())
}
