package store_test

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/stretchr/testify/require"

	"github.com/relaydesk/relaydesk/internal/store"
)

func TestRecordInbound(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	b := setup(t)
	acc, err := b.store.CreateAccount(ctx, store.NewAccount{
		Name: "n", PhoneNumberID: "1065", WABAID: "1022", AccessToken: "t", AppSecret: "s", VerifyToken: "v",
		GraphURL: "https://graph.facebook.com", GraphVersion: "v23.0", SendRate: 80,
	}, store.Actor{Name: "test"})
	require.NoError(t, err)
	at := time.Date(2026, 11, 1, 12, 0, 0, 0, time.UTC)

	record := func(waID, name string, at time.Time, wamids ...string) store.InboundResult {
		t.Helper()
		var msgs []store.InboundMessage
		for _, w := range wamids {
			msgs = append(msgs, store.InboundMessage{WAMID: w, Kind: "text", Body: w, At: at})
		}
		var res store.InboundResult
		require.NoError(t, b.store.InTx(ctx, func(tx *store.Tx) error {
			var err error
			res, err = tx.RecordInbound(ctx, store.Inbound{AccountID: acc.ID, Customer: store.Customer{WaID: waID, ProfileName: name}, Messages: msgs})
			return err
		}))
		return res
	}
	seqs := func(convID store.ConversationID) []int64 {
		rows, err := b.store.Pool().Query(ctx, `SELECT seq FROM messages WHERE conversation_id = $1 ORDER BY seq`, convID)
		require.NoError(t, err)
		out, err := pgx.CollectRows(rows, pgx.RowTo[int64])
		require.NoError(t, err)
		return out
	}
	accountLast := func() time.Time {
		var ts time.Time
		require.NoError(t, b.store.Pool().QueryRow(ctx, `SELECT last_inbound_at FROM whatsapp_accounts WHERE id = $1`, acc.ID).Scan(&ts))
		return ts.UTC()
	}

	t.Run("new messages are stored in order and ask for a job once", func(t *testing.T) {
		r := record("100", "Ann", at, "wamid.a1", "wamid.a2")
		require.Equal(t, 2, r.Inserted)
		require.True(t, r.Enqueue)
		require.Equal(t, []int64{1, 2}, seqs(r.ConversationID))
		require.Equal(t, at, accountLast())

		again := record("100", "Ann", at, "wamid.a1", "wamid.a2")
		require.Zero(t, again.Inserted, "a redelivery stores nothing")
		require.False(t, again.Enqueue)
		require.Equal(t, r.ConversationID, again.ConversationID)

		more := record("100", "Ann", at.Add(time.Minute), "wamid.a3")
		require.Equal(t, 1, more.Inserted)
		require.False(t, more.Enqueue, "the conversation is already queued")
		require.Equal(t, []int64{1, 2, 5}, seqs(r.ConversationID), "a redelivery reserves sequence numbers but order is kept")
		require.Equal(t, at.Add(time.Minute), accountLast())
	})

	t.Run("an older message does not move the number's last inbound time back", func(t *testing.T) {
		before := accountLast()
		record("101", "Bo", at.Add(-time.Hour), "wamid.b1")
		require.Equal(t, before, accountLast())
	})

	t.Run("a profile name change is kept, an empty name is ignored", func(t *testing.T) {
		record("102", "Cy", at, "wamid.c1")
		record("102", "Cyrus", at, "wamid.c2")
		record("102", "", at, "wamid.c3")
		var name string
		require.NoError(t, b.store.Pool().QueryRow(ctx, `SELECT profile_name FROM contacts WHERE wa_id = '102'`).Scan(&name))
		require.Equal(t, "Cyrus", name)
	})

	t.Run("concurrent first messages of a new customer share one conversation", func(t *testing.T) {
		var wg sync.WaitGroup
		results := make([]store.InboundResult, 8)
		for i := range results {
			wg.Add(1)
			go func() {
				defer wg.Done()
				require.NoError(t, b.store.InTx(ctx, func(tx *store.Tx) error {
					var err error
					results[i], err = tx.RecordInbound(ctx, store.Inbound{AccountID: acc.ID, Customer: store.Customer{WaID: "103", ProfileName: "Di"},
						Messages: []store.InboundMessage{{WAMID: fmt.Sprintf("wamid.d%d", i), Kind: "text", Body: "hi", At: at}}})
					return err
				}))
			}()
		}
		wg.Wait()
		enqueued := 0
		for _, r := range results {
			require.Equal(t, results[0].ConversationID, r.ConversationID)
			require.Equal(t, 1, r.Inserted)
			if r.Enqueue {
				enqueued++
			}
		}
		require.Equal(t, 1, enqueued, "one job for the conversation")
		require.Equal(t, []int64{1, 2, 3, 4, 5, 6, 7, 8}, seqs(results[0].ConversationID))
	})

	t.Run("a customer created by a transaction that commits meanwhile is found", func(t *testing.T) {
		in := func(wamid string) store.Inbound {
			return store.Inbound{AccountID: acc.ID, Customer: store.Customer{WaID: "104", ProfileName: "Ed"},
				Messages: []store.InboundMessage{{WAMID: wamid, Kind: "text", Body: "hi", At: at}}}
		}
		first, err := b.store.Begin(ctx)
		require.NoError(t, err)
		defer first.PgxTx().Rollback(ctx) //nolint:errcheck
		r1, err := first.RecordInbound(ctx, in("wamid.e1"))
		require.NoError(t, err)

		// The second delivery's statement starts before the first commits,
		// so the new contact is not in its snapshot.
		done := make(chan store.InboundResult)
		go func() {
			var r store.InboundResult
			assert := b.store.InTx(ctx, func(tx *store.Tx) error {
				var err error
				r, err = tx.RecordInbound(ctx, in("wamid.e2"))
				return err
			})
			if assert != nil {
				t.Error(assert)
			}
			done <- r
		}()
		require.Eventually(t, func() bool {
			var waiting int
			_ = b.store.Pool().QueryRow(ctx, `SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock'`).Scan(&waiting)
			return waiting > 0
		}, 10*time.Second, 10*time.Millisecond)
		require.NoError(t, first.PgxTx().Commit(ctx))
		r2 := <-done
		require.Equal(t, r1.ConversationID, r2.ConversationID)
		require.Equal(t, r1.ContactID, r2.ContactID)
		require.Equal(t, []int64{1, 2}, seqs(r1.ConversationID))
	})
}
