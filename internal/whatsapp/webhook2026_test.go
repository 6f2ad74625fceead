package whatsapp_test

import (
	"encoding/json"
	"fmt"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/relaydesk/relaydesk/internal/whatsapp"
	"github.com/relaydesk/relaydesk/internal/whatsapp/whatsapptest"
)

// TestParse2026Fields parses each 2026 fixture into the Change it stands for.
func TestParse2026Fields(t *testing.T) {
	const original = "wamid.HBgLMTY1MDU1NTEyMzQVAgASGBRPUklHSU5BTDAwMDAwMDAwMDEA"
	tests := []struct {
		file  string
		field string
		check func(t *testing.T, c whatsapp.Change)
	}{
		{"standby-message.json", whatsapp.FieldStandby, func(t *testing.T, c whatsapp.Change) {
			require.Len(t, c.Messages, 1)
			require.Equal(t, "Do you ship to Canada?", c.Messages[0].Text)
			require.Empty(t, c.Echoes)
		}},
		{"standby-ai-reply.json", whatsapp.FieldStandby, func(t *testing.T, c whatsapp.Change) {
			require.Empty(t, c.Messages)
			require.Len(t, c.Echoes, 1)
			require.Equal(t, kerry, c.Echoes[0].To)
			require.Equal(t, businessDisp, c.Echoes[0].From)
			require.Contains(t, c.Echoes[0].Text, "ship to Canada")
		}},
		{"echo.json", whatsapp.FieldSMBMessageEchoes, func(t *testing.T, c whatsapp.Change) {
			require.Len(t, c.Echoes, 1)
			require.Equal(t, kerry, c.Echoes[0].To)
			require.Equal(t, whatsapp.TypeText, c.Echoes[0].Type)
		}},
		{"handover.json", whatsapp.FieldMessagingHandovers, func(t *testing.T, c whatsapp.Change) {
			require.Len(t, c.Handovers, 1)
			h := c.Handovers[0]
			require.Equal(t, whatsapp.HandoverControlPassed, h.Type)
			require.Equal(t, kerry, h.WaID)
			require.Equal(t, "ai_agent", h.PreviousOwner)
			require.Equal(t, "app", h.NewOwner)
			require.Equal(t, whatsapp.OwnerApp, h.NowOwner())
			require.False(t, h.Timestamp.IsZero())
		}},
		{"edit.json", whatsapp.FieldMessages, func(t *testing.T, c whatsapp.Change) {
			require.Len(t, c.Messages, 1)
			m := c.Messages[0]
			require.Equal(t, whatsapp.TypeEdit, m.Type)
			require.NotNil(t, m.Edit)
			require.Equal(t, original, m.Edit.OriginalID)
			require.Equal(t, "My order number is 4711", m.Edit.NewText())
			require.Empty(t, m.DecodeError)
		}},
		{"revoke.json", whatsapp.FieldMessages, func(t *testing.T, c whatsapp.Change) {
			require.Len(t, c.Messages, 1)
			require.Equal(t, whatsapp.TypeRevoke, c.Messages[0].Type)
			require.Equal(t, original, c.Messages[0].Revoke.OriginalID)
		}},
		{"status-played.json", whatsapp.FieldMessages, func(t *testing.T, c whatsapp.Change) {
			require.Len(t, c.Statuses, 1)
			require.Equal(t, whatsapp.StatusPlayed, c.Statuses[0].Status)
		}},
		{"status-pricing.json", whatsapp.FieldMessages, func(t *testing.T, c whatsapp.Change) {
			require.Len(t, c.Statuses, 1)
			p := c.Statuses[0].Pricing
			require.NotNil(t, p)
			require.Equal(t, whatsapp.Pricing{Billable: true, PricingModel: "PMP", Category: "utility", Type: "regular"}, *p)
			require.Nil(t, c.Statuses[0].Conversation, "per-message pricing sends no conversation object")
		}},
	}
	for _, tc := range tests {
		t.Run(tc.file, func(t *testing.T) {
			b, err := whatsapp.ParseDelivery(whatsapptest.PlatformFixture(t, tc.file))
			require.NoError(t, err)
			require.Empty(t, b.AccountEvents, "a conversation field is never an account event")
			require.Len(t, b.Changes, 1)
			c := b.Changes[0]
			require.Equal(t, tc.field, c.Field)
			require.Equal(t, whatsapptest.FixturePhoneNumberID, c.PhoneNumberID)
			tc.check(t, c)
		})
	}
}

