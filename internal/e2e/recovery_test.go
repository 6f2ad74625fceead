package e2e

// Recovery after outages, with production defaults (newOrderHarness: the
// retry policy of internal/jobs, no cap on snoozes): the helpdesk's circuit
// breaker, its single probe, the wake-up of every waiting conversation, and
// the note left when relaydesk gives up.

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/relaydesk/relaydesk/connectors/connectortest"
	"github.com/relaydesk/relaydesk/internal/store"
	"github.com/relaydesk/relaydesk/internal/whatsapp/whatsapptest"
)

// A helpdesk that answers 500 to every call is marked down after repeated
// failures; the conversations wait for it, shown with their count and the
// last error, and when it is back every one of them is delivered and the
// breaker is closed.
func TestHelpdeskOutageOpensBreakerAndRecoveryDeliversEveryone(t *testing.T) {
	t.Parallel()
	h, _ := newOrderHarness(t, 1)
	ctx := context.Background()
	conn, err := h.store.ConnectionByName(ctx, "zendesk")
	require.NoError(t, err)

	// The outage: the next 8 calls fail, whoever makes them.
	h.zd.FailNext(8, connectortest.FailServerError)
	const customers = 4
	for i := range customers {
		h.postWhatsApp(whatsapptest.NewDelivery(phoneID).Text(fmt.Sprintf("4915100000%02d", i), fmt.Sprintf("hello %d", i)))
	}

	var seen store.Breaker
	h.eventually(func() bool {
		bs, err := h.store.Breakers(ctx)
		require.NoError(t, err)
		for _, b := range bs {
			if b.State != store.BreakerClosed {
				seen = b
				return true
			}
		}
		return false
	}, "the helpdesk is marked down")
	require.Equal(t, store.BreakerConnection, seen.Target)
	require.Equal(t, int64(conn.ID), seen.TargetID)
	require.Equal(t, "zendesk", seen.Name)
	require.NotNil(t, seen.DownSince)
	require.Contains(t, seen.LastError, "500")
	require.Positive(t, seen.Waiting, "the admin page counts the messages waiting for the helpdesk")

	h.eventually(func() bool { return len(h.zd.Tickets()) == customers }, "every conversation delivered after the outage")
	require.Empty(t, h.failures(), "nothing given up")
	h.eventually(func() bool {
		bs, err := h.store.Breakers(ctx)
		require.NoError(t, err)
		return len(bs) == 0
	}, "the breaker closed")
	h.noViolations()
}

// While the breaker is open exactly one job takes the probe slot, however
// many try at once; the slot is free again when its hold ends.
func TestOnlyOneProbeAtATime(t *testing.T) {
	t.Parallel()
	h := newHarness(t, harnessOpts{})
	ctx := context.Background()
	conn, err := h.store.ConnectionByName(ctx, "zendesk")
	require.NoError(t, err)
	id := int64(conn.ID)
	past := time.Now().Add(-time.Second)
	_, err = h.store.UpdateBreaker(ctx, store.BreakerConnection, id, func(b store.Breaker) store.Breaker {
		b.State, b.Failures, b.DownSince, b.NextProbeAt, b.LastError = store.BreakerOpen, 5, &past, &past, "500"
		return b
	})
	require.NoError(t, err)

	var took atomic.Int32
	var wg sync.WaitGroup
	for range 20 {
		wg.Go(func() {
			ok, err := h.store.TakeProbe(ctx, store.BreakerConnection, id, time.Now().Add(time.Minute))
			require.NoError(t, err)
			if ok {
				took.Add(1)
			}
		})
	}
	wg.Wait()
	require.Equal(t, int32(1), took.Load())
	b, err := h.store.BreakerOf(ctx, store.BreakerConnection, id)
	require.NoError(t, err)
	require.Equal(t, store.BreakerHalfOpen, b.State)

	// A probe whose job died: its hold has ended, another job takes over.
	_, err = h.store.UpdateBreaker(ctx, store.BreakerConnection, id, func(b store.Breaker) store.Breaker {
		b.ProbeUntil = &past
		return b
	})
	require.NoError(t, err)
	ok, err := h.store.TakeProbe(ctx, store.BreakerConnection, id, time.Now().Add(time.Minute))
	require.NoError(t, err)
	require.True(t, ok)
}

// Giving up on a customer message marks it failed with the reason (the admin
// page) and leaves an internal note on the conversation's ticket that names
// it: never a silent row.
func TestGivingUpOnACustomerMessageLeavesANote(t *testing.T) {
	t.Parallel()
	h, kills := newOrderHarness(t, 1)
	ctx := context.Background()
	ticketID := h.openTicket("first")
	h.eventually(func() bool { return h.count(`SELECT count(*) FROM tickets WHERE active`) == 1 }, "the ticket recorded")
	kills[0]()

	h.postWhatsApp(whatsapptest.NewDelivery(phoneID).Text(customer, "where is my order?"))
	var convID store.ConversationID
	require.NoError(t, h.pool.QueryRow(ctx, `SELECT conversation_id FROM messages WHERE body = 'where is my order?'`).Scan(&convID))
	require.NoError(t, h.bridge.GiveUp(ctx, convID, "in", errors.New("zendesk: 500 Internal Server Error")))
	require.Equal(t, 1, h.count(`SELECT count(*) FROM messages WHERE state = 'failed' AND error::text LIKE '%gave up%500%'`))

	h.startReplica()
	h.eventually(func() bool {
		for _, n := range h.notes(ticketID) {
			if strings.Contains(n, `"where is my order?"`) && strings.Contains(n, "500") {
				return true
			}
		}
		return false
	}, "the note naming the message on the ticket")
}

