package server_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/relaydesk/relaydesk/internal/store"
)

// A number that received regularly and then nothing for hours is flagged on
// the numbers page, with what to check; a quiet number that was never busy
// is not.
func TestAdminNumbersFlagANumberThatStoppedReceiving(t *testing.T) {
	t.Parallel()
	b, a := setupLoggedIn(t)
	acc := b.fileNumber(t, "support", "100000000000123")
	record := func(n int, last time.Time) {
		var ms []store.InboundMessage
		for i := range n {
			ms = append(ms, store.InboundMessage{WAMID: fmt.Sprintf("wamid.%d.%d", last.Unix(), i), Kind: "text", Body: "hi",
				At: last.Add(-time.Duration(n-1-i) * 10 * time.Minute)})
		}
		require.NoError(t, b.store.InTx(context.Background(), func(tx *store.Tx) error {
			_, err := tx.RecordInbound(context.Background(), store.Inbound{AccountID: acc.ID, Customer: store.Customer{WaID: customer}, Messages: ms})
			return err
		}))
	}

	record(3, time.Now().Add(-5*time.Hour))
	res := a.get("/admin/numbers")
	require.Equal(t, 200, res.code)
	require.NotContains(t, res.body, "stopped receiving", "three messages a day is not regular traffic")

	record(80, time.Now().Add(-3*time.Hour))
	res = a.get("/admin/numbers")
	require.Contains(t, res.body, "stopped receiving")
	require.Contains(t, res.body, "after 83 messages the day before", "the day before the last message holds both batches")
}
