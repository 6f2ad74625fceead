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
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/relaydesk/relaydesk/connectors"
	"github.com/relaydesk/relaydesk/connectors/connectortest"
)

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
	// URL is the base URL of the fake (scheme and host).
	URL string

	stop       func() // closes the fake: connectortest.Serve
	opts       Options
	failures   connectortest.Failures
	violations connectortest.Violations
	requests   connectortest.RequestLog[Request]

	mu           sync.Mutex
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

// Request is a request the fake received, for assertions.
type Request struct {
	Method         string
	Path           string
	Query          string
	IdempotencyKey string
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
	createdAt  time.Time
	updatedAt  time.Time
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

// maxRequests is how many requests [Fake.Requests] remembers.
const maxRequests = 512

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
		violations:   connectortest.Violations{TB: tb, Prefix: "zendesktest"},
		requests:     connectortest.RequestLog[Request]{Max: maxRequests},
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
	f.agentID = f.addUser("Relaydesk Bot", Email, "", "", "admin")
	h := f.handler()
	if opts.Wrap != nil {
		h = opts.Wrap(h)
	}
	srv, stop := connectortest.Serve(tb, h, &f.failures)
	f.URL, f.stop = srv.URL, stop
	return f
}

// Close stops the server; requests held by FailTimeout are released.
func (f *Fake) Close() { f.stop() }

// Config returns a connector configuration for API token authentication
// against the fake. HTTPClient is left nil.
func (f *Fake) Config() connectors.Config {
	return connectors.Config{
		Name:        "fake zendesk",
		BaseURL:     f.URL,
		Settings:    map[string]any{"subdomain": Subdomain},
		Credentials: map[string]string{"email": Email, "api_token": APIToken},
	}
}

// AgentID returns the id of the API user (an admin).
func (f *Fake) AgentID() string { return strconv.FormatInt(f.agentID, 10) }

// SetNow replaces the fake's clock (timestamps and webhook signatures).
func (f *Fake) SetNow(now func() time.Time) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.now = now
}

// Violations returns the rule violations recorded so far.
func (f *Fake) Violations() []string { return f.violations.All() }

// Requests returns the last requests received, oldest first.
func (f *Fake) Requests() []Request { return f.requests.All() }

// RequestCount returns how many requests the fake has received.
func (f *Fake) RequestCount() int { return f.requests.Count() }

// Webhooks returns the registered webhooks.
func (f *Fake) Webhooks() []Webhook {
	f.mu.Lock()
	defer f.mu.Unlock()
	out := make([]Webhook, 0, len(f.webhookOrder))
	for _, id := range f.webhookOrder {
		w := f.webhooks[id]
		out = append(out, Webhook{ID: w.id, Endpoint: w.endpoint, Status: w.status, Subscriptions: slices.Clone(w.subscriptions)})
	}
	return out
}

// id allocation and users. Callers hold f.mu (or own f exclusively).

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

// Users implements connectortest.Fake.
func (f *Fake) Users() []connectortest.User {
	f.mu.Lock()
	defer f.mu.Unlock()
	out := make([]connectortest.User, 0, len(f.userOrder))
	for _, id := range f.userOrder {
		u := f.users[id]
		out = append(out, connectortest.User{ID: formatID(u.id), Name: u.name, Phone: u.phone})
	}
	return out
}

// SeedUser implements connectortest.Fake: an end user with a phone and no
// external id, as an agent would create in the Zendesk UI.
func (f *Fake) SeedUser(name, phone string) string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return formatID(f.addUser(name, "", phone, "", "end-user"))
}

// Tickets implements connectortest.Fake.
func (f *Fake) Tickets() []connectortest.Ticket {
	f.mu.Lock()
	defer f.mu.Unlock()
	out := make([]connectortest.Ticket, 0, len(f.ticketOrder))
	for _, id := range f.ticketOrder {
		t := f.tickets[id]
		ct := connectortest.Ticket{
			ID:          formatID(t.id),
			RequesterID: formatID(t.requesterID),
			Subject:     t.subject,
			Status:      normalize(t.status),
			Tags:        slices.Clone(t.tags),
			ExternalID:  t.externalID,
		}
		if t.followupOf != 0 {
			ct.FollowupOf = formatID(t.followupOf)
		}
		out = append(out, ct)
	}
	return out
}

