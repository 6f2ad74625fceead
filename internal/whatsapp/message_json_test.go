package whatsapp_test

import (
	"encoding/json"
	"fmt"
	"reflect"
	"regexp"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/relaydesk/relaydesk/internal/whatsapp"
	"github.com/relaydesk/relaydesk/internal/whatsapp/whatsapptest"
)

// storedRoundTrip encodes m in its stored shape and decodes it again.
func storedRoundTrip(t *testing.T, m whatsapp.Message) whatsapp.Message {
	t.Helper()
	data, err := json.Marshal(m)
	require.NoError(t, err)
	require.NotContains(t, string(data), `"Raw"`, "Raw is never stored")
	var back whatsapp.Message
	require.NoError(t, json.Unmarshal(data, &back))
	return back
}

// fixtureMessages returns every message of every webhook fixture, named
// "<file>#<index>", plus builder messages for shapes the fixtures lack.
func fixtureMessages(t *testing.T) map[string]whatsapp.Message {
	t.Helper()
	bodies := map[string][]byte{}
	for _, name := range whatsapptest.FixtureNames(t) {
		bodies[name] = whatsapptest.Fixture(t, name)
	}
	bodies["builder"] = whatsapptest.NewDelivery(whatsapptest.FixturePhoneNumberID).
		Message(kerry, whatsapp.TypeInteractive, map[string]any{
			"type":      whatsapp.InteractiveFlowReply,
			"nfm_reply": map[string]any{"name": "flow", "body": "Sent", "response_json": `{"a":1}`},
		}).
		Text(kerry, "forwarded").With("context", map[string]any{"forwarded": true, "frequently_forwarded": true,
		"referred_product": map[string]any{"catalog_id": "c1", "product_retailer_id": "p1"}}).
		Sticker(kerry, "58", true).
		Unsupported(kerry).
		Message(kerry, "poll", map[string]any{"question": "Lunch?"}).
		Message(kerry, whatsapp.TypeText, "not an object").
		Bytes()
	out := map[string]whatsapp.Message{}
	for name, body := range bodies {
		b, err := whatsapp.ParseDelivery(body)
		require.NoError(t, err, name)
		for _, c := range b.Changes {
			for i, m := range c.Messages {
				out[fmt.Sprintf("%s#%d", name, i)] = m
			}
		}
	}
	return out
}

func TestMessageStoredShapeRoundTrip(t *testing.T) {
	t.Parallel()

	msgs := fixtureMessages(t)
	require.Greater(t, len(msgs), 20)
	for name, m := range msgs {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			require.NotEmpty(t, m.Raw)
			back := storedRoundTrip(t, m)
			require.Nil(t, back.Raw)
			want := m
			want.Raw = nil
			require.Equal(t, want, back)
			require.Equal(t, m.Timestamp.Location(), back.Timestamp.Location(), "timestamps stay UTC")
		})
	}
}

func TestMediaStoredShape(t *testing.T) {
	t.Parallel()

	data, err := json.Marshal(whatsapp.Media{
		ID: "1", MimeType: "audio/ogg", SHA256: "h", Caption: "c", Filename: "f", Voice: true, Animated: true,
	})
	require.NoError(t, err)
	require.JSONEq(t, `{"id":"1","mime_type":"audio/ogg","sha256":"h","caption":"c","filename":"f","voice":true,"animated":true}`, string(data))

	data, err = json.Marshal(whatsapp.Media{ID: "2"})
	require.NoError(t, err)
	require.JSONEq(t, `{"id":"2","mime_type":"","sha256":"","caption":"","filename":"","voice":false,"animated":false}`, string(data),
		"every media key is always present")
}

func TestMessageStoredShapeRejectsWhatJSONCannotHold(t *testing.T) {
	t.Parallel()

	// NaN coordinates and timestamps past year 9999 cannot be encoded, so
	// they are decode errors rather than a Message json.Marshal refuses.
	m := whatsapp.DecodeMessage([]byte(`{"id":"wamid.N","timestamp":"253402300800","type":"location","location":{"latitude":"NaN","longitude":"Inf"}}`))
	require.Contains(t, m.DecodeError, "timestamp")
	require.Contains(t, m.DecodeError, "location")
	require.True(t, m.Timestamp.IsZero())
	require.Nil(t, m.Location)
	require.Equal(t, whatsapp.Message{ID: "wamid.N", Type: whatsapp.TypeLocation, DecodeError: m.DecodeError}, storedRoundTrip(t, m))
}

