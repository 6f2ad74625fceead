package msgconv_test

import (
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/relaydesk/relaydesk/internal/msgconv"
	"github.com/relaydesk/relaydesk/internal/whatsapp"
	"github.com/relaydesk/relaydesk/internal/whatsapp/whatsapptest"
)

// TestRenderFixtures renders every real-shaped inbound message the way an
// agent will read it in the ticket.
func TestRenderFixtures(t *testing.T) {
	t.Parallel()

	want := map[string][]string{ // fixture -> fragments of the rendering, per message
		"text.json":                     {""},
		"image.json":                    {""},
		"audio-voice.json":              {"(voice message)"},
		"video.json":                    {""},
		"document.json":                 {""},
		"sticker.json":                  {"(sticker)"},
		"location.json":                 {"Shared a location", "https://www.google.com/maps/search/?api=1&query="},
		"contacts.json":                 {"Shared contact card"},
		"interactive-button-reply.json": {"Chose: "},
		"interactive-list-reply.json":   {"Chose: "},
		"button.json":                   {"Tapped: "},
		"reaction.json":                 {"Reacted "},
		"reaction-removed.json":         {"Removed a reaction"},
		"reply-context.json":            {"[Reply to an earlier message]"},
		"order.json":                    {"Placed an order", "Total: "},
		"system-number-changed.json":    {"changed their WhatsApp number to +"},
		"referral.json":                 {"[Came from an ad"},
		"unsupported.json":              {"Unsupported message", "WhatsApp said: "},
		"batched-two-messages.json":     {""},
	}
	seen := 0
	for _, name := range whatsapptest.FixtureNames(t) {
		if strings.HasPrefix(name, "status-") {
			continue
		}
		frags, ok := want[name]
		require.True(t, ok, "no expectation for fixture %s: add one", name)
		seen++
		batch, err := whatsapp.ParseDelivery(whatsapptest.Fixture(t, name))
		require.NoError(t, err, name)
		for _, ch := range batch.Changes {
			for _, m := range ch.Messages {
				got := msgconv.Render(m)
				require.NotEmpty(t, strings.TrimSpace(got), "%s renders to nothing", name)
				for _, f := range frags {
					require.Contains(t, got, f, name)
				}
				if m.Type == whatsapp.TypeText {
					require.Contains(t, got, m.Text, "%s keeps the customer's words", name)
				}
				if m.Media != nil && m.Media.Caption != "" {
					require.Contains(t, got, m.Media.Caption, "%s keeps the caption", name)
				}
			}
		}
	}
	require.Equal(t, len(want), seen, "every expectation has its fixture")
}

func TestRenderEdgeCases(t *testing.T) {
	t.Parallel()
	text := func(body string, c *whatsapp.Context) whatsapp.Message {
		return whatsapp.Message{Type: whatsapp.TypeText, Text: body, Context: c}
	}
	for name, tt := range map[string]struct {
		msg  whatsapp.Message
		want string
	}{
		"forwarded many times": {text("hi", &whatsapp.Context{FrequentlyForwarded: true}), "[Forwarded many times]\nhi"},
		"forwarded":            {text("hi", &whatsapp.Context{Forwarded: true}), "[Forwarded]\nhi"},
		"asking about a product": {text("in blue?", &whatsapp.Context{ReferredProduct: &whatsapp.ReferredProduct{ProductRetailerID: "sku-1"}}),
			"[Asking about product sku-1]\nin blue?"},
		"document without caption": {whatsapp.Message{Type: whatsapp.TypeDocument, Media: &whatsapp.Media{Filename: "invoice.pdf"}},
			"(document: invoice.pdf)"},
		"voice message":       {whatsapp.Message{Type: whatsapp.TypeAudio, Media: &whatsapp.Media{Voice: true}}, "(voice message)"},
		"image without media": {whatsapp.Message{Type: whatsapp.TypeImage}, "(image)"},
		"flow reply": {whatsapp.Message{Type: whatsapp.TypeInteractive, Interactive: &whatsapp.InteractiveReply{Type: "nfm_reply",
			FlowName: "survey", FlowResponseJSON: `{"rating":"5"}`}}, `Submitted form "survey": {"rating":"5"}`},
		"list reply with a description": {whatsapp.Message{Type: whatsapp.TypeInteractive, Interactive: &whatsapp.InteractiveReply{
			Title: "Billing", Description: "invoices and refunds"}}, "Chose: Billing (invoices and refunds)"},
		"a type from a newer Graph version": {whatsapp.Message{Type: "poll_vote"}, "Unsupported message of type poll_vote."},
		"location without a name": {whatsapp.Message{Type: whatsapp.TypeLocation, Location: &whatsapp.Location{Lat: 52.52, Lng: 13.405}},
			"Shared a location\nhttps://www.google.com/maps/search/?api=1&query=52.520000,13.405000"},
		"location without details": {whatsapp.Message{Type: whatsapp.TypeLocation}, "(location)"},
		"system message with a body": {whatsapp.Message{Type: whatsapp.TypeSystem, System: &whatsapp.System{Body: "Business verified"}},
			"Business verified"},
	} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			require.Equal(t, tt.want, msgconv.Render(tt.msg))
		})
	}
}

func TestSubject(t *testing.T) {
	t.Parallel()

	tests := []struct{ name, waID, first, want string }{
		{"Kerry Fisher", "16505551234", "Where is my order?", "WhatsApp: Kerry Fisher: Where is my order?"},
		{"", "16505551234", "hi", "WhatsApp: +16505551234: hi"},
		{"Kerry", "1", "", "WhatsApp conversation with Kerry"},
		{"Kerry", "1", "line one\n\nline   two", "WhatsApp: Kerry: line one line two"},
		{"Kerry", "1", strings.Repeat("ä", 80), "WhatsApp: Kerry: " + strings.Repeat("ä", 57) + "..."},
	}
	for _, tt := range tests {
		require.Equal(t, tt.want, msgconv.Subject(tt.name, tt.waID, tt.first))
	}
}

func TestMarkLate(t *testing.T) {
	t.Parallel()
	sent := time.Date(2026, 3, 9, 14, 2, 11, 0, time.UTC)
	berlin := time.FixedZone("CET", 3600)
	for _, tc := range []struct {
		name          string
		body          string
		sent, arrived time.Time
		want          string
	}{
		{"arrived the same day: the time only", "where is my order?", sent, sent.Add(30 * time.Second),
			"[Sent 14:02:11 UTC, arrived late]\nwhere is my order?"},
		{"arrived another day: the date too", "where is my order?", sent, sent.Add(10 * time.Hour),
			"[Sent 2026-03-09 14:02:11 UTC, arrived late]\nwhere is my order?"},
		{"times in other zones are shown in UTC", "hi", sent.In(berlin), sent.In(berlin).Add(time.Minute),
			"[Sent 14:02:11 UTC, arrived late]\nhi"},
		{"the UTC day decides, not the local one", "hi", time.Date(2026, 3, 9, 23, 59, 59, 0, time.UTC),
			time.Date(2026, 3, 10, 0, 30, 0, 0, berlin), "[Sent 23:59:59 UTC, arrived late]\nhi"},
		{"an empty text is the line alone", "", sent, sent.Add(time.Minute), "[Sent 14:02:11 UTC, arrived late]"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			require.Equal(t, tc.want, msgconv.MarkLate(tc.body, tc.sent, tc.arrived))
		})
	}
}
