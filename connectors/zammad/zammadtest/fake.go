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
	"cmp"
	"encoding/hex"
	"encoding/json"
	"html"
	"slices"
	"strconv"
	"strings"
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
	// Server serves the API, checks requests and injects failures; its
	// URL is the base URL of the fake (scheme and host).
	connectortest.Server
	// State guards the instance's records and reads them.
	connectortest.State

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

// New starts a fake Zammad with two agents, the groups Users and Archive,
// and Zammad's stock ticket states plus a custom pending state. When tb is
// not nil, violations fail the test and the fake is closed at cleanup; a
// load tool may pass nil and read [Fake.Violations].
func New(tb testing.TB) *Fake {
	f := &Fake{
		now:      time.Now,
		secret:   randomHex(20),
		nextID:   100,
		users:    map[int64]*user{},
		groups:   map[int64]*group{GroupUsers: {id: GroupUsers, name: "Users", followUp: "yes"}, GroupArchive: {id: GroupArchive, name: "Archive", followUp: "new_ticket"}},
		tickets:  map[int64]*ticket{},
		articles: map[int64]*article{},
		webhooks: map[int64]*webhook{},
		triggers: map[int64]*trigger{},
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
	f.SetHooks(f.hooks())
	f.Start(tb, f.wire())
	return f
}

// Config returns a connector configuration for the fake. HTTPClient is left
// nil.
func (f *Fake) Config() connectors.Config {
	return connectors.Config{Name: "fake zammad", Settings: map[string]any{"base_url": f.URL, "group": "Users"}, Credentials: map[string]string{"api_token": APIToken}}
}

// SetNow replaces the fake's clock (timestamps in payloads).
func (f *Fake) SetNow(now func() time.Time) {
	f.Mu.Lock()
	defer f.Mu.Unlock()
	f.now = now
}

// SetFollowUp sets a group's follow_up_possible ("yes", "new_ticket",
// "new_ticket_after_certain_time") and reopen time.
func (f *Fake) SetFollowUp(groupID int64, followUp string, reopenDays int64) {
	f.Mu.Lock()
	defer f.Mu.Unlock()
	g := f.groups[groupID]
	g.followUp = followUp
	g.reopenDays = &reopenDays
}

// DenyGroupRead makes group reads answer 403, as for a token without
// admin.group.
func (f *Fake) DenyGroupRead() { f.Update(func() { f.noGroupRead = true }) }

// DisableSearchIndex makes searches behave like Zammad without
// Elasticsearch: the whole query is matched as a substring of users' names,
// email and login, and tickets' titles.
func (f *Fake) DisableSearchIndex() { f.Update(func() { f.noIndex = true }) }

// Webhooks returns the webhooks, with their signature tokens.
func (f *Fake) Webhooks() []Webhook {
	return connectortest.Locked(&f.Mu, func() []Webhook {
		return connectortest.Collect(f.webhookOrder, f.webhooks, func(w *webhook) Webhook {
			return Webhook{ID: formatID(w.id), Name: w.name, Endpoint: w.endpoint, SignatureToken: w.token, Active: w.active}
		})
	})
}

// Triggers returns the triggers, with the operator of each condition.
func (f *Fake) Triggers() []Trigger {
	return connectortest.Locked(&f.Mu, func() []Trigger {
		return connectortest.Collect(f.triggerOrder, f.triggers, func(t *trigger) Trigger {
			tr := Trigger{ID: formatID(t.id), Name: t.name, WebhookID: formatID(webhookOf(t)), Condition: map[string]string{}}
			for k, raw := range t.condition {
				var cv conditionValue
				_ = json.Unmarshal(raw, &cv)
				tr.Condition[k] = cv.Operator
			}
			return tr
		})
	})
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

// Ids and values as every fake writes them.
var (
	formatID = connectortest.FormatID
	parseID  = connectortest.ParseID
)

func deref[T any](p *T) T { return connectortest.Deref(p) }

func randomHex(n int) string { return hex.EncodeToString(connectortest.RandomBytes(n)) }

func ts(t time.Time) string { return t.UTC().Format("2006-01-02T15:04:05.000Z") }

// stateNames are the states SetStatus sets: open, "pending reminder",
// closed (in a group that takes follow-ups: solved) and merged (final).
var stateNames = map[connectors.Status]string{
	connectors.StatusOpen: "open", connectors.StatusPending: "pending reminder", connectors.StatusSolved: "closed", connectors.StatusClosed: "merged",
}

// hooks are the Zammad rules of connectortest.Fake.
func (f *Fake) hooks() connectortest.Hooks {
	h := connectortest.Hooks{Prefix: "zammadtest", SetRawStatus: f.SetState, Users: f.listUsers, SeedUser: f.seedUser}
	h.Tickets, h.Comments, h.AgentComment = f.listTickets, f.listComments, f.agentArticle
	h.Statuses = stateNames
	return h
}

// listUsers gives a user's mobile as their phone, or their phone when
// they have no mobile.
func (f *Fake) listUsers() []connectortest.User {
	return connectortest.Collect(f.userOrder, f.users, func(u *user) connectortest.User {
		return connectortest.User{ID: formatID(u.id), Name: u.name(), Phone: cmp.Or(u.mobile, u.phone), ExternalID: u.login}
	})
}

// seedUser is a customer whose number an agent typed into the Phone
// field.
func (f *Fake) seedUser(name, phone string) string {
	first, last, _ := strings.Cut(name, " ")
	return formatID(f.addUser(first, last, phone, "", "", []string{"Customer"}).id)
}

// listTickets gives the external id relaydesk keeps in a ticket's
// preferences and the previous ticket it links.
func (f *Fake) listTickets() []connectortest.Ticket {
	return connectortest.Collect(f.ticketOrder, f.tickets, func(t *ticket) connectortest.Ticket {
		ct := connectortest.Ticket{ID: formatID(t.id), RequesterID: formatID(t.customerID), Subject: t.title, Status: f.normalize(t), Tags: slices.Clone(t.tags)}
		if rd, ok := t.preferences["relaydesk"].(map[string]any); ok {
			ct.ExternalID, _ = rd["external_id"].(string)
		}
		if len(t.linked) > 0 {
			ct.FollowupOf = formatID(t.linked[0])
		}
		return ct
	})
}

// listComments gives the articles, authored by the user they were
// recorded for (origin_by_id) or by their creator.
func (f *Fake) listComments(ticketID string) []connectortest.Comment {
	t := f.tickets[parseID(ticketID)]
	if t == nil {
		return nil
	}
	return connectortest.Collect(t.articles, f.articles, func(a *article) connectortest.Comment {
		author := cmp.Or(a.originByID, a.createdByID)
		return connectortest.Comment{ID: formatID(a.id), AuthorID: formatID(author), Body: a.body, Public: !a.internal,
			Attachments: connectortest.Map(a.attachments, func(att *attachment) connectortest.File {
				return connectortest.NewFile(att.filename, att.mime, att.data)
			})}
	})
}

// agentArticle is a note by an agent, written in the UI (HTML): public
// with files, or internal.
func (f *Fake) agentArticle(ticketID, body string, public bool, files []connectortest.File) string {
	t := connectortest.MustFind(f.tickets, "zammadtest", "ticket", ticketID)
	var atts []*attachment
	for _, file := range files {
		atts = append(atts, &attachment{id: f.newID(), filename: file.Filename, mime: file.ContentType, data: slices.Clone(file.Data)})
	}
	a := f.addArticle(t, "<div>"+html.EscapeString(body)+"</div>", "text/html", "note", "Agent", !public, OtherAgentID, 0, atts)
	return formatID(a.id)
}
