package e2e

import (
	"context"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/relaydesk/relaydesk/internal/whatsapp/whatsapptest"
)

func TestPollingHelpdeskRoundTrip(t *testing.T) {
	t.Parallel()
	h := newHarness(t, harnessOpts{freshdesk: true})
	ctx := context.Background()

	h.postWhatsApp(whatsapptest.NewDelivery(phoneID).Text(customer, "my invoice is wrong").Text(customer, "it says 100 EUR"))
	h.eventually(func() bool {
		ts := h.fd.Tickets()
		return len(ts) == 1 && len(h.fd.Comments(ts[0].ID)) >= 2
	}, "ticket with both messages in Freshdesk")
	tk := h.fd.Tickets()[0]
	var bodies []string
	for _, c := range h.fd.Comments(tk.ID) {
		bodies = append(bodies, c.Body)
	}
	require.Equal(t, []string{"my invoice is wrong", "it says 100 EUR"}, bodies)
	require.Empty(t, h.zd.Tickets(), "the route sends this number to Freshdesk only")

	// Freshdesk has no signed webhooks: agent replies are found by polling.
	h.fd.AgentReply(tk.ID, "We will correct it today.")
	h.fd.AgentNote(tk.ID, "internal: refund 20 EUR")
	conn, err := h.store.ConnectionByName(ctx, "freshdesk")
	require.NoError(t, err)
	for range 3 { // polling again finds nothing new
		_, err := h.bridge.Poll(ctx, conn.ID)
		require.NoError(t, err)
	}
	h.eventually(func() bool { return len(h.sentTexts()) == 1 }, "the reply reached WhatsApp")
	require.Equal(t, []string{"We will correct it today."}, h.sentTexts())

	conn, err = h.store.ConnectionByName(ctx, "freshdesk")
	require.NoError(t, err)
	require.NotEmpty(t, conn.PollCursor, "the cursor is stored")

	t.Run("the scheduler queues a poll for polling connections only", func(t *testing.T) {
		n, err := h.bridge.SchedulePolls(ctx)
		require.NoError(t, err)
		require.Equal(t, 1, n)
	})
	require.Empty(t, h.fd.Violations())
}
