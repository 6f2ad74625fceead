package bridge

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/relaydesk/relaydesk/connectors"
	"github.com/relaydesk/relaydesk/internal/store"
	"github.com/relaydesk/relaydesk/internal/testdb"
)

// TestDrainRecordsEveryPostedComment runs the customer-message drain on a
// real database with a work function standing in for the helpdesk call: a
// comment's record rides on the statement that takes the next message, and
// is written on its own when the drain ends first, even when the job's
// context is cancelled right after the post.
func TestDrainRecordsEveryPostedComment(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	st := testdb.NewStore(t)
	who := store.Actor{Name: "test"}
	acc, err := st.CreateAccount(ctx, store.NewAccount{Name: "drain", PhoneNumberID: "drain-phone", WABAID: "1",
		GraphURL: "https://graph.facebook.com", GraphVersion: "v23.0", SendRate: 80, AccessToken: "t", AppSecret: "s",
		VerifyToken: "v"}, who)
	require.NoError(t, err)
	conn, err := st.CreateConnection(ctx, store.NewConnection{Name: "drain", Kind: "zendesk"}, who)
	require.NoError(t, err)
	noSettle := time.Duration(0)
	b := New(Opts{Store: st, Logger: slog.New(slog.DiscardHandler), InboundSettle: &noSettle,
		Connectors: func(store.Connection, map[string]string, *http.Client) (connectors.Connector, error) { return nil, nil }})

	// seed stores n customer messages of a new customer, with a ticket.
	seed := func(t *testing.T, waID string, n int) (store.ConversationID, store.Ticket) {
		t.Helper()
		at := time.Date(2026, 12, 2, 9, 0, 0, 0, time.UTC)
		in := store.Inbound{AccountID: acc.ID, Customer: store.Customer{WaID: waID}}
		for i := range n {
			in.Messages = append(in.Messages, store.InboundMessage{WAMID: fmt.Sprintf("wamid.%s.%d", waID, i), Kind: "text",
				Body: "hi", At: at.Add(time.Duration(i) * time.Second)})
		}
		var res store.InboundResult
		var ticket store.Ticket
		require.NoError(t, st.InTx(ctx, func(tx *store.Tx) error {
			if res, err = tx.RecordInbound(ctx, in); err != nil {
				return err
			}
			ticket, err = tx.InsertTicket(ctx, store.NewTicket{ConversationID: res.ConversationID, ConnectionID: conn.ID,
				RemoteID: "T-" + waID, RequesterID: "R", Status: "open"})
			return err
		}))
		return res.ConversationID, ticket
	}
	// posting stands in for the helpdesk: it records comment <ticket>-C-<n>
	// for the n-th message it sees, and runs after(n) once it has.
	posting := func(ticket store.Ticket, after func(n int)) (func(context.Context, *convCtx, store.Message) error, *[]string) {
		var seen []string
		return func(ctx context.Context, cc *convCtx, m store.Message) error {
			require.Equal(t, ticket.ID, cc.ticket.ID, "the ticket read with the claim")
			require.Contains(t, cc.conns, conn.ID, "its connection read with the claim")
			seen = append(seen, m.WAMID)
			if err := b.markPosted(ctx, cc, store.Posted{Message: m.ID, Ticket: ticket.ID, Connection: conn.ID,
				RemoteID: fmt.Sprintf("%s-C-%d", ticket.RemoteID, len(seen))}); err != nil {
				return err
			}
			after(len(seen))
			return nil
		}, &seen
	}
	remoteIDs := func(t *testing.T, conv store.ConversationID) []string {
		t.Helper()
		msgs, _, err := st.ConversationTimeline(ctx, conv)
		require.NoError(t, err)
		var out []string
		for _, m := range msgs {
			require.Equal(t, store.StateDone, m.State, "message %s", m.WAMID)
			out = append(out, m.RemoteID)
		}
		return out
	}
	claimable := func(t *testing.T, conv store.ConversationID) bool {
		t.Helper()
		_, ok, err := st.ClaimAndLoad(ctx, conv, store.DirIn, time.Minute)
		require.NoError(t, err)
		return ok
	}

	t.Run("to the end: every record, the lease given back", func(t *testing.T) {
		conv, ticket := seed(t, "4915100000021", 3)
		work, seen := posting(ticket, func(int) {})
		require.NoError(t, b.drain(ctx, conv, store.DirIn, work))
		require.Equal(t, []string{"wamid.4915100000021.0", "wamid.4915100000021.1", "wamid.4915100000021.2"}, *seen)
		require.Equal(t, []string{"T-4915100000021-C-1", "T-4915100000021-C-2", "T-4915100000021-C-3"}, remoteIDs(t, conv))
		require.True(t, claimable(t, conv), "released")
	})

	t.Run("cancelled right after a post: the record is still written", func(t *testing.T) {
		conv, ticket := seed(t, "4915100000022", 3)
		jctx, cancel := context.WithCancel(ctx)
		defer cancel()
		work, seen := posting(ticket, func(n int) {
			if n == 2 {
				cancel() // the process stops the job as the helpdesk answers
			}
		})
		require.ErrorIs(t, b.drain(jctx, conv, store.DirIn, work), context.Canceled)
		require.Len(t, *seen, 2)
		m, err := st.NextPending(ctx, conv, "in")
		require.NoError(t, err)
		require.Equal(t, "wamid.4915100000022.2", m.WAMID, "the third waits for the next job")
		msgs, _, err := st.ConversationTimeline(ctx, conv)
		require.NoError(t, err)
		require.Equal(t, "T-4915100000022-C-1", msgs[0].RemoteID)
		require.Equal(t, "T-4915100000022-C-2", msgs[1].RemoteID, "posted before the cancel: recorded")
		require.Equal(t, store.StateDone, msgs[1].State)
		require.True(t, claimable(t, conv), "released")
		require.NoError(t, st.ReleaseConversation(ctx, conv, store.DirIn))

		work, seen = posting(store.Ticket{ID: ticket.ID, RemoteID: "next"}, func(int) {})
		require.NoError(t, b.drain(ctx, conv, store.DirIn, work))
		require.Equal(t, []string{"wamid.4915100000022.2"}, *seen)
		require.Equal(t, []string{"T-4915100000022-C-1", "T-4915100000022-C-2", "next-C-1"}, remoteIDs(t, conv),
			"the next job's own first comment")
	})
}