// TestBatchAccountsMatchPeek shows that a parsed Batch names the same phone
// numbers and WABAs as PeekAccounts, for every fixture and for batches of
// several numbers, WABAs and account-level events.
func TestBatchAccountsMatchPeek(t *testing.T) {
	t.Parallel()

	bodies := map[string][]byte{}
	for _, name := range whatsapptest.FixtureNames(t) {
		bodies[name] = whatsapptest.Fixture(t, name)
	}
	bodies["two numbers, two WABAs"] = whatsapptest.NewDelivery(whatsapptest.FixturePhoneNumberID).
		Text(kerry, "one").Status("wamid.OUT1", whatsapp.StatusRead, kerry).
		ForNumber("200000000000001").WABA("300000000000001").Text(kerry, "two").Bytes()
	bodies["account events only"] = whatsapptest.NewDelivery(whatsapptest.FixturePhoneNumberID).WABA("9").
		AccountEvent(whatsapp.FieldAccountUpdate, map[string]any{"event": "X"}).Bytes()
	bodies["account event with a number"] = whatsapptest.NewDelivery(whatsapptest.FixturePhoneNumberID).
		Text(kerry, "hi").
		AccountEvent("group_lifecycle_update", map[string]any{"metadata": map[string]any{"phone_number_id": "5"}}).Bytes()

	for name, body := range bodies {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			peek, err := whatsapp.PeekAccounts(body)
			require.NoError(t, err)
			require.NotEmpty(t, peek.WABAIDs)
			b, err := whatsapp.ParseDelivery(body)
			require.NoError(t, err)
			require.Equal(t, peek.PhoneNumberIDs, b.PhoneNumberIDs())
			require.Equal(t, peek.WABAIDs, b.WABAIDs())
		})
	}
}

func TestBatchIDsSkipEmptyAndDuplicates(t *testing.T) {
	t.Parallel()

	b := &whatsapp.Batch{
		Changes:       []whatsapp.Change{{WABAID: "w1", PhoneNumberID: "p1"}, {WABAID: "w1", PhoneNumberID: ""}, {WABAID: "", PhoneNumberID: "p2"}},
		AccountEvents: []whatsapp.AccountEvent{{WABAID: "w2"}, {WABAID: "w1", PhoneNumberID: "p1"}},
	}
	require.Equal(t, []string{"p1", "p2"}, b.PhoneNumberIDs())
	require.Equal(t, []string{"w1", "w2"}, b.WABAIDs())
	require.Nil(t, (&whatsapp.Batch{}).WABAIDs())
}

// TestMessageTypesHaveSnakeCaseTags walks Message and every type it holds:
// each exported field needs an explicit snake_case JSON name, so renaming a
// Go field can never change the stored shape.
func TestMessageTypesHaveSnakeCaseTags(t *testing.T) {
	t.Parallel()

	snake := regexp.MustCompile(`^[a-z][a-z0-9]*(_[a-z0-9]+)*$`)
	marshaler := reflect.TypeFor[json.Marshaler]()
	seen := map[reflect.Type]bool{}
	var walk func(reflect.Type)
	walk = func(typ reflect.Type) {
		for typ.Kind() == reflect.Pointer || typ.Kind() == reflect.Slice {
			typ = typ.Elem()
		}
		if typ.Kind() != reflect.Struct || seen[typ] || typ.Implements(marshaler) || typ.PkgPath() != reflect.TypeFor[whatsapp.Message]().PkgPath() {
			return // time.Time and Error have their own encodings
		}
		seen[typ] = true
		for f := range typ.Fields() {
			if !f.IsExported() {
				continue
			}
			name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
			if f.Name == "Raw" {
				require.Equal(t, "-", name, "%s.Raw must not be stored", typ.Name())
				continue
			}
			require.Regexp(t, snake, name, "%s.%s needs a snake_case json tag", typ.Name(), f.Name)
			walk(f.Type)
		}
	}
	walk(reflect.TypeFor[whatsapp.Message]())
	require.GreaterOrEqual(t, len(seen), 18, "Message and the types it holds")
}
