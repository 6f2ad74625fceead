// Package freshdesktest is an in-memory fake of the Freshdesk API v2 for
// tests, end-to-end runs and load tools.
//
// The fake is an httptest server speaking Freshdesk's wire format: bare JSON
// objects and arrays, multipart/form-data with attachments[] parts, error
// bodies ({"description": "Validation failed", "errors": [...]}), the
// per-minute rate-limit headers (X-RateLimit-Total, X-RateLimit-Remaining,
// X-RateLimit-Used-CurrentRequest, 429 with Retry-After), and page/per_page
// pagination with a Link rel="next" header. It checks every request it
// receives (method and path, API-key Basic authentication, Accept and
// Content-Type headers, query parameters, and JSON or form field names
// against the documented ones); a request that breaks the rules fails with
// 400 and is recorded as a violation, which fails the test when the fake was
// built with a testing.TB.
//
// Freshdesk pushes nothing the conformance suite's webhook checks could
// use, so the fake's deliveries ([Fake.CommentDelivery], [Fake.SetStatus])
// are notices for [connectortest.PollDelivery], which answers them by
// polling the connector: the suite's webhook checks then exercise Poll.
//
// It implements [connectortest.Fake] and is safe for concurrent use.
package freshdesktest

import (
	"cmp"
	"encoding/base64"
	"encoding/hex"
	"net/http"
	"regexp"
	"slices"
	"strconv"
	"testing"
	"time"

	"github.com/relaydesk/relaydesk/connectors"
	"github.com/relaydesk/relaydesk/connectors/connectortest"
)

// Credentials and settings the fake accepts.
const (
	// APIKey is the API key of the fake's agent.
	APIKey = "fdkey-3c9e71b04a6d" // not a real key
	// Domain is the domain setting the fake pretends to be.
	Domain = "relaydesk-test"
	// ExternalIDField is the custom ticket field the fake account has for
	// the chat's id.
	ExternalIDField = "cf_whatsapp_id"
	// RateLimitTotal is the per-minute budget the fake reports by default.
	RateLimitTotal = 400
)

// Fake is a fake Freshdesk account. Build it with [New].
type Fake struct {
	// Server serves the API, checks requests and injects failures; its
	// URL is the base URL of the fake (scheme and host).
	connectortest.Server
	// State guards the account's records and reads them.
	connectortest.State

	now         func() time.Time
	secret      []byte
	nextID      int64
	agentID     int64
	contacts    map[int64]*contact
	order       []int64
	tickets     map[int64]*ticket
	ticketOrder []int64
	convs       map[int64]*conv
	files       map[string]*file
	rateTotal   int
	rateUsed    int
	rateWindow  time.Time
	pageSize    int // forced page size, 0: as asked
}

type contact struct {
	id        int64
	name      string
	phone     string
	mobile    string
	email     string
	external  string // unique_external_id
	agent     bool
	deleted   bool // soft-deleted (DELETE /api/v2/contacts/{id})
	purged    bool // deleted for good (hard_delete)
	createdAt time.Time
}

type ticket struct {
	id          int64
	subject     string
	description string // HTML
	status      int
	priority    int
	source      int
	requesterID int64
	tags        []string
	custom      map[string]string
	files       []string // tokens
	convs       []int64
	createdAt   time.Time
	updatedAt   time.Time
}

type conv struct {
	id        int64
	ticketID  int64
	userID    int64
	body      string // HTML
	incoming  bool
	private   bool
	source    int
	files     []string
	createdAt time.Time
}

type file struct {
	id          int64
	token       string
	name        string
	contentType string
	data        []byte
}

// New starts a fake Freshdesk account with one agent (the API key's owner).
// When tb is not nil, violations fail the test and the fake is closed at
// cleanup; a load tool may pass nil and read [Fake.Violations].
func New(tb testing.TB) *Fake {
	secret := connectortest.RandomBytes(24)
	f := &Fake{
		now:       time.Now,
		secret:    []byte(base64.RawURLEncoding.EncodeToString(secret)),
		nextID:    43_000_000_000,
		contacts:  map[int64]*contact{},
		tickets:   map[int64]*ticket{},
		convs:     map[int64]*conv{},
		files:     map[string]*file{},
		rateTotal: RateLimitTotal,
	}
	now := f.now().UTC()
	f.agentID = f.newID()
	f.contacts[f.agentID] = &contact{id: f.agentID, name: "Relaydesk Bot", email: "bot@relaydesk.invalid", agent: true, createdAt: now}
	f.order = append(f.order, f.agentID)
	f.SetHooks(f.hooks())
	f.Start(tb, f.wire())
	return f
}

// Config returns a connector configuration against the fake, storing the
// chat id in [ExternalIDField]. HTTPClient is left nil.
func (f *Fake) Config() connectors.Config {
	cfg := connectors.Config{Name: "fake freshdesk", BaseURL: f.URL, Credentials: map[string]string{"api_key": APIKey}}
	cfg.Settings = map[string]any{"domain": Domain, "external_id_field": ExternalIDField}
	return cfg
}

