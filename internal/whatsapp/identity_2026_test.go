package whatsapp_test

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/relaydesk/relaydesk/internal/whatsapp"
	"github.com/relaydesk/relaydesk/internal/whatsapp/whatsapptest"
)

// The 2026 identity payloads (whatsapptest/testdata/2026) decode with
// every identity field: BSUID, username, a message without from, and the
// BSUID change system messages.
func TestParseIdentity2026Fixtures(t *testing.T) {
	t.Parallel()
	tests := []struct {
		file    string
		contact whatsapp.Contact
		from    string
		system  *whatsapp.System
		newUser string
	}{
		{file: "identity-bsuid-only.json",
			contact: whatsapp.Contact{UserID: "US.13491208655302741918", Username: "maria.s", Name: "Maria Souza"}},
		{file: "identity-both-ids.json",
			contact: whatsapp.Contact{WaID: "16505551234", UserID: "US.71000000000000000042", Name: "Kerry Fisher"}, from: "16505551234"},
		{file: "identity-username.json",
			contact: whatsapp.Contact{WaID: "16315551181", UserID: "US.52000000000000000077", Username: "sheena.n", Name: "Sheena Nelson"},
			from:    "16315551181"},
		{file: "identity-user-changed-user-id.json", system: &whatsapp.System{Type: whatsapp.SystemUserChangedUserID,
			Body: "User Maria Souza's business-scoped user ID changed", UserID: "US.99887766554433221100",
			PreviousUserID: "US.13491208655302741918"}, newUser: "US.99887766554433221100"},
		{file: "identity-number-changed-previous-user-id.json", from: "16505551234", system: &whatsapp.System{
			Type: whatsapp.SystemUserChangedNumber, Body: "User Kerry Fisher changed from 16505551234 to 12195555358",
			NewWaID: "12195555358", UserID: "US.71000000000000000099", PreviousUserID: "US.71000000000000000042"},
			newUser: "US.71000000000000000099"},
	}
	t.Run("identity-status-read-bsuid.json", func(t *testing.T) {
		t.Parallel()
		b, err := whatsapp.ParseDelivery(whatsapptest.Testdata(t, "2026/identity-status-read-bsuid.json"))
		require.NoError(t, err)
		require.Len(t, b.Changes, 1)
		require.Len(t, b.Changes[0].Statuses, 1)
		st := b.Changes[0].Statuses[0]
		require.Equal(t, whatsapp.StatusRead, st.Status)
		require.Empty(t, st.RecipientID)
		require.Equal(t, "US.13491208655302741918", st.RecipientUserID)
	})
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			t.Parallel()
			b, err := whatsapp.ParseDelivery(whatsapptest.Testdata(t, "2026/"+tt.file))
			require.NoError(t, err)
			require.Len(t, b.Changes, 1)
			ch := b.Changes[0]
			require.Equal(t, whatsapptest.FixturePhoneNumberID, ch.PhoneNumberID)
			require.Len(t, ch.Messages, 1)
			m := ch.Messages[0]
			require.Empty(t, m.DecodeError)
			require.Equal(t, tt.from, m.From)
			if tt.system == nil {
				require.Equal(t, []whatsapp.Contact{tt.contact}, ch.Contacts)
				require.Equal(t, whatsapp.TypeText, m.Type)
				require.NotEmpty(t, m.Text)
				return
			}
			require.Empty(t, ch.Contacts, "system messages come without contacts")
			require.Equal(t, tt.system, m.System)
			require.Equal(t, tt.newUser, m.NewUserID())
		})
	}
}
