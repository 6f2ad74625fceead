package connectortest

import (
	"context"
	"slices"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/relaydesk/relaydesk/connectors"
)

// RequireStatusTags checks a connector's tag-based [connectors.StatusShower]
// against its fake: showing sent, delivered, read in turn leaves exactly
// the current status's whatsapp-<status> tag on the ticket, keeps the
// ticket's other tags, and adds no comment; showing a status again
// changes nothing.
func RequireStatusTags(t *testing.T, ctx context.Context, c connectors.Connector, f Fake, ticketID string) {
	t.Helper()
	shower, ok := c.(connectors.StatusShower)
	require.True(t, ok, "%s implements connectors.StatusShower", c.Kind())
	tags := func() []string {
		for _, tk := range f.Tickets() {
			if tk.ID == ticketID {
				return tk.Tags
			}
		}
		t.Fatalf("no ticket %s", ticketID)
		return nil
	}
	others := slices.DeleteFunc(slices.Clone(tags()), func(s string) bool { return slices.Contains(connectors.StatusTags(), s) })
	comments := len(f.Comments(ticketID))
	prev := ""
	for _, st := range []string{connectors.DeliverySent, connectors.DeliveryDelivered, connectors.DeliveryRead, connectors.DeliveryRead} {
		require.NoError(t, shower.ShowStatus(ctx, connectors.StatusUpdate{TicketID: ticketID, Status: st, Previous: prev}), st)
		got := tags()
		require.Contains(t, got, connectors.StatusTag(st))
		for _, other := range connectors.StatusTags() {
			if other != connectors.StatusTag(st) {
				require.NotContains(t, got, other, "after %s", st)
			}
		}
		for _, o := range others {
			require.Contains(t, got, o, "the ticket's own tags stay")
		}
		prev = st
	}
	require.Len(t, f.Comments(ticketID), comments, "no comment is added")
	err := shower.ShowStatus(ctx, connectors.StatusUpdate{TicketID: ticketID, Status: "failed"})
	require.True(t, connectors.IsPermanent(err), "failures are notes, not tags: %v", err)
}
