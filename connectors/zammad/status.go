package zammad

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/relaydesk/relaydesk/connectors"
)

// defaultStateTypes are the state types of Zammad's stock states, by name.
var defaultStateTypes = map[string]string{
	"new":              "new",
	"open":             "open",
	"pending reminder": "pending reminder",
	"pending close":    "pending action",
	"closed":           "closed",
	"merged":           "merged",
	"removed":          "removed",
}

// groupPolicy is a group's follow-up setting.
type groupPolicy struct {
	followUp   string // yes, new_ticket, new_ticket_after_certain_time
	reopenDays int64
	fetched    time.Time
}

// normalizeType maps a state type onto the normalized statuses; closed
// tickets are solved unless their group refuses follow-ups (followUp).
func normalizeType(stateType string, followUp func() connectors.Status) (connectors.Status, bool) {
	switch stateType {
	case "new", "open":
		return connectors.StatusOpen, true
	case "pending reminder", "pending action":
		return connectors.StatusPending, true
	case "closed":
		return followUp(), true
	case "merged", "removed":
		return connectors.StatusClosed, true
	}
	return "", false
}

// closedStatus is the status of a closed ticket under a group's policy:
// solved while a follow-up reopens it, closed once it no longer does.
func closedStatus(p groupPolicy, closedAt, now time.Time) connectors.Status {
	switch p.followUp {
	case "new_ticket":
		return connectors.StatusClosed
	case "new_ticket_after_certain_time":
		if p.reopenDays > 0 && !closedAt.IsZero() && now.After(closedAt.Add(time.Duration(p.reopenDays)*24*time.Hour)) {
			return connectors.StatusClosed
		}
	}
	return connectors.StatusSolved
}

// status normalizes a ticket's state, reading custom states' types and the
// group's follow-up setting from the API (cached for a few minutes).
func (c *Client) status(ctx context.Context, tk ticket) (connectors.Status, error) {
	stateType, ok := defaultStateTypes[strings.ToLower(tk.State)]
	if !ok {
		var err error
		if stateType, err = c.stateType(ctx, tk.StateID); err != nil {
			return "", err
		}
	}
	closedAt := tk.LastCloseAt.t
	if closedAt.IsZero() {
		closedAt = tk.CloseAt.t
	}
	st, ok := normalizeType(stateType, func() connectors.Status {
		return closedStatus(c.groupPolicy(ctx, tk.GroupID), closedAt, c.now())
	})
	if !ok {
		// A state type Zammad may add later: agents have work to do.
		return connectors.StatusOpen, nil
	}
	return st, nil
}

// stateType returns the type of a (custom) state.
func (c *Client) stateType(ctx context.Context, id int64) (string, error) {
	c.mu.Lock()
	t, ok := c.states[id]
	fresh := c.now().Sub(c.statesAt) < policyCacheDuration
	c.mu.Unlock()
	if ok && fresh {
		return t, nil
	}
	var states []struct {
		ID        int64  `json:"id"`
		StateType string `json:"state_type"`
	}
	if err := c.do(ctx, call{method: http.MethodGet, path: "ticket_states", query: url.Values{"expand": {"true"}}, out: &states}); err != nil {
		return "", err
	}
	m := map[int64]string{}
	for _, s := range states {
		m[s.ID] = s.StateType
	}
	c.mu.Lock()
	c.states, c.statesAt = m, c.now()
	c.mu.Unlock()
	return m[id], nil
}

// groupPolicy returns a group's follow-up setting. Reading groups needs
// admin.group: without it (or on any failure) closed tickets count as
// taking follow-ups, Zammad's default.
func (c *Client) groupPolicy(ctx context.Context, id int64) groupPolicy {
	c.mu.Lock()
	p, ok := c.groups[id]
	c.mu.Unlock()
	if ok && c.now().Sub(p.fetched) < policyCacheDuration {
		return p
	}
	var g struct {
		FollowUpPossible string  `json:"follow_up_possible"`
		ReopenTimeInDays flexInt `json:"reopen_time_in_days"`
	}
	p = groupPolicy{followUp: "yes", fetched: c.now()}
	if id != 0 {
		err := c.do(ctx, call{method: http.MethodGet, path: "groups/" + formatID(id), out: &g})
		switch {
		case err == nil && g.FollowUpPossible != "":
			p.followUp, p.reopenDays = g.FollowUpPossible, int64(g.ReopenTimeInDays)
		case err != nil && connectors.IsRetryable(err):
			return p // try again next time
		}
	}
	c.mu.Lock()
	c.groups[id] = p
	c.mu.Unlock()
	return p
}
