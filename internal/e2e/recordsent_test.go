package e2e

import (
	"context"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/stretchr/testify/require"

	"github.com/relaydesk/relaydesk/internal/testdb"
	"github.com/relaydesk/relaydesk/internal/whatsapp/whatsapptest"
)

// WhatsApp accepts a reply, and before relaydesk has written that down the
// database drops every connection (a restart, a failover). The Cloud API
// has no idempotency key, so a job that gave up on the record would send
// the reply again when retried: the record is tried again instead, and the
// customer gets the reply once.
func TestReplyAcceptedDuringADatabaseBlinkIsSentOnce(t *testing.T) {
	t.Parallel()
	var blink atomic.Bool
	var dbName atomic.Value
	h := newHarness(t, harnessOpts{replyLane: true, onSent: func(whatsapptest.RecordedMessage) {
		if !blink.CompareAndSwap(true, false) {
			return
		}
		ctx := context.Background()
		admin, err := pgx.Connect(ctx, testdb.ServerURL())
		if err != nil {
			t.Errorf("connect to terminate: %v", err)
			return
		}
		defer admin.Close(ctx)
		var n int
		if err := admin.QueryRow(ctx, `SELECT count(*) FILTER (WHERE pg_terminate_backend(pid, 5000))
			FROM pg_stat_activity WHERE datname = $1 AND pid <> pg_backend_pid()`, dbName.Load()).Scan(&n); err != nil || n == 0 {
			t.Errorf("terminate the database's connections: %d, %v", n, err)
		}
	}})
	dbName.Store(testdb.Name(h.pool))
	tk := h.openTicket("hi")

	blink.Store(true)
	h.agentReplies(tk, "accepted during a blink")
	// Reads tolerate the blink too: a pooled connection may be one of the
	// terminated ones.
	done := func() bool {
		var n int
		err := h.pool.QueryRow(context.Background(), `SELECT count(*) FROM river_job
			WHERE kind = 'send_outbound' AND state = 'completed'`).Scan(&n)
		return err == nil && n == 1
	}
	h.eventually(done, "the send job completed")
	require.False(t, blink.Load(), "the blink happened")
	time.Sleep(2 * time.Second) // room for a second send to show
	require.Equal(t, []string{"accepted during a blink"}, h.sentTexts(), "sent once")
	var state string
	require.Eventually(t, func() bool {
		return h.pool.QueryRow(context.Background(), `SELECT state FROM messages WHERE body = 'accepted during a blink'`).Scan(&state) == nil
	}, 30*time.Second, 50*time.Millisecond)
	require.Equal(t, "done", state)
}
