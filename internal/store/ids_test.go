package store_test

import (
	"context"
	"encoding/json"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/relaydesk/relaydesk/internal/store"
)

func TestIDsRoundTrip(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	b := setup(t)

	t.Run("an id goes through PostgreSQL as a bigint, alone and in arrays", func(t *testing.T) {
		var one store.AccountID
		require.NoError(t, b.store.Pool().QueryRow(ctx, `SELECT $1::bigint`, store.AccountID(42)).Scan(&one))
		require.Equal(t, store.AccountID(42), one)

		var many []store.ConversationID
		require.NoError(t, b.store.Pool().QueryRow(ctx, `SELECT array_agg(x ORDER BY x) FROM unnest($1::bigint[]) x WHERE x = ANY($1)`,
			[]store.ConversationID{3, 1, 2}).Scan(&many))
		require.Equal(t, []store.ConversationID{1, 2, 3}, many)

		var id *store.TicketID
		require.NoError(t, b.store.Pool().QueryRow(ctx, `SELECT NULL::bigint`).Scan(&id))
		require.Nil(t, id)
	})

	t.Run("an id is a plain JSON number", func(t *testing.T) {
		type args struct {
			ConversationID store.ConversationID `json:"conversation_id"`
			MessageIDs     []store.MessageID    `json:"message_ids"`
		}
		b, err := json.Marshal(args{ConversationID: 7, MessageIDs: []store.MessageID{8, 9}})
		require.NoError(t, err)
		require.JSONEq(t, `{"conversation_id":7,"message_ids":[8,9]}`, string(b))
		var back args
		require.NoError(t, json.Unmarshal(b, &back))
		require.Equal(t, args{ConversationID: 7, MessageIDs: []store.MessageID{8, 9}}, back)
	})

	t.Run("typed ids select rows", func(t *testing.T) {
		acc, err := b.store.CreateAccount(ctx, store.NewAccount{Name: "ids", PhoneNumberID: "77", WABAID: "78",
			GraphURL: "https://graph.facebook.com", GraphVersion: "v23.0", SendRate: 80, AccessToken: "t", AppSecret: "s",
			VerifyToken: "v"}, store.Actor{Name: "test"})
		require.NoError(t, err)
		convID, err := b.store.EnsureConversation(ctx, acc.ID, "4915100000077")
		require.NoError(t, err)
		contacts, err := b.store.APIContactsByID(ctx, "4915100000077", []store.AccountID{acc.ID})
		require.NoError(t, err)
		require.Len(t, contacts, 1)
		require.Equal(t, []store.ConversationID{convID}, contacts[0].ChatIDs)
		contacts, err = b.store.APIContactsByID(ctx, "4915100000077", []store.AccountID{acc.ID + 1})
		require.NoError(t, err)
		require.Empty(t, contacts)
	})
}