// AgentID returns the id of the API key's agent.
func (f *Fake) AgentID() string { return formatID(f.agentID) }

// SetNow replaces the fake's clock (timestamps, rate-limit windows).
func (f *Fake) SetNow(now func() time.Time) {
	f.Mu.Lock()
	defer f.Mu.Unlock()
	f.now = now
}

// SetRateLimit sets the per-minute budget and how much of the current
// minute is already used.
func (f *Fake) SetRateLimit(total, used int) {
	f.Update(func() { f.rateTotal, f.rateUsed, f.rateWindow = total, used, f.now().Truncate(time.Minute) })
}

// spend counts the request against the per-minute budget and writes the
// rate-limit headers, or a 429 when the budget is spent.
func (f *Fake) spend(w http.ResponseWriter) bool {
	f.Mu.Lock()
	now := f.now()
	if win := now.Truncate(time.Minute); !win.Equal(f.rateWindow) {
		f.rateWindow, f.rateUsed = win, 0
	}
	total := f.rateTotal
	over := f.rateUsed >= total
	if !over {
		f.rateUsed++
	}
	remaining := total - f.rateUsed
	retry := int(f.rateWindow.Add(time.Minute).Sub(now).Seconds()) + 1
	f.Mu.Unlock()
	w.Header().Set("X-RateLimit-Total", strconv.Itoa(total))
	w.Header().Set("X-RateLimit-Remaining", strconv.Itoa(remaining))
	w.Header().Set("X-RateLimit-Used-CurrentRequest", "1")
	if over {
		w.Header().Set("Retry-After", strconv.Itoa(retry))
		writeError(w, http.StatusTooManyRequests, "", "You have exceeded the limit of requests per minute")
		return false
	}
	return true
}

// SetPageSize makes every list answer at most n items per page, whatever
// per_page asks (0 restores per_page), to exercise pagination.
func (f *Fake) SetPageSize(n int) { f.Update(func() { f.pageSize = n }) }

// Callers hold f.Mu.
func (f *Fake) newID() int64 {
	f.nextID++
	return f.nextID
}

// Ids and values as every fake writes them.
var (
	formatID = connectortest.FormatID
	parseID  = connectortest.ParseID
)

// hooks are the Freshdesk rules of connectortest.Fake.
func (f *Fake) hooks() connectortest.Hooks {
	return connectortest.Hooks{Users: f.listUsers, SeedUser: f.seedUser, Tickets: f.listTickets, Comments: f.listComments, AgentComment: f.agentConv}
}

// listUsers gives the agent and every contact. Phone is the contact's
// phone, or its mobile when it has no phone.
func (f *Fake) listUsers() []connectortest.User {
	return connectortest.Collect(f.order, f.contacts, func(c *contact) connectortest.User {
		return connectortest.User{ID: formatID(c.id), Name: c.name, Phone: cmp.Or(c.phone, c.mobile), ExternalID: c.external}
	})
}

// seedUser is a contact with a mobile number, as an agent would type it
// in the Freshdesk UI.
func (f *Fake) seedUser(name, phone string) string {
	c := &contact{id: f.newID(), name: name, mobile: phone, createdAt: f.now().UTC()}
	f.contacts[c.id] = c
	f.order = append(f.order, c.id)
	return formatID(c.id)
}

var followUpRE = regexp.MustCompile(`WhatsApp follow-up of ticket #(\d+)`)

// listTickets reads FollowupOf from the private note the connector adds
// to a follow-up ticket.
func (f *Fake) listTickets() []connectortest.Ticket {
	return connectortest.Collect(f.ticketOrder, f.tickets, func(t *ticket) connectortest.Ticket {
		ct := connectortest.Ticket{
			ID: formatID(t.id), RequesterID: formatID(t.requesterID), Subject: t.subject,
			Status: statusOf(t.status), Tags: slices.Clone(t.tags), ExternalID: t.custom[ExternalIDField],
		}
		for _, cid := range t.convs {
			c := f.convs[cid]
			if m := followUpRE.FindStringSubmatch(htmlText(c.body)); c.private && m != nil {
				ct.FollowupOf = m[1]
				break
			}
		}
		return ct
	})
}

func statusOf(s int) connectors.Status {
	switch s {
	case 2:
		return connectors.StatusOpen
	case 4:
		return connectors.StatusSolved
	case 5:
		return connectors.StatusClosed
	}
	return connectors.StatusPending
}

// RawStatus returns a ticket's Freshdesk status number, or 0.
func (f *Fake) RawStatus(ticketID string) int {
	return connectortest.Lookup(&f.Mu, f.tickets, ticketID, func(t *ticket) int { return t.status })
}

