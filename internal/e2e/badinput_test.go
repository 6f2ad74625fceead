package e2e

import (
	"slices"
	"testing"
)

// A helpdesk comment holding a NUL byte (PostgreSQL's text refuses it) is
// stored without it and sent, instead of answering 500 to every
// redelivery of the webhook.
func TestHelpdeskReplyWithNulIsStoredAndSent(t *testing.T) {
	t.Parallel()
	h := newHarness(t, harnessOpts{})
	ticket := h.openTicket("hello")

	h.agentReplies(ticket, "on\x00 its way")
	h.eventually(func() bool { return slices.Contains(h.sentTexts(), "on its way") }, "the reply reaches WhatsApp")
	h.noViolations()
}
