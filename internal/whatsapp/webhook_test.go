package whatsapp_test

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/relaydesk/relaydesk/internal/whatsapp"
	"github.com/relaydesk/relaydesk/internal/whatsapp/whatsapptest"
)

const (
	kerry        = whatsapptest.FixtureWaID
	businessDisp = whatsapptest.FixtureDisplayPhoneNumber
	// ourWamid is the business message the fixtures reply/react to.
	ourWamid = "wamid.HBgLMTY1MDU1NTEyMzQVAgARGBI0RTJEOTc2ODVERUY5RDlGNkYA"
	// ourInteractiveWamid is the interactive message the fixtures answer.
	ourInteractiveWamid = "wamid.HBgLMTY1MDU1NTEyMzQVAgARGBJGMzEyNzhENTZDMzNGODlDRDgA"
)

func unix(s int64) time.Time { return time.Unix(s, 0).UTC() }

// onlyMessage returns the single message of a single-change batch.
func onlyMessage(t *testing.T, b *whatsapp.Batch) whatsapp.Message {
	t.Helper()
	require.Len(t, b.Changes, 1)
	require.Len(t, b.Changes[0].Messages, 1)
	require.Empty(t, b.Changes[0].Statuses)
	return b.Changes[0].Messages[0]
}

// onlyStatus returns the single status of a single-change batch.
func onlyStatus(t *testing.T, b *whatsapp.Batch) whatsapp.Status {
	t.Helper()
	require.Len(t, b.Changes, 1)
	require.Len(t, b.Changes[0].Statuses, 1)
	require.Empty(t, b.Changes[0].Messages)
	require.Empty(t, b.Changes[0].Contacts, "status changes carry no contacts")
	return b.Changes[0].Statuses[0]
}

// requireFromKerry checks the common fields of an inbound fixture message.
func requireFromKerry(t *testing.T, b *whatsapp.Batch, m whatsapp.Message, typ, id string, ts int64) {
	t.Helper()
	require.Equal(t, typ, m.Type)
	require.Equal(t, id, m.ID)
	require.Equal(t, kerry, m.From)
	require.Equal(t, unix(ts), m.Timestamp)
	require.Equal(t, "Kerry Fisher", b.Changes[0].ContactName(kerry))
}

// kerryMedia expects a fixture holding one media message from Kerry.
func kerryMedia(typ, id string, ts int64, want whatsapp.Media) func(t *testing.T, b *whatsapp.Batch) {
	return func(t *testing.T, b *whatsapp.Batch) {
		m := onlyMessage(t, b)
		requireFromKerry(t, b, m, typ, id, ts)
		require.True(t, m.IsMedia())
		require.Equal(t, &want, m.Media)
	}
}

