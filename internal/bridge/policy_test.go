package bridge

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/relaydesk/relaydesk/internal/store"
)

func TestRouteMatches(t *testing.T) {
	t.Parallel()

	tests := []struct {
		match store.RouteMatch
		waID  string
		body  string
		want  bool
	}{
		{store.RouteMatch{Kind: "default"}, "4915112345678", "hi", true},
		{store.RouteMatch{}, "4915112345678", "hi", true},
		{store.RouteMatch{Kind: "country", Value: "49"}, "4915112345678", "hi", true},
		{store.RouteMatch{Kind: "country", Value: "49"}, "16505551234", "hi", false},
		{store.RouteMatch{Kind: "keyword", Value: "Billing"}, "1", "I have a billing question", true},
		{store.RouteMatch{Kind: "keyword", Value: "billing"}, "1", "Chose: Billing", true}, // an interactive choice renders its title
		{store.RouteMatch{Kind: "keyword", Value: "billing"}, "1", "shipping", false},
		{store.RouteMatch{Kind: "keyword"}, "1", "anything", false},
		{store.RouteMatch{Kind: "moon"}, "1", "anything", false},
	}
	for _, tt := range tests {
		require.Equal(t, tt.want, routeMatches(tt.match, tt.waID, tt.body), "%+v %q", tt.match, tt.body)
	}
}

func TestNeedsNewTicket(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC)
	b := &Bridge{now: func() time.Time { return now }}
	ago := func(d time.Duration) *time.Time { t := now.Add(-d); return &t }
	route := &store.Route{ReopenWindow: 48 * time.Hour}

	tests := []struct {
		name   string
		ticket store.Ticket
		route  *store.Route
		want   bool
	}{
		{"open", store.Ticket{Status: "open"}, route, false},
		{"pending", store.Ticket{Status: "pending"}, route, false},
		{"solved inside the window reopens", store.Ticket{Status: "solved", ResolvedAt: ago(47 * time.Hour)}, route, false},
		{"solved outside the window", store.Ticket{Status: "solved", ResolvedAt: ago(49 * time.Hour)}, route, true},
		{"solved, window 0: never reopen", store.Ticket{Status: "solved", ResolvedAt: ago(time.Minute)}, &store.Route{}, true},
		{"solved without a route: 72h default", store.Ticket{Status: "solved", ResolvedAt: ago(71 * time.Hour)}, nil, false},
		{"closed", store.Ticket{Status: "closed", ResolvedAt: ago(time.Minute)}, route, true},
	}
	for _, tt := range tests {
		require.Equal(t, tt.want, b.needsNewTicket(tt.ticket, tt.route), tt.name)
	}
}

func TestAttachmentNames(t *testing.T) {
	t.Parallel()
	require.Equal(t, ".jpg", extension("image/jpeg"))
	require.Equal(t, ".ogg", extension("audio/ogg; codecs=opus"))
	require.Equal(t, ".pdf", extension("application/pdf"))
	require.Equal(t, "", extension("application/x-nothing-known"))
	require.Equal(t, "HBgLMTY1MDU1", shortID("wamid.HBgLMTY1MDU1"))
	require.Equal(t, "ABCDEF123456", shortID("wamid.xxxxxxxxABCDEF123456"))
	require.Equal(t, "hello", truncate("hello", 5))
	require.Equal(t, "hell…", truncate("hello!", 5))
}
