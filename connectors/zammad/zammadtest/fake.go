// Package zammadtest is an in-memory fake of Zammad's REST API for tests,
// end-to-end runs and load tools.
//
// The fake is an httptest server speaking Zammad's wire format: token
// authentication ("Authorization: Token token=..."), bare JSON objects and
// arrays, ?expand=true association names, error bodies ({"error": ...,
// "error_human": ...}), ticket states with their state types, groups with
// their follow-up setting, base64 article attachments served from
// /api/v1/ticket_attachment, webhooks whose signature token is never
// returned, triggers, and the default trigger webhook payload signed with
// X-Hub-Signature (HMAC-SHA1), as Zammad sends it.
//
// It checks every request it receives (method and path, authentication,
// Content-Type, query parameters, and JSON body field names against the
// documented ones); a request that breaks the rules fails with 400 and is
// recorded as a violation, which fails the test when the fake was built
// with a testing.TB. The body size limit of Zammad's nginx configuration
// (50 MB) answers 413.
//
// It implements [connectortest.Fake] and is safe for concurrent use.
package zammadtest

import (
	"context"
	"crypto/hmac"
	"crypto/sha1"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"html"
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

// Fixed identities of the fake instance.
const (
	// APIToken is the access token the fake accepts.
	APIToken = "zmtok-2b8e41c9d07f53a6" // not a real token
	// AgentID is the user the token belongs to (an admin and agent).
	AgentID = 3
	// OtherAgentID is an agent who answers in the Zammad UI.
	OtherAgentID = 4
	// GroupUsers is the default group ("Users"), which takes follow-ups.
	GroupUsers = 1
	// GroupArchive is a group that refuses follow-ups on closed tickets.
	GroupArchive = 2
	// MaxBody is the request body limit of Zammad's nginx configuration.
	MaxBody = 50 << 20
)

// Fake is a fake Zammad instance. Build it with [New].
type Fake struct {
	// URL is the base URL of the fake (scheme and host).
	URL string

	stop       func() // closes the fake: connectortest.Serve
	failures   connectortest.Failures
	violations connectortest.Violations
	requests   connectortest.RequestLog[Request]

	mu           sync.Mutex
	now          func() time.Time
	secret       string
	nextID       int64
	users        map[int64]*user
	userOrder    []int64
	groups       map[int64]*group
	states       []state
	tickets      map[int64]*ticket
	ticketOrder  []int64
	articles     map[int64]*article
	webhooks     map[int64]*webhook
	webhookOrder []int64
	triggers     map[int64]*trigger
	triggerOrder []int64
	noGroupRead  bool
	noIndex      bool
}

// Request is a request the fake received, for assertions.
type Request struct {
	Method        string
	Path          string
	Query         string
	ContentLength int64 // -1 for a chunked body
	// Fields are the JSON body's top-level keys.
	Fields []string
}

// Webhook is a webhook registered through the API.
type Webhook struct {
	ID             string
	Name           string
	Endpoint       string
	SignatureToken string
	Active         bool
}

// Trigger is a trigger registered through the API.
type Trigger struct {
	ID        string
	Name      string
	WebhookID string
	// Condition maps each condition's field to its operator.
	Condition map[string]string
}

type user struct {
	id        int64
	login     string
	firstname string
	lastname  string
	email     string
	phone     string
	mobile    string
	note      string
	roles     []string
	createdAt time.Time
	updatedAt time.Time
}

func (u *user) name() string { return strings.TrimSpace(u.firstname + " " + u.lastname) }

type group struct {
	id         int64
	name       string
	followUp   string
	reopenDays *int64
}

type state struct {
	id        int64
	name      string
	stateType string
}

type ticket struct {
	id          int64
	number      string
	title       string
	groupID     int64
	state       string
	customerID  int64
	tags        []string
	preferences map[string]any
	linked      []int64
	articles    []int64
	createdAt   time.Time
	updatedAt   time.Time
	lastCloseAt time.Time
	pendingTime time.Time
}

type article struct {
	id          int64
	ticketID    int64
	body        string
	contentType string
	typ         string
	sender      string
	internal    bool
	createdByID int64
	originByID  int64
	attachments []*attachment
	createdAt   time.Time
}

type attachment struct {
	id       int64
	filename string
	mime     string
	data     []byte
}

type webhook struct {
	id       int64
	name     string
	endpoint string
	token    string
	active   bool
	note     string
	created  time.Time
}

type trigger struct {
	id        int64
	name      string
	condition map[string]json.RawMessage
	perform   map[string]json.RawMessage
	activator string
	mode      string
	active    bool
	note      *string
	created   time.Time
}

// maxRequests is how many requests [Fake.Requests] remembers.
const maxRequests = 512

// New starts a fake Zammad with two agents, the groups Users and Archive,
// and Zammad's stock ticket states plus a custom pending state. When tb is
// not nil, violations fail the test and the fake is closed at cleanup; a
// load tool may pass nil and read [Fake.Violations].
func New(tb testing.TB) *Fake {
	f := &Fake{
		violations: connectortest.Violations{TB: tb, Prefix: "zammadtest"},
		requests:   connectortest.RequestLog[Request]{Max: maxRequests},
		now:        time.Now,
		secret:     randomHex(20),
		nextID:     100,
		users:      map[int64]*user{},
		groups:     map[int64]*group{GroupUsers: {id: GroupUsers, name: "Users", followUp: "yes"}, GroupArchive: {id: GroupArchive, name: "Archive", followUp: "new_ticket"}},
		tickets:    map[int64]*ticket{},
		articles:   map[int64]*article{},
		webhooks:   map[int64]*webhook{},
		triggers:   map[int64]*trigger{},
		states: []state{
			{1, "new", "new"}, {2, "open", "open"}, {3, "pending reminder", "pending reminder"}, {4, "closed", "closed"},
			{5, "merged", "merged"}, {6, "removed", "removed"}, {7, "pending close", "pending action"},
			{8, "waiting for customer", "pending reminder"},
		},
	}
	now := f.now().UTC()
	f.users[AgentID] = &user{id: AgentID, login: "relaydesk@example.com", firstname: "Relay", lastname: "Desk", email: "relaydesk@example.com", roles: []string{"Admin", "Agent"}, createdAt: now, updatedAt: now}
	f.users[OtherAgentID] = &user{id: OtherAgentID, login: "emma@example.com", firstname: "Emma", lastname: "Taylor", email: "emma@example.com", roles: []string{"Agent"}, createdAt: now, updatedAt: now}
	f.userOrder = []int64{AgentID, OtherAgentID}
	srv, stop := connectortest.Serve(tb, f.handler(), &f.failures)
	f.URL, f.stop = srv.URL, stop
	return f
}

// Close stops the server; requests held by FailTimeout are released.
func (f *Fake) Close() { f.stop() }

// Config returns a connector configuration for the fake. HTTPClient is left
// nil.
func (f *Fake) Config() connectors.Config {
	return connectors.Config{
		Name:        "fake zammad",
		Settings:    map[string]any{"base_url": f.URL, "group": "Users"},
		Credentials: map[string]string{"api_token": APIToken},
	}
}

// SetNow replaces the fake's clock (timestamps in payloads).
func (f *Fake) SetNow(now func() time.Time) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.now = now
}

