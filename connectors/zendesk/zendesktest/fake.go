// Package zendesktest is an in-memory fake of the Zendesk Ticketing API for
// tests, end-to-end runs and load tools.
//
// The fake is an httptest server speaking Zendesk's wire format: JSON
// envelopes ({"ticket":...}, {"user":...}, {"upload":...}), error bodies
// ({"error":...,"description":...}), rate-limit headers, cursor pagination
// meta, Idempotency-Key on ticket creation, and event-subscription webhook
// payloads signed like Zendesk signs them. It checks every request it
// receives (method and path, authentication, Accept and Content-Type
// headers, query parameters, and JSON body field names against the
// documented ones); a request that breaks the rules fails with 400 and is
// recorded as a violation, which fails the test when the fake was built with
// a testing.TB.
//
// It implements [connectortest.Fake] and is safe for concurrent use.
package zendesktest

import (
	"encoding/base64"
	"net/http"
	"slices"
	"testing"
	"time"

	"github.com/relaydesk/relaydesk/connectors"
	"github.com/relaydesk/relaydesk/connectors/connectortest"
)

var _ connectortest.Fake = (*Fake)(nil)

// Credentials the fake accepts.
const (
	// Email is the API user's email for API token authentication.
	Email = "relaydesk-bot@example.com"
	// APIToken is the API token for Email.
	APIToken = "zdtok-6f1c2e9a4b7d" // not a real token
	// OAuthToken is the bearer token accepted for OAuth2 authentication.
	OAuthToken = "zdoauth-93b0d51f2c8e" // not a real token
	// Subdomain is the subdomain the fake pretends to be.
	Subdomain = "relaydesk-test"
	// AccountID is the account id in webhook payloads.
	AccountID = 9242270
)

// Fake is a fake Zendesk account. Build it with [New].
type Fake struct {
	// Server serves the API, checks requests and injects failures; its
	// URL is the base URL of the fake (scheme and host).
	connectortest.Server
	// State guards the account's records and reads them.
	connectortest.State

	opts Options

	now          func() time.Time
	secret       []byte
	nextID       int64
	nextTicketID int64
	agentID      int64
	users        map[int64]*user
	userOrder    []int64
	tickets      map[int64]*ticket
	ticketOrder  []int64
	comments     map[int64]*comment
	attachments  map[int64]*attachment
	byToken      map[string]*attachment
	uploads      map[string]*upload
	idem         map[string]*idemEntry
	webhooks     map[string]*webhook
	webhookOrder []string
}

// Webhook is a webhook registered through the API.
type Webhook struct {
	ID            string
	Endpoint      string
	Status        string
	Subscriptions []string
}

type user struct {
	id         int64
	name       string
	email      string
	phone      string
	externalID string
	role       string
	// deleted is a soft-deleted user; purged one permanently deleted
	// (Zendesk keeps the row as "Permanently Deleted User").
	deleted, purged bool
	createdAt       time.Time
	updatedAt       time.Time
}

type ticket struct {
	id          int64
	subject     string
	description string
	status      string
	requesterID int64
	submitterID int64
	externalID  string
	tags        []string
	followupOf  int64
	followups   []int64
	comments    []int64
	createdAt   time.Time
	updatedAt   time.Time
}

type comment struct {
	id          int64
	ticketID    int64
	authorID    int64
	body        string
	public      bool
	attachments []int64
	auditID     int64
	createdAt   time.Time
}

type attachment struct {
	id          int64
	token       string
	fileName    string
	contentType string
	data        []byte
	size        int64  // len(data), or the discarded upload's size
	sha256      string // hex, set for discarded uploads
	attached    bool
}

type upload struct {
	token       string
	attachments []int64
	used        bool
	expiresAt   time.Time
}

type idemEntry struct {
	bodyHash [32]byte
	status   int
	body     []byte
}

type webhook struct {
	id            string
	name          string
	endpoint      string
	status        string
	subscriptions []string
	createdAt     time.Time
}

// Options configures a fake built with [NewServer]. The zero value behaves
// like [New].
type Options struct {
	// DiscardUploads keeps only the size and SHA-256 of uploaded files, not
	// their bytes (load tools relaying large media); [Fake.Comments] then
	// returns attachments without Data, and downloads serve zero bytes of
	// the recorded size.
	DiscardUploads bool
	// MaxUploadBytes bounds one upload; default 50 MiB, Zendesk's documented
	// attachment limit. Larger uploads get 413.
	MaxUploadBytes int64
	// OnComment, when set, is called for every comment the fake records
	// (customer comments posted through the API, agent replies and notes),
	// with the fake's lock held: it must return quickly and must not call
	// the Fake.
	OnComment func(CommentEvent)
	// Wrap, when set, wraps the fake's HTTP handler (a load tool injecting
	// faults for periods of time).
	Wrap func(http.Handler) http.Handler
}

