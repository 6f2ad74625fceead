package rt_test

import (
	"context"
	"fmt"
	"net/http"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/relaydesk/relaydesk/connectors"
	"github.com/relaydesk/relaydesk/connectors/rt"
	"github.com/relaydesk/relaydesk/connectors/rt/rttest"
)

type testBundle struct {
	c   *rt.Client
	f   *rttest.Fake
	ctx context.Context
}

func setup(t *testing.T) *testBundle {
	t.Helper()
	f := rttest.New(t)
	cfg := f.Config()
	cfg.HTTPClient = &http.Client{Timeout: 30 * time.Second}
	c, err := rt.New(cfg)
	require.NoError(t, err)
	return &testBundle{c: c, f: f, ctx: t.Context()}
}

var phoneSeq atomic.Int64

func (b *testBundle) ticket(t *testing.T) (ticketID, requesterID string) {
	t.Helper()
	phone := fmt.Sprintf("+4477008%05d", phoneSeq.Add(1))
	rid, err := b.c.EnsureRequester(b.ctx, connectors.Requester{Phone: phone, Name: "Grace Hopper"})
	require.NoError(t, err)
	tk, _, err := b.c.CreateTicket(b.ctx, connectors.NewTicket{RequesterID: rid, Subject: "Hi", First: connectors.Message{Key: "wamid." + phone, Body: "hello"}})
	require.NoError(t, err)
	return tk.ID, rid
}

func TestPollCursor(t *testing.T) {
	t.Parallel()
	b := setup(t)
	_, cur, err := b.c.Poll(b.ctx, "")
	require.NoError(t, err)
	tid, rid := b.ticket(t)
	_, err = b.c.AddMessage(b.ctx, tid, rid, connectors.Message{Key: "k2", Body: "second message"})
	require.NoError(t, err)
	reply := b.f.AgentReply(tid, "Hello from the team.")
	note := b.f.AgentNote(tid, "internal")

	evs, next, err := b.c.Poll(b.ctx, cur)
	require.NoError(t, err)
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

	evs, _, err = b.c.Poll(b.ctx, next)
	require.NoError(t, err)
	for _, e := range evs {
		require.NotEqual(t, tid, e.TicketID, "nothing new on this ticket: %+v", e)
	}

	t.Run("an unreadable cursor is a permanent error", func(t *testing.T) {
		_, _, err := b.c.Poll(b.ctx, "abc")
		require.True(t, connectors.IsPermanent(err), "%v", err)
	})
}

func TestStatusMapping(t *testing.T) {
	t.Parallel()
	b := setup(t)
	tid, rid := b.ticket(t)
	for raw, want := range map[string]connectors.Status{
		"open": connectors.StatusOpen, "stalled": connectors.StatusPending, "resolved": connectors.StatusSolved, "rejected": connectors.StatusClosed,
	} {
		b.f.SetRawStatus(tid, raw)
		tk, err := b.c.GetTicket(b.ctx, tid)
		require.NoError(t, err)
		require.Equal(t, want, tk.Status, raw)
	}
	t.Run("a stalled ticket is opened by the customer", func(t *testing.T) {
		b.f.SetRawStatus(tid, "stalled")
		_, err := b.c.AddMessage(b.ctx, tid, rid, connectors.Message{Key: "st1", Body: "any news?"})
		require.NoError(t, err)
		require.Equal(t, "open", b.f.RawStatus(tid))
	})
}

func TestMessagesAreIdempotent(t *testing.T) {
	t.Parallel()
	b := setup(t)
	tid, rid := b.ticket(t)
	m := connectors.Message{Key: "dup-1", Body: "only once"}
	id1, err := b.c.AddMessage(b.ctx, tid, rid, m)
	require.NoError(t, err)
	id2, err := b.c.AddMessage(b.ctx, tid, rid, m)
	require.NoError(t, err)
	require.Equal(t, id1, id2)
	require.Len(t, b.f.Comments(tid), 2)
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
