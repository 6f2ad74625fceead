// Package chatwoottest is an in-memory fake of Chatwoot's Application API
// for tests, end-to-end runs and load tools.
//
// The fake is an httptest server speaking Chatwoot's wire format: the
// api_access_token header, {"payload": ...} envelopes, contacts search pages
// of 15, messages pages of 20 (before=<id>), error bodies ({"error": ...} and
// {"message": ..., "attributes": [...]} for invalid records), the rate
// limiter's plain-text 429, multipart/form-data messages with attachments[]
// files served from Active Storage URLs, and webhook payloads
// (message_created, conversation_status_changed) signed like Chatwoot 4.11.2
// and later sign them. [Fake.SetLegacy] turns it into an older Chatwoot that
// neither returns webhook secrets nor signs.
//
// It checks every request it receives (method and path, the access token,
// the account id, Content-Type, query parameters, and JSON or form field
// names against the documented ones); a request that breaks the rules fails
// with 400 and is recorded as a violation, which fails the test when the
// fake was built with a testing.TB. It enforces Chatwoot's rules: E.164 and
// unique phone numbers, unique identifiers, incoming messages only in API
// inboxes, and incoming messages reopening resolved or snoozed
// conversations.
//
// It implements [connectortest.Fake] and is safe for concurrent use.
package chatwoottest

import (
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"maps"
	"net/url"
	"slices"
	"testing"
	"time"

	"github.com/relaydesk/relaydesk/connectors"
	"github.com/relaydesk/relaydesk/connectors/connectortest"
)

// Fixed identities of the fake account.
const (
	// APIToken is the access token the fake accepts (an administrator's).
	APIToken = "cwtok-5d7f0b2a9c41e8" // not a real token
	// AccountID is the account in every API path.
	AccountID = 3
	// InboxID is the API-channel inbox relaydesk posts to.
	InboxID = 7
	// WebsiteInboxID is another inbox (a website widget) of the account.
	WebsiteInboxID = 8
	// AgentID is the administrator the token belongs to.
	AgentID = 1
)

// Fake is a fake Chatwoot account. Build it with [New].
type Fake struct {
	// Server serves the API, checks requests and injects failures; its
	// URL is the base URL of the fake (scheme and host).
	connectortest.Server
	// State guards the account's records and reads them.
	connectortest.State

	now           func() time.Time
	secret        []byte
	legacy        bool
	legacyToken   string
	nextContact   int64
	nextConv      int64
	nextMessage   int64
	nextOther     int64
	agents        map[int64]*agent
	contacts      map[int64]*contact
	contactOrder  []int64
	conversations map[int64]*conversation
	convOrder     []int64
	messages      map[int64]*message
	blobs         map[string]*blob
	webhooks      map[int64]*webhook
	webhookOrder  []int64
	erased        []int64 // contacts deleted through the API
}

// Webhook is a webhook registered through the API.
type Webhook struct {
	ID            string
	URL           string
	Subscriptions []string
}

type agent struct {
	id    int64
	name  string
	email string
}

type contact struct {
	id         int64
	name       string
	phone      string
	email      string
	identifier string
	sources    map[int64]string // inbox id -> source_id
	createdAt  time.Time
}

type conversation struct {
	id         int64 // display id
	uuid       string
	inboxID    int64
	contactID  int64
	sourceID   string
	status     string
	labels     []string
	attrs      map[string]any
	messages   []int64
	createdAt  time.Time
	updatedAt  time.Time
	lastActive time.Time
}

type message struct {
	id          int64
	convID      int64
	msgType     string // incoming, outgoing, activity, template
	content     *string
	private     bool
	sourceID    *string
	senderType  string // contact, user, "" (none)
	senderID    int64
	attachments []*blob
	createdAt   time.Time
	// contentAttrs: in_reply_to (a message id), is_reaction.
	contentAttrs map[string]any
	// status is the message status (sent, delivered, read, failed), set
	// through PATCH .../messages/{id} on API inboxes.
	status string
}

type blob struct {
	id       int64
	signed   string
	filename string
	ctype    string
	data     []byte
}

type webhook struct {
	id            int64
	name          string
	url           string
	subscriptions []string
	secret        string
}

