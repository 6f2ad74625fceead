package bridge

// Unit tests of the bridge's rules (routing, reopen policy, the 24-hour
// window, the queues), without PostgreSQL.

import (
	"errors"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/relaydesk/relaydesk/internal/store"
)

func TestJobForDirection(t *testing.T) {
	t.Parallel()
	require.Equal(t, DeliverInboundArgs{ConversationID: 4}, jobFor(store.DirIn, 4), "customer messages go to the helpdesk")
	require.Equal(t, SendOutboundArgs{ConversationID: 4}, jobFor(store.DirOut, 4), "replies go to WhatsApp")
	for direction, dir := range map[string]store.Direction{"in": store.DirIn, "out": store.DirOut} {
		require.Equal(t, dir, dirOf(direction))
		require.Equal(t, direction, directionOf(dir))
	}
}

func TestLookBeforePosting(t *testing.T) {
	t.Parallel()
	require.False(t, lookBeforePosting(store.Message{Attempts: 0}), "a first attempt posts at once")
	require.True(t, lookBeforePosting(store.Message{Attempts: 1}), "a retry looks for the earlier post first")
	require.True(t, lookBeforePosting(store.Message{Attempts: 5}))
}

func TestSnoozes(t *testing.T) {
	t.Parallel()
	snoozed := func(t *testing.T, err error) time.Duration {
		t.Helper()
		var s *SnoozeError
		require.True(t, errors.As(err, &s), "%v is a snooze", err)
		return s.After
	}

	t.Run("without a cap, waits are honoured as asked", func(t *testing.T) {
		t.Parallel()
		b := &Bridge{}
		require.Equal(t, time.Hour, snoozed(t, b.snooze(time.Hour)))
		require.Equal(t, 2*time.Second, snoozed(t, b.busy()), "a busy conversation is tried again in 2s")
	})
	require.Equal(t, "snooze for 2s", (&SnoozeError{After: 2 * time.Second}).Error())
}

func TestGiveUpPerDirection(t *testing.T) {
	t.Parallel()
	cause := errors.New("helpdesk down")

	in := giveUpFor("in", cause)
	require.Empty(t, in.noteCode, "a customer message is failed without a note: there is no ticket to tell")
	require.Equal(t, "relaydesk gave up after repeated failures: helpdesk down", in.reason)

	out := giveUpFor("out", cause)
	require.Equal(t, "gave_up", out.noteCode, "the agent is told the reply was not delivered")
	require.Equal(t, "This reply was NOT delivered to the customer: relaydesk gave up after repeated failures: helpdesk down", out.reason)
}

func TestRouteMatches(t *testing.T) {
	t.Parallel()
	match := func(kind, value string) store.RouteMatch { return store.RouteMatch{Kind: kind, Value: value} }

	for _, tt := range []struct {
		match      store.RouteMatch
		waID, body string
		want       bool
	}{
		{match("default", ""), "4915112345678", "hi", true},
		{store.RouteMatch{}, "4915112345678", "hi", true},
		{match("country", "49"), "4915112345678", "hi", true},
		{match("country", "49"), "16505551234", "hi", false},
		{match("keyword", "Billing"), "1", "I have a billing question", true},
		{match("keyword", "billing"), "1", "Chose: Billing", true}, // an interactive choice renders its title
		{match("keyword", "billing"), "1", "shipping", false},
		{match("keyword", ""), "1", "anything", false},
		{match("moon", ""), "1", "anything", false},
	} {
		require.Equal(t, tt.want, routeMatches(tt.match, tt.waID, tt.body), "%+v %q", tt.match, tt.body)
	}
}

