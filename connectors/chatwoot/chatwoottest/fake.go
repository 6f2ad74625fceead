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
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"sync"
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
	// URL is the base URL of the fake (scheme and host).
	URL string

	stop       func() // closes the fake: connectortest.Serve
	failures   connectortest.Failures
	violations connectortest.Violations
	requests   connectortest.RequestLog[Request]

	mu            sync.Mutex
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
}

// Request is a request the fake received, for assertions.
type Request struct {
	Method        string
	Path          string
	Query         string
	ContentType   string
	ContentLength int64 // -1 for a chunked body
	// Fields are the JSON body's top-level keys or the multipart fields.
	Fields []string
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

// maxRequests is how many requests [Fake.Requests] remembers.
const maxRequests = 512

// New starts a fake Chatwoot account with one administrator, an API inbox
// ([InboxID]) and a website inbox. When tb is not nil, violations fail the
// test and the fake is closed at cleanup; a load tool may pass nil and read
// [Fake.Violations].
func New(tb testing.TB) *Fake {
	f := &Fake{
		violations:    connectortest.Violations{TB: tb, Prefix: "chatwoottest"},
		requests:      connectortest.RequestLog[Request]{Max: maxRequests},
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
	srv, stop := connectortest.Serve(tb, f.handler(), &f.failures)
	f.URL, f.stop = srv.URL, stop
	return f
}

// Close stops the server; requests held by FailTimeout are released.
func (f *Fake) Close() { f.stop() }

// Config returns a connector configuration for the fake account. HTTPClient
// is left nil.
func (f *Fake) Config() connectors.Config {
	return connectors.Config{
		Name:        "fake chatwoot",
		Settings:    map[string]any{"base_url": f.URL, "account_id": AccountID, "inbox_id": InboxID},
		Credentials: map[string]string{"api_access_token": APIToken},
	}
}

// SetNow replaces the fake's clock (timestamps and webhook signatures).
func (f *Fake) SetNow(now func() time.Time) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.now = now
}

// SetLegacy makes the fake behave like Chatwoot before 4.11.2: webhooks
// have no secret and deliveries are unsigned. [Fake.WebhookSecret] is then
// the token of the last webhook registered with a "token" URL parameter, and
// [Fake.Sign] returns that token in the X-Relaydesk-Token header, as
// relaydesk's HTTP layer passes it on.
func (f *Fake) SetLegacy(legacy bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.legacy = legacy
	if f.legacyToken == "" {
		f.legacyToken = randomString(24)
	}
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
		out = append(out, Webhook{ID: formatID(w.id), URL: w.url, Subscriptions: slices.Clone(w.subscriptions)})
	}
	return out
}

// RawStatus returns a conversation's Chatwoot status (open, pending,
// snoozed, resolved), or "" for an unknown conversation.
func (f *Fake) RawStatus(conversationID string) string {
	f.mu.Lock()
	defer f.mu.Unlock()
	if cv := f.conversations[parseID(conversationID)]; cv != nil {
		return cv.status
	}
	return ""
}

// Attributes returns a conversation's additional_attributes.
func (f *Fake) Attributes(conversationID string) map[string]any {
	f.mu.Lock()
	defer f.mu.Unlock()
	if cv := f.conversations[parseID(conversationID)]; cv != nil {
		out := map[string]any{}
		for k, v := range cv.attrs {
			out[k] = v
		}
		return out
	}
	return nil
}

// SourceIDs returns the source_id of each message of a conversation, in
// order ("" when a message has none).
func (f *Fake) SourceIDs(conversationID string) []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	cv := f.conversations[parseID(conversationID)]
	if cv == nil {
		return nil
	}
	var out []string
	for _, mid := range cv.messages {
		m := f.messages[mid]
		if m.msgType == "activity" {
			continue
		}
		out = append(out, deref(m.sourceID))
	}
	return out
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

// State changes. Callers hold f.mu.

func (f *Fake) addContact(name, phone, email, identifier string) *contact {
	f.nextContact++
	ct := &contact{id: f.nextContact, name: name, phone: phone, email: email, identifier: identifier, sources: map[int64]string{}, createdAt: f.now().UTC()}
	f.contacts[ct.id] = ct
	f.contactOrder = append(f.contactOrder, ct.id)
	return ct
}

