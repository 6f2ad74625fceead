package store_test

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/relaydesk/relaydesk/internal/store"
	"github.com/relaydesk/relaydesk/internal/whatsapp"
)

// TestTakeInbound follows one conversation's customer queue through the
// delivery job's single statement: taking in the customer's order, recording
// the message just posted, holding while the queue settles, and ending.
func TestTakeInbound(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	b := setup(t)
	accID, _ := conversation(t, b.store, "take")
	conn, err := b.store.CreateConnection(ctx, store.NewConnection{Name: "take", Kind: "zendesk"}, store.Actor{Name: "test"})
	require.NoError(t, err)

	// Three messages stored in one delivery, the customer's order not the
	// arrival's: b was sent first, then c, then a.
	base := time.Date(2026, 12, 2, 9, 0, 0, 0, time.UTC)
	sent := map[string]time.Time{"wamid.a": base.Add(2 * time.Second), "wamid.b": base, "wamid.c": base.Add(time.Second)}
	var msgs []store.InboundMessage
	for _, id := range []string{"wamid.a", "wamid.b", "wamid.c"} {
		msgs = append(msgs, store.InboundMessage{WAMID: id, Kind: "text", Body: id, At: sent[id],
			Message: &whatsapp.Message{ID: id, From: "4915100000009", Type: "text", Timestamp: sent[id]}})
	}
	var res store.InboundResult
	require.NoError(t, b.store.InTx(ctx, func(tx *store.Tx) error {
		res, err = tx.RecordInbound(ctx, store.Inbound{AccountID: accID, Customer: store.Customer{WaID: "4915100000009"}, Messages: msgs})
		return err
	}))
	conv := res.ConversationID
	var ticket store.Ticket
	require.NoError(t, b.store.InTx(ctx, func(tx *store.Tx) error {
		ticket, err = tx.InsertTicket(ctx, store.NewTicket{ConversationID: conv, ConnectionID: conn.ID, RemoteID: "T-1",
			RequesterID: "R-1", Status: "open"})
		return err
	}))

	_, ok, err := b.store.ClaimAndLoad(ctx, conv, store.DirIn, time.Minute)
	require.NoError(t, err)
	require.True(t, ok)
	held := func() bool {
		t.Helper()
		_, ok, err := b.store.ClaimAndLoad(ctx, conv, store.DirIn, time.Minute)
		require.NoError(t, err)
		return !ok
	}

	// A settle window longer than the messages' age: nothing is taken, and
	// the queue says since when the oldest waits.
	step, err := b.store.TakeInbound(ctx, conv, nil, time.Hour)
	require.NoError(t, err)
	require.Nil(t, step.Message)
	require.False(t, step.Released, "messages wait: the job keeps the conversation")
	require.True(t, held())
	require.NotNil(t, step.Queue.OldestPending)
	require.WithinDuration(t, step.Queue.Now, *step.Queue.OldestPending, time.Minute)
	require.Nil(t, step.Queue.LastPosted)
	m, err := b.store.NextPending(ctx, conv, "in")
	require.NoError(t, err)
	require.Zero(t, m.Attempts, "a held queue counts no attempt")

	// Settled: the first in the customer's order, its attempt counted.
	step, err = b.store.TakeInbound(ctx, conv, nil, 0)
	require.NoError(t, err)
	require.NotNil(t, step.Message)
	require.Equal(t, "wamid.b", step.Message.WAMID)
	require.Zero(t, step.Message.Attempts, "the count before this attempt")
	require.Equal(t, "wamid.b", step.Message.Inbound.ID)
	first := *step.Message
	stored, err := b.store.MessageByID(ctx, first.ID)
	require.NoError(t, err)
	require.Equal(t, 1, stored.Attempts)
	require.Equal(t, store.StatePending, stored.State)

	// Posted: recorded by the statement that takes the next one, which no
	// longer sees it as pending, and whose newest posted time is b's.
	step, err = b.store.TakeInbound(ctx, conv, &store.Posted{Message: first.ID, Ticket: ticket.ID, Connection: conn.ID, RemoteID: "C-1"}, 0)
	require.NoError(t, err)
	require.NotNil(t, step.Message)
	require.Equal(t, "wamid.c", step.Message.WAMID)
	require.NotNil(t, step.Queue.LastPosted)
	require.True(t, sent["wamid.b"].Equal(*step.Queue.LastPosted), "last posted %v", *step.Queue.LastPosted)
	stored, err = b.store.MessageByID(ctx, first.ID)
	require.NoError(t, err)
	require.Equal(t, store.StateDone, stored.State)
	require.Equal(t, "C-1", stored.RemoteID)
	require.Equal(t, ticket.ID, *stored.TicketID)
	require.Equal(t, conn.ID, *stored.ConnectionID)
	second := *step.Message

	// Posting the second while the window holds the third: the record is
	// written even though nothing is taken.
	step, err = b.store.TakeInbound(ctx, conv, &store.Posted{Message: second.ID, Ticket: ticket.ID, Connection: conn.ID, RemoteID: "C-2"}, time.Hour)
	require.NoError(t, err)
	require.Nil(t, step.Message)
	require.NotNil(t, step.Queue.OldestPending)
	require.True(t, sent["wamid.c"].Equal(*step.Queue.LastPosted))
	stored, err = b.store.MessageByID(ctx, second.ID)
	require.NoError(t, err)
	require.Equal(t, store.StateDone, stored.State)

	// A take again of a message an earlier attempt took reports that
	// attempt, so the job looks before posting.
	step, err = b.store.TakeInbound(ctx, conv, nil, 0)
	require.NoError(t, err)
	require.Equal(t, "wamid.a", step.Message.WAMID)
	step, err = b.store.TakeInbound(ctx, conv, nil, 0)
	require.NoError(t, err)
	require.Equal(t, "wamid.a", step.Message.WAMID)
	require.Equal(t, 1, step.Message.Attempts)
	third := *step.Message

	require.False(t, step.Released)
	require.True(t, held(), "a message taken: the job keeps the conversation")

	// The last one posted: nothing pending, the queue is empty, and the
	// lease is given back by the same statement.
	step, err = b.store.TakeInbound(ctx, conv, &store.Posted{Message: third.ID, Ticket: ticket.ID, Connection: conn.ID, RemoteID: "C-3"}, 0)
	require.NoError(t, err)
	require.Nil(t, step.Message)
	require.True(t, step.Released)
	require.False(t, held(), "released: the next job claims it")
	require.NoError(t, b.store.ExtendLease(ctx, conv, store.DirIn, time.Minute), "a late heartbeat")
	require.True(t, held(), "claimed again just now")
	require.NoError(t, b.store.ReleaseConversation(ctx, conv, store.DirIn))
	require.NoError(t, b.store.ExtendLease(ctx, conv, store.DirIn, time.Minute), "a heartbeat after the release")
	require.False(t, held(), "a heartbeat does not take a released lease back")
	require.Nil(t, step.Queue.OldestPending)
	require.True(t, sent["wamid.a"].Equal(*step.Queue.LastPosted))
	_, err = b.store.NextPending(ctx, conv, "in")
	require.ErrorIs(t, err, store.ErrNotFound)
}