func TestParseDeliveryFixtures(t *testing.T) {
	t.Parallel()

	// One entry per file in shared/specs/whatsapp/webhooks; the test fails
	// if a fixture is added without an expectation here.
	checks := map[string]func(t *testing.T, b *whatsapp.Batch){
		"audio-voice.json": kerryMedia(whatsapp.TypeAudio, "wamid.HBgLMTY1MDU1NTEyMzQVAgASGBQzQUM5ODc2NTQzMjFGRURDQkEwMQA=", 1744344510, whatsapp.Media{
			ID: "1209234567890123", MimeType: "audio/ogg; codecs=opus",
			SHA256: "bRvA0Td3fqz2jYSR0gdQKzs1d3ZUx6f6E5Q6XW0k0ss=", Voice: true,
		}),
		"batched-two-messages.json": func(t *testing.T, b *whatsapp.Batch) {
			require.Len(t, b.Changes, 1)
			msgs := b.Changes[0].Messages
			require.Len(t, msgs, 2, "every message of a batch must be kept")
			require.Equal(t, whatsapp.TypeText, msgs[0].Type)
			require.Equal(t, "Hi, my parcel has not arrived.", msgs[0].Text)
			require.Equal(t, unix(1750300000), msgs[0].Timestamp)
			require.False(t, msgs[0].IsMedia())
			require.Equal(t, whatsapp.TypeImage, msgs[1].Type)
			require.Equal(t, "1003383421387299", msgs[1].Media.ID)
			require.Equal(t, unix(1750300004), msgs[1].Timestamp)
			require.NotEqual(t, msgs[0].ID, msgs[1].ID)
			require.True(t, msgs[1].IsMedia())
		},
		"button.json": func(t *testing.T, b *whatsapp.Batch) {
			m := onlyMessage(t, b)
			requireFromKerry(t, b, m, whatsapp.TypeButton, "wamid.HBgLMTY1MDU1NTEyMzQVAgASGBQzQUU0M0MxQzQzMUJCMTMwNUZFOQA=", 1750091045)
			require.Equal(t, &whatsapp.ButtonReply{Payload: "Unsubscribe", Text: "Unsubscribe"}, m.Button)
			require.Equal(t, &whatsapp.Context{From: businessDisp, ID: "wamid.HBgLMTY1MDU1NTEyMzQVAgARGBJFNjk2OTMwNEZCQjhGMzUyQUYA"}, m.Context)
		},
		"contacts.json": func(t *testing.T, b *whatsapp.Batch) {
			m := onlyMessage(t, b)
			requireFromKerry(t, b, m, whatsapp.TypeContacts, "wamid.HBgLMTY1MDU1NTEyMzQVAgASGBQzQTc0NDU1NjY3Nzg4OTkwMDExMjIA", 1744344560)
			require.Equal(t, []whatsapp.SharedContact{{
				FormattedName: "Lucía Gómez", FirstName: "Lucía", LastName: "Gómez",
				Phones:    []whatsapp.ContactPhone{{Phone: "+1 (983) 555-2319", WaID: "19835552319", Type: "MOBILE"}},
				Emails:    []whatsapp.ContactEmail{{Email: "lucia.gomez@example.com", Type: "WORK"}},
				URLs:      []whatsapp.ContactURL{{URL: "https://www.example.com", Type: "WORK"}},
				Addresses: []whatsapp.ContactAddress{{Street: "1 Hacker Way", City: "Menlo Park", State: "CA", Zip: "94025", Country: "United States", CountryCode: "US", Type: "WORK"}},
				Org:       whatsapp.ContactOrg{Company: "Example Corp", Department: "Support", Title: "Manager"},
				Birthday:  "1999-01-23",
			}}, m.Contacts)
		},
		"document.json": kerryMedia(whatsapp.TypeDocument, "wamid.HBgLMTY1MDU1NTEyMzQVAgASGBQzQUUyMjMzNDQ1NTY2Nzc4ODk5MDAA", 1744344530, whatsapp.Media{
			ID: "1420987654321098", MimeType: "application/pdf",
			SHA256:  "Xo3Wl2M1b4Z9nQ8rT7yU6iO5pA4sD3fG2hJ1kL0zXcV=",
			Caption: "Receipt for order 1234", Filename: "receipt.pdf",
		}),
		"image.json": kerryMedia(whatsapp.TypeImage, "wamid.HBgLMTY1MDU1NTEyMzQVAgASGBQzQUIxMjM0NTY3ODlBQkNERUYwMQA=", 1744344496, whatsapp.Media{
			ID: "1003383421387256", MimeType: "image/jpeg",
			SHA256: "SfInY0gGKTsJlUWbwxC1k+FAD0FZHvzwfpvO0zX0GUI=", Caption: "Taj Mahal",
		}),
		"interactive-button-reply.json": func(t *testing.T, b *whatsapp.Batch) {
			m := onlyMessage(t, b)
			requireFromKerry(t, b, m, whatsapp.TypeInteractive, "wamid.HBgLMTY1MDU1NTEyMzQVAgASGBQzQTg1NTY2Nzc4ODk5MDAxMTIyMzMA", 1749854575)
			require.Equal(t, &whatsapp.InteractiveReply{Type: whatsapp.InteractiveButtonReply, ID: "cancel-button", Title: "Cancel"}, m.Interactive)
			require.Equal(t, ourInteractiveWamid, m.Context.ID)
		},
		"interactive-list-reply.json": func(t *testing.T, b *whatsapp.Batch) {
			m := onlyMessage(t, b)
			requireFromKerry(t, b, m, whatsapp.TypeInteractive, "wamid.HBgLMTY1MDU1NTEyMzQVAgASGBQzQUJDQ0NDM0FEODY4ODkzOTc5RgA=", 1749854580)
			require.Equal(t, &whatsapp.InteractiveReply{
				Type: whatsapp.InteractiveListReply, ID: "priority_express",
				Title: "Priority Mail Express", Description: "Next Day to 2 Days",
			}, m.Interactive)
			require.Equal(t, ourInteractiveWamid, m.Context.ID)
		},
		"location.json": func(t *testing.T, b *whatsapp.Batch) {
			m := onlyMessage(t, b)
			requireFromKerry(t, b, m, whatsapp.TypeLocation, "wamid.HBgLMTY1MDU1NTEyMzQVAgASGBQzQTU2MjZEMDBGRkE3MENEMDE0RQA=", 1744344550)
			require.Equal(t, &whatsapp.Location{
				Lat: 37.44221496582, Lng: -122.16165924072, Name: "Philz Coffee",
				Address: "101 Forest Ave, Palo Alto, CA 94301", URL: "https://philzcoffee.com/",
			}, m.Location)
		},
		"order.json": func(t *testing.T, b *whatsapp.Batch) {
			m := onlyMessage(t, b)
			requireFromKerry(t, b, m, whatsapp.TypeOrder, "wamid.HBgLMTY1MDU1NTEyMzQVAgASGBQzQTEyQjFGNzI1QTQxMjI5QTMyOQA=", 1750096325)
			require.Equal(t, &whatsapp.Order{CatalogID: "194836987003835", Items: []whatsapp.OrderItem{
				{ProductRetailerID: "di9ozbzfi4", Quantity: 2, ItemPrice: 30, Currency: "USD"},
				{ProductRetailerID: "nqryix03ez", Quantity: 1, ItemPrice: 25, Currency: "USD"},
			}}, m.Order)
		},
		"reaction-removed.json": func(t *testing.T, b *whatsapp.Batch) {
			m := onlyMessage(t, b)
			requireFromKerry(t, b, m, whatsapp.TypeReaction, "wamid.HBgLMTY1MDU1NTEyMzQVAgASGBQzQUE3Nzg4OTkwMDExMjIzMzQ0NTUA", 1749419600)
			require.Equal(t, &whatsapp.Reaction{MessageID: ourWamid, Removed: true}, m.Reaction)
		},
		"reaction.json": func(t *testing.T, b *whatsapp.Batch) {
			m := onlyMessage(t, b)
			requireFromKerry(t, b, m, whatsapp.TypeReaction, "wamid.HBgLMTY1MDU1NTEyMzQVAgASGBQzQTk2Njc3ODg5OTAwMTEyMjMzNDQA", 1749419544)
			require.Equal(t, &whatsapp.Reaction{MessageID: ourWamid, Emoji: "👍"}, m.Reaction)
		},
		"referral.json": func(t *testing.T, b *whatsapp.Batch) {
			m := onlyMessage(t, b)
			requireFromKerry(t, b, m, whatsapp.TypeText, "wamid.HBgLMTY1MDU1NTEyMzQVAgASGBQzQUQ0N0VFMDA2MTQ0RkJFNkNDNAA=", 1750275992)
			require.Equal(t, "Hello! Can I get more info on this?", m.Text)
			require.NotNil(t, m.Referral)
			require.Equal(t, "https://fb.me/3cr4Wqqkv", m.Referral.SourceURL)
			require.Equal(t, "120226305854810726", m.Referral.SourceID)
			require.Equal(t, "ad", m.Referral.SourceType)
			require.Equal(t, "Chat with us", m.Referral.Headline)
			require.Equal(t, "Summer Succulents are here!", m.Referral.Body)
			require.Equal(t, "image", m.Referral.MediaType)
			require.Equal(t, "https://scontent.xx.fbcdn.net/v/t45.1...", m.Referral.ImageURL)
			require.True(t, strings.HasPrefix(m.Referral.CtwaClid, "Aff-n8ZTODiE79d22KtAwQKj9e"))
			require.Equal(t, "Hi there! Let us know how we can help!", m.Referral.WelcomeMessage)
		},
		"reply-context.json": func(t *testing.T, b *whatsapp.Batch) {
			m := onlyMessage(t, b)
			requireFromKerry(t, b, m, whatsapp.TypeText, "wamid.HBgLMTY1MDU1NTEyMzQVAgASGBQzQUI4ODk5MDAxMTIyMzM0NDU1NjYA", 1749416500)
			require.Equal(t, "Yes, that's the order I meant.", m.Text)
			require.Equal(t, &whatsapp.Context{From: businessDisp, ID: ourWamid}, m.Context)
		},
		"status-delivered.json": func(t *testing.T, b *whatsapp.Batch) {
			s := onlyStatus(t, b)
			require.Equal(t, ourWamid, s.ID)
			require.Equal(t, whatsapp.StatusDelivered, s.Status)
			require.Equal(t, unix(1750857386), s.Timestamp)
			require.Equal(t, kerry, s.RecipientID)
			require.Equal(t, &whatsapp.Conversation{ID: "a75d17ad06104c51166f948319b03c6a", OriginType: "service"}, s.Conversation)
			require.Equal(t, &whatsapp.Pricing{PricingModel: "PMP", Category: "service", Type: "free_customer_service"}, s.Pricing)
			require.Empty(t, s.Errors)
		},
		"status-failed.json": func(t *testing.T, b *whatsapp.Batch) {
			s := onlyStatus(t, b)
			require.Equal(t, ourInteractiveWamid, s.ID)
			require.Equal(t, whatsapp.StatusFailed, s.Status)
			require.Equal(t, unix(1750857500), s.Timestamp)
			require.Nil(t, s.Conversation)
			require.Nil(t, s.Pricing)
			require.Equal(t, []whatsapp.Error{{
				Code: 131047, Title: "Re-engagement message", Message: "Re-engagement message",
				Details: "Message failed to send because more than 24 hours have passed since the customer last replied to this number.",
				Href:    "https://developers.facebook.com/docs/whatsapp/cloud-api/support/error-codes/",
			}}, s.Errors)
		},
		"status-read.json": func(t *testing.T, b *whatsapp.Batch) {
			s := onlyStatus(t, b)
			require.Equal(t, whatsapp.StatusRead, s.Status)
			require.Equal(t, unix(1750857420), s.Timestamp)
			require.Nil(t, s.Conversation)
			require.Nil(t, s.Pricing)
		},
		"status-sent.json": func(t *testing.T, b *whatsapp.Batch) {
			s := onlyStatus(t, b)
			require.Equal(t, whatsapp.StatusSent, s.Status)
			require.Equal(t, unix(1750857384), s.Timestamp)
			require.Equal(t, &whatsapp.Conversation{
				ID: "a75d17ad06104c51166f948319b03c6a", OriginType: "service", ExpiresAt: unix(1750943820),
			}, s.Conversation)
			require.NotNil(t, s.Pricing)
			require.False(t, s.Pricing.Billable)
		},
		"sticker.json": kerryMedia(whatsapp.TypeSticker, "wamid.HBgLMTY1MDU1NTEyMzQVAgASGBQzQUYzMzQ0NTU2Njc3ODg5OTAwMTEA", 1744344540, whatsapp.Media{ID: "1537654321098765", MimeType: "image/webp", SHA256: "T9kP0oL8iK7uJ6yH5tG4rF3eD2wS1qA0zX9cV8bN7mM="}),
		"system-number-changed.json": func(t *testing.T, b *whatsapp.Batch) {
			m := onlyMessage(t, b)
			require.Equal(t, whatsapp.TypeSystem, m.Type)
			require.Equal(t, kerry, m.From)
			require.Empty(t, b.Changes[0].Contacts, "system messages come without contacts")
			require.Equal(t, &whatsapp.System{
				Type: whatsapp.SystemUserChangedNumber, NewWaID: "12195555358",
				Body: "User Kerry Fisher changed from 16505551234 to 12195555358",
			}, m.System)
		},
		"text.json": func(t *testing.T, b *whatsapp.Batch) {
			m := onlyMessage(t, b)
			requireFromKerry(t, b, m, whatsapp.TypeText, "wamid.HBgLMTY1MDU1NTEyMzQVAgASGBQzQTRBNjU5OUFFRTAzODEwMTQ0RgA=", 1749416383)
			require.Equal(t, "Does it come in another color?", m.Text)
			require.Nil(t, m.Context)
			require.Nil(t, m.Referral)
		},
		"unsupported.json": func(t *testing.T, b *whatsapp.Batch) {
			m := onlyMessage(t, b)
			requireFromKerry(t, b, m, whatsapp.TypeUnsupported, "wamid.HBgLMTY1MDU1NTEyMzQVAgASGBI5N0MwRjg0RTVBNUI1RDA2OTkA", 1750090702)
			require.Equal(t, []whatsapp.Error{{
				Code: 131051, Title: "Message type unknown", Message: "Message type unknown",
				Details: "Message type is currently not supported.",
			}}, m.Errors)
		},
		"video.json": kerryMedia(whatsapp.TypeVideo, "wamid.HBgLMTY1MDU1NTEyMzQVAgASGBQzQUQxMTIyMzM0NDU1NjY3Nzg4OTkA", 1744344520, whatsapp.Media{
			ID: "1314567890123456", MimeType: "video/mp4",
			SHA256: "a1Yf2Q3w4E5r6T7y8U9i0O1p2A3s4D5f6G7h8J9k0L0=", Caption: "My vacation video",
		}),
	}

	names := whatsapptest.FixtureNames(t)
	for _, name := range names {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			check, ok := checks[name]
			require.True(t, ok, "fixture %s has no expectation in this test; add one", name)

			body := whatsapptest.Fixture(t, name)
			b, err := whatsapp.ParseDelivery(body)
			require.NoError(t, err)
			require.Equal(t, whatsapp.ObjectWhatsAppBusinessAccount, b.Object)
			require.Empty(t, b.AccountEvents)
			for _, c := range b.Changes {
				require.Equal(t, whatsapptest.FixtureWABAID, c.WABAID)
				require.Equal(t, whatsapp.FieldMessages, c.Field)
				require.Equal(t, whatsapptest.FixturePhoneNumberID, c.PhoneNumberID)
				require.Equal(t, businessDisp, c.DisplayPhoneNumber)
				require.True(t, json.Valid(c.Raw))
				for _, m := range c.Messages {
					require.Empty(t, m.DecodeError)
					require.True(t, json.Valid(m.Raw), "message Raw must be kept")
					require.Contains(t, string(m.Raw), m.ID)
				}
				for _, s := range c.Statuses {
					require.Empty(t, s.DecodeError)
					require.Contains(t, string(s.Raw), s.ID)
				}
			}
			require.Equal(t, []string{whatsapptest.FixturePhoneNumberID}, b.PhoneNumberIDs())
			check(t, b)
		})
	}
	require.Len(t, names, len(checks), "an expectation names a fixture file that no longer exists")
}