func (f *Fake) addMessage(cv *conversation, msgType string, content *string, private bool, sourceID *string, senderType string, senderID int64, files []*blob) *message {
	f.nextMessage++
	now := f.now().UTC()
	m := &message{id: f.nextMessage, convID: cv.id, msgType: msgType, content: content, private: private, sourceID: sourceID,
		senderType: senderType, senderID: senderID, attachments: files, createdAt: now}
	f.messages[m.id] = m
	cv.messages = append(cv.messages, m.id)
	cv.updatedAt = now
	if msgType != "activity" {
		cv.lastActive = now
	}
	// Message#reopen_conversation: an incoming message reopens a snoozed or
	// resolved conversation (an inbox without an active bot).
	if msgType == "incoming" && (cv.status == "snoozed" || cv.status == "resolved") {
		f.setStatus(cv, "open", nil)
	}
	return m
}

func (f *Fake) setStatus(cv *conversation, status string, by *agent) {
	if cv.status == status {
		return
	}
	cv.status = status
	content := "Conversation was reopened by the contact"
	switch {
	case by != nil && status == "resolved":
		content = "Conversation was marked resolved by " + by.name
	case by != nil:
		content = "Conversation was marked " + status + " by " + by.name
	}
	f.addMessage(cv, "activity", &content, false, nil, "", 0, nil)
}

func (f *Fake) newBlob(name, ctype string, data []byte) *blob {
	f.nextOther++
	b := &blob{id: f.nextOther, signed: randomString(18), filename: name, ctype: ctype, data: data}
	f.blobs[b.signed] = b
	return b
}

// Users implements connectortest.Fake: the contacts, then the agents.
// Contact and agent ids are separate sequences in Chatwoot.
func (f *Fake) Users() []connectortest.User {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []connectortest.User
	for _, id := range f.contactOrder {
		ct := f.contacts[id]
		out = append(out, connectortest.User{ID: formatID(ct.id), Name: ct.name, Phone: ct.phone})
	}
	for _, id := range sortedKeys(f.agents) {
		out = append(out, connectortest.User{ID: formatID(id), Name: f.agents[id].name})
	}
	return out
}

