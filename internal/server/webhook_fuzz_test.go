package server_test

import (
	"bytes"
	"net/http"
	"testing"

	"github.com/relaydesk/relaydesk/internal/whatsapp/whatsapptest"
)

// FuzzWhatsAppIntake posts signed deliveries through the real handler into
// a real PostgreSQL: one customer's text, profile name and timestamp are
// arbitrary wire bytes, the other customer's message is plain. The handler
// never answers 500, and whenever it accepts the delivery the plain message
// is stored.
func FuzzWhatsAppIntake(f *testing.F) {
	b := setup(f)
	for _, seed := range []struct{ text, name, ts string }{
		{"hello", "Kerry", "1749416383"}, {`a\u0000b`, `\ud83d`, "253402214400"}, {"bad \xff", "x\x00y", "9404548406400"},
		{`"`, `\`, "-1"}, {"", "", ""},
	} {
		f.Add(seed.text, seed.name, seed.ts)
	}
	f.Fuzz(func(t *testing.T, text, name, ts string) {
		d := whatsapptest.NewDelivery(phoneID).Name(customer, "NAMEMARK").Text(customer, "TEXTMARK").
			Text(otherCustomer, "GOODMARK")
		good := "plain " + d.MessageIDs()[1]
		body := bytes.Replace(d.Bytes(), []byte("GOODMARK"), []byte(good), 1)
		body = bytes.Replace(body, []byte("TEXTMARK"), []byte(text), 1)
		body = bytes.Replace(body, []byte("NAMEMARK"), []byte(name), 1)
		body = bytes.Replace(body, []byte(`"timestamp":"`), []byte(`"timestamp":"`+ts+`","_t":"`), 1)

		rec := b.postSigned(t, body)
		switch rec.Code {
		case http.StatusOK:
			if n := b.count(t, `SELECT count(*) FROM messages WHERE body = $1`, good); n != 1 {
				t.Fatalf("accepted, but the other customer's message is stored %d times", n)
			}
		case http.StatusBadRequest: // not JSON any more: refused whole, nothing stored
		default:
			t.Fatalf("answered %d: %s", rec.Code, rec.Body.String())
		}
	})
}