// TestParseToleratesNewFieldsAndTypes feeds members, message types, status
// values and member types WhatsApp may add: nothing fails, the known parts
// are read and the rest is kept raw.
func TestParseToleratesNewFieldsAndTypes(t *testing.T) {
	b, err := whatsapp.ParseDelivery(whatsapptest.PlatformFixture(t, "unknown-fields.json"))
	require.NoError(t, err)
	require.Len(t, b.Changes, 1)
	c := b.Changes[0]
	require.Len(t, c.Contacts, 1)
	require.Equal(t, "Kerry Fisher", c.Contacts[0].Name)
	require.Len(t, c.Messages, 2)
	poll := c.Messages[0]
	require.Equal(t, "poll_vote", poll.Type, "an unknown type is kept as-is")
	require.False(t, poll.Timestamp.IsZero(), "a numeric timestamp is read")
	var raw map[string]any
	require.NoError(t, json.Unmarshal(poll.Raw, &raw))
	require.Contains(t, raw, "poll_vote", "the unknown payload stays in Raw")
	text := c.Messages[1]
	require.Equal(t, "still here", text.Text)
	require.Nil(t, text.Context, "a context of the wrong type is skipped")
	require.NotEmpty(t, text.DecodeError, "and reported")
	require.Len(t, c.Statuses, 1)
	st := c.Statuses[0]
	require.Equal(t, "queued_for_ai_review", st.Status)
	require.NotNil(t, st.Pricing)
	require.True(t, st.Pricing.Billable, `"true" as a string is read as true`)
	require.Equal(t, "marketing_lite", st.Pricing.Category)

	// Unknown webhook fields and a handover of an unexpected shape never
	// fail either.
	for _, body := range []string{
		`{"object":"whatsapp_business_account","entry":[{"id":"1","changes":[{"field":"some_field_of_2027","value":{"x":[1]}}]}]}`,
		`{"object":"whatsapp_business_account","entry":[{"id":"1","changes":[{"field":"messaging_handovers","value":["not","an","object"]}]}]}`,
		`{"object":"whatsapp_business_account","entry":[{"id":"1","changes":[{"field":"smb_message_echoes","value":{"message_echoes":[{"id":7}]}}]}]}`,
	} {
		_, err := whatsapp.ParseDelivery([]byte(body))
		require.NoError(t, err, body)
	}
}

// TestHandoverShapes reads handovers in the shapes the documentation allows
// (one notification as the value, or a list of them) and says who holds the
// thread after each.
func TestHandoverShapes(t *testing.T) {
	const envelope = `{"object":"whatsapp_business_account","entry":[{"id":"102290129340398","changes":[{"field":"messaging_handovers","value":%s}]}]}`
	tests := []struct {
		name  string
		value string
		want  whatsapp.Handover
		owner string
	}{
		{"taken from us, no roles", `{"metadata":{"phone_number_id":"106540352242922"},"type":"control_taken","sender":{"user_id":"US.123"},"control_taken":{}}`,
			whatsapp.Handover{Type: whatsapp.HandoverControlTaken, UserID: "US.123"}, whatsapp.OwnerAI},
		{"passed to the AI", `{"metadata":{"phone_number_id":"106540352242922"},"type":"control_passed","wa_id":"16505551234","control_passed":{"previous_owner_role":"app","new_owner_role":"ai_agent"}}`,
			whatsapp.Handover{Type: whatsapp.HandoverControlPassed, WaID: "16505551234", PreviousOwner: "app", NewOwner: "ai_agent"}, whatsapp.OwnerAI},
		{"a list, to a human agent", `{"metadata":{"phone_number_id":"106540352242922"},"messaging_handovers":[{"from":"+16505551234","control_passed":{"previous_owner":"ai_agent","new_owner":"human_agent"}}]}`,
			whatsapp.Handover{Type: whatsapp.HandoverControlPassed, WaID: "16505551234", PreviousOwner: "ai_agent", NewOwner: "human_agent"}, whatsapp.OwnerApp},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			b, err := whatsapp.ParseDelivery([]byte(fmt.Sprintf(envelope, tc.value)))
			require.NoError(t, err)
			require.Len(t, b.Changes, 1)
			require.Equal(t, whatsapptest.FixturePhoneNumberID, b.Changes[0].PhoneNumberID)
			require.Len(t, b.Changes[0].Handovers, 1)
			h := b.Changes[0].Handovers[0]
			h.Raw = nil
			require.Equal(t, tc.want, h)
			require.Equal(t, tc.owner, h.NowOwner())
		})
	}
}