// TestClaimAndLoad takes a conversation's lease and reads what the job
// needs in one statement; a second claim while the lease runs is refused,
// and a claim of the other direction is not.
func TestClaimAndLoad(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	b := setup(t)
	accID, conv := conversation(t, b.store, "claim")

	cl, ok, err := b.store.ClaimAndLoad(ctx, conv, store.DirIn, time.Minute)
	require.NoError(t, err)
	require.True(t, ok)
	want, err := b.store.ConversationByID(ctx, conv)
	require.NoError(t, err)
	require.Equal(t, want, cl.Conversation)
	require.Equal(t, "4915100000001", cl.Conversation.WaID)
	wantAcc, err := b.store.AccountByID(ctx, accID)
	require.NoError(t, err)
	require.Equal(t, wantAcc, cl.Account)
	sec, err := b.store.Secrets(cl.Account)
	require.NoError(t, err)
	require.Equal(t, "t", sec.AccessToken, "the number's sealed secrets open")
	require.Nil(t, cl.Ticket, "no ticket yet")
	require.Nil(t, cl.Connection)
	require.Nil(t, cl.Breaker, "a customer message without a ticket: the route decides the target")

	_, ok, err = b.store.ClaimAndLoad(ctx, conv, store.DirIn, time.Minute)
	require.NoError(t, err)
	require.False(t, ok, "held by the first claim")
	cl, ok, err = b.store.ClaimAndLoad(ctx, conv, store.DirOut, time.Minute)
	require.NoError(t, err)
	require.True(t, ok, "the other direction has its own lease")
	require.Equal(t, &store.Breaker{Target: store.BreakerAccount, TargetID: int64(accID), State: store.BreakerClosed}, cl.Breaker,
		"replies: the number's breaker, closed without a row")

	// With a ticket: the ticket, its connection and that connection's
	// breaker, as their own reads return them.
	conn, err := b.store.CreateConnection(ctx, store.NewConnection{Name: "claim", Kind: "zendesk",
		Credentials: map[string]string{"token": "secret-token"}}, store.Actor{Name: "test"})
	require.NoError(t, err)
	var ticket store.Ticket
	require.NoError(t, b.store.InTx(ctx, func(tx *store.Tx) error {
		ticket, err = tx.InsertTicket(ctx, store.NewTicket{ConversationID: conv, ConnectionID: conn.ID, RemoteID: "T-9",
			RequesterID: "R-9", Status: "open"})
		return err
	}))
	require.NoError(t, b.store.ReleaseConversation(ctx, conv, store.DirIn))
	cl, ok, err = b.store.ClaimAndLoad(ctx, conv, store.DirIn, time.Minute)
	require.NoError(t, err)
	require.True(t, ok, "released")
	require.Equal(t, &ticket, cl.Ticket)
	wantConn, err := b.store.ConnectionByID(ctx, conn.ID)
	require.NoError(t, err)
	require.Equal(t, &wantConn, cl.Connection)
	creds, err := b.store.Credentials(*cl.Connection)
	require.NoError(t, err)
	require.Equal(t, "secret-token", creds["token"])
	require.Equal(t, &store.Breaker{Target: store.BreakerConnection, TargetID: int64(conn.ID), State: store.BreakerClosed}, cl.Breaker)

	_, err = b.store.UpdateBreaker(ctx, store.BreakerConnection, int64(conn.ID), func(br store.Breaker) store.Breaker {
		br.State, br.Failures, br.LastError = store.BreakerOpen, 5, "503 from the helpdesk"
		return br
	})
	require.NoError(t, err)
	wantBreaker, err := b.store.BreakerOf(ctx, store.BreakerConnection, int64(conn.ID))
	require.NoError(t, err)
	require.NoError(t, b.store.ReleaseConversation(ctx, conv, store.DirIn))
	cl, ok, err = b.store.ClaimAndLoad(ctx, conv, store.DirIn, time.Minute)
	require.NoError(t, err)
	require.True(t, ok)
	require.Equal(t, &wantBreaker, cl.Breaker)
	require.Equal(t, store.BreakerOpen, cl.Breaker.State)

	_, ok, err = b.store.ClaimAndLoad(ctx, 1<<40, store.DirIn, time.Minute)
	require.NoError(t, err)
	require.False(t, ok, "no such conversation")
}
