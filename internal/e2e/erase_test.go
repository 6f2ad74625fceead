package e2e

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/relaydesk/relaydesk/internal/store"
	"github.com/relaydesk/relaydesk/internal/whatsapp/whatsapptest"
)

// Erasing a customer removes, in one transaction, everything relaydesk
// holds about them and nothing of anyone else's; the audit log says it
// happened without the content; with the helpdesk side asked for, Zendesk's
// end user is deleted for good through its API.
func TestErasingACustomer(t *testing.T) {
	t.Parallel()
	h := newHarness(t, harnessOpts{})
	ctx := context.Background()
	const other = "16505550000"
	tk := h.openTicket("my secret address is Elm Street 5")
	h.agentReplies(tk, "thanks, noted")
	h.eventually(func() bool { return len(h.sentTexts()) == 1 }, "the reply sent")
	h.postWhatsApp(whatsapptest.NewDelivery(phoneID).Text(other, "someone else"))
	h.eventually(func() bool { return len(h.zd.Tickets()) == 2 }, "the other customer's ticket")
	h.eventually(func() bool { return h.count(`SELECT count(*) FROM messages WHERE state = 'pending'`) == 0 }, "all delivered")
	requester := h.zd.Tickets()[0].RequesterID

	ids, err := h.store.ContactsByID(ctx, customer)
	require.NoError(t, err)
	require.Len(t, ids, 1)
	e, err := h.bridge.EraseContact(ctx, store.Actor{Name: "test-admin"}, ids[0], true)
	require.NoError(t, err)
	require.Equal(t, 1, e.Conversations)
	require.Equal(t, 2, e.Messages, "the customer's message and the agent's reply")
	require.Positive(t, e.WebhookEvents, "the raw deliveries naming the customer")
	require.Len(t, e.HelpdeskTickets, 1)
	require.Len(t, e.Helpdesk, 1)
	require.Contains(t, e.Helpdesk[0], "deleted permanently")
	require.True(t, h.zd.Erased(requester), "Zendesk's end user is permanently deleted")
	h.noViolations()

	for _, q := range []string{
		`SELECT count(*) FROM contacts WHERE wa_id = '` + customer + `'`,
		`SELECT count(*) FROM messages WHERE body LIKE '%Elm Street%' OR body = 'thanks, noted'`,
		`SELECT count(*) FROM webhook_events WHERE position(convert_to('` + customer + `', 'UTF8') IN body) > 0`,
		`SELECT count(*) FROM tickets WHERE remote_id = '` + tk + `'`,
	} {
		require.Zero(t, h.count(q), q)
	}
	require.Equal(t, 1, h.count(`SELECT count(*) FROM messages WHERE body = 'someone else'`), "the other customer is untouched")
	require.Equal(t, 1, h.count(`SELECT count(*) FROM contacts WHERE wa_id = '`+other+`'`))

	log, err := h.store.AuditLog(ctx, 10)
	require.NoError(t, err)
	var actions []string
	for _, a := range log {
		actions = append(actions, a.Action)
		detail, _ := json.Marshal(a.Detail)
		require.NotContains(t, string(detail), "Elm Street", "the audit log never holds the content")
		require.NotContains(t, a.TargetName+string(detail), customer, "nor the customer's number")
	}
	require.Contains(t, actions, "contact.erased")
	require.Contains(t, actions, "contact.erased_in_helpdesk")

	// The customer writes again later: a new contact and a new ticket,
	// nothing of the old one.
	h.postWhatsApp(whatsapptest.NewDelivery(phoneID).At(time.Now()).Text(customer, "hello again"))
	h.eventually(func() bool { return len(h.zd.Tickets()) == 3 }, "a new ticket for the returning customer")
	ids, err = h.store.ContactsByID(ctx, customer)
	require.NoError(t, err)
	require.Len(t, ids, 1)
	require.False(t, strings.Contains(h.failures(), "hello again"))
}

// Message retention empties old finished messages in batches and keeps the
// rows; pending ones and recent ones keep their bodies.
func TestRetentionRedactsOldMessages(t *testing.T) {
	t.Parallel()
	h := newHarness(t, harnessOpts{})
	ctx := context.Background()
	h.openTicket("old words")
	h.eventually(func() bool { return h.count(`SELECT count(*) FROM messages WHERE state = 'done'`) == 1 }, "delivered")
	_, err := h.pool.Exec(ctx, `UPDATE messages SET created_at = now() - interval '40 days'`)
	require.NoError(t, err)
	h.postWhatsApp(whatsapptest.NewDelivery(phoneID).Text(customer, "new words"))
	h.eventually(func() bool { return h.count(`SELECT count(*) FROM messages WHERE state = 'done'`) == 2 }, "delivered")

	n, err := h.bridge.RedactOldMessages(ctx, 30*24*time.Hour)
	require.NoError(t, err)
	require.Equal(t, 1, n)
	require.Equal(t, 2, h.count(`SELECT count(*) FROM messages`), "rows stay")
	require.Zero(t, h.count(`SELECT count(*) FROM messages WHERE body = 'old words' OR wa_message::text LIKE '%old words%'`))
	require.Equal(t, 1, h.count(`SELECT count(*) FROM messages WHERE body = 'new words'`))
	n, err = h.bridge.RedactOldMessages(ctx, 30*24*time.Hour)
	require.NoError(t, err)
	require.Zero(t, n, "nothing twice")
}