func TestPickRoute(t *testing.T) {
	t.Parallel()
	routes := []store.Route{
		{ID: 1, Match: store.RouteMatch{Kind: "keyword", Value: "invoice"}},
		{ID: 2, Match: store.RouteMatch{Kind: "country", Value: "49"}},
		{ID: 3, Match: store.RouteMatch{Kind: "default"}},
	}
	tests := []struct {
		name   string
		routes []store.Route
		waID   string
		body   string
		want   store.RouteID // 0: no route
	}{
		{"the first match wins over later ones", routes, "4915112345678", "my invoice", 1},
		{"a country route before the default", routes, "4915112345678", "hello", 2},
		{"the default catches the rest", routes, "16505551234", "hello", 3},
		{"no matching route", routes[:2], "16505551234", "hello", 0},
		{"a number without routes", nil, "16505551234", "hello", 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got := pickRoute(tt.routes, tt.waID, tt.body)
			if tt.want == 0 {
				require.Nil(t, got)
				return
			}
			require.NotNil(t, got)
			require.Equal(t, tt.want, got.ID)
		})
	}
}

func TestRouteByID(t *testing.T) {
	t.Parallel()
	routes := []store.Route{{ID: 7}, {ID: 9}}
	id := func(v store.RouteID) *store.RouteID { return &v }
	require.Nil(t, routeByID(routes, nil), "a ticket without a route")
	require.Nil(t, routeByID(routes, id(8)), "a deleted route")
	got := routeByID(routes, id(9))
	require.NotNil(t, got)
	require.Equal(t, store.RouteID(9), got.ID)
	require.Same(t, &routes[1], got, "the route itself, not a copy")
}

func TestNeedsNewTicket(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC)
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
		{"solved exactly at the window's end reopens", store.Ticket{Status: "solved", ResolvedAt: ago(48 * time.Hour)}, route, false},
		{"solved outside the window", store.Ticket{Status: "solved", ResolvedAt: ago(49 * time.Hour)}, route, true},
		{"solved, window 0: never reopen", store.Ticket{Status: "solved", ResolvedAt: ago(time.Minute)}, &store.Route{}, true},
		{"solved without a time: a new ticket", store.Ticket{Status: "solved"}, route, true},
		{"solved without a route: 72h default", store.Ticket{Status: "solved", ResolvedAt: ago(71 * time.Hour)}, nil, false},
		{"solved without a route, past 72h", store.Ticket{Status: "solved", ResolvedAt: ago(73 * time.Hour)}, nil, true},
		{"closed", store.Ticket{Status: "closed", ResolvedAt: ago(time.Minute)}, route, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			require.Equal(t, tt.want, needsNewTicket(tt.ticket, tt.route, now))
		})
	}
}

func TestFreeFormAllowed(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC)
	ago := func(d time.Duration) *time.Time { t := now.Add(-d); return &t }

	tests := []struct {
		name        string
		lastInbound *time.Time
		want        bool
	}{
		{"the customer just wrote", ago(time.Minute), true},
		{"a second before the window closes", ago(Window - time.Second), true},
		{"exactly 24 hours later the window is closed", ago(Window), false},
		{"a day and a bit later", ago(25 * time.Hour), false},
		{"the customer never wrote", nil, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			require.Equal(t, tt.want, freeFormAllowed(tt.lastInbound, now))
			b := &Bridge{now: func() time.Time { return now }}
			require.Equal(t, tt.want, b.inWindow(store.Conversation{LastInboundAt: tt.lastInbound}), "at the bridge's clock")
		})
	}
	require.Equal(t, 24*time.Hour, Window)
}

func TestNeedsWindow(t *testing.T) {
	t.Parallel()
	for typ, want := range map[string]bool{
		"template": false, "text": true, "image": true, "document": true, "sticker": true, "": true,
	} {
		require.Equal(t, want, needsWindow(typ), typ)
	}
}