// listComments gives the description (id "desc-<ticket id>", by the
// requester, public) then the conversations. Bodies are the plain text of
// the HTML.
func (f *Fake) listComments(ticketID string) []connectortest.Comment {
	t := f.tickets[parseID(ticketID)]
	if t == nil {
		return nil
	}
	desc := connectortest.Comment{ID: "desc-" + formatID(t.id), AuthorID: formatID(t.requesterID), Body: htmlText(t.description), Public: true, Attachments: f.filesOf(t.files)}
	return append([]connectortest.Comment{desc}, connectortest.Collect(t.convs, f.convs, func(c *conv) connectortest.Comment {
		return connectortest.Comment{ID: formatID(c.id), AuthorID: formatID(c.userID), Body: htmlText(c.body), Public: !c.private, Attachments: f.filesOf(c.files)}
	})...)
}

func (f *Fake) filesOf(tokens []string) []connectortest.File {
	return connectortest.Map(tokens, func(tok string) connectortest.File {
		fl := f.files[tok]
		return connectortest.NewFile(fl.name, fl.contentType, fl.data)
	})
}

// SetStatus implements connectortest.Fake: the agent changes the status;
// the delivery is a notice for [connectortest.PollDelivery].
func (f *Fake) SetStatus(ticketID string, s connectors.Status) connectortest.Delivery {
	names := map[connectors.Status]int{connectors.StatusOpen: 2, connectors.StatusPending: 3, connectors.StatusSolved: 4, connectors.StatusClosed: 5}
	f.SetRawStatus(ticketID, connectortest.RawStatus("freshdesktest", names, s))
	return f.notice(connectortest.Notice{TicketID: ticketID, Status: string(s)})
}

// SetRawStatus sets a Freshdesk status number (2 to 5, or a custom one) as
// an agent would.
func (f *Fake) SetRawStatus(ticketID string, status int) {
	f.Mu.Lock()
	defer f.Mu.Unlock()
	t := f.tickets[parseID(ticketID)]
	if t == nil {
		panic("freshdesktest: unknown ticket " + ticketID)
	}
	t.status = status
	t.updatedAt = f.now().UTC()
}

// agentConv is a reply (source 0) by the agent, with files, or a private
// note (source 2).
func (f *Fake) agentConv(ticketID, body string, public bool, files []connectortest.File) string {
	t := connectortest.MustFind(f.tickets, "freshdesktest", "ticket", ticketID)
	source := 0
	if !public {
		source = 2
	}
	var toks []string
	for _, fl := range files {
		toks = append(toks, f.addFile(fl.Filename, fl.ContentType, slices.Clone(fl.Data)))
	}
	return formatID(f.addConv(t, f.agentID, "<div>"+htmlEscape(body)+"</div>", false, !public, source, toks).id)
}

// Callers hold f.Mu.
func (f *Fake) addFile(name, ctype string, data []byte) string {
	fl := &file{id: f.newID(), token: randomToken(), name: name, contentType: ctype, data: data}
	f.files[fl.token] = fl
	return fl.token
}

// Callers hold f.Mu.
func (f *Fake) addConv(t *ticket, userID int64, body string, incoming, private bool, source int, files []string) *conv {
	now := f.now().UTC()
	c := &conv{id: f.newID(), ticketID: t.id, userID: userID, body: body, incoming: incoming, private: private, source: source, files: files, createdAt: now}
	f.convs[c.id] = c
	t.convs = append(t.convs, c.id)
	t.updatedAt = now
	return c
}

// CommentDelivery implements connectortest.Fake: a notice naming the
// comment, signed now.
func (f *Fake) CommentDelivery(ticketID, commentID string) connectortest.Delivery {
	f.Mu.Lock()
	c := f.convs[parseID(commentID)]
	if c == nil || formatID(c.ticketID) != ticketID {
		f.Mu.Unlock()
		panic("freshdesktest: unknown comment " + ticketID + "/" + commentID)
	}
	body := htmlText(c.body)
	f.Mu.Unlock()
	return f.notice(connectortest.Notice{TicketID: ticketID, CommentID: commentID, Body: body})
}

func (f *Fake) notice(n connectortest.Notice) connectortest.Delivery {
	f.Mu.Lock()
	at := f.now().UTC().Truncate(time.Second)
	f.Mu.Unlock()
	return connectortest.NoticeDelivery(f.secret, n, at)
}

// Redeliver implements connectortest.Fake: the same notice signed 30
// seconds later.
func (f *Fake) Redeliver(d connectortest.Delivery) connectortest.Delivery {
	return connectortest.RedeliverNotice(f.secret, d)
}

// Sign implements connectortest.Fake: the notice signature
// ([connectortest.SignNotice]).
func (f *Fake) Sign(body []byte, at time.Time) http.Header {
	return connectortest.SignNotice(f.secret, body, at)
}

// WebhookSecret implements connectortest.Fake.
func (f *Fake) WebhookSecret() []byte { return slices.Clone(f.secret) }

func randomToken() string { return hex.EncodeToString(connectortest.RandomBytes(12)) }

var _ connectortest.Fake = (*Fake)(nil)
