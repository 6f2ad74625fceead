package e2e

import (
	"context"
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/relaydesk/relaydesk/internal/whatsapp"
	"github.com/relaydesk/relaydesk/internal/whatsapp/whatsapptest"
)

// TestOneAppCannotChangeAnothersCustomers reproduces the two cross-app
// attacks of issue 15: numbers A ("support") and B ("other") belong to two
// WABAs and two Meta apps with two secrets, and the same customer writes to
// both. Whoever holds A's app secret sends (1) a user_changed_number system
// message for the customer and (2) a "failed" status for the wamid of B's
// reply, both signed with A's secret (under A's number, and under B's
// number). Nothing of B changes: B's contact keeps its phone, B's message
// its status, B's ticket gets no note, and B's next agent reply goes to the
// customer's real number from B's number.
func TestOneAppCannotChangeAnothersCustomers(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	h := newHarness(t, harnessOpts{otherApp: true})
	const attacker = "19995550000"

	// The customer writes to B; B's agent answers.
	h.postSignedWhatsApp(otherAppSecret, whatsapptest.NewDelivery(otherPhoneID).WABA(otherWABAID).
		Name(customer, "Kerry Fisher").Text(customer, "Hello B").Bytes())
	h.eventually(func() bool { return len(h.zdOther.Tickets()) == 1 }, "B's ticket")
	ticketB := h.zdOther.Tickets()[0].ID
	id := h.zdOther.AgentReply(ticketB, "B's first answer")
	require.Equal(t, http.StatusOK, h.postHelpdeskTo(h.otherPublicID, h.zdOther.CommentDelivery(ticketB, id)))
	h.eventually(func() bool { return len(h.sentTexts()) == 1 }, "B's reply sent")
	replyB := h.graph.Sent()[0]
	require.Equal(t, otherPhoneID, replyB.PhoneNumberID)
	require.Equal(t, customer, replyB.To)
	// Graph answers before relaydesk records the wamid: wait for it, or
	// the status would name a message not yet known.
	h.eventually(func() bool {
		return h.count(`SELECT count(*) FROM messages WHERE wamid = $1 AND state = 'done'`, replyB.ID) == 1
	}, "B's reply recorded")
	h.postSignedWhatsApp(otherAppSecret, whatsapptest.NewDelivery(otherPhoneID).WABA(otherWABAID).
		Status(replyB.ID, whatsapp.StatusDelivered, customer).Bytes())
	h.eventually(func() bool {
		return h.count(`SELECT count(*) FROM messages WHERE wamid = $1 AND status = 'delivered'`, replyB.ID) == 1
	}, "B's reply delivered")

	// The customer also writes to A: A has its own contact for them.
	h.openTicket("Hello A")
	require.Equal(t, 2, h.count(`SELECT count(*) FROM contacts WHERE wa_id = $1`, customer), "one contact per business")
	notesB := func() (n int) { // h.notes reads A's Zendesk
		for _, c := range h.zdOther.Comments(ticketB) {
			if !c.Public {
				n++
			}
		}
		return n
	}
	notesBefore := notesB()

	failed := whatsapp.Error{Code: 131026, Title: "Message undeliverable", Message: "attacker's text", Details: "attacker's details"}
	attacks := []struct {
		name string
		body []byte
		code int // under B's number alone, A's signature does not verify
	}{
		{"number change under A's number", whatsapptest.NewDelivery(phoneID).NumberChanged(customer, attacker).Bytes(), http.StatusOK},
		{"failed status under A's number", whatsapptest.NewDelivery(phoneID).Status(replyB.ID, whatsapp.StatusFailed, customer, failed).Bytes(), http.StatusOK},
		{"read status under A's number", whatsapptest.NewDelivery(phoneID).Status(replyB.ID, whatsapp.StatusRead, customer).Bytes(), http.StatusOK},
		{"number change under B's number", whatsapptest.NewDelivery(otherPhoneID).WABA(otherWABAID).NumberChanged(customer, attacker).Bytes(), http.StatusUnauthorized},
		{"failed status under B's number", whatsapptest.NewDelivery(otherPhoneID).WABA(otherWABAID).Status(replyB.ID, whatsapp.StatusFailed, customer, failed).Bytes(), http.StatusUnauthorized},
		{"both numbers in one body", whatsapptest.NewDelivery(phoneID).Text(customer, "filler").ForNumber(otherPhoneID).WABA(otherWABAID).
			NumberChanged(customer, attacker).Status(replyB.ID, whatsapp.StatusFailed, customer, failed).Bytes(), http.StatusOK},
	}
	for _, a := range attacks {
		require.Equal(t, a.code, h.postSignedWhatsAppCode(appSecret, a.body), a.name) // signed with A's secret
	}

	var changedB *string
	require.NoError(t, h.pool.QueryRow(ctx, `SELECT k.changed_to_wa_id FROM contacts k JOIN conversations c ON c.contact_id = k.id
		JOIN whatsapp_accounts a ON a.id = c.account_id WHERE a.phone_number_id = $1`, otherPhoneID).Scan(&changedB))
	require.Nil(t, changedB, "B's contact keeps its number")
	var status string
	var errJSON *string
	require.NoError(t, h.pool.QueryRow(ctx, `SELECT status, error::text FROM messages WHERE wamid = $1`, replyB.ID).Scan(&status, &errJSON))
	require.Equal(t, whatsapp.StatusDelivered, status, "B's message keeps its status")
	require.Nil(t, errJSON, "B's message records no failure")
	require.Zero(t, h.count(`SELECT count(*) FROM river_job WHERE kind = 'status_failed'`), "no failure report is queued")
	var changedA string
	require.NoError(t, h.pool.QueryRow(ctx, `SELECT coalesce(k.changed_to_wa_id, '') FROM contacts k JOIN conversations c ON c.contact_id = k.id
		JOIN whatsapp_accounts a ON a.id = c.account_id WHERE a.phone_number_id = $1`, phoneID).Scan(&changedA))
	require.Equal(t, attacker, changedA, "A's secret does speak for A's own customer record")
	var foreign int
	require.NoError(t, h.pool.QueryRow(ctx, `SELECT coalesce(sum((summary->>'foreign_statuses')::int), 0) FROM webhook_events`).Scan(&foreign))
	require.Equal(t, 2, foreign, "the statuses for B's message under A's number are counted as foreign")

	// B's agent answers again: the reply goes from B's number to the
	// customer's real number, and B's ticket got none of A's text.
	id = h.zdOther.AgentReply(ticketB, "B's second answer")
	require.Equal(t, http.StatusOK, h.postHelpdeskTo(h.otherPublicID, h.zdOther.CommentDelivery(ticketB, id)))
	h.eventually(func() bool { return len(h.sentTexts()) == 2 }, "B's second reply sent")
	second := h.graph.Sent()[1]
	require.Equal(t, "B's second answer", second.Text)
	require.Equal(t, otherPhoneID, second.PhoneNumberID)
	require.Equal(t, customer, second.To, "B's reply goes to the customer's real number")
	time.Sleep(300 * time.Millisecond) // a note job, were one queued, would have run
	require.Equal(t, notesBefore, notesB(), "B's ticket gets no note")
	for _, c := range h.zdOther.Comments(ticketB) {
		require.NotContains(t, c.Body, "attacker", "A's error text never reaches B's ticket")
	}
	h.noViolations()
}