func TestParseDeliveryNewerVersionPayload(t *testing.T) {
	t.Parallel()

	// Fields and values a later Graph version may send: extra envelope
	// members, identity hashes and business-scoped user ids, forwarded
	// markers, numbers where strings were, a new status value, a new
	// pricing type, unknown members inside known objects.
	body := `{
	  "object": "whatsapp_business_account",
	  "api_version": "v30.0",
	  "entry": [{
	    "id": "102290129340398",
	    "time": 1893456000,
	    "changes": [{
	      "field": "messages",
	      "value": {
	        "messaging_product": "whatsapp",
	        "metadata": {"display_phone_number": "15550783881", "phone_number_id": "106540352242922", "region": "EU"},
	        "contacts": [{"profile": {"name": "Kerry Fisher", "avatar": "x"}, "wa_id": "16505551234",
	                      "identity_key_hash": "DF2lS5v2W6x=", "user_id": "US.13491208655302741918"}],
	        "messages": [{
	          "from": "16505551234",
	          "from_user_id": "US.13491208655302741918",
	          "id": "wamid.NEWER1",
	          "timestamp": 1893456001,
	          "type": "text",
	          "text": {"body": "hi from the future", "language": "en"},
	          "context": {"forwarded": true, "frequently_forwarded": "true"},
	          "sentiment": {"score": 0.9}
	        }]
	      }
	    }, {
	      "field": "messages",
	      "value": {
	        "messaging_product": "whatsapp",
	        "metadata": {"display_phone_number": "15550783881", "phone_number_id": "106540352242922"},
	        "statuses": [{
	          "id": "wamid.OURS", "status": "played", "timestamp": "1893456002",
	          "recipient_id": "16505551234", "recipient_user_id": "US.1",
	          "pricing": {"billable": true, "pricing_model": "PMP", "category": "utility", "type": "regular", "tier": "3"}
	        }]
	      }
	    }]
	  }]
	}`
	b, err := whatsapp.ParseDelivery([]byte(body))
	require.NoError(t, err)
	require.Len(t, b.Changes, 2)

	c := b.Changes[0]
	require.Equal(t, []whatsapp.Contact{{WaID: kerry, Name: "Kerry Fisher", UserID: "US.13491208655302741918"}}, c.Contacts)
	m := c.Messages[0]
	require.Empty(t, m.DecodeError)
	require.Equal(t, "hi from the future", m.Text)
	require.Equal(t, unix(1893456001), m.Timestamp, "numeric timestamps are accepted too")
	require.Equal(t, &whatsapp.Context{Forwarded: true, FrequentlyForwarded: true}, m.Context)
	require.Contains(t, string(m.Raw), "sentiment", "unknown members stay available in Raw")

	s := b.Changes[1].Statuses[0]
	require.Empty(t, s.DecodeError)
	require.Equal(t, "played", s.Status, "unknown status values are kept as-is")
	require.Equal(t, &whatsapp.Pricing{Billable: true, PricingModel: "PMP", Category: "utility", Type: "regular"}, s.Pricing)
}

