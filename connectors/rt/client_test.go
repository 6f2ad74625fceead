package rt_test

import (
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/relaydesk/relaydesk/connectors"
	"github.com/relaydesk/relaydesk/connectors/connectortest"
	"github.com/relaydesk/relaydesk/connectors/rt"
	"github.com/relaydesk/relaydesk/connectors/rt/rttest"
)

// polled is the connector under test with ParseWebhook answered by polling
// (see connectortest.PollDelivery): RT pushes nothing, so the suite's webhook
// checks exercise Poll from the cursor taken when the harness was built.
// The real ParseWebhook refuses every request (TestParseWebhookRefuses).
type polled struct {
	*rt.Client
	poll connectortest.Polled
}

// ParseWebhook answers a fake delivery by polling.
func (p *polled) ParseWebhook(h http.Header, body, secret []byte, now time.Time) ([]connectors.Event, error) {
	return p.poll.ParseWebhook(h, body, secret, now)
}

// TestConformance runs the shared suite against a real Request Tracker
// (scripts/rt-test-server), with injected failures from a proxy.
func TestConformance(t *testing.T) {
	t.Parallel()
	rttest.Require(t)
	connectortest.Run(t, connectortest.Harness{
		New: connectortest.NewPolled(rttest.New, rt.New, func(c *rt.Client, p connectortest.Polled) connectors.Connector {
			return &polled{Client: c, poll: p}
		}),
		Secrets: []string{rttest.Require(t).Token},
	})
}

type testBundle = connectortest.Bundle[*rt.Client, *rttest.Fake]

func setup(t *testing.T) *testBundle {
	b := connectortest.Setup(t, rttest.New(t), 30*time.Second, rt.New)
	b.Name = "Grace Hopper"
	return b
}

var phones = connectortest.NewPhones("+4477008")

func TestPollCursor(t *testing.T) {
	t.Parallel()
	b := setup(t)
	_, cur, err := b.C.Poll(b.Ctx, "")
	require.NoError(t, err)
	tid, rid := b.Ticket(t, phones.Next())
	_, err = b.C.AddMessage(b.Ctx, tid, rid, connectors.Message{Key: "k2", Body: "second message"})
	require.NoError(t, err)
	reply := b.F.AgentReply(tid, "Hello from the team.")
	note := b.F.AgentNote(tid, "internal")

	evs, next := connectortest.MustPoll(t, b.C, cur)
	var replies, echoes, notes int
	for _, e := range evs {
		if e.TicketID != tid {
			continue // another test's ticket on the shared server
		}
		switch {
		case e.IsAgentReply():
			replies++
			require.Equal(t, reply, e.CommentID)
			require.Equal(t, "Hello from the team.", e.Body)
			require.NotEqual(t, rid, e.AuthorID)
		case e.Type == connectors.EventComment && e.FromRequester:
			echoes++
			require.Equal(t, rid, e.AuthorID)
		case e.Type == connectors.EventComment && !e.Public:
			notes++
			require.Equal(t, note, e.CommentID)
		}
	}
	require.Equal(t, 1, replies)
	require.Equal(t, 1, echoes, "the customer's correspondence (not the ticket's creation)")
	require.Equal(t, 1, notes)

	evs, _ = connectortest.MustPoll(t, b.C, next)
	for _, e := range evs {
		require.NotEqual(t, tid, e.TicketID, "nothing new on this ticket: %+v", e)
	}

	connectortest.RequireRefusesCursor(t, b.C, "abc")
}

func TestStatusMapping(t *testing.T) {
	t.Parallel()
	b := setup(t)
	tid, rid := b.Ticket(t, phones.Next())
	for raw, want := range map[string]connectors.Status{
		"open": connectors.StatusOpen, "stalled": connectors.StatusPending, "resolved": connectors.StatusSolved, "rejected": connectors.StatusClosed,
	} {
		b.F.SetRawStatus(tid, raw)
		tk, err := b.C.GetTicket(b.Ctx, tid)
		require.NoError(t, err)
		require.Equal(t, want, tk.Status, raw)
	}
	t.Run("a stalled ticket is opened by the customer", func(t *testing.T) {
		b.F.SetRawStatus(tid, "stalled")
		_, err := b.C.AddMessage(b.Ctx, tid, rid, connectors.Message{Key: "st1", Body: "any news?"})
		require.NoError(t, err)
		require.Equal(t, "open", b.F.RawStatus(tid))
	})
}

func TestMessagesAreIdempotent(t *testing.T) {
	t.Parallel()
	b := setup(t)
	tid, rid := b.Ticket(t, phones.Next())
	m := connectors.Message{Key: "dup-1", Body: "only once"}
	id1, err := b.C.AddMessage(b.Ctx, tid, rid, m)
	require.NoError(t, err)
	id2, err := b.C.AddMessage(b.Ctx, tid, rid, m)
	require.NoError(t, err)
	require.Equal(t, id1, id2)
	require.Len(t, b.F.Comments(tid), 2)
}

func TestParseWebhookRefuses(t *testing.T) {
	t.Parallel()
	c, err := rt.New(connectors.Config{
		Settings:    map[string]any{"url": "https://rt.example.com", "queue": "General"},
		Credentials: map[string]string{"token": "t"},
	})
	require.NoError(t, err)
	evs, err := c.ParseWebhook(http.Header{}, []byte(`{}`), []byte("secret"), time.Now())
	require.ErrorIs(t, err, connectors.ErrUnauthorized)
	require.Empty(t, evs)
}

func TestConfig(t *testing.T) {
	t.Parallel()
	reg, ok := connectors.Lookup(rt.Kind)
	require.True(t, ok)
	require.NotEmpty(t, reg.Description.WebhookHelp)
	_, ok = reg.Description.Field(rt.SettingPollInterval)
	require.True(t, ok)
	require.Equal(t, 60*time.Second, rt.PollInterval(nil))
	require.Equal(t, 120*time.Second, rt.PollInterval(map[string]any{"poll_interval_seconds": 120}))

	_, err := rt.New(connectors.Config{Settings: map[string]any{"url": "https://rt.example.com", "queue": "General"}})
	require.ErrorContains(t, err, "token")
	_, err = rt.New(connectors.Config{
		Settings:    map[string]any{"url": "https://rt.example.com", "queue": "General"},
		Credentials: map[string]string{"username": "relaydesk", "password": "pw"},
	})
	require.NoError(t, err, "basic authentication")
}

func TestBasicAuth(t *testing.T) {
	t.Parallel()
	f := rttest.New(t)
	cfg := f.Config()
	cfg.Credentials = map[string]string{"username": f.Server.AgentUser, "password": f.Server.AgentPassword}
	c, err := rt.New(cfg)
	require.NoError(t, err)
	require.NoError(t, c.Test(t.Context()))

	cfg.Credentials = map[string]string{"username": f.Server.AgentUser, "password": "wrong"}
	c, err = rt.New(cfg)
	require.NoError(t, err)
	require.True(t, connectors.IsAuth(c.Test(t.Context())))
}