// CommentEvent describes a comment as the fake records it.
type CommentEvent struct {
	TicketID, CommentID, AuthorID string
	// ExternalID is the ticket's external id.
	ExternalID  string
	Body        string
	Public      bool
	Attachments []FileInfo
	// At is when the fake recorded it (wall clock, not the fake's clock).
	At time.Time
}

// FileInfo describes an attachment without its content.
type FileInfo struct {
	Filename, ContentType string
	Size                  int64
	SHA256                string
}

// New starts a fake Zendesk account with one admin API user. When tb is not
// nil, violations fail the test and the fake is closed at cleanup; a load
// tool may pass nil and read [Fake.Violations].
func New(tb testing.TB) *Fake {
	return newFake(tb, Options{})
}

// NewServer starts a fake configured by opts, for tools outside tests. The
// caller must Close it.
func NewServer(opts Options) (*Fake, error) {
	return newFake(nil, opts), nil
}

func newFake(tb testing.TB, opts Options) *Fake {
	secret := connectortest.RandomBytes(32)
	if opts.MaxUploadBytes <= 0 {
		opts.MaxUploadBytes = 50 << 20
	}
	f := &Fake{
		opts:         opts,
		now:          time.Now,
		secret:       []byte(base64.RawURLEncoding.EncodeToString(secret)),
		nextID:       360_000_000_000,
		nextTicketID: 0,
		users:        map[int64]*user{},
		tickets:      map[int64]*ticket{},
		comments:     map[int64]*comment{},
		attachments:  map[int64]*attachment{},
		byToken:      map[string]*attachment{},
		uploads:      map[string]*upload{},
		idem:         map[string]*idemEntry{},
		webhooks:     map[string]*webhook{},
	}
	f.SetHooks(f.hooks())
	f.agentID = f.addUser("Relaydesk Bot", Email, "", "", "admin")
	f.Start(tb, f.wire())
	return f
}

// Config returns a connector configuration for API token authentication
// against the fake. HTTPClient is left nil.
func (f *Fake) Config() connectors.Config {
	creds := map[string]string{"email": Email, "api_token": APIToken}
	return connectors.Config{Name: "fake zendesk", BaseURL: f.URL, Settings: map[string]any{"subdomain": Subdomain}, Credentials: creds}
}

// AgentID returns the id of the API user (an admin).
func (f *Fake) AgentID() string { return formatID(f.agentID) }

// SetNow replaces the fake's clock (timestamps and webhook signatures).
func (f *Fake) SetNow(now func() time.Time) {
	f.Mu.Lock()
	defer f.Mu.Unlock()
	f.now = now
}

// Webhooks returns the registered webhooks.
func (f *Fake) Webhooks() []Webhook {
	return connectortest.Locked(&f.Mu, func() []Webhook {
		return connectortest.Collect(f.webhookOrder, f.webhooks, func(w *webhook) Webhook {
			return Webhook{ID: w.id, Endpoint: w.endpoint, Status: w.status, Subscriptions: slices.Clone(w.subscriptions)}
		})
	})
}

// id allocation and users. Callers hold f.Mu (or own f exclusively).

func (f *Fake) newID() int64 {
	f.nextID++
	return f.nextID
}

func (f *Fake) addUser(name, email, phone, externalID, role string) int64 {
	now := f.now().UTC()
	u := &user{id: f.newID(), name: name, email: email, phone: phone, externalID: externalID, role: role, createdAt: now, updatedAt: now}
	f.users[u.id] = u
	f.userOrder = append(f.userOrder, u.id)
	return u.id
}

// Ids and values as every fake writes them.
var (
	formatID = connectortest.FormatID
	parseID  = connectortest.ParseID
)

// statusNames are the Zendesk statuses SetStatus sets.
var statusNames = map[connectors.Status]string{
	connectors.StatusOpen: "open", connectors.StatusPending: "pending", connectors.StatusSolved: "solved", connectors.StatusClosed: "closed",
}

