package e2e

import (
	"bytes"
	"context"
	"net/http"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/stretchr/testify/require"

	"github.com/relaydesk/relaydesk/internal/store"
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
	var convID store.ConversationID
	require.NoError(t, h.pool.QueryRow(context.Background(), `SELECT id FROM conversations`).Scan(&convID))

	// Take every connection of the main pool that comes free within a
	// second; River's listener keeps the one it holds.
	ctx := context.Background()
	var held []*pgxpool.Conn
	release := func() {
		for _, c := range held {
			c.Release()
		}
		held = nil
	}
	defer release()
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
	require.NotEmpty(t, held)
	require.Equal(t, st.MaxConns(), st.AcquiredConns(), "the main pool is exhausted")

	// The agent's reply, answered 200 only once stored; bounded, so that a
	// reply that does wait for the main pool fails the test.
	d := h.zd.CommentDelivery(tk, h.zd.AgentReply(tk, "sent on the reply lane"))
	req, err := http.NewRequest(http.MethodPost, h.srv.URL+"/webhooks/helpdesk/"+h.publicID, bytes.NewReader(d.Body))
	require.NoError(t, err)
	req.Header = d.Header.Clone()
	resp, err := (&http.Client{Timeout: 30 * time.Second}).Do(req)
	require.NoError(t, err, "the webhook waited for the main pool")
	resp.Body.Close()
	require.Equal(t, http.StatusOK, resp.StatusCode)
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
