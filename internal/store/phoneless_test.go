package store_test

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/relaydesk/relaydesk/internal/store"
)

// A customer WhatsApp names by BSUID only (a username hides the phone)
// has a contact with a NULL wa_id: every read of contacts works for it.
func TestPhonelessContactThroughEveryRead(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	b := setup(t)
	acc, err := b.store.CreateAccount(ctx, store.NewAccount{
		Name: "phoneless", PhoneNumberID: "2065", WABAID: "2022", AccessToken: "t", AppSecret: "s", VerifyToken: "v",
		GraphURL: "https://graph.facebook.com", GraphVersion: "v23.0", SendRate: 80,
	}, store.Actor{Name: "test"})
	require.NoError(t, err)
	const bsuid, other = "US.13491208655302741918", "4915100000099"
	at := time.Date(2026, 11, 1, 12, 0, 0, 0, time.UTC)
	record := func(cu store.Customer, wamid string) store.InboundResult {
		t.Helper()
		var res store.InboundResult
		require.NoError(t, b.store.InTx(ctx, func(tx *store.Tx) error {
			var err error
			res, err = tx.RecordInbound(ctx, store.Inbound{AccountID: acc.ID, Customer: cu,
				Messages: []store.InboundMessage{{WAMID: wamid, Kind: "text", Body: "hi from " + cu.Key(), At: at}}})
			return err
		}))
		return res
	}
	res := record(store.Customer{UserID: bsuid, Username: "maria.s", ProfileName: "Maria"}, "wamid.pl1")
	otherRes := record(store.Customer{WaID: other, ProfileName: "Otto"}, "wamid.pl2")
	var null bool
	require.NoError(t, b.store.Pool().QueryRow(ctx, `SELECT wa_id IS NULL FROM contacts WHERE id = $1`, res.ContactID).Scan(&null))
	require.True(t, null, "no phone is stored as NULL, not as an empty string")

	t.Run("ConversationByID", func(t *testing.T) {
		c, err := b.store.ConversationByID(ctx, res.ConversationID)
		require.NoError(t, err)
		require.Equal(t, "", c.WaID)
		require.Equal(t, bsuid, c.UserID)
		require.Equal(t, "maria.s", c.Username)
		require.Equal(t, "Maria", c.ProfileName)
		require.Equal(t, "@maria.s", c.Customer().Label())
		require.Equal(t, "maria.s", c.Customer().DisplayName())
	})

	t.Run("SearchConversations", func(t *testing.T) {
		for _, q := range []string{"", "Maria", "maria.s", "@maria", bsuid} {
			got, err := b.store.SearchConversations(ctx, q, 10)
			require.NoError(t, err, q)
			var ids []store.ConversationID
			for _, c := range got {
				ids = append(ids, c.ID)
				if c.ID == res.ConversationID {
					require.Equal(t, bsuid, c.UserID)
					require.Equal(t, "", c.WaID)
				}
			}
			require.Contains(t, ids, res.ConversationID, "query %q", q)
			if q != "" {
				require.NotContains(t, ids, otherRes.ConversationID, "query %q", q)
			}
		}
	})

	t.Run("unrouted messages", func(t *testing.T) {
		_, err := b.store.Pool().Exec(ctx, `UPDATE messages SET state = 'unrouted' WHERE wamid = 'wamid.pl1'`)
		require.NoError(t, err)
		got, err := b.store.UnroutedMessages(ctx, 10)
		require.NoError(t, err)
		require.Len(t, got, 1)
		require.Equal(t, bsuid, got[0].UserID)
		require.Equal(t, "", got[0].WaID)
		require.Equal(t, "@maria.s", got[0].Customer().Label())
	})

	t.Run("API chat views", func(t *testing.T) {
		c, err := b.store.APIChatByID(ctx, res.ConversationID)
		require.NoError(t, err)
		require.Equal(t, bsuid, c.UserID)
		require.Equal(t, "maria.s", c.Username)
		require.Equal(t, "", c.WaID)
		all, err := b.store.APIChats(ctx, store.ChatFilter{Limit: 10})
		require.NoError(t, err)
		require.Len(t, all, 2)
		byNumber, err := b.store.APIChatByNumber(ctx, acc.ID, bsuid)
		require.NoError(t, err)
		require.Equal(t, res.ConversationID, byNumber.ID)
		_, err = b.store.APIChatByNumber(ctx, acc.ID, "")
		require.ErrorIs(t, err, store.ErrNotFound, "an empty id never matches the phoneless contact")
	})

	t.Run("API contact view", func(t *testing.T) {
		got, err := b.store.APIContactsByID(ctx, bsuid, nil)
		require.NoError(t, err)
		require.Len(t, got, 1)
		require.Equal(t, res.ContactID, got[0].ID)
		require.Equal(t, "", got[0].WaID)
		require.Equal(t, []store.ConversationID{res.ConversationID}, got[0].ChatIDs)
		none, err := b.store.APIContactsByID(ctx, "", nil)
		require.NoError(t, err)
		require.Empty(t, none, "an empty needle matches nothing")
		ids, err := b.store.ContactsByID(ctx, "")
		require.NoError(t, err)
		require.Empty(t, ids)
	})

	t.Run("admin timeline", func(t *testing.T) {
		msgs, _, err := b.store.ConversationTimeline(ctx, res.ConversationID)
		require.NoError(t, err)
		require.Len(t, msgs, 1)
	})

	t.Run("erasure", func(t *testing.T) {
		// Raw deliveries: one naming the phoneless customer's BSUID, one
		// naming only the other customer, which must stay.
		for _, body := range []string{`{"contacts":[{"user_id":"` + bsuid + `"}]}`, `{"contacts":[{"wa_id":"` + other + `"}]}`} {
			_, err := b.store.InsertWebhookEvent(ctx, store.WebhookEvent{Source: "whatsapp", Outcome: "new", Summary: map[string]any{},
				Body: []byte(body)})
			require.NoError(t, err)
		}
		ids, err := b.store.ContactsByID(ctx, bsuid)
		require.NoError(t, err)
		require.Equal(t, []store.ContactID{res.ContactID}, ids)
		e, err := b.store.EraseContact(ctx, store.Actor{Name: "test"}, ids[0])
		require.NoError(t, err)
		require.Equal(t, 1, e.Conversations)
		require.Equal(t, 1, e.Messages)
		require.Equal(t, 1, e.WebhookEvents, "only the delivery naming the BSUID")
		var left int
		require.NoError(t, b.store.Pool().QueryRow(ctx, `SELECT count(*) FROM webhook_events WHERE position(convert_to($1, 'UTF8') IN body) > 0`,
			other).Scan(&left))
		require.Equal(t, 1, left, "the other customer's delivery stays")
		_, err = b.store.ConversationByID(ctx, otherRes.ConversationID)
		require.NoError(t, err)
	})
}