func TestParseDeliveryUnknownMessageTypeKept(t *testing.T) {
	t.Parallel()

	d := whatsapptest.NewDelivery(whatsapptest.FixturePhoneNumberID).
		Text(kerry, "before").
		Message(kerry, "poll", map[string]any{"question": "Lunch?", "options": []string{"pizza", "sushi"}}).
		Text(kerry, "after")
	b, err := whatsapp.ParseDelivery(d.Bytes())
	require.NoError(t, err)
	msgs := b.Changes[0].Messages
	require.Len(t, msgs, 3, "an unknown type must not drop its neighbours")
	require.Equal(t, "before", msgs[0].Text)
	require.Equal(t, "poll", msgs[1].Type)
	require.Equal(t, d.MessageIDs()[1], msgs[1].ID)
	require.Empty(t, msgs[1].DecodeError)
	require.False(t, msgs[1].IsMedia())
	require.Contains(t, string(msgs[1].Raw), "Lunch?")
	require.Equal(t, "after", msgs[2].Text)
}

func TestParseDeliveryOddlyShapedMessageKept(t *testing.T) {
	t.Parallel()

	// A known member with an unexpected shape loses only that member; a
	// messages[] item that is not an object still yields a Message with Raw.
	body := `{"object":"whatsapp_business_account","entry":[{"id":"1","changes":[{"field":"messages","value":{
	  "metadata":{"phone_number_id":"106540352242922"},
	  "messages":[
	    {"from":"1","id":"wamid.A","timestamp":"1700000000","type":"text","text":"not an object","context":{"from":"2","id":"wamid.Z"}},
	    42,
	    {"from":"1","id":"wamid.B","timestamp":"not-a-number","type":"location","location":{"latitude":"52.5","longitude":13.4}}
	  ],
	  "statuses":[{"id":"wamid.S","status":"sent","timestamp":"1700000001","errors":"oops"}]
	}}]}]}`
	b, err := whatsapp.ParseDelivery([]byte(body))
	require.NoError(t, err)
	msgs := b.Changes[0].Messages
	require.Len(t, msgs, 3)

	require.Equal(t, "wamid.A", msgs[0].ID)
	require.Equal(t, whatsapp.TypeText, msgs[0].Type)
	require.Empty(t, msgs[0].Text)
	require.Contains(t, msgs[0].DecodeError, "text")
	require.Equal(t, "wamid.Z", msgs[0].Context.ID, "other members are still decoded")

	require.Equal(t, "42", string(msgs[1].Raw))
	require.NotEmpty(t, msgs[1].DecodeError)

	require.Equal(t, "wamid.B", msgs[2].ID)
	require.Contains(t, msgs[2].DecodeError, "timestamp")
	require.True(t, msgs[2].Timestamp.IsZero())
	require.Equal(t, &whatsapp.Location{Lat: 52.5, Lng: 13.4}, msgs[2].Location, "numeric strings are accepted")

	s := b.Changes[0].Statuses[0]
	require.Equal(t, whatsapp.StatusSent, s.Status)
	require.Contains(t, s.DecodeError, "errors")
}