func TestReengagementSent(t *testing.T) {
	t.Parallel()
	at := func(h int) *time.Time { t := time.Date(2026, 11, 25, h, 0, 0, 0, time.UTC); return &t }

	tests := []struct {
		name string
		conv store.Conversation
		want bool
	}{
		{"never re-engaged", store.Conversation{LastInboundAt: at(8)}, false},
		{"re-engaged after the customer's last message", store.Conversation{LastInboundAt: at(8), ReengagedAt: at(10)}, true},
		{"the customer wrote since: a new window, a new template", store.Conversation{LastInboundAt: at(11), ReengagedAt: at(10)}, false},
		{"re-engaged at the very time of the last message", store.Conversation{LastInboundAt: at(10), ReengagedAt: at(10)}, false},
		{"re-engaged a customer who never wrote", store.Conversation{ReengagedAt: at(10)}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			require.Equal(t, tt.want, reengagementSent(tt.conv))
		})
	}
}

func TestSettleWait(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 11, 25, 14, 2, 11, 0, time.UTC)
	stored := func(ago time.Duration) store.InboundQueue {
		at := now.Add(-ago)
		return store.InboundQueue{OldestPending: &at, Now: now}
	}
	tests := []struct {
		name   string
		q      store.InboundQueue
		window time.Duration
		want   time.Duration
	}{
		{"just stored: the whole window", stored(0), time.Second, time.Second},
		{"stored a while ago: the rest of the window", stored(300 * time.Millisecond), time.Second, 700 * time.Millisecond},
		{"stored exactly a window ago: no wait", stored(time.Second), time.Second, 0},
		{"stored long ago (a retry, a restart): no wait", stored(time.Hour), time.Second, 0},
		{"a clock behind the row never waits past the window", stored(-time.Minute), time.Second, time.Second},
		{"nothing pending", store.InboundQueue{Now: now}, time.Second, 0},
		{"window off", stored(0), 0, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			require.Equal(t, tt.want, settleWait(tt.q, tt.window))
		})
	}
}

func TestQueuedWait(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 12, 2, 16, 0, 0, 0, time.UTC)
	tests := []struct {
		name     string
		queuedAt time.Time
		window   time.Duration
		want     time.Duration
	}{
		{"queued just now: the whole window", now, time.Second, time.Second},
		{"queued a while ago: the rest", now.Add(-400 * time.Millisecond), time.Second, 600 * time.Millisecond},
		{"queued a window ago: at once", now.Add(-time.Second), time.Second, 0},
		{"a retry or a backlog: at once", now.Add(-time.Hour), time.Second, 0},
		{"a database clock ahead never waits past the window", now.Add(time.Minute), time.Second, time.Second},
		{"window off", now, 0, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			require.Equal(t, tt.want, queuedWait(tt.queuedAt, now, tt.window))
		})
	}
}

func TestInboundSettleOption(t *testing.T) {
	t.Parallel()
	off, longer := time.Duration(0), 3*time.Second
	require.Equal(t, DefaultInboundSettle, New(Opts{}).settle, "unset: the default")
	require.Equal(t, time.Second, DefaultInboundSettle, "RELAYDESK_INBOUND_SETTLE's documented default")
	require.Zero(t, New(Opts{InboundSettle: &off}).settle, "0 turns it off")
	require.Equal(t, longer, New(Opts{InboundSettle: &longer}).settle)
}

func TestArrivedLate(t *testing.T) {
	t.Parallel()
	at := func(sec int) *time.Time { t := time.Date(2026, 11, 25, 14, 2, sec, 0, time.UTC); return &t }
	var zero time.Time
	tests := []struct {
		name             string
		sent, lastPosted *time.Time
		want             bool
	}{
		{"sent before a message already posted", at(11), at(40), true},
		{"sent after everything posted", at(41), at(40), false},
		{"the same second as the last posted: arrival order decides, not late", at(40), at(40), false},
		{"nothing posted yet", at(11), nil, false},
		{"no timestamp", nil, at(40), false},
		{"a zero timestamp", &zero, at(40), false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			require.Equal(t, tt.want, arrivedLate(tt.sent, tt.lastPosted))
		})
	}
}