// hooks are the Zendesk rules of connectortest.Fake.
func (f *Fake) hooks() connectortest.Hooks {
	return connectortest.Hooks{Prefix: "zendesktest", Statuses: statusNames, SetRawStatus: f.SetRawStatus, Users: f.listUsers, SeedUser: f.seedUser, Tickets: f.listTickets, Comments: f.listComments, AgentComment: f.agentComment}
}

func (f *Fake) listUsers() []connectortest.User {
	return connectortest.Collect(f.userOrder, f.users, func(u *user) connectortest.User {
		return connectortest.User{ID: formatID(u.id), Name: u.name, Phone: u.phone, ExternalID: u.externalID}
	})
}

// seedUser is an end user with a phone and no external id, as an agent
// would create in the Zendesk UI.
func (f *Fake) seedUser(name, phone string) string {
	return formatID(f.addUser(name, "", phone, "", "end-user"))
}

func (f *Fake) listTickets() []connectortest.Ticket {
	return connectortest.Collect(f.ticketOrder, f.tickets, func(t *ticket) connectortest.Ticket {
		ct := connectortest.Ticket{ID: formatID(t.id), RequesterID: formatID(t.requesterID), Subject: t.subject,
			Status: normalize(t.status), Tags: slices.Clone(t.tags), ExternalID: t.externalID}
		if t.followupOf != 0 {
			ct.FollowupOf = formatID(t.followupOf)
		}
		return ct
	})
}

// RawStatus returns a ticket's Zendesk status (new, open, pending, hold,
// solved, closed), or "" for an unknown ticket.
func (f *Fake) RawStatus(ticketID string) string {
	return connectortest.Lookup(&f.Mu, f.tickets, ticketID, func(t *ticket) string { return t.status })
}

func normalize(raw string) connectors.Status {
	switch raw {
	case "new", "open":
		return connectors.StatusOpen
	case "pending", "hold":
		return connectors.StatusPending
	case "solved":
		return connectors.StatusSolved
	case "closed":
		return connectors.StatusClosed
	}
	return ""
}

func (f *Fake) listComments(ticketID string) []connectortest.Comment {
	t := f.tickets[parseID(ticketID)]
	if t == nil {
		return nil
	}
	return connectortest.Collect(t.comments, f.comments, func(c *comment) connectortest.Comment {
		return connectortest.Comment{ID: formatID(c.id), AuthorID: formatID(c.authorID), Body: c.body, Public: c.public,
			Attachments: connectortest.Map(c.attachments, func(aid int64) connectortest.File {
				a := f.attachments[aid]
				return connectortest.NewFile(a.fileName, a.contentType, a.data)
			})}
	})
}

// agentComment is a comment by the API user (an admin); a public one may
// carry files.
func (f *Fake) agentComment(ticketID, body string, public bool, files []connectortest.File) string {
	t := connectortest.MustFind(f.tickets, "zendesktest", "ticket", ticketID)
	var atts []int64
	for _, file := range files {
		a := f.newAttachment(file.Filename, file.ContentType, slices.Clone(file.Data))
		a.attached = true
		atts = append(atts, a.id)
	}
	return formatID(f.addComment(t, f.agentID, body, public, atts).id)
}

func (f *Fake) newAttachment(name, contentType string, data []byte) *attachment {
	a := &attachment{id: f.newID(), token: randomToken(), fileName: name, contentType: contentType, data: data, size: int64(len(data))}
	f.attachments[a.id] = a
	f.byToken[a.token] = a
	return a
}

func (f *Fake) addComment(t *ticket, authorID int64, body string, public bool, atts []int64) *comment {
	now := f.now().UTC()
	c := &comment{id: f.newID(), ticketID: t.id, authorID: authorID, body: body, public: public, attachments: atts, auditID: f.newID(), createdAt: now}
	f.comments[c.id] = c
	t.comments = append(t.comments, c.id)
	t.updatedAt = now
	if f.opts.OnComment != nil {
		ev := CommentEvent{TicketID: formatID(t.id), CommentID: formatID(c.id), AuthorID: formatID(authorID),
			ExternalID: t.externalID, Body: body, Public: public, At: time.Now()}
		for _, aid := range atts {
			a := f.attachments[aid]
			ev.Attachments = append(ev.Attachments, FileInfo{Filename: a.fileName, ContentType: a.contentType, Size: a.size, SHA256: a.sha256})
		}
		f.opts.OnComment(ev)
	}
	return c
}
