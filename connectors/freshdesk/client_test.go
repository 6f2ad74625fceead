package freshdesk_test

import (
	"encoding/base64"
	"fmt"
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/relaydesk/relaydesk/connectors"
	"github.com/relaydesk/relaydesk/connectors/connectortest"
	"github.com/relaydesk/relaydesk/connectors/freshdesk"
	"github.com/relaydesk/relaydesk/connectors/freshdesk/freshdesktest"
)

func TestRegistered(t *testing.T) {
	t.Parallel()
	reg, ok := connectors.Lookup(freshdesk.Kind)
	require.True(t, ok)
	require.Equal(t, "Freshdesk", reg.Description.DisplayName)
	f, ok := reg.Description.Field(freshdesk.SettingPollInterval)
	require.True(t, ok)
	require.Equal(t, connectors.FieldInt, f.Type)
	require.Contains(t, reg.Description.WebhookHelp, freshdesk.WebhookSecretHeader)

	require.Equal(t, 60*time.Second, freshdesk.PollInterval(nil))
	require.Equal(t, 90*time.Second, freshdesk.PollInterval(map[string]any{"poll_interval_seconds": float64(90)}))
	require.Equal(t, 15*time.Second, freshdesk.PollInterval(map[string]any{"poll_interval_seconds": "3"}))

	_, err := freshdesk.New(connectors.Config{Settings: map[string]any{"domain": "Not A Domain"}, Credentials: map[string]string{"api_key": "k"}})
	require.Error(t, err)
}

type testBundle struct {
	*connectortest.Bundle[*freshdesk.Client, *freshdesktest.Fake]
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
	return &testBundle{Bundle: connectortest.Setup(t, f, 10*time.Second, freshdesk.New), clock: cl}
}

var phones = connectortest.NewPhones("+4477009")

func (b *testBundle) ticket(t *testing.T) (ticketID, requesterID string) {
	t.Helper()
	return b.Ticket(t, phones.Next())
}

func (b *testBundle) startCursor(t *testing.T) string {
	t.Helper()
	evs, cur, err := b.C.Poll(b.Ctx, "")
	require.NoError(t, err)
	require.Empty(t, evs)
	require.NotEmpty(t, cur)
	return cur
}

// startPolling builds a connector on a fake and takes its first cursor.
func startPolling(t *testing.T) (*testBundle, string) {
	t.Helper()
	b := setup(t)
	return b, b.startCursor(t)
}

// requireNoReplies polls from cur, requires no agent reply and returns
// the events.
func (b *testBundle) requireNoReplies(t *testing.T, cur string) []connectors.Event {
	t.Helper()
	evs, _ := connectortest.MustPoll(t, b.C, cur)
	require.Empty(t, agentReplies(evs))
	return evs
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
	b, cur := startPolling(t)
	tid, rid := b.ticket(t)
	_, err := b.C.AddMessage(b.Ctx, tid, rid, connectors.Message{Key: "wamid.2", Body: "still there?"})
	require.NoError(t, err)
	reply := b.F.AgentReply(tid, "Yes, on it.")

	evs, next := connectortest.MustPoll(t, b.C, cur)
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

	evs, next2 := connectortest.MustPoll(t, b.C, next)
	require.Empty(t, evs, "nothing new")

	b.clock.add(3 * time.Second)
	second := b.F.AgentReply(tid, "Shipped.")
	evs, _ = connectortest.MustPoll(t, b.C, next2)
	require.Equal(t, []string{second}, agentReplies(evs))

	connectortest.RequireRefusesCursor(t, b.C, "not a cursor")
}

func TestPollSameSecondBoundary(t *testing.T) {
	t.Parallel()
	b, cur := startPolling(t)
	tid, _ := b.ticket(t)
	first := b.F.AgentReply(tid, "one")
	evs, cur := connectortest.MustPoll(t, b.C, cur)
	require.Equal(t, []string{first}, agentReplies(evs))

	// Same second: the high-water mark equals these timestamps.
	second := b.F.AgentReply(tid, "two")
	evs, cur = connectortest.MustPoll(t, b.C, cur)
	require.Equal(t, []string{second}, agentReplies(evs), "only the new reply, not the one at the mark again")

	evs = b.requireNoReplies(t, cur)
	for _, e := range evs {
		require.NotEqual(t, connectors.EventComment, e.Type, "%+v", e)
	}
}

