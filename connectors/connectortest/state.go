package connectortest

import (
	"slices"
	"sync"
	"time"

	"github.com/relaydesk/relaydesk/connectors"
)

// State is what every helpdesk fake keeps around its records: the mutex
// that guards them, and the [Fake] methods that read them or act as an
// agent, each under that mutex, following the fake's own rules given as
// [Hooks]. A fake embeds it and calls [State.SetHooks] once, when built.
type State struct {
	// Mu guards the fake's records: its handlers hold it while they read
	// or change them.
	Mu    sync.Mutex
	hooks Hooks
}

// Hooks are a fake's own rules behind [State]. Each runs with the
// fake's lock held.
type Hooks struct {
	// Prefix names the fake in panics: its package name.
	Prefix string
	// Statuses are the helpdesk's names of the statuses SetStatus sets.
	Statuses map[connectors.Status]string
	// SetRawStatus sets a ticket's helpdesk status as an agent would and
	// returns the status-change delivery. It runs without the lock, which
	// it takes itself.
	SetRawStatus func(ticketID, raw string) Delivery
	// Users lists every user, agents included.
	Users func() []User
	// SeedUser creates an end user the way an agent would in the helpdesk
	// UI and returns its id.
	SeedUser func(name, phone string) string
	// Tickets lists the tickets in creation order.
	Tickets func() []Ticket
	// Comments lists a ticket's comments in order, nil for an unknown
	// ticket.
	Comments func(ticketID string) []Comment
	// AgentComment adds an agent's comment, public (a reply, with files)
	// or internal (a note), and returns its id.
	AgentComment func(ticketID, body string, public bool, files []File) string
}

// Update makes change with Mu held.
func (a *State) Update(change func()) {
	a.Mu.Lock()
	defer a.Mu.Unlock()
	change()
}

// SetHooks sets the fake's own rules.
func (a *State) SetHooks(h Hooks) { a.hooks = h }

func locked[T any](a *State, read func() T) T { return Locked(&a.Mu, read) }

// Locked returns read's result, read with mu held.
func Locked[T any](mu *sync.Mutex, read func() T) T {
	mu.Lock()
	defer mu.Unlock()
	return read()
}

// Users implements Fake.
func (a *State) Users() []User { return locked(a, a.hooks.Users) }

// SeedUser implements Fake.
func (a *State) SeedUser(name, phone string) string {
	return locked(a, func() string { return a.hooks.SeedUser(name, phone) })
}

// Tickets implements Fake.
func (a *State) Tickets() []Ticket { return locked(a, a.hooks.Tickets) }

// Comments implements Fake.
func (a *State) Comments(ticketID string) []Comment {
	return locked(a, func() []Comment { return a.hooks.Comments(ticketID) })
}

// AgentReply implements Fake: a public agent comment with files.
func (a *State) AgentReply(ticketID, body string, files ...File) string {
	return locked(a, func() string { return a.hooks.AgentComment(ticketID, body, true, files) })
}

// AgentNote implements Fake: an internal agent note.
func (a *State) AgentNote(ticketID, body string) string {
	return locked(a, func() string { return a.hooks.AgentComment(ticketID, body, false, nil) })
}

// SetStatus implements Fake.
func (a *State) SetStatus(ticketID string, s connectors.Status) Delivery {
	return a.hooks.SetRawStatus(ticketID, RawStatus(a.hooks.Prefix, a.hooks.Statuses, s))
}

// Collect returns conv of m's value for each key, in the keys' order.
func Collect[K comparable, V, T any](keys []K, m map[K]V, conv func(V) T) []T {
	out := make([]T, 0, len(keys))
	for _, k := range keys {
		out = append(out, conv(m[k]))
	}
	return out
}

// Map returns conv of each value, in order; nil for no values.
func Map[V, T any](vs []V, conv func(V) T) []T {
	var out []T
	for _, v := range vs {
		out = append(out, conv(v))
	}
	return out
}

// NewFile returns a copy of an attachment's content.
func NewFile(name, contentType string, data []byte) File {
	return File{Filename: name, ContentType: contentType, Data: slices.Clone(data)}
}

// MustFind returns the record with this id, and panics with "prefix:
// unknown <what> <id>" when there is none, as an agent's action on a
// ticket the test never made.
func MustFind[V any](m map[int64]*V, prefix, what, id string) *V {
	v := m[ParseID(id)]
	if v == nil {
		panic(prefix + ": unknown " + what + " " + id)
	}
	return v
}

// Lookup returns read of the record with this id, read with mu held, or
// the zero value when there is none.
func Lookup[V, T any](mu *sync.Mutex, m map[int64]*V, id string, read func(*V) T) T {
	mu.Lock()
	defer mu.Unlock()
	if v := m[ParseID(id)]; v != nil {
		return read(v)
	}
	var zero T
	return zero
}

// MustComment returns a ticket and one of its comments, and panics with
// "prefix: unknown comment <ticket>/<comment>" when either is unknown or
// the comment is another ticket's (ticketOf gives a comment's ticket).
func MustComment[T, C any](tickets map[int64]*T, comments map[int64]*C, ticketOf func(*C) int64, prefix, ticketID, commentID string) (*T, *C) {
	t, c := tickets[ParseID(ticketID)], comments[ParseID(commentID)]
	if t == nil || c == nil || ticketOf(c) != ParseID(ticketID) {
		panic(prefix + ": unknown comment " + ticketID + "/" + commentID)
	}
	return t, c
}

// LockedDelivery returns the delivery of the payload build makes with mu
// held, signed by deliver without it at the time build gives.
func LockedDelivery[P any](mu *sync.Mutex, deliver func(payload any, at time.Time) Delivery, build func() (P, time.Time)) Delivery {
	mu.Lock()
	payload, at := func() (P, time.Time) {
		defer mu.Unlock()
		return build()
	}()
	return deliver(payload, at)
}