func TestParseDeliveryBatches(t *testing.T) {
	t.Parallel()

	const otherNumber = "200000000000001"
	d := whatsapptest.NewDelivery(whatsapptest.FixturePhoneNumberID).
		Name(kerry, "Kerry Fisher").
		Text(kerry, "one").
		Image("447700900123", "555", "image/png", "").
		Status("wamid.OUT1", whatsapp.StatusDelivered, kerry).
		ValueError(whatsapp.Error{Code: 130429, Title: "Rate limit hit"}).
		ForNumber(otherNumber).WABA("300000000000001").
		Text(kerry, "two").
		Status("wamid.OUT2", whatsapp.StatusFailed, kerry, whatsapp.Error{Code: 131026, Details: "undeliverable"})
	b, err := whatsapp.ParseDelivery(d.Bytes())
	require.NoError(t, err)

	require.Len(t, b.Changes, 4)
	require.Equal(t, []string{whatsapptest.FixturePhoneNumberID, otherNumber}, b.PhoneNumberIDs())

	first := b.Changes[0]
	require.Equal(t, whatsapptest.FixtureWABAID, first.WABAID)
	require.Len(t, first.Messages, 2)
	require.Equal(t, d.MessageIDs()[:2], []string{first.Messages[0].ID, first.Messages[1].ID})
	require.Equal(t, "Kerry Fisher", first.ContactName(kerry))
	require.Equal(t, "Customer 447700900123", first.ContactName("447700900123"))
	require.Equal(t, []whatsapp.Error{{Code: 130429, Title: "Rate limit hit"}}, first.Errors)

	require.Equal(t, "wamid.OUT1", b.Changes[1].Statuses[0].ID)

	third := b.Changes[2]
	require.Equal(t, "300000000000001", third.WABAID)
	require.Equal(t, otherNumber, third.PhoneNumberID)
	require.Equal(t, "two", third.Messages[0].Text)

	failed := b.Changes[3].Statuses[0]
	require.Equal(t, whatsapp.StatusFailed, failed.Status)
	require.Equal(t, 131026, failed.Errors[0].Code)
	require.Equal(t, "undeliverable", failed.Errors[0].Details)

	accounts, err := whatsapp.PeekAccounts(d.Bytes())
	require.NoError(t, err)
	require.Equal(t, whatsapp.Accounts{
		PhoneNumberIDs: []string{whatsapptest.FixturePhoneNumberID, otherNumber},
		WABAIDs:        []string{whatsapptest.FixtureWABAID, "300000000000001"},
	}, accounts)
}

