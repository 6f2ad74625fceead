package store_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/relaydesk/relaydesk/internal/store"
)

func manyAccount(t *testing.T, st *store.Store, name, phoneID, wabaID string) store.Account {
	t.Helper()
	acc, err := st.CreateAccount(context.Background(), store.NewAccount{
		Name: name, PhoneNumberID: phoneID, WABAID: wabaID, AccessToken: "t", AppSecret: "s", VerifyToken: "v",
		GraphURL: "https://graph.facebook.com", GraphVersion: "v23.0", SendRate: 80,
	}, store.Actor{Name: "test"})
	require.NoError(t, err)
	return acc
}

func inbound(acc store.Account, cu store.Customer, at time.Time, wamids ...string) store.Inbound {
	in := store.Inbound{AccountID: acc.ID, Customer: cu}
	for _, w := range wamids {
		in.Messages = append(in.Messages, store.InboundMessage{WAMID: w, Kind: "text", Body: "body of " + w, At: at})
	}
	return in
}

func recordMany(t *testing.T, st *store.Store, ins []store.Inbound) []store.InboundResult {
	t.Helper()
	var res []store.InboundResult
	require.NoError(t, st.InTx(context.Background(), func(tx *store.Tx) error {
		var err error
		res, err = tx.RecordInboundMany(context.Background(), ins)
		return err
	}))
	return res
}

// TestRecordInboundMany checks that recording many deliveries in one call
// stores what recording them one after the other would have.
func TestRecordInboundMany(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	b := setup(t)
	st := b.store
	us := manyAccount(t, st, "us", "1065", "1022")
	eu := manyAccount(t, st, "eu", "2065", "2022") // another business: its own contacts
	at := time.Date(2026, 11, 1, 12, 0, 0, 0, time.UTC)
	ann := store.Customer{WaID: "16505550001", ProfileName: "Ann"}
	bob := store.Customer{WaID: "16505550002"}
	bsuid := store.Customer{UserID: "US.1349120865530274", Username: "@carla"}

	// A message stored before: its redelivery in the batch inserts nothing.
	before := recordMany(t, st, []store.Inbound{inbound(us, bob, at, "wamid.B0")})
	require.Equal(t, 1, before[0].Inserted)

	ins := []store.Inbound{
		inbound(us, ann, at, "wamid.A1", "wamid.A2"),
		inbound(us, bob, at.Add(time.Second), "wamid.B0", "wamid.B1"),
		inbound(us, store.Customer{WaID: ann.WaID}, at.Add(2*time.Second), "wamid.A3", "wamid.A1"), // Ann again, one redelivered in the batch
		inbound(eu, ann, at.Add(3*time.Second), "wamid.E1"),
		inbound(us, bsuid, at.Add(4*time.Second), "wamid.U1"),
	}
	res := recordMany(t, st, ins)
	require.Len(t, res, len(ins))

	cases := []struct {
		name     string
		i        int
		inserted int
		enqueue  bool
	}{
		{"Ann's first delivery", 0, 2, true},
		{"Bob: one redelivery, one new; his job is still queued from before", 1, 1, false},
		{"Ann's second delivery: one new, one already in the batch", 2, 1, false},
		{"Ann writing to the other business", 3, 1, true},
		{"a customer known by BSUID only", 4, 1, true},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r := res[c.i]
			require.Equal(t, c.inserted, r.Inserted)
			require.Len(t, r.InsertedIDs, c.inserted)
			require.Equal(t, c.enqueue, r.Enqueue)
			require.NotZero(t, r.ConversationID)
			require.NotZero(t, r.ContactID)
		})
	}
	require.Equal(t, res[0].ConversationID, res[2].ConversationID, "Ann's two deliveries are one conversation")
	require.Equal(t, before[0].ConversationID, res[1].ConversationID, "Bob's conversation is the one he had")
	require.NotEqual(t, res[0].ContactID, res[3].ContactID, "contacts are per business")
	require.NotEqual(t, res[0].ConversationID, res[3].ConversationID)

	// Sequence numbers follow the batch's order within a conversation.
	var order []string
	rows, err := st.Pool().Query(ctx, `SELECT wamid FROM messages WHERE conversation_id = $1 ORDER BY seq`, res[0].ConversationID)
	require.NoError(t, err)
	for rows.Next() {
		var w string
		require.NoError(t, rows.Scan(&w))
		order = append(order, w)
	}
	require.NoError(t, rows.Err())
	require.Equal(t, []string{"wamid.A1", "wamid.A2", "wamid.A3"}, order)

	var name string
	require.NoError(t, st.Pool().QueryRow(ctx, `SELECT profile_name FROM contacts WHERE id = $1`, res[0].ContactID).Scan(&name))
	require.Equal(t, "Ann", name, "an empty profile name later in the batch does not erase it")
	var userID, username string
	require.NoError(t, st.Pool().QueryRow(ctx, `SELECT user_id, username FROM contacts WHERE id = $1`, res[4].ContactID).Scan(&userID, &username))
	require.Equal(t, []string{bsuid.UserID, bsuid.Username}, []string{userID, username})

	var last time.Time
	require.NoError(t, st.Pool().QueryRow(ctx, `SELECT last_inbound_at FROM whatsapp_accounts WHERE id = $1`, us.ID).Scan(&last))
	require.True(t, last.Equal(at.Add(4*time.Second)), "the number's last inbound time is the batch's latest: %s", last)

	t.Run("the same batch again stores nothing and enqueues nothing", func(t *testing.T) {
		again := recordMany(t, st, ins)
		for i, r := range again {
			require.Zero(t, r.Inserted, i)
			require.False(t, r.Enqueue, i)
			require.Equal(t, res[i].ConversationID, r.ConversationID, i)
		}
	})
}

