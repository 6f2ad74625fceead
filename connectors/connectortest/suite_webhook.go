package connectortest

// The suite's checks of webhook parsing and authentication.

import (
	"bytes"
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/relaydesk/relaydesk/connectors"
)

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

	s.withTicket(t, "agent reply", func(t *testing.T, b *bundle, tid, rid string) {
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

	s.withTicket(t, "the requester's own comment is flagged", func(t *testing.T, b *bundle, tid, rid string) {
		cid, err := b.c.AddMessage(b.ctx, tid, rid, message("wamid.E1", "echo?"))
		require.NoError(t, err)
		e := b.parse(t, b.f.CommentDelivery(tid, cid), cid)
		require.Equal(t, rid, e.AuthorID)
		require.True(t, e.FromRequester)
		require.False(t, e.IsAgentReply())
	})

	s.withTicket(t, "internal note is private", func(t *testing.T, b *bundle, tid, _ string) {
		cid := b.f.AgentNote(tid, "internal only")
		e := b.parse(t, b.f.CommentDelivery(tid, cid), cid)
		require.False(t, e.Public)
		require.False(t, e.IsAgentReply())
	})

	s.withTicket(t, "status change", func(t *testing.T, b *bundle, tid, _ string) {
		d := b.f.SetStatus(tid, connectors.StatusSolved)
		evs, err := b.c.ParseWebhook(d.Header, d.Body, b.f.WebhookSecret(), d.At)
		require.NoError(t, err)
		require.Len(t, evs, 1)
		require.Equal(t, connectors.EventTicketStatus, evs[0].Type)
		require.Equal(t, tid, evs[0].TicketID)
		require.Equal(t, connectors.StatusSolved, evs[0].Status)
	})

	s.withTicket(t, "a redelivery parses to the same ids", func(t *testing.T, b *bundle, tid, _ string) {
		cid := b.f.AgentReply(tid, "hello")
		d := b.f.CommentDelivery(tid, cid)
		first := b.parse(t, d, cid)
		again := b.f.Redeliver(d)
		second := b.parse(t, again, cid)
		require.Equal(t, first.CommentID, second.CommentID)
		require.Equal(t, first.EventID, second.EventID)
		require.Equal(t, first.TicketID, second.TicketID)
	})

	s.withTicket(t, "rejects unauthenticated requests", func(t *testing.T, b *bundle, tid, _ string) {
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

	s.run(t, "authentic garbage is malformed", func(t *testing.T, b *bundle) {
		at := time.Now().UTC().Truncate(time.Second)
		for _, body := range []string{"{not json", "[1, 2]"} {
			evs, err := b.c.ParseWebhook(b.f.Sign([]byte(body), at), []byte(body), b.f.WebhookSecret(), at)
			require.ErrorIs(t, err, connectors.ErrMalformed, "body %s", body)
			require.NotErrorIs(t, err, connectors.ErrUnauthorized)
			require.Empty(t, evs)
		}
	})
}
