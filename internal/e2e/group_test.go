package e2e

import (
	"fmt"
	"net/http"
	"slices"
	"sync"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/relaydesk/relaydesk/connectors/connectortest"
)

// TestConcurrentAgentRepliesAndRedeliveries delivers many agent-reply
// webhooks and their redeliveries at once (group commit, every default):
// each reply reaches WhatsApp exactly once.
func TestConcurrentAgentRepliesAndRedeliveries(t *testing.T) {
	t.Parallel()
	h := newHarness(t, harnessOpts{})
	ticket := h.openTicket("hello")
	const replies = 12
	var deliveries []connectortest.Delivery
	for i := range replies {
		id := h.zd.AgentReply(ticket, fmt.Sprintf("reply %02d", i))
		deliveries = append(deliveries, h.zd.CommentDelivery(ticket, id))
	}
	deliveries = append(deliveries, deliveries[:4]...) // Zendesk redelivers some
	codes := make([]int, len(deliveries))
	var wg sync.WaitGroup
	for i, d := range deliveries {
		wg.Add(1)
		go func() {
			defer wg.Done()
			codes[i] = h.postHelpdesk(d)
		}()
	}
	wg.Wait()
	for i, code := range codes {
		require.Equal(t, http.StatusOK, code, "webhook %d", i)
	}
	h.eventually(func() bool { return len(h.sentTexts()) >= replies }, "every reply sent")
	sent := h.sentTexts()
	slices.Sort(sent)
	var want []string
	for i := range replies {
		want = append(want, fmt.Sprintf("reply %02d", i))
	}
	require.Equal(t, want, sent, "each reply once")
	require.Equal(t, len(deliveries)+1, h.count(`SELECT count(*) FROM webhook_events`), "every webhook's raw event")
	h.noViolations()
}