// New starts a fake Chatwoot account with one administrator, an API inbox
// ([InboxID]) and a website inbox. When tb is not nil, violations fail the
// test and the fake is closed at cleanup; a load tool may pass nil and read
// [Fake.Violations].
func New(tb testing.TB) *Fake {
	f := &Fake{
		now:           time.Now,
		secret:        []byte(randomString(24)),
		nextContact:   200,
		nextMessage:   5000,
		nextOther:     9000,
		agents:        map[int64]*agent{AgentID: {id: AgentID, name: "Relay Admin", email: "admin@example.com"}},
		contacts:      map[int64]*contact{},
		conversations: map[int64]*conversation{},
		messages:      map[int64]*message{},
		blobs:         map[string]*blob{},
		webhooks:      map[int64]*webhook{},
	}
	f.agents[AgentID+1] = &agent{id: AgentID + 1, name: "Grace Agent", email: "grace@example.com"}
	f.SetHooks(f.hooks())
	f.Start(tb, f.wire())
	return f
}

// Config returns a connector configuration for the fake account. HTTPClient
// is left nil.
func (f *Fake) Config() connectors.Config {
	settings := map[string]any{"base_url": f.URL, "account_id": AccountID, "inbox_id": InboxID}
	return connectors.Config{Name: "fake chatwoot", Settings: settings, Credentials: map[string]string{"api_access_token": APIToken}}
}

// SetNow replaces the fake's clock (timestamps and webhook signatures).
func (f *Fake) SetNow(now func() time.Time) {
	f.Mu.Lock()
	defer f.Mu.Unlock()
	f.now = now
}

// SetLegacy makes the fake behave like Chatwoot before 4.11.2: webhooks
// have no secret and deliveries are unsigned. [Fake.WebhookSecret] is then
// the token of the last webhook registered with a "token" URL parameter, and
// [Fake.Sign] returns that token in the X-Relaydesk-Token header, as
// relaydesk's HTTP layer passes it on.
func (f *Fake) SetLegacy(legacy bool) {
	f.Mu.Lock()
	defer f.Mu.Unlock()
	f.legacy = legacy
	if f.legacyToken == "" {
		f.legacyToken = randomString(24)
	}
}

// Webhooks returns the registered webhooks.
func (f *Fake) Webhooks() []Webhook {
	return connectortest.Locked(&f.Mu, func() []Webhook {
		return connectortest.Collect(f.webhookOrder, f.webhooks, func(w *webhook) Webhook {
			return Webhook{ID: formatID(w.id), URL: w.url, Subscriptions: slices.Clone(w.subscriptions)}
		})
	})
}

// RawStatus returns a conversation's Chatwoot status (open, pending,
// snoozed, resolved), or "" for an unknown conversation.
func (f *Fake) RawStatus(conversationID string) string {
	return connectortest.Lookup(&f.Mu, f.conversations, conversationID, func(cv *conversation) string { return cv.status })
}

// Attributes returns a conversation's additional_attributes.
func (f *Fake) Attributes(conversationID string) map[string]any {
	return connectortest.Lookup(&f.Mu, f.conversations, conversationID, func(cv *conversation) map[string]any { return connectortest.CloneObject(cv.attrs) })
}

// SourceIDs returns the source_id of each message of a conversation, in
// order ("" when a message has none).
func (f *Fake) SourceIDs(conversationID string) []string {
	return connectortest.Lookup(&f.Mu, f.conversations, conversationID, func(cv *conversation) []string {
		return connectortest.Map(f.visible(cv), func(m *message) string { return deref(m.sourceID) })
	})
}

// Ids and values as every fake writes them.
var (
	formatID = connectortest.FormatID
	parseID  = connectortest.ParseID
)

func deref[T any](p *T) T { return connectortest.Deref(p) }

func randomString(n int) string {
	return base64.RawURLEncoding.EncodeToString(connectortest.RandomBytes(n))
}

// hooks are the Chatwoot rules of connectortest.Fake.
func (f *Fake) hooks() connectortest.Hooks {
	return connectortest.Hooks{Prefix: "chatwoottest", Statuses: statusNames(), SetRawStatus: f.SetRawStatus, Users: f.listUsers, SeedUser: f.seedUser, Tickets: f.listTickets, Comments: f.listComments, AgentComment: f.agentMessage}
}

