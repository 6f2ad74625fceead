package server_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"net/http"
	"strconv"
	"testing"
	"time"

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

func TestWhatsAppTimestampsOutsideSaneRangeAreClamped(t *testing.T) {
	t.Parallel()
	unix := func(t time.Time) (string, string) {
		return strconv.FormatInt(t.Unix(), 10), t.UTC().Truncate(time.Second).Format(time.RFC3339)
	}
	tests := []struct {
		name, timestamp string
		kept            string // how the decoded message keeps the original
	}{
		{"year 300000", "9404548406400", `timestamp \"9404548406400\": out of range`},
	}
	for _, c := range []struct {
		name string
		at   time.Time
	}{
		{"year 9999", time.Date(9999, 12, 31, 0, 0, 0, 0, time.UTC)},
		{"an hour in the future", time.Now().Add(time.Hour)},
		{"older than Meta's 7-day redelivery", time.Now().Add(-30 * 24 * time.Hour)},
	} {
		ts, kept := unix(c.at)
		tests = append(tests, struct{ name, timestamp, kept string }{c.name, ts, kept})
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			b := setup(t)
			d := whatsapptest.NewDelivery(phoneID).Text(customer, "odd clock").Text(otherCustomer, "fine")
			body := bytes.Replace(d.Bytes(), []byte(`"timestamp":"`), []byte(`"timestamp":"`+tt.timestamp+`","_was":"`), 1)
			before := time.Now()
			rec := b.postSigned(t, body)
			require.Equal(t, http.StatusOK, rec.Code, rec.Body.String())
			after := time.Now()
			require.Equal(t, 2, b.count(t, `SELECT count(*) FROM messages`))

			at := scalar[time.Time](t, b.pool, `SELECT wa_timestamp FROM messages WHERE body = 'odd clock'`)
			require.WithinRange(t, at, before.Add(-time.Second), after.Add(time.Second), "clamped to the arrival time")
			last := scalar[time.Time](t, b.pool, `SELECT c.last_inbound_at FROM conversations c JOIN contacts k ON k.id = c.contact_id
				WHERE k.wa_id = $1`, customer)
			require.False(t, last.After(after.Add(time.Minute)), "the 24-hour window is not kept open by a future date")
			require.Contains(t, scalar[string](t, b.pool, `SELECT wa_message::text FROM messages WHERE body = 'odd clock'`), tt.kept,
				"the original is kept with the decoded message")
		})
	}
}

// A conversation whose latest inbound time was stored in the far future
// before dates were clamped (year 9999 from an earlier release) heals with
// the customer's next message instead of keeping the window open forever.
func TestWhatsAppPoisonedInboundTimeHeals(t *testing.T) {
	t.Parallel()
	b := setup(t)
	require.Equal(t, http.StatusOK, b.postSigned(t, whatsapptest.NewDelivery(phoneID).Text(customer, "first").Bytes()).Code)
	for _, table := range []string{"conversations", "whatsapp_accounts"} {
		_, err := b.pool.Exec(context.Background(), `UPDATE `+table+` SET last_inbound_at = '9999-12-31'`)
		require.NoError(t, err)
	}

	rec := b.postSigned(t, whatsapptest.NewDelivery(phoneID).Text(customer, "second").Bytes())
	require.Equal(t, http.StatusOK, rec.Code, rec.Body.String())
	last := scalar[time.Time](t, b.pool, `SELECT last_inbound_at FROM conversations`)
	require.WithinDuration(t, time.Now(), last, time.Hour, "the far-future time gave way to the new message's")
	last = scalar[time.Time](t, b.pool, `SELECT last_inbound_at FROM whatsapp_accounts`)
	require.WithinDuration(t, time.Now(), last, time.Hour, "the number's latest inbound time too")
}

func TestWhatsAppUnstorableMessageBecomesAPlaceholder(t *testing.T) {
	t.Parallel()
	b := setup(t)
	// A wamid too long for its unique index: PostgreSQL refuses the row
	// whatever its bytes. Random hex, so compression cannot shrink it.
	long := make([]byte, 1600)
	_, err := rand.Read(long)
	require.NoError(t, err)
	d := whatsapptest.NewDelivery(phoneID).Text(customer, "refused").Text(otherCustomer, "the good message")
	body := bytes.Replace(d.Bytes(), []byte(d.MessageIDs()[0]), []byte("wamid."+hex.EncodeToString(long)), 1)

	rec := b.postSigned(t, body)
	require.Equal(t, http.StatusOK, rec.Code, rec.Body.String())
	require.Equal(t, 1, b.count(t, `SELECT count(*) FROM messages WHERE body = 'the good message'`))
	require.Equal(t, 1, b.count(t, `SELECT count(*) FROM messages WHERE body LIKE '[relaydesk could not store%' AND kind = 'unknown'`),
		"the refused message is a visible placeholder")
	require.Equal(t, 2, b.count(t, `SELECT count(*) FROM river_job WHERE kind = 'deliver_inbound'`), "both are delivered")

	t.Run("a redelivery adds no second placeholder", func(t *testing.T) {
		require.Equal(t, http.StatusOK, b.postSigned(t, body).Code)
		require.Equal(t, 2, b.count(t, `SELECT count(*) FROM messages`))
	})
}