// TestProbeWithoutAnswerIsGivenBack: a job that takes a down target's probe
// and ends without a success or a failure (a rate limit, a snooze, a
// cancelled job) gives the probe back, so the next one comes after
// probeBase, not after probeHold; a probe that did resolve the breaker is
// left as it is.
func TestProbeWithoutAnswerIsGivenBack(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	st := testdb.NewStore(t)
	conn, err := st.CreateConnection(ctx, store.NewConnection{Name: "probe", Kind: "zendesk"}, store.Actor{Name: "test"})
	require.NoError(t, err)
	b := New(Opts{Store: st, Logger: slog.New(slog.DiscardHandler)})
	ref := *connRef(conn.ID)
	down := func(t *testing.T) {
		t.Helper()
		past := time.Now().Add(-time.Second)
		_, err := st.UpdateBreaker(ctx, ref.target, ref.id, func(br store.Breaker) store.Breaker {
			br.State, br.Failures, br.Probes, br.NextProbeAt, br.ProbeUntil = store.BreakerOpen, breakerThreshold, 0, &past, nil
			return br
		})
		require.NoError(t, err)
	}
	read := func(t *testing.T) store.Breaker {
		t.Helper()
		br, err := st.BreakerOf(ctx, ref.target, ref.id)
		require.NoError(t, err)
		return br
	}

	down(t)
	dirty, giveBack, err := b.passBreaker(ctx, ref, nil)
	require.NoError(t, err)
	require.True(t, dirty)
	require.Equal(t, store.BreakerHalfOpen, read(t).State, "the probe is taken")
	_, _, err = b.passBreaker(ctx, ref, nil)
	var downErr *TargetDownError
	require.ErrorAs(t, err, &downErr, "one probe at a time")

	giveBack() // the probe was rate-limited: no answer either way
	br := read(t)
	require.Equal(t, store.BreakerOpen, br.State)
	require.Nil(t, br.ProbeUntil)
	require.NotNil(t, br.NextProbeAt)
	require.WithinDuration(t, time.Now().Add(probeBase), *br.NextProbeAt, probeBase, "probed again after probeBase, not probeHold")
	_, _, err = b.passBreaker(ctx, ref, nil)
	require.ErrorAs(t, err, &downErr)
	require.LessOrEqual(t, downErr.After, probeBase)

	// A probe that succeeded: giving it back changes nothing.
	down(t)
	_, giveBack, err = b.passBreaker(ctx, ref, nil)
	require.NoError(t, err)
	require.NoError(t, b.breakerSucceeded(ctx, ref))
	giveBack()
	require.Equal(t, store.BreakerClosed, read(t).State)

	// A probe that failed: it stays open with the failed probe's backoff.
	down(t)
	_, giveBack, err = b.passBreaker(ctx, ref, nil)
	require.NoError(t, err)
	b.breakerFailed(ctx, ref, fmt.Errorf("503 from the helpdesk"))
	failed := read(t)
	giveBack()
	require.Equal(t, failed, read(t))
	require.Equal(t, 1, failed.Probes)

	// Without a probe there is nothing to give back.
	_, giveBack, err = b.passBreaker(ctx, *connRef(conn.ID + 1000), nil)
	require.NoError(t, err)
	giveBack()
}
