package e2e

import (
	"context"
	"net/http"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/stretchr/testify/require"

	"github.com/relaydesk/relaydesk/internal/store"
	"github.com/relaydesk/relaydesk/internal/whatsapp/whatsapptest"
)

// With every connection of the main pool taken, as a backlog of customer
// messages takes them, an agent's reply is still stored and sent: the
// helpdesk webhook and the send job run on the replies' own connections
// (RELAYDESK_REPLY_DB_CONNS). Once the pool is free again, the queued job
// finds nothing left to send.
func TestAgentReplyDoesNotWaitForTheMainPool(t *testing.T) {
	t.Parallel()
	h := newHarness(t, harnessOpts{replyLane: true})
	tk := h.openTicket("hi")
	ctx := context.Background()
	var convID store.ConversationID
	require.NoError(t, h.pool.QueryRow(ctx, `SELECT id FROM conversations`).Scan(&convID))

	release := h.exhaustMainPool()
	defer release()

	h.agentReplies(tk, "sent on the reply lane") // answered 200 only once stored
	sctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	require.NoError(t, h.bridge.SendOutbound(sctx, convID))
	require.Equal(t, []string{"sent on the reply lane"}, h.sentTexts())
	var state string
	require.NoError(t, h.replyStore.Pool().QueryRow(ctx,
		`SELECT state FROM messages WHERE direction = 'out' AND body = 'sent on the reply lane'`).Scan(&state))
	require.Equal(t, "done", state)

	release()
	h.eventually(func() bool {
		return h.count(`SELECT count(*) FROM river_job WHERE kind = 'send_outbound' AND state = 'completed'`) == 1
	}, "the queued send job ran")
	require.Equal(t, []string{"sent on the reply lane"}, h.sentTexts(), "sent exactly once")
	h.noViolations()
}

// exhaustMainPool takes every connection of the main pool that comes free
// within a second (River's listener keeps the one it holds), as a backlog
// of customer messages takes them, and returns the function that gives
// them back.
func (h *harness) exhaustMainPool() (release func()) {
	h.t.Helper()
	ctx := context.Background()
	var held []*pgxpool.Conn
	for {
		actx, cancel := context.WithTimeout(ctx, time.Second)
		c, err := h.pool.Acquire(actx)
		cancel()
		if err != nil {
			break
		}
		held = append(held, c)
	}
	st := h.pool.Stat()
	require.NotEmpty(h.t, held)
	require.Equal(h.t, st.MaxConns(), st.AcquiredConns(), "the main pool is exhausted")
	return func() {
		for _, c := range held {
			c.Release()
		}
		held = nil
	}
}

// A database that does not answer (here: no connection comes free) gets
// each webhook a 503 once RELAYDESK_INTAKE_DEADLINE has passed, the
// lookup of its number or connection included, instead of a request left
// hanging; Meta and the helpdesk retry, and the retry is stored once.
func TestWebhooksGet503WhileTheDatabaseDoesNotAnswer(t *testing.T) {
	t.Parallel()
	h := newHarness(t, harnessOpts{intakeDeadline: 500 * time.Millisecond})
	tk := h.openTicket("hi")

	release := h.exhaustMainPool()
	defer release()
	wa := whatsapptest.NewDelivery(phoneID).Text(customer, "while the database is busy")
	h.graph.Received(wa)
	require.Equal(t, http.StatusServiceUnavailable, h.postSignedWhatsAppCode(appSecret, wa.Bytes()))
	reply := h.zd.CommentDelivery(tk, h.zd.AgentReply(tk, "a reply while the database is busy"))
	require.Equal(t, http.StatusServiceUnavailable, h.postHelpdesk(reply))
	release()

	// The retries, as Meta and Zendesk send them.
	require.Equal(t, http.StatusOK, h.postSignedWhatsAppCode(appSecret, wa.Bytes()))
	require.Equal(t, http.StatusOK, h.postHelpdesk(reply))
	fromCustomer := func() (n int) {
		for _, c := range h.publicComments(tk) {
			if c.Body == "while the database is busy" {
				n++
			}
		}
		return n
	}
	h.eventually(func() bool { return fromCustomer() == 1 && len(h.sentTexts()) == 1 }, "both delivered")
	time.Sleep(500 * time.Millisecond) // room for a duplicate to show
	require.Equal(t, 1, fromCustomer(), "the customer's message once")
	require.Equal(t, []string{"a reply while the database is busy"}, h.sentTexts())
	h.noViolations()
}
