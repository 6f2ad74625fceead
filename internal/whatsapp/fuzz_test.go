package whatsapp_test

import (
	"encoding/json"
	"errors"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/relaydesk/relaydesk/internal/whatsapp"
	"github.com/relaydesk/relaydesk/internal/whatsapp/whatsapptest"
)

// FuzzParseDelivery feeds arbitrary bodies to the webhook parsers. Beyond
// "no panic" it checks that rejections are typed, that invalid JSON is
// always rejected, and that ParseDelivery and PeekAccounts agree on the
// phone numbers a delivery names.
func FuzzParseDelivery(f *testing.F) {
	for _, name := range whatsapptest.FixtureNames(f) {
		f.Add(whatsapptest.Fixture(f, name))
	}
	f.Add(whatsapptest.NewDelivery("1").Text("2", "hi").Unsupported("2").Status("wamid.X", "failed", "2").
		AccountEvent(whatsapp.FieldAccountUpdate, map[string]any{"event": "X"}).Bytes())
	f.Add([]byte(`{"object":"whatsapp_business_account","entry":[{"id":"1","changes":[{"field":"messages","value":{"messages":[1,"x",null,{}]}}]}]}`))
	f.Add([]byte(`{"object":"page"}`))

	f.Fuzz(func(t *testing.T, body []byte) {
		b, err := whatsapp.ParseDelivery(body)
		peek, peekErr := whatsapp.PeekAccounts(body)
		if err != nil {
			if b != nil {
				t.Fatalf("batch returned with error %v", err)
			}
			if !isTyped(err) {
				t.Fatalf("untyped error: %v", err)
			}
			return
		}
		if !json.Valid(body) {
			t.Fatalf("invalid JSON accepted")
		}
		if peekErr != nil {
			t.Fatalf("PeekAccounts rejects what ParseDelivery accepts: %v", peekErr)
		}
		for _, id := range b.PhoneNumberIDs() {
			if !slices.Contains(peek.PhoneNumberIDs, id) {
				t.Fatalf("phone number %q parsed but not peeked (%v)", id, peek.PhoneNumberIDs)
			}
		}
		for _, id := range b.WABAIDs() {
			if !slices.Contains(peek.WABAIDs, id) {
				t.Fatalf("WABA %q parsed but not peeked (%v)", id, peek.WABAIDs)
			}
		}
		for _, c := range b.Changes {
			for _, m := range c.Messages {
				if m.Raw == nil {
					t.Fatalf("message without Raw")
				}
				_ = m.IsMedia()
				requireStoredRoundTrip(t, m)
			}
			for _, s := range c.Statuses {
				if s.Raw == nil {
					t.Fatalf("status without Raw")
				}
			}
		}
	})
}

// requireStoredRoundTrip checks that m survives its stored JSON shape.
func requireStoredRoundTrip(t *testing.T, m whatsapp.Message) {
	data, err := json.Marshal(m)
	if err != nil {
		t.Fatalf("message cannot be stored: %v", err)
	}
	var back whatsapp.Message
	if err := json.Unmarshal(data, &back); err != nil {
		t.Fatalf("stored message cannot be read back: %v", err)
	}
	m.Raw = nil
	if !reflect.DeepEqual(m, back) {
		t.Fatalf("stored shape loses data:\n%#v\n%#v", m, back)
	}
}

func isTyped(err error) bool {
	return errors.Is(err, whatsapp.ErrMalformedDelivery) || errors.Is(err, whatsapp.ErrUnexpectedObject)
}

// asciiLower lowercases ASCII letters only (Unicode folding would equate
// e.g. "ſ" with "s", which the verifier rightly does not).
func asciiLower(s string) string {
	b := []byte(s)
	for i, c := range b {
		if 'A' <= c && c <= 'Z' {
			b[i] = c + 'a' - 'A'
		}
	}
	return string(b)
}

// FuzzVerifySignature checks VerifySignature never panics, accepts exactly
// the signature Sign computes (case-insensitively, ignoring surrounding
// space), and rejects everything else.
func FuzzVerifySignature(f *testing.F) {
	body := whatsapptest.Fixture(f, "text.json")
	f.Add([]byte("secret"), body, whatsapp.Sign([]byte("secret"), body))
	f.Add([]byte("secret"), body, "sha256=")
	f.Add([]byte(""), []byte("{}"), "sha256=00")
	f.Add([]byte("k"), []byte(""), "SHA256="+strings.Repeat("A", 64))
	f.Add([]byte("k"), []byte("x"), "sha1=abc")

	f.Fuzz(func(t *testing.T, secret, body []byte, header string) {
		err := whatsapp.VerifySignature(secret, body, header)
		if len(secret) == 0 {
			if err != whatsapp.ErrAppSecretMissing {
				t.Fatalf("empty secret: got %v", err)
			}
			return
		}
		want := whatsapp.Sign(secret, body)
		matches := asciiLower(strings.TrimSpace(header)) == want
		if matches != (err == nil) {
			t.Fatalf("header %q: match=%v err=%v", header, matches, err)
		}
		if err := whatsapp.VerifySignature(secret, body, want); err != nil {
			t.Fatalf("own signature rejected: %v", err)
		}
	})
}