func TestParseDeliveryAccountLevelFields(t *testing.T) {
	t.Parallel()

	body := `{"object":"whatsapp_business_account","entry":[{"id":"102290129340398","time":1750000000,"changes":[
	  {"field":"message_template_status_update","value":{"event":"APPROVED","message_template_id":12345,"message_template_name":"order_update","message_template_language":"en_US","reason":"NONE"}},
	  {"field":"phone_number_quality_update","value":{"display_phone_number":"15550783881","event":"FLAGGED","current_limit":"TIER_1K"}},
	  {"field":"some_field_from_2030","value":[1,2,3]},
	  {"field":"group_lifecycle_update","value":{"messaging_product":"whatsapp","metadata":{"phone_number_id":"106540352242922"},"groups":[]}},
	  {"field":"account_update","value":null},
	  {"field":"messages","value":{"messaging_product":"whatsapp","metadata":{"display_phone_number":"15550783881","phone_number_id":"106540352242922"},
	    "messages":[{"from":"16505551234","id":"wamid.X","timestamp":"1750000001","type":"text","text":{"body":"still parsed"}}]}}
	]}]}`
	b, err := whatsapp.ParseDelivery([]byte(body))
	require.NoError(t, err)

	require.Len(t, b.Changes, 1)
	require.Equal(t, "still parsed", b.Changes[0].Messages[0].Text)

	require.Len(t, b.AccountEvents, 5)
	fields := make([]string, 0, len(b.AccountEvents))
	for _, e := range b.AccountEvents {
		require.Equal(t, whatsapptest.FixtureWABAID, e.WABAID)
		fields = append(fields, e.Field)
	}
	require.Equal(t, []string{
		whatsapp.FieldMessageTemplateStatusUpdate, whatsapp.FieldPhoneNumberQualityUpdate,
		"some_field_from_2030", "group_lifecycle_update", whatsapp.FieldAccountUpdate,
	}, fields)
	require.JSONEq(t, `{"event":"APPROVED","message_template_id":12345,"message_template_name":"order_update","message_template_language":"en_US","reason":"NONE"}`, string(b.AccountEvents[0].Raw))
	require.Equal(t, "[1,2,3]", string(b.AccountEvents[2].Raw))
	require.Equal(t, whatsapptest.FixturePhoneNumberID, b.AccountEvents[3].PhoneNumberID)
	require.Empty(t, b.AccountEvents[0].PhoneNumberID)
}

