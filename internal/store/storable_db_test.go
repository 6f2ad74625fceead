package store_test

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/relaydesk/relaydesk/internal/store"
	"github.com/relaydesk/relaydesk/internal/whatsapp"
)

// TestUnstorableBytesAreStoredCleaned checks against a real PostgreSQL that
// a NUL or invalid UTF-8 in text and JSON arguments no longer fails the
// statement: PostgreSQL refuses both as they are.
func TestUnstorableBytesAreStoredCleaned(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	b := setup(t)
	acc, err := b.store.CreateAccount(ctx, store.NewAccount{
		Name: "n", PhoneNumberID: "1065", WABAID: "1022", AccessToken: "t", AppSecret: "s", VerifyToken: "v",
		GraphURL: "https://graph.facebook.com", GraphVersion: "v23.0", SendRate: 80,
	}, store.Actor{Name: "test"})
	require.NoError(t, err)

	bad := "a\x00b\xff"
	msg := &whatsapp.Message{ID: "wamid.1", From: "1555", Type: whatsapp.TypeText, Text: bad}
	var res store.InboundResult
	require.NoError(t, b.store.InTx(ctx, func(tx *store.Tx) error {
		res, err = tx.RecordInbound(ctx, store.Inbound{AccountID: acc.ID, Customer: store.Customer{WaID: "1555", ProfileName: "N\x00ame"},
			Messages: []store.InboundMessage{{WAMID: "wamid.1", Kind: "text", Body: bad, Message: msg, At: time.Now()}}})
		return err
	}))
	require.Equal(t, 1, res.Inserted)
	m, err := b.store.NextPending(ctx, res.ConversationID, "in")
	require.NoError(t, err)
	require.Equal(t, "ab\uFFFD", m.Body)
	require.NotNil(t, m.Inbound)
	require.Equal(t, "ab\uFFFD", m.Inbound.Text, "the decoded message in jsonb is cleaned the same way")
}
