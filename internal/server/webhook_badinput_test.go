package server_test

import (
	"bytes"
	"context"
	"net/http"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/relaydesk/relaydesk/internal/whatsapp/whatsapptest"
)

const otherCustomer = "4915112345678"

// badInputs are JSON string contents PostgreSQL cannot store as they are:
// a NUL (text rejects the byte, jsonb even its escape), a lone surrogate
// (half of a cut emoji) and bytes that are not UTF-8.
var badInputs = []struct {
	name string
	raw  string // as it appears inside a JSON string on the wire
	want string // what relaydesk stores
}{
	{"nul escaped", `a\u0000b`, "ab"},
	{"lone surrogate", `cut \ud83d emoji`, "cut \uFFFD emoji"},
	{"invalid utf-8", "bad \xff\xfe bytes", "bad \uFFFD\uFFFD bytes"},
}

// withRaw replaces the placeholder marker in a delivery's JSON with raw wire
// text the JSON encoder would never produce.
func withRaw(body []byte, marker, raw string) []byte {
	return bytes.ReplaceAll(body, []byte(marker), []byte(raw))
}

func TestWhatsAppBadTextCostsNoOtherMessage(t *testing.T) {
	t.Parallel()
	for _, in := range badInputs {
		for _, where := range []string{"text", "profile name"} {
			t.Run(in.name+" in the "+where, func(t *testing.T) {
				t.Parallel()
				b := setup(t)
				d := whatsapptest.NewDelivery(phoneID)
				if where == "text" {
					d.Text(customer, "BADMARK")
				} else {
					d.Name(customer, "BADMARK").Text(customer, "plain")
				}
				d.Text(otherCustomer, "the good message")
				body := withRaw(d.Bytes(), "BADMARK", in.raw)

				rec := b.postSigned(t, body)
				require.Equal(t, http.StatusOK, rec.Code, rec.Body.String())
				require.Equal(t, 1, b.count(t, `SELECT count(*) FROM messages WHERE body = 'the good message'`),
					"the other customer's message is stored")
				require.Equal(t, 2, b.count(t, `SELECT count(*) FROM messages`))
				if where == "text" {
					require.Equal(t, in.want, scalar[string](t, b.pool, `SELECT m.body FROM messages m
						JOIN conversations c ON c.id = m.conversation_id JOIN contacts k ON k.id = c.contact_id WHERE k.wa_id = $1`, customer))
				} else {
					require.Equal(t, in.want, scalar[string](t, b.pool, `SELECT profile_name FROM contacts WHERE wa_id = $1`, customer))
				}
				require.Equal(t, body, scalar[[]byte](t, b.pool, `SELECT body FROM webhook_events`), "the raw event keeps the exact bytes")
				_ = context.Background()
			})
		}
	}
}