func TestParseDeliveryRejects(t *testing.T) {
	t.Parallel()

	tests := []struct {
		name string
		body string
		want error
	}{
		{"not json", `{"object":`, whatsapp.ErrMalformedDelivery},
		{"empty body", ``, whatsapp.ErrMalformedDelivery},
		{"json array", `[]`, whatsapp.ErrMalformedDelivery},
		{"entry not an array", `{"object":"whatsapp_business_account","entry":{}}`, whatsapp.ErrMalformedDelivery},
		{"changes not an array", `{"object":"whatsapp_business_account","entry":[{"id":"1","changes":"x"}]}`, whatsapp.ErrMalformedDelivery},
		{"messages value not an object", `{"object":"whatsapp_business_account","entry":[{"id":"1","changes":[{"field":"messages","value":"x"}]}]}`, whatsapp.ErrMalformedDelivery},
		{"messages not an array", `{"object":"whatsapp_business_account","entry":[{"id":"1","changes":[{"field":"messages","value":{"messages":{}}}]}]}`, whatsapp.ErrMalformedDelivery},
		{"metadata wrong shape", `{"object":"whatsapp_business_account","entry":[{"id":"1","changes":[{"field":"messages","value":{"metadata":"x"}}]}]}`, whatsapp.ErrMalformedDelivery},
		{"page object", `{"object":"page","entry":[]}`, whatsapp.ErrUnexpectedObject},
		{"instagram object", `{"object":"instagram","entry":[]}`, whatsapp.ErrUnexpectedObject},
		{"object missing", `{"entry":[]}`, whatsapp.ErrUnexpectedObject},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			b, err := whatsapp.ParseDelivery([]byte(tt.body))
			require.ErrorIs(t, err, tt.want)
			require.Nil(t, b)
		})
	}
}

