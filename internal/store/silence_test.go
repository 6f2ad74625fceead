package store_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/relaydesk/relaydesk/internal/store"
)

func TestSilentAccountsFlagsANumberThatWentQuietAfterTraffic(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	b := setup(t)
	now := time.Now()
	number := func(name string, messages int, last time.Time) store.AccountID {
		acc, err := b.store.CreateAccount(ctx, store.NewAccount{
			Name: name, PhoneNumberID: "pn-" + name, WABAID: "waba-" + name, AccessToken: "t", AppSecret: "s", VerifyToken: "v",
			GraphURL: "https://graph.facebook.com", GraphVersion: "v23.0", SendRate: 80,
		}, store.Actor{Name: "test"})
		require.NoError(t, err)
		var ms []store.InboundMessage
		for i := range messages {
			// Spread over the day before the last message, oldest first.
			at := last.Add(-time.Duration(messages-1-i) * 20 * time.Minute)
			ms = append(ms, store.InboundMessage{WAMID: fmt.Sprintf("%s-%d", name, i), Kind: "text", Body: "hi", At: at})
		}
		require.NoError(t, b.store.InTx(ctx, func(tx *store.Tx) error {
			_, err := tx.RecordInbound(ctx, store.Inbound{AccountID: acc.ID, Customer: store.Customer{WaID: "1555" + name}, Messages: ms})
			return err
		}))
		return acc.ID
	}
	quiet := number("quiet", 60, now.Add(-3*time.Hour))      // busy, then nothing for 3 hours
	sparse := number("sparse", 5, now.Add(-3*time.Hour))     // a few messages a day: silence is normal
	recent := number("recent", 60, now.Add(-10*time.Minute)) // busy and still receiving
	disabled := number("disabled", 60, now.Add(-3*time.Hour))
	require.NoError(t, b.store.SetAccountEnabled(ctx, disabled, false, store.Actor{Name: "test"}))

	got, err := b.store.SilentAccounts(ctx, 2*time.Hour, 50)
	require.NoError(t, err)
	require.Contains(t, got, quiet)
	require.Equal(t, 60, got[quiet].DayBefore)
	require.WithinDuration(t, now.Add(-3*time.Hour), got[quiet].LastInboundAt, time.Second)
	for _, id := range []store.AccountID{sparse, recent, disabled} {
		require.NotContains(t, got, id)
	}
}