// statusNames are the statuses SetStatus sets. Chatwoot has no final
// status: [connectors.StatusClosed] resolves the conversation, the nearest
// Chatwoot state.
func statusNames() map[connectors.Status]string {
	return map[connectors.Status]string{connectors.StatusOpen: "open", connectors.StatusPending: "pending", connectors.StatusSolved: "resolved", connectors.StatusClosed: "resolved"}
}

// listUsers gives the contacts, then the agents. Contact and agent ids are
// separate sequences in Chatwoot.
func (f *Fake) listUsers() []connectortest.User {
	contacts := connectortest.Collect(f.contactOrder, f.contacts, func(ct *contact) connectortest.User {
		return connectortest.User{ID: formatID(ct.id), Name: ct.name, Phone: ct.phone, ExternalID: ct.identifier}
	})
	agents := connectortest.Collect(slices.Sorted(maps.Keys(f.agents)), f.agents, func(a *agent) connectortest.User {
		return connectortest.User{ID: formatID(a.id), Name: a.name}
	})
	return append(contacts, agents...)
}

// seedUser is a contact with a phone number and no identifier or inbox,
// as an agent would create on the Contacts page.
func (f *Fake) seedUser(name, phone string) string {
	return formatID(f.addContact(name, phone, "", "").id)
}

// listTickets gives the conversations, with the subject, external id and
// previous conversation relaydesk keeps in their additional_attributes.
func (f *Fake) listTickets() []connectortest.Ticket {
	return connectortest.Collect(f.convOrder, f.conversations, func(cv *conversation) connectortest.Ticket {
		return connectortest.Ticket{
			ID: formatID(cv.id), RequesterID: formatID(cv.contactID), Subject: attr(cv, "relaydesk_subject"),
			Status: normalize(cv.status), Tags: slices.Clone(cv.labels), ExternalID: attr(cv, "relaydesk_external_id"),
			FollowupOf: attr(cv, "relaydesk_previous_conversation_id"),
		}
	})
}

func attr(cv *conversation, key string) string {
	if v, ok := cv.attrs[key]; ok && v != nil {
		return fmt.Sprint(v)
	}
	return ""
}

func normalize(raw string) connectors.Status {
	switch raw {
	case "open":
		return connectors.StatusOpen
	case "pending", "snoozed":
		return connectors.StatusPending
	case "resolved":
		return connectors.StatusSolved
	}
	return ""
}

// visible returns a conversation's messages except activity notices.
func (f *Fake) visible(cv *conversation) []*message {
	var out []*message
	for _, mid := range cv.messages {
		if m := f.messages[mid]; m.msgType != "activity" {
			out = append(out, m)
		}
	}
	return out
}

// listComments gives the conversation's messages except activity notices.
func (f *Fake) listComments(ticketID string) []connectortest.Comment {
	cv := f.conversations[parseID(ticketID)]
	if cv == nil {
		return nil
	}
	return connectortest.Map(f.visible(cv), func(m *message) connectortest.Comment {
		return connectortest.Comment{ID: formatID(m.id), AuthorID: formatID(m.senderID), Body: deref(m.content), Public: !m.private,
			Attachments: connectortest.Map(m.attachments, func(b *blob) connectortest.File {
				return connectortest.NewFile(b.filename, b.ctype, b.data)
			})}
	})
}

// agentMessage is an outgoing message by an agent: public with files, or
// a private note.
func (f *Fake) agentMessage(ticketID, body string, public bool, files []connectortest.File) string {
	cv := connectortest.MustFind(f.conversations, "chatwoottest", "conversation", ticketID)
	blobs := connectortest.Map(files, func(file connectortest.File) *blob {
		return f.newBlob(file.Filename, file.ContentType, slices.Clone(file.Data))
	})
	content := body
	return formatID(f.addMessage(cv, "outgoing", &content, !public, nil, "user", AgentID+1, blobs).id)
}

func uuid() string {
	b := connectortest.RandomBytes(16)
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	h := hex.EncodeToString(b)
	return h[0:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:32]
}

// tokenOf returns the token query parameter of a webhook URL.
func tokenOf(u string) string {
	p, err := url.Parse(u)
	if err != nil {
		return ""
	}
	return p.Query().Get("token")
}

var _ connectortest.Fake = (*Fake)(nil)