func sortedKeys[V any](m map[int64]V) []int64 {
	keys := make([]int64, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

// SeedUser implements connectortest.Fake: a contact with a phone number and
// no identifier or inbox, as an agent would create on the Contacts page.
func (f *Fake) SeedUser(name, phone string) string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return formatID(f.addContact(name, phone, "", "").id)
}

// Tickets implements connectortest.Fake: the conversations, with the
// subject, external id and previous conversation relaydesk keeps in their
// additional_attributes.
func (f *Fake) Tickets() []connectortest.Ticket {
	f.mu.Lock()
	defer f.mu.Unlock()
	out := make([]connectortest.Ticket, 0, len(f.convOrder))
	for _, id := range f.convOrder {
		cv := f.conversations[id]
		out = append(out, connectortest.Ticket{
			ID: formatID(cv.id), RequesterID: formatID(cv.contactID), Subject: attr(cv, "relaydesk_subject"),
			Status: normalize(cv.status), Tags: slices.Clone(cv.labels), ExternalID: attr(cv, "relaydesk_external_id"),
			FollowupOf: attr(cv, "relaydesk_previous_conversation_id"),
		})
	}
	return out
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

// Comments implements connectortest.Fake: the conversation's messages
// except activity notices.
func (f *Fake) Comments(ticketID string) []connectortest.Comment {
	f.mu.Lock()
	defer f.mu.Unlock()
	cv := f.conversations[parseID(ticketID)]
	if cv == nil {
		return nil
	}
	var out []connectortest.Comment
	for _, mid := range cv.messages {
		m := f.messages[mid]
		if m.msgType == "activity" {
			continue
		}
		c := connectortest.Comment{ID: formatID(m.id), AuthorID: formatID(m.senderID), Body: deref(m.content), Public: !m.private}
		for _, b := range m.attachments {
			c.Attachments = append(c.Attachments, connectortest.File{Filename: b.filename, ContentType: b.ctype, Data: slices.Clone(b.data)})
		}
		out = append(out, c)
	}
	return out
}

// SetStatus implements connectortest.Fake. Chatwoot has no final status:
// [connectors.StatusClosed] resolves the conversation, the nearest Chatwoot
// state.
func (f *Fake) SetStatus(ticketID string, s connectors.Status) connectortest.Delivery {
	return f.SetRawStatus(ticketID, connectortest.RawStatus("chatwoottest", map[connectors.Status]string{
		connectors.StatusOpen:    "open",
		connectors.StatusPending: "pending",
		connectors.StatusSolved:  "resolved",
		connectors.StatusClosed:  "resolved",
	}, s))
}

// SetRawStatus sets a Chatwoot status (open, pending, snoozed, resolved) as
// an agent would and returns the conversation_status_changed delivery.
func (f *Fake) SetRawStatus(ticketID, raw string) connectortest.Delivery {
	if !slices.Contains([]string{"open", "pending", "snoozed", "resolved"}, raw) {
		panic("chatwoottest: unknown status " + raw)
	}
	f.mu.Lock()
	cv := f.conversations[parseID(ticketID)]
	if cv == nil {
		f.mu.Unlock()
		panic("chatwoottest: unknown conversation " + ticketID)
	}
	prev := cv.status
	f.setStatus(cv, raw, f.agents[AgentID+1])
	at := f.now().UTC().Truncate(time.Second)
	payload := statusChangedJSON{
		webhookConversationJSON: f.webhookConversation(cv),
		Event:                   "conversation_status_changed",
		ChangedAttributes:       []map[string]any{{"status": map[string]any{"previous_value": prev, "current_value": raw}}},
	}
	f.mu.Unlock()
	return f.delivery(payload, at)
}

// AgentReply implements connectortest.Fake: a public outgoing message by an
// agent, with files.
func (f *Fake) AgentReply(ticketID, body string, files ...connectortest.File) string {
	return f.agentMessage(ticketID, body, false, files)
}

// AgentNote implements connectortest.Fake: a private note by an agent.
func (f *Fake) AgentNote(ticketID, body string) string {
	return f.agentMessage(ticketID, body, true, nil)
}

func (f *Fake) agentMessage(ticketID, body string, private bool, files []connectortest.File) string {
	f.mu.Lock()
	defer f.mu.Unlock()
	cv := f.conversations[parseID(ticketID)]
	if cv == nil {
		panic("chatwoottest: unknown conversation " + ticketID)
	}
	var blobs []*blob
	for _, file := range files {
		blobs = append(blobs, f.newBlob(file.Filename, file.ContentType, slices.Clone(file.Data)))
	}
	content := body
	m := f.addMessage(cv, "outgoing", &content, private, nil, "user", AgentID+1, blobs)
	return formatID(m.id)
}

// CommentDelivery implements connectortest.Fake: the message_created
// delivery of a message, signed now.
func (f *Fake) CommentDelivery(ticketID, commentID string) connectortest.Delivery {
	f.mu.Lock()
	cv := f.conversations[parseID(ticketID)]
	m := f.messages[parseID(commentID)]
	if cv == nil || m == nil || m.convID != cv.id {
		f.mu.Unlock()
		panic("chatwoottest: unknown message " + ticketID + "/" + commentID)
	}
	payload := f.messageCreated(cv, m)
	at := f.now().UTC().Truncate(time.Second)
	f.mu.Unlock()
	return f.delivery(payload, at)
}

// messageCreated renders a message's webhook_data. Callers hold f.mu.
func (f *Fake) messageCreated(cv *conversation, m *message) messageCreatedJSON {
	p := messageCreatedJSON{
		Account:              map[string]any{"id": AccountID, "name": "Acme Support"},
		AdditionalAttributes: map[string]any{},
		ContentAttributes:    map[string]any{},
		ContentType:          "text",
		Content:              m.content,
		Conversation:         f.webhookConversation(cv),
		CreatedAt:            m.createdAt.Format("2006-01-02T15:04:05.000Z"),
		ID:                   m.id,
		Inbox:                map[string]any{"id": cv.inboxID, "name": f.inboxName(cv.inboxID)},
		MessageType:          m.msgType,
		Private:              m.private,
		SourceID:             m.sourceID,
		Event:                "message_created",
	}
	switch m.senderType {
	case "contact":
		ct := f.contacts[m.senderID]
		p.Sender = &webhookSenderJSON{ID: ct.id, Name: ct.name, Type: "contact"}
	case "user":
		a := f.agents[m.senderID]
		p.Sender = &webhookSenderJSON{ID: a.id, Name: a.name, Type: "user", Email: &a.email}
	}
	for _, b := range m.attachments {
		p.Attachments = append(p.Attachments, f.attachmentJSON(m, b))
	}
	return p
}

func (f *Fake) delivery(payload any, at time.Time) connectortest.Delivery {
	return connectortest.SignedDelivery(payload, at, f.Sign)
}

// Redeliver implements connectortest.Fake: the same body and delivery id,
// signed 30 seconds later, as when Chatwoot's job retries.
func (f *Fake) Redeliver(d connectortest.Delivery) connectortest.Delivery {
	at := d.At.Add(30 * time.Second)
	h := f.Sign(d.Body, at)
	if id := d.Header.Get("X-Chatwoot-Delivery"); id != "" {
		h.Set("X-Chatwoot-Delivery", id)
	}
	return connectortest.Delivery{Header: h, Body: slices.Clone(d.Body), At: at}
}

// Sign implements connectortest.Fake: Chatwoot's headers, with
// X-Chatwoot-Signature = "sha256=" + hex(HMAC-SHA256(secret, ts + "." +
// body)), signed with [Fake.WebhookSecret]. In legacy mode there is no signature; the token relaydesk's HTTP
// layer copies from the callback URL stands in for it.
func (f *Fake) Sign(body []byte, at time.Time) http.Header {
	f.mu.Lock()
	legacy, secret := f.legacy, f.webhookSecretLocked()
	f.mu.Unlock()
	h := http.Header{}
	h.Set("Content-Type", "application/json")
	h.Set("Accept", "application/json")
	h.Set("User-Agent", "rest-client/2.1.0 (linux x86_64) ruby/3.3.3p89")
	if legacy {
		h.Set("X-Relaydesk-Token", string(secret))
		return h
	}
	ts := strconv.FormatInt(at.Unix(), 10)
	mac := hmac.New(sha256.New, secret)
	mac.Write([]byte(ts + "."))
	mac.Write(body)
	h.Set("X-Chatwoot-Timestamp", ts)
	h.Set("X-Chatwoot-Signature", "sha256="+hex.EncodeToString(mac.Sum(nil)))
	h.Set("X-Chatwoot-Delivery", uuid())
	return h
}

// WebhookSecret implements connectortest.Fake: the secret of the last
// webhook created through the API (each webhook has its own), or the
// fake's own before there is one; in legacy mode, the webhook URL's token.
func (f *Fake) WebhookSecret() []byte {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.webhookSecretLocked()
}

func (f *Fake) webhookSecretLocked() []byte {
	if f.legacy {
		return []byte(f.legacyToken)
	}
	if n := len(f.webhookOrder); n > 0 {
		return []byte(f.webhooks[f.webhookOrder[n-1]].secret)
	}
	return slices.Clone(f.secret)
}

// FailNext implements connectortest.Fake.
func (f *Fake) FailNext(n int, kind connectortest.Failure) { f.failures.FailNext(n, kind) }

// FailNextWith makes the next API request fail with this status, headers
// and body, for failures the conformance suite does not cover.
func (f *Fake) FailNextWith(status int, header http.Header, body string) {
	f.failures.FailNextWith(status, header, body)
}

// FailMatching makes the next API request with this method whose path ends
// with suffix fail with kind; other requests are served.
func (f *Fake) FailMatching(method, suffix string, kind connectortest.Failure) {
	f.failures.FailMatching(method, suffix, kind)
}

// Deliver posts d to every webhook registered through the API, as Chatwoot
// would (to the registered URL, token included). It returns the first
// failure.
func (f *Fake) Deliver(ctx context.Context, hc *http.Client, d connectortest.Delivery) error {
	d.Header = d.Header.Clone()
	d.Header.Del("X-Relaydesk-Token") // Chatwoot does not send it; the URL carries the token
	for _, w := range f.Webhooks() {
		if err := connectortest.DeliverTo(ctx, hc, w.URL, d); err != nil {
			return fmt.Errorf("chatwoottest: %w", err)
		}
	}
	return nil
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