// SetFollowUp sets a group's follow_up_possible ("yes", "new_ticket",
// "new_ticket_after_certain_time") and reopen time.
func (f *Fake) SetFollowUp(groupID int64, followUp string, reopenDays int64) {
	f.mu.Lock()
	defer f.mu.Unlock()
	g := f.groups[groupID]
	g.followUp = followUp
	g.reopenDays = &reopenDays
}

// DenyGroupRead makes group reads answer 403, as for a token without
// admin.group.
func (f *Fake) DenyGroupRead() {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.noGroupRead = true
}

// DisableSearchIndex makes searches behave like Zammad without
// Elasticsearch: the whole query is matched as a substring of users' names,
// email and login, and tickets' titles.
func (f *Fake) DisableSearchIndex() {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.noIndex = true
}

// Violations returns the rule violations recorded so far.
func (f *Fake) Violations() []string { return f.violations.All() }

// Requests returns the last requests received, oldest first.
func (f *Fake) Requests() []Request { return f.requests.All() }

// Webhooks returns the webhooks, with their signature tokens.
func (f *Fake) Webhooks() []Webhook {
	f.mu.Lock()
	defer f.mu.Unlock()
	out := make([]Webhook, 0, len(f.webhookOrder))
	for _, id := range f.webhookOrder {
		w := f.webhooks[id]
		out = append(out, Webhook{ID: formatID(w.id), Name: w.name, Endpoint: w.endpoint, SignatureToken: w.token, Active: w.active})
	}
	return out
}