// A helpdesk that stays down: its conversations' jobs wait on the open
// breaker without spending attempts, so it is their age that ends the wait.
// After jobs.GiveUpAfter (72 hours) the message is given up, visibly, with
// since when the helpdesk is down and its last error; before that it waits.
func TestAHelpdeskThatNeverComesBackIsGivenUpAfterThreeDays(t *testing.T) {
	t.Parallel()
	h, _ := newOrderHarness(t, 1)
	ctx := context.Background()
	conn, err := h.store.ConnectionByName(ctx, "zendesk")
	require.NoError(t, err)
	down, nextProbe := time.Now().Add(-time.Hour), time.Now().Add(time.Hour)
	_, err = h.store.UpdateBreaker(ctx, store.BreakerConnection, int64(conn.ID), func(b store.Breaker) store.Breaker {
		b.State, b.Failures, b.DownSince, b.NextProbeAt, b.LastError = store.BreakerOpen, 5, &down, &nextProbe, "zendesk: 503 Service Unavailable"
		return b
	})
	require.NoError(t, err)

	h.postWhatsApp(whatsapptest.NewDelivery(phoneID).Text(customer, "is anyone there?"))
	h.eventually(func() bool {
		return h.count(`SELECT count(*) FROM river_job WHERE kind = 'deliver_inbound' AND state = 'scheduled'
			AND scheduled_at > now() + interval '30 minutes'`) == 1
	}, "the delivery waits for the probe, an hour away")

	// Seventy-one hours of waiting: it still waits.
	age := func(hours int) {
		_, err := h.pool.Exec(ctx, `UPDATE river_job SET created_at = now() - make_interval(hours => $1), scheduled_at = now()
			WHERE kind = 'deliver_inbound' AND state = 'scheduled'`, hours)
		require.NoError(t, err)
	}
	age(71)
	h.eventually(func() bool {
		return h.count(`SELECT count(*) FROM river_job WHERE kind = 'deliver_inbound' AND state = 'scheduled'
			AND scheduled_at > now() + interval '30 minutes'`) == 1
	}, "after 71 hours the delivery still waits")
	require.Zero(t, h.count(`SELECT count(*) FROM messages WHERE state = 'failed'`))
	require.Empty(t, h.zd.Tickets(), "the helpdesk was not called while down")

	age(73)
	h.eventually(func() bool { return h.count(`SELECT count(*) FROM messages WHERE state = 'failed'`) == 1 },
		"after 72 hours the message is given up")
	f := h.failures()
	require.Contains(t, f, "gave up")
	require.Contains(t, f, "unreachable since")
	require.Contains(t, f, "503")
	require.Empty(t, h.zd.Tickets())
}

// A reply held for the closed 24-hour window calls nothing, so it says
// nothing about Graph: the number's open breaker stays open.
func TestAHeldReplyDoesNotCloseTheNumbersBreaker(t *testing.T) {
	t.Parallel()
	h := newHarness(t, harnessOpts{})
	ctx := context.Background()
	tk := h.openTicket("hi")
	var accID int64
	require.NoError(t, h.pool.QueryRow(ctx, `SELECT id FROM whatsapp_accounts WHERE phone_number_id = $1`, phoneID).Scan(&accID))
	past := time.Now().Add(-time.Minute)
	_, err := h.store.UpdateBreaker(ctx, store.BreakerAccount, accID, func(b store.Breaker) store.Breaker {
		b.State, b.Failures, b.DownSince, b.NextProbeAt, b.LastError = store.BreakerOpen, 5, &past, &past, "graph: 500"
		return b
	})
	require.NoError(t, err)

	h.clock.Advance(25 * time.Hour)
	h.agentReplies(tk, "late reply")
	h.eventually(func() bool { return len(h.notes(tk)) == 1 }, "the held reply's note")
	require.Empty(t, h.graph.Sent())
	b, err := h.store.BreakerOf(ctx, store.BreakerAccount, accID)
	require.NoError(t, err)
	require.NotEqual(t, store.BreakerClosed, b.State, "no call went to Graph, so nothing proves it is back")
	require.Equal(t, 5, b.Failures)
}

// A customer message the helpdesk refuses for good (422) is not lost without
// a word: it is marked failed with the helpdesk's reason (the admin page,
// with Retry) and an internal note on the ticket names it.
func TestACustomerMessageTheHelpdeskRefusesLeavesANote(t *testing.T) {
	t.Parallel()
	h := newHarness(t, harnessOpts{})
	tk := h.openTicket("hello")
	h.eventually(func() bool { return h.count(`SELECT count(*) FROM messages WHERE state = 'done'`) == 1 }, "the first message posted")

	h.zd.FailNextWith(422, nil, `{"error":"RecordInvalid","description":"Record validation errors",`+
		`"details":{"base":[{"description":"Comment: is too long"}]}}`)
	h.postWhatsApp(whatsapptest.NewDelivery(phoneID).Text(customer, "my order 1234 never came"))
	h.eventually(func() bool { return len(h.notes(tk)) == 1 }, "a note on the ticket")
	note := h.notes(tk)[0]
	require.Contains(t, note, `"my order 1234 never came"`)
	require.Contains(t, note, "refused")
	require.Contains(t, h.failures(), "refused")
	require.Len(t, h.publicComments(tk), 1, "the refused message was not posted")
}
