package store_test

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/relaydesk/relaydesk/internal/store"
)

func TestBacklogCountsWaitingAndFailedMessages(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	b := setup(t)
	acc, err := b.store.CreateAccount(ctx, store.NewAccount{
		Name: "support", PhoneNumberID: "1065", WABAID: "1022", AccessToken: "t", AppSecret: "s", VerifyToken: "v",
		GraphURL: "https://graph.facebook.com", GraphVersion: "v23.0", SendRate: 80,
	}, store.Actor{Name: "test"})
	require.NoError(t, err)

	empty, err := b.store.Backlog(ctx)
	require.NoError(t, err)
	require.Empty(t, empty.OldestWaiting, "nothing waits")
	require.Len(t, empty.Numbers, 1)

	var res store.InboundResult
	require.NoError(t, b.store.InTx(ctx, func(tx *store.Tx) error {
		res, err = tx.RecordInbound(ctx, store.Inbound{AccountID: acc.ID, Customer: store.Customer{WaID: "1555"}, Messages: []store.InboundMessage{
			{WAMID: "w1", Kind: "text", Body: "a", At: time.Now()}, {WAMID: "w2", Kind: "text", Body: "b", At: time.Now()}}})
		return err
	}))
	m, err := b.store.NextPending(ctx, res.ConversationID, "in")
	require.NoError(t, err)
	require.NoError(t, b.store.MarkState(ctx, m.ID, "failed", nil))

	got, err := b.store.Backlog(ctx)
	require.NoError(t, err)
	require.Contains(t, got.OldestWaiting, "in")
	require.NotContains(t, got.OldestWaiting, "out")
	require.Equal(t, "support", got.Numbers[0].Name)
	require.Equal(t, int64(1), got.Numbers[0].Waiting["in"])
	require.Equal(t, int64(1), got.Numbers[0].Failed["in"])
	require.NotNil(t, got.Numbers[0].LastInboundAt)
}
