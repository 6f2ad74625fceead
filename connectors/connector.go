// Package connectors holds the contract between relaydesk's bridge and the
// helpdesks it talks to, the registry of connector kinds, and the typed
// errors every connector returns.
//
// A connector is a plain API client of one helpdesk plus a webhook parser. It
// knows nothing about Postgres, River or Echo. Its factory does no network
// I/O; every method that talks to the helpdesk takes a context and returns
// errors classified with [*Error] (see [ClassOf]).
//
// The core interface is [Connector]. Extra abilities are small optional
// interfaces ([OAuth2Connector], [WebhookInstaller], [Poller],
// [MessageFinder], [AttachmentFetcher], [EventHydrator], [Tester]) that the
// bridge discovers with a type assertion. Every connector package declares
// compile-time checks for the ones it implements.
package connectors

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"

	"golang.org/x/oauth2"
)

// Config is what a [Factory] receives. Building a connector from a Config
// does no network I/O.
type Config struct {
	// Name is the connection's name, for messages only.
	Name string
	// BaseURL overrides the helpdesk's base URL (scheme and host, optionally a
	// path prefix). Connectors derive it from their settings when empty.
	BaseURL string
	// Settings are the non-secret settings, validated against the connector's
	// [Description].
	Settings map[string]any
	// Credentials are the secrets (API tokens, OAuth client secrets...).
	Credentials map[string]string
	// HTTPClient is the client to use, with timeouts. The connector may wrap
	// its Transport but never mutates the client it is given. Nil means a
	// client with a 30 second timeout.
	HTTPClient *http.Client
	// TokenSource is set when the connection was authorised with OAuth2. The
	// app provides a source that persists refreshed tokens.
	TokenSource oauth2.TokenSource
}

// Factory builds a connector from its configuration. It validates the
// configuration and does no network I/O.
type Factory func(Config) (Connector, error)

// Requester is the customer a ticket is opened for.
//
// A customer who hides their phone number behind a WhatsApp username has
// no Phone and no WaID, only a UserID: connectors then find or create the
// requester by the BSUID as external id (BSUIDKey) and name it
// DisplayName. With a phone they find it by phone, as always.
type Requester struct {
	// Phone is the E.164 number with a leading '+', for example
	// "+15551234567"; empty for a customer without a phone.
	Phone string
	// WaID is the WhatsApp user id (the digits of the number).
	WaID string
	// UserID is the business-scoped user id (BSUID), e.g.
	// "US.13491208655302741918"; empty when unknown.
	UserID string
	// Username is the customer's WhatsApp username; it may be empty.
	Username string
	// Name is the WhatsApp profile name; it may be empty.
	Name string
}

// Phoneless reports whether the requester is known by BSUID only.
func (r Requester) Phoneless() bool { return strings.TrimSpace(r.Phone) == "" && r.UserID != "" }

// DisplayName is the requester's name in the helpdesk: the username, else
// the profile name, else the phone number, else the BSUID.
func (r Requester) DisplayName() string {
	for _, s := range []string{r.Username, r.Name, r.Phone, r.UserID} {
		if s = strings.TrimSpace(s); s != "" {
			return s
		}
	}
	return ""
}

