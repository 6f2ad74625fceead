package connectors_test

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/relaydesk/relaydesk/connectors"
)

func TestStatus(t *testing.T) {
	t.Parallel()
	tests := []struct {
		s        connectors.Status
		resolved bool
		valid    bool
	}{
		{connectors.StatusOpen, false, true},
		{connectors.StatusPending, false, true},
		{connectors.StatusSolved, true, true},
		{connectors.StatusClosed, true, true},
		{"", false, false},
		{"hold", false, false},
	}
	for _, tt := range tests {
		require.Equal(t, tt.resolved, tt.s.IsResolved(), tt.s)
		require.Equal(t, tt.valid, tt.s.Valid(), tt.s)
	}
}

func TestIsAgentReply(t *testing.T) {
	t.Parallel()
	reply := connectors.Event{Type: connectors.EventComment, Public: true}
	require.True(t, reply.IsAgentReply())

	note := reply
	note.Public = false
	require.False(t, note.IsAgentReply())

	echo := reply
	echo.FromRequester = true
	require.False(t, echo.IsAgentReply())

	status := connectors.Event{Type: connectors.EventTicketStatus, Public: true}
	require.False(t, status.IsAgentReply())
}