// TestRecordInboundManyConcurrent runs overlapping batches in opposite
// orders at once: no deadlock, every message once, sequence numbers
// unique and gapless per batch.
func TestRecordInboundManyConcurrent(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	b := setup(t)
	st := b.store
	acc := manyAccount(t, st, "us", "1065", "1022")
	at := time.Date(2026, 11, 1, 12, 0, 0, 0, time.UTC)
	const workers, rounds, customers = 6, 15, 8

	var wg sync.WaitGroup
	errs := make(chan error, workers*rounds)
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			rng := rand.New(rand.NewPCG(uint64(w), 7))
			for r := range rounds {
				var ins []store.Inbound
				perm := rng.Perm(customers)
				for _, c := range perm {
					cu := store.Customer{WaID: fmt.Sprintf("1650555%04d", c)}
					if c%3 == 0 {
						cu.UserID = fmt.Sprintf("US.%d", 1000+c) // some through the per-customer path
					}
					ins = append(ins, inbound(acc, cu, at, fmt.Sprintf("wamid.%d.%d.%d", w, r, c)))
				}
				if r > 0 {
					// A redelivery of this worker's message of the
					// previous round to the same customer.
					ins = append(ins, inbound(acc, ins[0].Customer, at, fmt.Sprintf("wamid.%d.%d.%d", w, r-1, perm[0])))
				}
				errs <- st.InTx(ctx, func(tx *store.Tx) error {
					_, err := tx.RecordInboundMany(ctx, ins)
					return err
				})
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		require.NoError(t, err)
	}
	var msgs, convs, contacts, dupSeqs int
	require.NoError(t, st.Pool().QueryRow(ctx, `SELECT (SELECT count(*) FROM messages), (SELECT count(*) FROM conversations),
		(SELECT count(*) FROM contacts),
		(SELECT count(*) FROM (SELECT conversation_id, seq FROM messages GROUP BY 1, 2 HAVING count(*) > 1) d)`).
		Scan(&msgs, &convs, &contacts, &dupSeqs))
	require.Equal(t, workers*rounds*customers, msgs, "every message once")
	require.Equal(t, customers, convs)
	require.Equal(t, customers, contacts)
	require.Zero(t, dupSeqs)
}

func TestInsertWebhookEventsKeepsOrder(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	st := setup(t).store
	var es []store.WebhookEvent
	for i := range 7 {
		es = append(es, store.WebhookEvent{Source: "whatsapp", Outcome: fmt.Sprintf("o%d", i),
			Summary: map[string]int{"i": i}, Body: []byte(fmt.Sprintf(`{"i":%d}`, i))})
	}
	var ids []store.WebhookEventID
	require.NoError(t, st.InTx(ctx, func(tx *store.Tx) error {
		var err error
		ids, err = tx.InsertWebhookEvents(ctx, es)
		return err
	}))
	require.Len(t, ids, len(es))
	for i, id := range ids {
		var outcome string
		var body []byte
		require.NoError(t, st.Pool().QueryRow(ctx, `SELECT outcome, body FROM webhook_events WHERE id = $1`, id).Scan(&outcome, &body))
		require.Equal(t, es[i].Outcome, outcome)
		require.Equal(t, es[i].Body, body)
	}
}

// TestLastInboundSkipsAHeldNumber stores deliveries while another
// transaction holds the number's row: both intake paths go on without
// waiting for it (the "last inbound" time is left to that transaction),
// and write the time once the row is free. The holder updates the row as
// a concurrent intake transaction does (a no-key update, which leaves new
// conversations' foreign-key checks alone).
func TestLastInboundSkipsAHeldNumber(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	b := setup(t)
	st := b.store
	acc := manyAccount(t, st, "held", "3065", "3022")
	first := time.Date(2026, 12, 2, 9, 0, 0, 0, time.UTC)
	recordMany(t, st, []store.Inbound{inbound(acc, store.Customer{WaID: "16505550010"}, first, "wamid.H0")})
	lastOf := func() time.Time {
		t.Helper()
		a, err := st.AccountByID(ctx, acc.ID)
		require.NoError(t, err)
		require.NotNil(t, a.LastInboundAt)
		return *a.LastInboundAt
	}
	require.True(t, first.Equal(lastOf()))

	holder, err := st.Pool().Begin(ctx)
	require.NoError(t, err)
	defer func() { _ = holder.Rollback(ctx) }()
	_, err = holder.Exec(ctx, `UPDATE whatsapp_accounts SET last_inbound_at = last_inbound_at WHERE id = $1`, acc.ID)
	require.NoError(t, err)

	// Were the intake to wait for the row, this deadline would end it.
	wctx, cancel := context.WithTimeout(ctx, 20*time.Second)
	defer cancel()
	later := first.Add(time.Minute)
	require.NoError(t, st.InTx(wctx, func(tx *store.Tx) error {
		if _, err := tx.RecordInboundMany(wctx, []store.Inbound{
			inbound(acc, store.Customer{WaID: "16505550011"}, later, "wamid.H1"),
			inbound(acc, store.Customer{WaID: "16505550012"}, later, "wamid.H2")}); err != nil {
			return err
		}
		_, err := tx.RecordInbound(wctx, inbound(acc, store.Customer{WaID: "16505550013"}, later, "wamid.H3"))
		return err
	}))
	require.NoError(t, holder.Rollback(ctx))
	require.True(t, first.Equal(lastOf()), "left to the holder")

	latest := first.Add(2 * time.Minute)
	recordMany(t, st, []store.Inbound{
		inbound(acc, store.Customer{WaID: "16505550011"}, latest, "wamid.H4"),
		inbound(acc, store.Customer{WaID: "16505550014"}, latest, "wamid.H5")})
	require.True(t, latest.Equal(lastOf()), "written once the row is free")
}
