// Package connectortest is the conformance suite every connector runs
// against a fake of its helpdesk: [Run] with a [Harness].
//
// A connector package provides a fake server speaking its helpdesk's wire
// format (checking every request it receives) that implements [Fake], and
// calls Run from its tests:
//
//	func TestConformance(t *testing.T) {
//		connectortest.Run(t, connectortest.Harness{New: newHarness})
//	}
package connectortest

import (
	"net/http"
	"testing"
	"time"

	"github.com/relaydesk/relaydesk/connectors"
)

// Failure is a kind of failure a [Fake] injects.
type Failure int

// The failures a fake must be able to inject.
const (
	// FailRateLimited answers 429 with Retry-After: [RateLimitRetryAfter].
	FailRateLimited Failure = iota + 1
	// FailServerError answers 500.
	FailServerError
	// FailTimeout holds the request until the client gives up.
	FailTimeout
	// FailUnauthorized answers 401, as for revoked credentials.
	FailUnauthorized
)

// String returns the failure's name.
func (f Failure) String() string {
	switch f {
	case FailRateLimited:
		return "rate_limited"
	case FailServerError:
		return "server_error"
	case FailTimeout:
		return "timeout"
	case FailUnauthorized:
		return "unauthorized"
	}
	return "unknown"
}

// RateLimitRetryAfter is the Retry-After a fake sends with FailRateLimited.
const RateLimitRetryAfter = 7 * time.Second

// User is a helpdesk user as the fake holds it.
type User struct {
	ID    string
	Name  string
	Phone string
	// ExternalID is the helpdesk's external identifier of the user
	// (Zendesk external_id, Freshdesk unique_external_id, Zammad login,
	// Chatwoot identifier, RT user name), where relaydesk keys a
	// requester without a phone.
	ExternalID string
}

// Ticket is a ticket as the fake holds it.
type Ticket struct {
	ID          string
	RequesterID string
	Subject     string
	Status      connectors.Status
	Tags        []string
	ExternalID  string
	// FollowupOf is the id of the ticket this one follows up, if linked.
	FollowupOf string
}

// Comment is a ticket comment as the fake holds it.
type Comment struct {
	ID          string
	AuthorID    string
	Body        string
	Public      bool
	Attachments []File
}

// File is an attachment's content as the fake holds it.
type File struct {
	Filename    string
	ContentType string
	Data        []byte
}

// Delivery is a webhook request the helpdesk would send.
type Delivery struct {
	Header http.Header
	Body   []byte
	// At is the time the delivery was signed; pass it as ParseWebhook's now.
	At time.Time
}

// Fake is what the suite needs from a helpdesk fake. Implementations must be
// safe for concurrent use.
type Fake interface {
	// Users returns every user, agents included.
	Users() []User
	// SeedUser creates an end user the way an agent would in the helpdesk UI
	// (no external id) and returns its id.
	SeedUser(name, phone string) string
	// Tickets returns every ticket in creation order.
	Tickets() []Ticket
	// Comments returns a ticket's comments in order.
	Comments(ticketID string) []Comment

	// SetStatus changes a ticket's status as an agent would and returns the
	// status-change webhook delivery.
	SetStatus(ticketID string, s connectors.Status) Delivery
	// AgentReply adds a public agent comment and returns its id.
	AgentReply(ticketID, body string, files ...File) (commentID string)
	// AgentNote adds an internal agent note and returns its id.
	AgentNote(ticketID, body string) (commentID string)
	// CommentDelivery returns the comment-added webhook delivery for an
	// existing comment, signed now.
	CommentDelivery(ticketID, commentID string) Delivery
	// Redeliver returns d with the same body, signed again at a later time,
	// as the helpdesk does when it retries a delivery.
	Redeliver(d Delivery) Delivery
	// Sign returns the headers that authenticate body at time at.
	Sign(body []byte, at time.Time) http.Header
	// WebhookSecret returns the secret that signs deliveries.
	WebhookSecret() []byte

	// FailNext makes the next n API requests fail with f.
	FailNext(n int, f Failure)
}

// Harness connects the suite to one connector and its fake.
type Harness struct {
	// New builds a connector pointing at a fresh fake, using hc as its HTTP
	// client, and registers any cleanup on t.
	New func(t *testing.T, hc *http.Client) (connectors.Connector, Fake)
	// Secrets are the credential values the connector is given: they must
	// never appear in an error message.
	Secrets []string
}