func TestPollPagesWithoutDuplicates(t *testing.T) {
	t.Parallel()
	b, cur := startPolling(t)
	b.F.SetPageSize(2)
	var want []string
	for i := range 5 {
		tid, _ := b.ticket(t)
		want = append(want, b.F.AgentReply(tid, fmt.Sprintf("reply %d", i)))
		want = append(want, b.F.AgentReply(tid, fmt.Sprintf("reply %d bis", i)))
		b.clock.add(time.Second)
	}
	evs, cur := connectortest.MustPoll(t, b.C, cur)
	require.ElementsMatch(t, want, agentReplies(evs))
	require.Len(t, agentReplies(evs), len(want), "no duplicates")

	b.requireNoReplies(t, cur)
}

func TestPollStopsBeforeTheRateLimit(t *testing.T) {
	t.Parallel()
	b, cur := startPolling(t)
	var want []string
	for i := range 12 {
		tid, _ := b.ticket(t)
		want = append(want, b.F.AgentReply(tid, fmt.Sprintf("reply %d", i)))
	}
	b.clock.add(time.Second) // the poll comes later
	// 20 calls left this minute: the poll reads a few tickets and leaves
	// the last 10 calls to the delivery jobs.
	b.F.SetRateLimit(20, 0)
	evs, cur := connectortest.MustPoll(t, b.C, cur)
	got := agentReplies(evs)
	require.NotEmpty(t, got)
	require.Less(t, len(got), len(want), "stopped early")

	b.clock.add(time.Minute) // a new budget
	evs, cur = connectortest.MustPoll(t, b.C, cur)
	got = append(got, agentReplies(evs)...)
	require.ElementsMatch(t, want, got, "the rest, without duplicates")

	b.requireNoReplies(t, cur)
}

func TestPollRateLimited(t *testing.T) {
	t.Parallel()
	b, cur := startPolling(t)
	b.F.SetRateLimit(5, 5)
	_, next, err := b.C.Poll(b.Ctx, cur)
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
		evs, err := b.C.ParseWebhook(withHeader(string(secret)), body, secret, now)
		require.NoError(t, err)
		require.Len(t, evs, 1)
		require.Equal(t, connectors.EventTicketStatus, evs[0].Type)
		require.Equal(t, "42", evs[0].TicketID)
		require.Equal(t, connectors.StatusSolved, evs[0].Status)
		again, err := b.C.ParseWebhook(withHeader(string(secret)), body, secret, now.Add(time.Hour))
		require.NoError(t, err)
		require.Equal(t, evs[0].EventID, again[0].EventID, "a redelivery has the same id")
	})

	t.Run("valid basic authentication", func(t *testing.T) {
		evs, err := b.C.ParseWebhook(basic("freshdesk", string(secret)), []byte(`{"relaydesk":1,"ticket_id":7,"status":"Waiting on Customer"}`), secret, now)
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
			evs, err := b.C.ParseWebhook(h, body, secret, now)
			require.ErrorIs(t, err, connectors.ErrUnauthorized)
			require.Empty(t, evs)
		})
	}

	t.Run("no secret configured", func(t *testing.T) {
		_, err := b.C.ParseWebhook(withHeader(""), body, nil, now)
		require.ErrorIs(t, err, connectors.ErrUnauthorized)
	})

	t.Run("authentic garbage is malformed", func(t *testing.T) {
		for _, bad := range []string{"{not json", `[1]`, `{"relaydesk":1,"ticket_id":"x","status":"Open"}`, `{"relaydesk":1,"ticket_id":"3"}`} {
			_, err := b.C.ParseWebhook(withHeader(string(secret)), []byte(bad), secret, now)
			require.ErrorIs(t, err, connectors.ErrMalformed, bad)
		}
	})

	t.Run("other bodies yield nothing", func(t *testing.T) {
		evs, err := b.C.ParseWebhook(withHeader(string(secret)), []byte(`{"ticket_id": 3}`), secret, now)
		require.NoError(t, err)
		require.Empty(t, evs)
	})
}