// RawStatus returns a ticket's Zendesk status (new, open, pending, hold,
// solved, closed), or "" for an unknown ticket.
func (f *Fake) RawStatus(ticketID string) string {
	f.mu.Lock()
	defer f.mu.Unlock()
	if t := f.tickets[parseID(ticketID)]; t != nil {
		return t.status
	}
	return ""
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

// Comments implements connectortest.Fake.
func (f *Fake) Comments(ticketID string) []connectortest.Comment {
	f.mu.Lock()
	defer f.mu.Unlock()
	t := f.tickets[parseID(ticketID)]
	if t == nil {
		return nil
	}
	out := make([]connectortest.Comment, 0, len(t.comments))
	for _, cid := range t.comments {
		c := f.comments[cid]
		cc := connectortest.Comment{ID: formatID(c.id), AuthorID: formatID(c.authorID), Body: c.body, Public: c.public}
		for _, aid := range c.attachments {
			a := f.attachments[aid]
			cc.Attachments = append(cc.Attachments, connectortest.File{Filename: a.fileName, ContentType: a.contentType, Data: slices.Clone(a.data)})
		}
		out = append(out, cc)
	}
	return out
}

// SetStatus implements connectortest.Fake.
func (f *Fake) SetStatus(ticketID string, s connectors.Status) connectortest.Delivery {
	return f.SetRawStatus(ticketID, connectortest.RawStatus("zendesktest", map[connectors.Status]string{
		connectors.StatusOpen:    "open",
		connectors.StatusPending: "pending",
		connectors.StatusSolved:  "solved",
		connectors.StatusClosed:  "closed",
	}, s))
}

// SetRawStatus sets a Zendesk status (new, open, pending, hold, solved,
// closed) as an agent would and returns the status-change delivery.
func (f *Fake) SetRawStatus(ticketID, raw string) connectortest.Delivery {
	f.mu.Lock()
	t := f.tickets[parseID(ticketID)]
	if t == nil {
		f.mu.Unlock()
		panic("zendesktest: unknown ticket " + ticketID)
	}
	prev := t.status
	t.status = raw
	t.updatedAt = f.now().UTC()
	at := f.now().UTC().Truncate(time.Second)
	ev := eventJSON{
		AccountID:           AccountID,
		Detail:              f.detail(t),
		Event:               statusEventJSON{Current: strings.ToUpper(raw), Previous: strings.ToUpper(prev)},
		ID:                  eventID("status", t.id, f.newID()),
		Subject:             "zen:ticket:" + formatID(t.id),
		Time:                at.Format(time.RFC3339Nano),
		Type:                "zen:event-type:ticket.status_changed",
		ZendeskEventVersion: "2022-11-06",
	}
	f.mu.Unlock()
	return f.delivery(ev, at)
}

// AgentReply implements connectortest.Fake: a public comment by the API
// user (an admin), with files attached.
func (f *Fake) AgentReply(ticketID, body string, files ...connectortest.File) string {
	return f.agentComment(ticketID, body, true, files)
}

// AgentNote implements connectortest.Fake.
func (f *Fake) AgentNote(ticketID, body string) string {
	return f.agentComment(ticketID, body, false, nil)
}

func (f *Fake) agentComment(ticketID, body string, public bool, files []connectortest.File) string {
	f.mu.Lock()
	defer f.mu.Unlock()
	t := f.tickets[parseID(ticketID)]
	if t == nil {
		panic("zendesktest: unknown ticket " + ticketID)
	}
	var atts []int64
	for _, file := range files {
		a := f.newAttachment(file.Filename, file.ContentType, slices.Clone(file.Data))
		a.attached = true
		atts = append(atts, a.id)
	}
	c := f.addComment(t, f.agentID, body, public, atts)
	return formatID(c.id)
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

// CommentDelivery implements connectortest.Fake: the
// zen:event-type:ticket.comment_added payload for a comment.
func (f *Fake) CommentDelivery(ticketID, commentID string) connectortest.Delivery {
	f.mu.Lock()
	t := f.tickets[parseID(ticketID)]
	c := f.comments[parseID(commentID)]
	if t == nil || c == nil || c.ticketID != t.id {
		f.mu.Unlock()
		panic("zendesktest: unknown comment " + ticketID + "/" + commentID)
	}
	author := f.users[c.authorID]
	var ev commentEventJSON
	ev.Comment.ID = formatID(c.id)
	ev.Comment.Body = c.body
	ev.Comment.IsPublic = c.public
	ev.Comment.Author.ID = formatID(author.id)
	ev.Comment.Author.IsStaff = author.role != "end-user"
	ev.Comment.Author.Name = author.name
	at := f.now().UTC().Truncate(time.Second)
	payload := eventJSON{
		AccountID:           AccountID,
		Detail:              f.detail(t),
		Event:               ev,
		ID:                  eventID("comment", t.id, c.id),
		Subject:             "zen:ticket:" + formatID(t.id),
		Time:                c.createdAt.Format(time.RFC3339Nano),
		Type:                "zen:event-type:ticket.comment_added",
		ZendeskEventVersion: "2022-11-06",
	}
	payload.Detail.ActorID = formatID(author.id)
	f.mu.Unlock()
	return f.delivery(payload, at)
}

// detail is the ticket part of an event payload. Callers hold f.mu.
func (f *Fake) detail(t *ticket) detailJSON {
	d := detailJSON{
		ActorID:     formatID(f.agentID),
		BrandID:     "360000000001",
		CreatedAt:   t.createdAt.Format(time.RFC3339),
		Description: t.description,
		FormID:      "360000000002",
		ID:          formatID(t.id),
		IsPublic:    true,
		RequesterID: formatID(t.requesterID),
		Status:      strings.ToUpper(t.status),
		Subject:     t.subject,
		SubmitterID: formatID(t.submitterID),
		Tags:        slices.Clone(t.tags),
		UpdatedAt:   t.updatedAt.Format(time.RFC3339),
	}
	if t.externalID != "" {
		d.ExternalID = &t.externalID
	}
	if d.Tags == nil {
		d.Tags = []string{}
	}
	d.Via.Channel = "api"
	return d
}

// eventID is a stable, UUID-shaped event id.
func eventID(kind string, a, b int64) string {
	sum := sha256.Sum256([]byte(fmt.Sprintf("%s:%d:%d", kind, a, b)))
	h := hex.EncodeToString(sum[:16])
	return h[0:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:32]
}

func (f *Fake) delivery(payload any, at time.Time) connectortest.Delivery {
	return connectortest.SignedDelivery(payload, at, f.Sign)
}

// Redeliver implements connectortest.Fake: the same body, signed 30 seconds
// later, as when Zendesk retries a delivery.
func (f *Fake) Redeliver(d connectortest.Delivery) connectortest.Delivery {
	at := d.At.Add(30 * time.Second)
	return connectortest.Delivery{Header: f.Sign(d.Body, at), Body: slices.Clone(d.Body), At: at}
}

// Sign implements connectortest.Fake: Zendesk's headers, with
// X-Zendesk-Webhook-Signature = base64(HMAC-SHA256(secret, timestamp+body)).
func (f *Fake) Sign(body []byte, at time.Time) http.Header {
	ts := at.UTC().Format(time.RFC3339)
	mac := hmac.New(sha256.New, f.secret)
	mac.Write([]byte(ts))
	mac.Write(body)
	h := http.Header{}
	h.Set("Content-Type", "application/json; charset=utf-8")
	h.Set("X-Zendesk-Account-Id", strconv.Itoa(AccountID))
	h.Set("X-Zendesk-Webhook-Id", "01HZFAKEWEBHOOK0000000000")
	h.Set("X-Zendesk-Webhook-Invocation-Id", strconv.FormatInt(at.UnixNano()%1e10, 10))
	h.Set("X-Zendesk-Webhook-Signature-Timestamp", ts)
	h.Set("X-Zendesk-Webhook-Signature", base64.StdEncoding.EncodeToString(mac.Sum(nil)))
	return h
}

// WebhookSecret implements connectortest.Fake. Every webhook of the fake
// account shares it.
func (f *Fake) WebhookSecret() []byte { return slices.Clone(f.secret) }

// FailNext implements connectortest.Fake.
func (f *Fake) FailNext(n int, kind connectortest.Failure) { f.failures.FailNext(n, kind) }

// Deliver posts d to every active webhook registered through the API, as
// Zendesk would. It returns the first failure.
func (f *Fake) Deliver(ctx context.Context, hc *http.Client, d connectortest.Delivery) error {
	for _, w := range f.Webhooks() {
		if w.Status != "active" {
			continue
		}
		if err := connectortest.DeliverTo(ctx, hc, w.Endpoint, d); err != nil {
			return fmt.Errorf("zendesktest: %w", err)
		}
	}
	return nil
}

func randomToken() string {
	return strings.ToLower(base64.RawURLEncoding.EncodeToString(connectortest.RandomBytes(12)))
}

var _ connectortest.Fake = (*Fake)(nil)