// Triggers returns the triggers.
func (f *Fake) Triggers() []Trigger {
	f.mu.Lock()
	defer f.mu.Unlock()
	out := make([]Trigger, 0, len(f.triggerOrder))
	for _, id := range f.triggerOrder {
		t := f.triggers[id]
		tr := Trigger{ID: formatID(t.id), Name: t.name, WebhookID: formatID(webhookOf(t)), Condition: map[string]string{}}
		for k, raw := range t.condition {
			var cv conditionValue
			_ = json.Unmarshal(raw, &cv)
			tr.Condition[k] = cv.Operator
		}
		out = append(out, tr)
	}
	return out
}

func webhookOf(t *trigger) int64 {
	var w struct {
		WebhookID json.Number `json:"webhook_id"`
	}
	if raw, ok := t.perform["notification.webhook"]; ok && json.Unmarshal(raw, &w) == nil {
		n, _ := strconv.ParseInt(w.WebhookID.String(), 10, 64)
		return n
	}
	return 0
}

// RawState returns a ticket's state name, or "" for an unknown ticket.
func (f *Fake) RawState(ticketID string) string {
	f.mu.Lock()
	defer f.mu.Unlock()
	if t := f.tickets[parseID(ticketID)]; t != nil {
		return t.state
	}
	return ""
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
	f.mu.Lock()
	defer f.mu.Unlock()
	t := f.tickets[parseID(ticketID)]
	if t == nil {
		return nil
	}
	var out []Article
	for _, aid := range t.articles {
		a := f.articles[aid]
		out = append(out, Article{ID: formatID(a.id), Type: a.typ, Sender: a.sender, Internal: a.internal, OriginByID: formatID(a.originByID), CreatedBy: formatID(a.createdByID)})
	}
	return out
}

// SetGroup moves a ticket to a group as an agent would.
func (f *Fake) SetGroup(ticketID string, groupID int64) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.tickets[parseID(ticketID)].groupID = groupID
}

// Ids and values as every fake writes them.
var (
	formatID = connectortest.FormatID
	parseID  = connectortest.ParseID
)

func deref[T any](p *T) T { return connectortest.Deref(p) }

func randomHex(n int) string { return hex.EncodeToString(connectortest.RandomBytes(n)) }

func ts(t time.Time) string { return t.UTC().Format("2006-01-02T15:04:05.000Z") }

// State changes. Callers hold f.mu.

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