func TestParseDeliveryFixtureForOtherNumber(t *testing.T) {
	t.Parallel()

	body := whatsapptest.FixtureFor(t, "text.json", "777000000000001")
	b, err := whatsapp.ParseDelivery(body)
	require.NoError(t, err)
	require.Equal(t, "777000000000001", b.Changes[0].PhoneNumberID)
	require.Equal(t, "Does it come in another color?", b.Changes[0].Messages[0].Text)
}

func TestPeekAccounts(t *testing.T) {
	t.Parallel()

	tests := []struct {
		name    string
		body    string
		want    whatsapp.Accounts
		wantErr bool
	}{
		{
			name: "fixture",
			body: string(whatsapptest.Fixture(t, "status-read.json")),
			want: whatsapp.Accounts{PhoneNumberIDs: []string{whatsapptest.FixturePhoneNumberID}, WABAIDs: []string{whatsapptest.FixtureWABAID}},
		},
		{
			name: "account-level event names only the WABA",
			body: `{"object":"whatsapp_business_account","entry":[{"id":"9","changes":[{"field":"account_update","value":{"event":"X"}}]}]}`,
			want: whatsapp.Accounts{WABAIDs: []string{"9"}},
		},
		{
			name: "duplicates collapse, odd values tolerated",
			body: `{"entry":[{"id":"9","changes":[{"value":{"metadata":{"phone_number_id":"1"}}},{"value":"x"},{"value":{"metadata":{"phone_number_id":"2"}}}]},{"id":"9","changes":[{"value":{"metadata":{"phone_number_id":"1"}}}]}]}`,
			want: whatsapp.Accounts{PhoneNumberIDs: []string{"1", "2"}, WABAIDs: []string{"9"}},
		},
		{name: "not json", body: `nope`, wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got, err := whatsapp.PeekAccounts([]byte(tt.body))
			if tt.wantErr {
				require.ErrorIs(t, err, whatsapp.ErrMalformedDelivery)
				return
			}
			require.NoError(t, err)
			require.Equal(t, tt.want, got)
		})
	}
}

func TestParseDeliveryLegacyAndFlowShapes(t *testing.T) {
	t.Parallel()

	d := whatsapptest.NewDelivery(whatsapptest.FixturePhoneNumberID).
		// Pre-v12 system messages carried the new id in new_wa_id.
		Message(kerry, whatsapp.TypeSystem, map[string]any{
			"body": "User A changed from 1 to 2", "new_wa_id": "12195555358", "type": whatsapp.SystemUserChangedNumber,
		}).
		// A WhatsApp Flows completion.
		Message(kerry, whatsapp.TypeInteractive, map[string]any{
			"type": whatsapp.InteractiveFlowReply,
			"nfm_reply": map[string]any{
				"name": "flow", "body": "Sent", "response_json": `{"flow_token":"t1","rating":"5"}`,
			},
		}).
		// An interactive type this package does not know yet.
		Message(kerry, whatsapp.TypeInteractive, map[string]any{"type": "call_permission_reply", "call_permission_reply": map[string]any{"response": "accept"}}).
		// A product inquiry from a catalog.
		Text(kerry, "Is this in stock?").
		With("context", map[string]any{"from": businessDisp, "id": "wamid.CAT", "referred_product": map[string]any{"catalog_id": "c1", "product_retailer_id": "p1"}})
	b, err := whatsapp.ParseDelivery(d.Bytes())
	require.NoError(t, err)
	m := b.Changes[0].Messages
	require.Len(t, m, 4)

	require.Equal(t, "12195555358", m[0].System.NewWaID)
	require.Equal(t, &whatsapp.InteractiveReply{
		Type: whatsapp.InteractiveFlowReply, FlowName: "flow", FlowBody: "Sent",
		FlowResponseJSON: `{"flow_token":"t1","rating":"5"}`,
	}, m[1].Interactive)
	require.Equal(t, &whatsapp.InteractiveReply{Type: "call_permission_reply"}, m[2].Interactive)
	require.Contains(t, string(m[2].Raw), "accept")
	require.Equal(t, &whatsapp.ReferredProduct{CatalogID: "c1", ProductRetailerID: "p1"}, m[3].Context.ReferredProduct)
}