func TestStatusMapping(t *testing.T) {
	t.Parallel()
	b := setup(t)
	tid, rid := b.ticket(t)
	for raw, want := range map[int]connectors.Status{2: connectors.StatusOpen, 3: connectors.StatusPending, 4: connectors.StatusSolved, 5: connectors.StatusClosed, 7: connectors.StatusPending} {
		b.F.SetRawStatus(tid, raw)
		tk, err := b.C.GetTicket(b.Ctx, tid)
		require.NoError(t, err)
		require.Equal(t, want, tk.Status, "status %d", raw)
	}
	t.Run("a pending ticket is reopened by the customer", func(t *testing.T) {
		b.F.SetRawStatus(tid, 3)
		_, err := b.C.AddMessage(b.Ctx, tid, rid, connectors.Message{Key: "k", Body: "hello again"})
		require.NoError(t, err)
		require.Equal(t, 2, b.F.RawStatus(tid))
	})
	t.Run("a custom status is left alone", func(t *testing.T) {
		b.F.SetRawStatus(tid, 7)
		_, err := b.C.AddMessage(b.Ctx, tid, rid, connectors.Message{Key: "k2", Body: "and again"})
		require.NoError(t, err)
		require.Equal(t, 7, b.F.RawStatus(tid))
	})
}

func TestMultipartAndFields(t *testing.T) {
	t.Parallel()
	b := setup(t)
	tid, _ := b.ticket(t)
	require.Positive(t, b.F.Hits("POST /api/v2/tickets"))
	tickets := b.F.Tickets()
	require.Equal(t, tid, tickets[len(tickets)-1].ID)
	require.Empty(t, b.F.Violations())
}

// polled is the connector under test with ParseWebhook answered by polling
// (see connectortest.PollDelivery): Freshdesk pushes no signed comment
// events, so the suite's webhook checks exercise Poll from the cursor taken
// when the harness was built. The real ParseWebhook has its own tests.
type polled struct {
	*freshdesk.Client
	connectortest.Polled
}

// ParseWebhook answers a fake delivery by polling.
func (p *polled) ParseWebhook(h http.Header, body, secret []byte, now time.Time) ([]connectors.Event, error) {
	return p.Polled.ParseWebhook(h, body, secret, now)
}

func TestConformance(t *testing.T) {
	t.Parallel()
	connectortest.Run(t, connectortest.Harness{
		New: connectortest.NewPolled(freshdesktest.New, freshdesk.New, func(c *freshdesk.Client, p connectortest.Polled) connectors.Connector {
			return &polled{Client: c, Polled: p}
		}),
		Secrets: []string{freshdesktest.APIKey},
	})
}

// Erasing a requester soft-deletes and then permanently deletes the
// contact, as Freshdesk's API requires; erasing it again is no error.
func TestEraseRequester(t *testing.T) {
	t.Parallel()
	b := setup(t)
	_, requester := b.ticket(t)
	require.False(t, b.F.Erased(requester))

	done, err := b.C.EraseRequester(b.Ctx, requester)
	require.NoError(t, err)
	require.Contains(t, done, "deleted permanently")
	require.True(t, b.F.Erased(requester), "the contact is gone for good")

	_, err = b.C.EraseRequester(b.Ctx, requester)
	require.NoError(t, err, "a contact already gone")
}

func TestShowStatusAsATag(t *testing.T) {
	t.Parallel()
	b := setup(t)
	tk, _ := b.Ticket(t, "+15551230001")
	connectortest.RequireStatusTags(t, b.Ctx, b.C, b.F, tk)
	require.Empty(t, b.F.Violations())
}