// normalize maps a ticket's state with its group's policy, as the
// connector documents.
func (f *Fake) normalize(t *ticket) connectors.Status {
	switch f.stateType(t.state) {
	case "new", "open":
		return connectors.StatusOpen
	case "pending reminder", "pending action":
		return connectors.StatusPending
	case "merged", "removed":
		return connectors.StatusClosed
	case "closed":
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
	return ""
}

// Users implements connectortest.Fake; a user's phone is their mobile, or
// their phone when they have no mobile.
func (f *Fake) Users() []connectortest.User {
	f.mu.Lock()
	defer f.mu.Unlock()
	out := make([]connectortest.User, 0, len(f.userOrder))
	for _, id := range f.userOrder {
		u := f.users[id]
		phone := u.mobile
		if phone == "" {
			phone = u.phone
		}
		out = append(out, connectortest.User{ID: formatID(u.id), Name: u.name(), Phone: phone})
	}
	return out
}

// SeedUser implements connectortest.Fake: a customer whose number an agent
// typed into the Phone field.
func (f *Fake) SeedUser(name, phone string) string {
	f.mu.Lock()
	defer f.mu.Unlock()
	first, last, _ := strings.Cut(name, " ")
	return formatID(f.addUser(first, last, phone, "", "", []string{"Customer"}).id)
}

// Tickets implements connectortest.Fake, with the external id relaydesk
// keeps in the ticket's preferences and the previous ticket it links.
func (f *Fake) Tickets() []connectortest.Ticket {
	f.mu.Lock()
	defer f.mu.Unlock()
	out := make([]connectortest.Ticket, 0, len(f.ticketOrder))
	for _, id := range f.ticketOrder {
		t := f.tickets[id]
		ct := connectortest.Ticket{ID: formatID(t.id), RequesterID: formatID(t.customerID), Subject: t.title, Status: f.normalize(t), Tags: slices.Clone(t.tags)}
		if rd, ok := t.preferences["relaydesk"].(map[string]any); ok {
			if v, ok := rd["external_id"].(string); ok {
				ct.ExternalID = v
			}
		}
		if len(t.linked) > 0 {
			ct.FollowupOf = formatID(t.linked[0])
		}
		out = append(out, ct)
	}
	return out
}

// Comments implements connectortest.Fake: the articles, authored by the
// user they were recorded for (origin_by_id) or by their creator.
func (f *Fake) Comments(ticketID string) []connectortest.Comment {
	f.mu.Lock()
	defer f.mu.Unlock()
	t := f.tickets[parseID(ticketID)]
	if t == nil {
		return nil
	}
	out := make([]connectortest.Comment, 0, len(t.articles))
	for _, aid := range t.articles {
		a := f.articles[aid]
		author := a.createdByID
		if a.originByID != 0 {
			author = a.originByID
		}
		c := connectortest.Comment{ID: formatID(a.id), AuthorID: formatID(author), Body: a.body, Public: !a.internal}
		for _, att := range a.attachments {
			c.Attachments = append(c.Attachments, connectortest.File{Filename: att.filename, ContentType: att.mime, Data: slices.Clone(att.data)})
		}
		out = append(out, c)
	}
	return out
}

// SetStatus implements connectortest.Fake: open, "pending reminder",
// closed (in a group that takes follow-ups: solved) and merged (final).
func (f *Fake) SetStatus(ticketID string, s connectors.Status) connectortest.Delivery {
	return f.SetState(ticketID, connectortest.RawStatus("zammadtest", map[connectors.Status]string{
		connectors.StatusOpen:    "open",
		connectors.StatusPending: "pending reminder",
		connectors.StatusSolved:  "closed",
		connectors.StatusClosed:  "merged",
	}, s))
}

// SetState sets a ticket's state by name as an agent would and returns the
// delivery of the state-change trigger.
func (f *Fake) SetState(ticketID, name string) connectortest.Delivery {
	f.mu.Lock()
	t := f.tickets[parseID(ticketID)]
	if t == nil || f.stateID(name) == 0 {
		f.mu.Unlock()
		panic("zammadtest: unknown ticket or state " + ticketID + " " + name)
	}
	f.setState(t, name)
	payload := payloadJSON{Ticket: f.payloadTicket(t), Article: map[string]any{}}
	at := f.now().UTC()
	f.mu.Unlock()
	return f.delivery(payload, at, "relaydesk state changes")
}

// AgentReply implements connectortest.Fake: a public note by an agent,
// written in the UI (HTML), with files.
func (f *Fake) AgentReply(ticketID, body string, files ...connectortest.File) string {
	return f.agentArticle(ticketID, body, false, files)
}

// AgentNote implements connectortest.Fake: an internal note by an agent.
func (f *Fake) AgentNote(ticketID, body string) string {
	return f.agentArticle(ticketID, body, true, nil)
}

func (f *Fake) agentArticle(ticketID, body string, internal bool, files []connectortest.File) string {
	f.mu.Lock()
	defer f.mu.Unlock()
	t := f.tickets[parseID(ticketID)]
	if t == nil {
		panic("zammadtest: unknown ticket " + ticketID)
	}
	var atts []*attachment
	for _, file := range files {
		atts = append(atts, &attachment{id: f.newID(), filename: file.Filename, mime: file.ContentType, data: slices.Clone(file.Data)})
	}
	a := f.addArticle(t, "<div>"+html.EscapeString(body)+"</div>", "text/html", "note", "Agent", internal, OtherAgentID, 0, atts)
	return formatID(a.id)
}

// CommentDelivery implements connectortest.Fake: the delivery of the
// article trigger for an article.
func (f *Fake) CommentDelivery(ticketID, commentID string) connectortest.Delivery {
	f.mu.Lock()
	t := f.tickets[parseID(ticketID)]
	a := f.articles[parseID(commentID)]
	if t == nil || a == nil || a.ticketID != t.id {
		f.mu.Unlock()
		panic("zammadtest: unknown article " + ticketID + "/" + commentID)
	}
	payload := payloadJSON{Ticket: f.payloadTicket(t), Article: f.payloadArticle(a)}
	at := f.now().UTC()
	f.mu.Unlock()
	return f.delivery(payload, at, "relaydesk agent replies")
}

func (f *Fake) delivery(payload payloadJSON, at time.Time, trigger string) connectortest.Delivery {
	d := connectortest.SignedDelivery(payload, at, f.Sign)
	d.Header.Set("X-Zammad-Trigger", trigger)
	return d
}

// Redeliver implements connectortest.Fake: Zammad's job retries with the
// same body and delivery id, 30 seconds later.
func (f *Fake) Redeliver(d connectortest.Delivery) connectortest.Delivery {
	return connectortest.Delivery{Header: d.Header.Clone(), Body: slices.Clone(d.Body), At: d.At.Add(30 * time.Second)}
}

// Sign implements connectortest.Fake: X-Hub-Signature = "sha1=" +
// hex(HMAC-SHA1(signature token, body)). Zammad signs no time: at only
// matters through the times inside the payload.
func (f *Fake) Sign(body []byte, at time.Time) http.Header {
	mac := hmac.New(sha1.New, f.WebhookSecret())
	mac.Write(body)
	h := http.Header{}
	h.Set("Content-Type", "application/json; charset=utf-8")
	h.Set("User-Agent", "Zammad User Agent")
	h.Set("X-Zammad-Trigger", "relaydesk")
	h.Set("X-Zammad-Delivery", randomHex(16))
	h.Set("X-Hub-Signature", "sha1="+hex.EncodeToString(mac.Sum(nil)))
	return h
}

// WebhookSecret implements connectortest.Fake: the signature token of the
// last webhook created or updated through the API, or the fake's own
// before there is one.
func (f *Fake) WebhookSecret() []byte {
	f.mu.Lock()
	defer f.mu.Unlock()
	for i := len(f.webhookOrder) - 1; i >= 0; i-- {
		if w := f.webhooks[f.webhookOrder[i]]; w.token != "" {
			return []byte(w.token)
		}
	}
	return []byte(f.secret)
}

// FailNext implements connectortest.Fake.
func (f *Fake) FailNext(n int, kind connectortest.Failure) { f.failures.FailNext(n, kind) }

// FailNextWith makes the next API request fail with this status, headers
// and body.
func (f *Fake) FailNextWith(status int, header http.Header, body string) {
	f.failures.FailNextWith(status, header, body)
}

// FailMatching makes the next API request with this method whose path ends
// with suffix fail with kind; other requests are served.
func (f *Fake) FailMatching(method, suffix string, kind connectortest.Failure) {
	f.failures.FailMatching(method, suffix, kind)
}

// Deliver posts d to every active webhook, as Zammad's trigger job would.
// It returns the first failure.
func (f *Fake) Deliver(ctx context.Context, hc *http.Client, d connectortest.Delivery) error {
	for _, w := range f.Webhooks() {
		if !w.Active {
			continue
		}
		if err := connectortest.DeliverTo(ctx, hc, w.Endpoint, d); err != nil {
			return fmt.Errorf("zammadtest: %w", err)
		}
	}
	return nil
}

var _ connectortest.Fake = (*Fake)(nil)