// BSUIDKey is the external id relaydesk gives a phoneless requester in a
// helpdesk: "wa:" and the BSUID. It checks the BSUID's shape (an ISO
// country code, a dot, letters and digits, at most 140 characters) and
// returns a Permanent error otherwise, so nothing odd reaches a search
// query.
func (r Requester) BSUIDKey() (string, error) {
	id := r.UserID
	ok := len(id) >= 4 && len(id) <= 140 && strings.Count(id, ".") >= 1 && !strings.HasPrefix(id, ".") && !strings.HasSuffix(id, ".")
	for _, c := range id {
		ok = ok && (c == '.' || c >= '0' && c <= '9' || c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z')
	}
	if !ok {
		return "", PermanentError(fmt.Sprintf("business-scoped user id %q is malformed", id), nil)
	}
	return "wa:" + id, nil
}

// Attachment is a file to post with a message. Its content is streamed and
// opened lazily, so that a retried call can open it again.
type Attachment struct {
	// Filename is the name shown in the helpdesk, with its extension.
	Filename string
	// ContentType is the MIME type of the content.
	ContentType string
	// Size is the content length in bytes, or -1 when unknown.
	Size int64
	// Open returns a fresh reader of the content. The connector closes it.
	Open func(ctx context.Context) (io.ReadCloser, error)
}

// Message is a customer message to post as the requester's public comment.
type Message struct {
	// Body is the text; it may be empty when the message only carries files.
	Body string
	// Attachments are the files, in order.
	Attachments []Attachment
	// Key is a stable idempotency key for this message (the wamid).
	Key string
	// At is when the customer sent the message.
	At time.Time
}

// Note is an internal note, visible to agents only.
type Note struct {
	// Body is the text of the note.
	Body string
	// Key is a stable idempotency key for the note.
	Key string
}

// NewTicket describes a ticket to create.
type NewTicket struct {
	// RequesterID is the helpdesk id returned by EnsureRequester.
	RequesterID string
	// Subject is the ticket subject.
	Subject string
	// First is the first message, posted as the requester's public comment.
	First Message
	// Tags are added to the ticket.
	Tags []string
	// PreviousTicketID, when set, is the ticket this one follows up; the
	// connector links them where the helpdesk allows it.
	PreviousTicketID string
	// ExternalID is stored on the ticket where the helpdesk has such a field,
	// for example "wa:<phone_number_id>:<wa_id>".
	ExternalID string
}

// Ticket is a helpdesk ticket as the bridge sees it.
type Ticket struct {
	// ID is the helpdesk's ticket id.
	ID string
	// Status is the normalized status.
	Status Status
	// URL is the agent-facing link to the ticket.
	URL string
}

// Status is a normalized ticket status.
type Status string

// The normalized ticket statuses. Each connector maps its own statuses onto
// these four.
const (
	// StatusOpen: agents have work to do (Zendesk new/open).
	StatusOpen Status = "open"
	// StatusPending: waiting on the customer or a third party (Zendesk
	// pending/hold).
	StatusPending Status = "pending"
	// StatusSolved: resolved, but the customer may still reopen it.
	StatusSolved Status = "solved"
	// StatusClosed: final; a new message needs a new (follow-up) ticket.
	StatusClosed Status = "closed"
)

// IsResolved reports whether the ticket is solved or closed, that is whether
// the next customer message reopens it or starts a new ticket.
func (s Status) IsResolved() bool { return s == StatusSolved || s == StatusClosed }

// Valid reports whether s is one of the four normalized statuses.
func (s Status) Valid() bool {
	switch s {
	case StatusOpen, StatusPending, StatusSolved, StatusClosed:
		return true
	}
	return false
}

// Connector is the contract every helpdesk connector implements.
type Connector interface {
	// Kind returns the registered kind, for example "zendesk".
	Kind() string

	// EnsureRequester finds the helpdesk user with exactly this phone number,
	// or creates one, and returns its id. Calling it twice for one phone
	// returns the same id and creates at most one user.
	EnsureRequester(ctx context.Context, r Requester) (requesterID string, err error)

	// CreateTicket creates a ticket whose first comment is t.First, public and
	// authored by the requester. It is idempotent on t.First.Key where the
	// helpdesk allows it: a retry after an uncertain failure returns the
	// ticket created the first time.
	CreateTicket(ctx context.Context, t NewTicket) (ticket Ticket, firstCommentID string, err error)

	// AddMessage posts m as a public comment authored by the requester. On a
	// solved ticket this reopens it where the helpdesk allows it; on a ticket
	// that can no longer change it returns an error wrapping
	// [ErrTicketClosed], and the bridge opens a follow-up ticket instead.
	AddMessage(ctx context.Context, ticketID, requesterID string, m Message) (commentID string, err error)

	// AddNote posts an internal note, visible to agents only.
	AddNote(ctx context.Context, ticketID string, n Note) (commentID string, err error)

	// GetTicket returns the ticket with its normalized status.
	GetTicket(ctx context.Context, ticketID string) (Ticket, error)

	// ParseWebhook authenticates a webhook request and parses it into events.
	// It is pure: no network I/O. It compares signatures in constant time and
	// rejects forged requests and replayed or too old timestamps with an error
	// wrapping [ErrUnauthorized]; a body it cannot understand yields an error
	// wrapping [ErrMalformed]. Event kinds it does not handle are skipped, so
	// the result may be empty. A redelivered request parses to events with
	// the same ids.
	ParseWebhook(h http.Header, body []byte, secret []byte, now time.Time) ([]Event, error)
}

// EventType says what a webhook [Event] reports.
type EventType string

// The event types a connector reports.
const (
	// EventComment: a comment was added to a ticket. Check Public and
	// FromRequester (or use [Event.IsAgentReply]) before sending it to the
	// customer.
	EventComment EventType = "comment"
	// EventTicketStatus: the ticket's status changed to Status.
	EventTicketStatus EventType = "ticket_status"
)

// Event is one thing a helpdesk told us about by webhook or poll.
type Event struct {
	// Type is the kind of event.
	Type EventType
	// EventID is the helpdesk's id for the event, when it has one; it is
	// stable across redeliveries.
	EventID string
	// TicketID is the ticket concerned.
	TicketID string
	// CommentID is the comment's id (comment events). Stable across
	// redeliveries: the bridge deduplicates on it.
	CommentID string
	// AuthorID is the comment author's helpdesk user id (comment events).
	AuthorID string
	// Public is false for internal notes (comment events).
	Public bool
	// FromRequester is true when the author is the requester or another end
	// user rather than an agent: such comments include the ones relaydesk
	// itself posts for the customer, and are never sent back to WhatsApp.
	FromRequester bool
	// Body is the comment text (comment events).
	Body string
	// Attachments are the comment's files. Some helpdesks do not include
	// them in webhooks: see [EventHydrator].
	Attachments []RemoteAttachment
	// Status is the new normalized status (status events), or the ticket's
	// status when the helpdesk reports it along with a comment.
	Status Status
	// At is when the event happened according to the helpdesk.
	At time.Time
	// InReplyTo is the id of the ticket comment an agent's reply answers,
	// where the helpdesk records one (Chatwoot's
	// content_attributes.in_reply_to); the reply then quotes that message on
	// WhatsApp. For a reaction it is the comment reacted to.
	InReplyTo string
	// Reaction marks an agent's reaction to the comment InReplyTo, with the
	// emoji in Body ("" removes the reaction). Only helpdesks where agents
	// react to messages report it (Chatwoot builds that do).
	Reaction bool
}

// IsAgentReply reports whether the event is a public comment written by an
// agent, that is one to deliver to the customer.
func (e Event) IsAgentReply() bool {
	return e.Type == EventComment && e.Public && !e.FromRequester
}

// RemoteAttachment is a file attached to a helpdesk comment.
type RemoteAttachment struct {
	// URL is where the file can be downloaded (see [AttachmentFetcher]).
	URL string
	// Filename is the file's name.
	Filename string
	// ContentType is the MIME type the helpdesk reports.
	ContentType string
	// Size is the length in bytes, or -1 when unknown.
	Size int64
}

// OAuth2Connector is implemented by connectors that can be connected with an
// OAuth2 authorization-code flow.
type OAuth2Connector interface {
	// OAuth2Config returns the client configuration (endpoints, client id and
	// secret, scopes) for the given redirect URL.
	OAuth2Config(redirectURL string) *oauth2.Config
	// PKCE reports whether the helpdesk supports PKCE (S256) on this flow.
	PKCE() bool
}

// WebhookInstaller is implemented by connectors that can create the
// helpdesk-side webhook through the API when a connection is made.
type WebhookInstaller interface {
	// InstallWebhook makes the helpdesk send its events to callbackURL and
	// returns the secret that signs them. Calling it again for the same URL
	// reuses the existing webhook.
	InstallWebhook(ctx context.Context, callbackURL string) (secret []byte, err error)
	// UninstallWebhook removes the webhooks pointing at callbackURL. It is not
	// an error if there are none.
	UninstallWebhook(ctx context.Context, callbackURL string) error
}

// Poller is implemented by connectors of helpdesks without webhooks.
type Poller interface {
	// Poll returns the events after cursor and the cursor to store for the
	// next call. An empty cursor starts from now.
	Poll(ctx context.Context, cursor string) (events []Event, next string, err error)
}

// MessageFinder is implemented by connectors that can look a message up, so
// the bridge can check whether a post whose outcome was uncertain (timeout,
// connection reset) actually landed before posting it again.
type MessageFinder interface {
	// FindMessage looks among the ticket's recent comments for m posted by
	// requesterID and returns its comment id.
	FindMessage(ctx context.Context, ticketID, requesterID string, m Message) (commentID string, found bool, err error)
}

// RequesterEraser is implemented by connectors whose helpdesk API can
// delete a requester for good (a customer's erasure request): the
// requester, and with it what the helpdesk deletes along (Zendesk: the end
// user, permanently). Deleting one already gone is not an error.
type RequesterEraser interface {
	// EraseRequester deletes the requester for good and says what the
	// helpdesk did, in a sentence for the admin.
	EraseRequester(ctx context.Context, requesterID string) (done string, err error)
}

// AttachmentFetcher is implemented by connectors whose attachment URLs need
// the connection's credentials to download.
type AttachmentFetcher interface {
	// OpenAttachment downloads a file attached to a helpdesk comment. The
	// caller closes the reader.
	OpenAttachment(ctx context.Context, a RemoteAttachment) (rc io.ReadCloser, contentType string, err error)
}

// EventHydrator is implemented by connectors whose webhook payloads are thin
// (for example without attachments). The bridge calls it from its send job,
// never from the webhook handler, before delivering an agent reply.
type EventHydrator interface {
	// HydrateEvent fills in what the webhook left out (attachments, full
	// body) by reading the comment from the API.
	HydrateEvent(ctx context.Context, e Event) (Event, error)
}

// CommentLinker is implemented by connectors whose agent interface has a
// link to one comment of a ticket, so that a customer's reply quoting an
// earlier message links to it.
type CommentLinker interface {
	// CommentURL is the agent-facing link to comment commentID of ticket
	// ticketID. It does no I/O.
	CommentURL(ticketID, commentID string) string
}

// Delivery statuses of an agent's message on WhatsApp, as a [StatusShower]
// shows them.
const (
	DeliverySent      = "sent"
	DeliveryDelivered = "delivered"
	DeliveryRead      = "read"
)

// StatusUpdate is the latest WhatsApp status of the agent's messages on a
// ticket.
type StatusUpdate struct {
	// TicketID is the ticket.
	TicketID string
	// CommentID is the agent's comment the status is about (the latest one
	// sent); "" when the message had no comment (a re-engagement template).
	CommentID string
	// Status is DeliverySent, DeliveryDelivered or DeliveryRead.
	Status string
	// Previous is the status shown before ("" for none), so a tag can be
	// replaced rather than added.
	Previous string
	// Native asks for the helpdesk's own message status where it has one;
	// false, or a helpdesk without one, shows a ticket tag
	// (whatsapp-<status>) instead.
	Native bool
}

// StatusTag is the ticket tag that shows a delivery status, for example
// "whatsapp-read".
func StatusTag(status string) string { return "whatsapp-" + status }

// StatusShower is implemented by connectors that can show agents the
// delivery status of their messages without adding a comment: a message
// status where the helpdesk has one, otherwise a ticket tag that replaces
// the previous status's tag.
type StatusShower interface {
	// ShowStatus shows u on the ticket. Showing the same status again
	// changes nothing visible.
	ShowStatus(ctx context.Context, u StatusUpdate) error
}

// Tester is implemented by connectors that can check their credentials with
// one cheap authenticated call (the admin page's "test connection" button).
type Tester interface {
	// Test returns nil when the helpdesk accepts the credentials.
	Test(ctx context.Context) error
}

// StatusTags are the tags of every delivery status, for a shower to remove
// all but the current one.
func StatusTags() []string {
	return []string{StatusTag(DeliverySent), StatusTag(DeliveryDelivered), StatusTag(DeliveryRead)}
}

// ValidDelivery reports whether s is a status a [StatusShower] shows.
func ValidDelivery(s string) bool {
	return s == DeliverySent || s == DeliveryDelivered || s == DeliveryRead
}
