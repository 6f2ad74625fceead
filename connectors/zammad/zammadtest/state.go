package zammadtest

import (
	"fmt"
	"time"

	"github.com/relaydesk/relaydesk/connectors"
	"github.com/relaydesk/relaydesk/connectors/connectortest"
)

// State changes. Callers hold f.Mu.

func (f *Fake) newID() int64 {
	f.nextID++
	return f.nextID
}

func (f *Fake) addUser(first, last, phone, mobile, note string, roles []string) *user {
	now := f.now().UTC()
	u := &user{id: f.newID(), firstname: first, lastname: last, phone: phone, mobile: mobile, note: note, roles: roles, createdAt: now, updatedAt: now}
	u.login = fmt.Sprintf("auto-%d-%s", now.Unix(), randomHex(3))
	f.users[u.id] = u
	f.userOrder = append(f.userOrder, u.id)
	return u
}

func (f *Fake) stateType(name string) string {
	for _, s := range f.states {
		if s.name == name {
			return s.stateType
		}
	}
	return ""
}

func (f *Fake) stateID(name string) int64 {
	for _, s := range f.states {
		if s.name == name {
			return s.id
		}
	}
	return 0
}

func (f *Fake) setState(t *ticket, name string) {
	now := f.now().UTC()
	t.state = name
	t.updatedAt = now
	switch f.stateType(name) {
	case "closed", "merged", "removed":
		t.lastCloseAt = now
	case "pending reminder", "pending action":
		t.pendingTime = now.Add(24 * time.Hour)
	}
}

func (f *Fake) addArticle(t *ticket, body, contentType, typ, sender string, internal bool, createdBy, originBy int64, atts []*attachment) *article {
	now := f.now().UTC()
	a := &article{id: f.newID(), ticketID: t.id, body: body, contentType: contentType, typ: typ, sender: sender, internal: internal,
		createdByID: createdBy, originByID: originBy, attachments: atts, createdAt: now}
	f.articles[a.id] = a
	t.articles = append(t.articles, a.id)
	t.updatedAt = now
	// Observer::Ticket::ResetNewState: an agent's article opens a new ticket.
	if t.state == "new" && sender == "Agent" && len(t.articles) > 1 {
		t.state = "open"
	}
	return a
}

// stateTypes are the statuses of the state types but closed, which
// depends on the group.
var stateTypes = map[string]connectors.Status{
	"new": connectors.StatusOpen, "open": connectors.StatusOpen,
	"pending reminder": connectors.StatusPending, "pending action": connectors.StatusPending,
	"merged": connectors.StatusClosed, "removed": connectors.StatusClosed,
}

// normalize maps a ticket's state with its group's policy, as the
// connector documents.
func (f *Fake) normalize(t *ticket) connectors.Status {
	typ := f.stateType(t.state)
	if typ != "closed" {
		return stateTypes[typ]
	}
	g := f.groups[t.groupID]
	switch g.followUp {
	case "new_ticket":
		return connectors.StatusClosed
	case "new_ticket_after_certain_time":
		if g.reopenDays != nil && f.now().After(t.lastCloseAt.Add(time.Duration(*g.reopenDays)*24*time.Hour)) {
			return connectors.StatusClosed
		}
	}
	return connectors.StatusSolved
}

// RawState returns a ticket's state name, or "" for an unknown ticket.
func (f *Fake) RawState(ticketID string) string {
	return connectortest.Lookup(&f.Mu, f.tickets, ticketID, func(t *ticket) string { return t.state })
}

// Article describes an article as the fake holds it.
type Article struct {
	ID         string
	Type       string
	Sender     string
	Internal   bool
	OriginByID string
	CreatedBy  string
}

// Articles returns a ticket's articles with their Zammad attributes.
func (f *Fake) Articles(ticketID string) []Article {
	return connectortest.Lookup(&f.Mu, f.tickets, ticketID, func(t *ticket) []Article {
		return connectortest.Map(t.articles, func(aid int64) Article {
			a := f.articles[aid]
			return Article{ID: formatID(a.id), Type: a.typ, Sender: a.sender, Internal: a.internal, OriginByID: formatID(a.originByID), CreatedBy: formatID(a.createdByID)}
		})
	})
}

// SetGroup moves a ticket to a group as an agent would.
func (f *Fake) SetGroup(ticketID string, groupID int64) {
	f.Update(func() { f.tickets[parseID(ticketID)].groupID = groupID })
}
