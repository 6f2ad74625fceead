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
