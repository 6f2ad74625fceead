// Package freshdesk is the relaydesk connector for Freshdesk (API v2).
//
// Customers are Freshdesk contacts found by exact phone or mobile number
// (GET /api/v2/contacts?phone=, ?mobile=) or created with the number as
// their phone. A WhatsApp chat becomes a ticket whose description is the
// customer's first message; later messages are incoming public notes
// authored by the contact (POST /api/v2/tickets/{id}/notes with incoming
// true, private false, user_id the contact), which is how Freshdesk shows a
// requester's follow-up. Files go as multipart/form-data attachments[]
// parts, streamed through an io.Pipe.
//
// Freshdesk has no API to subscribe to ticket events and signs nothing it
// sends, so agent replies are found by polling ([Client.Poll]): tickets
// updated since a stored cursor, then those tickets' conversations. An
// optional hand-made automation rule can also POST status changes to
// relaydesk with a shared secret ([Client.ParseWebhook], see
// [Description].WebhookHelp).
//
// Freshdesk has no idempotency keys: ticket creation looks for a ticket of
// the requester whose description is the same message before creating one.
package freshdesk

import (
	"errors"
	"net/http"
	"time"

	"github.com/relaydesk/relaydesk/connectors"
	"github.com/relaydesk/relaydesk/connectors/internal/httpapi"
	"github.com/relaydesk/relaydesk/connectors/internal/keylock"
)

// Kind is the connector kind.
const Kind = "freshdesk"

// Settings and credentials keys.
const (
	SettingDomain          = "domain"
	SettingSource          = "ticket_source"
	SettingPriority        = "ticket_priority"
	SettingExternalIDField = "external_id_field"
	SettingPollInterval    = connectors.SettingPollInterval
	CredentialAPIKey       = "api_key"
)

// DefaultPollInterval is the poll interval when the setting is empty.
const DefaultPollInterval = connectors.DefaultPollInterval

// WebhookSecretHeader is the custom header the automation rule sends the
// shared secret in.
const WebhookSecretHeader = "X-Relaydesk-Secret"

// Description describes the Freshdesk connector and its settings form.
var Description = connectors.Description{
	Kind:        Kind,
	DisplayName: "Freshdesk",
	AuthMethods: []connectors.AuthMethod{connectors.AuthAPIToken},
	Fields: []connectors.Field{
		{
			Key: SettingDomain, Label: "Freshdesk domain", Type: connectors.FieldString, Group: connectors.GroupSettings, Required: true, BaseURLFormat: "https://%s.freshdesk.com",
			Placeholder: "yourcompany", Pattern: `[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?`,
			Help: "The part before .freshdesk.com in your helpdesk address.",
		},
		{
			Key: CredentialAPIKey, Label: "API key", Type: connectors.FieldSecret, Group: connectors.GroupCredentials, Required: true, Secret: true,
			Help: "Profile settings > View API key, of an agent who can see and edit the tickets of the WhatsApp group and create contacts. Notes and status changes are made as this agent.",
		},
		{
			Key: SettingSource, Label: "Ticket source", Type: connectors.FieldInt, Group: connectors.GroupSettings,
			Placeholder: "7",
			Help:        "Source id given to new tickets (1 Email, 2 Portal, 3 Phone, 7 Chat, or your account's own id). Default 7 (Chat).",
		},
		{
			Key: SettingPriority, Label: "Ticket priority", Type: connectors.FieldInt, Group: connectors.GroupSettings,
			Placeholder: "1",
			Help:        "Priority of new tickets: 1 Low, 2 Medium, 3 High, 4 Urgent. Default 1.",
		},
		{
			Key: SettingExternalIDField, Label: "WhatsApp id ticket field", Type: connectors.FieldString, Group: connectors.GroupSettings,
			Placeholder: "cf_whatsapp_id", Pattern: `cf_[a-z0-9_]+`,
			Help: "Optional: API name of a single-line text ticket field (Admin > Ticket fields) where relaydesk stores the chat's id.",
		},
		connectors.PollIntervalField("How often relaydesk looks for agent replies. Default 60. Each poll costs at least one API call per updated ticket."),
	},
	WebhookHelp: "Agent replies reach WhatsApp by polling: nothing to set up. Optionally, to learn of status changes at once, " +
		"create an automation rule in Freshdesk (Admin > Workflows > Automations > Ticket updates): event \"Status is changed\", " +
		"any ticket; action \"Trigger webhook\" with request type POST, the callback URL shown below, custom header " +
		"\"" + WebhookSecretHeader + ": <the webhook secret shown below>\" (or, if your plan offers no custom headers, " +
		"\"Requires authentication\" with any username and the secret as password), encoding JSON, content Advanced, and the body " +
		"{\"relaydesk\": 1, \"ticket_id\": \"{{ticket.id}}\", \"status\": \"{{ticket.status}}\"}.",
}

func init() {
	connectors.Register(Description, func(cfg connectors.Config) (connectors.Connector, error) { return New(cfg) })
}

// PollInterval returns the poll interval the settings ask for (see
// [connectors.PollInterval]).
func PollInterval(settings map[string]any) time.Duration { return connectors.PollInterval(settings) }

// Client is a Freshdesk connector. It is safe for concurrent use.
type Client struct {
	name       string
	site       httpapi.Site // the account's address and API client
	source     int64
	priority   int64
	externalCF string

	// phoneLocks serialises EnsureRequester per phone number, since
	// Freshdesk does not promise unique phone numbers.
	phoneLocks keylock.Map

	// rateReserve is how many calls of the per-minute budget a poll leaves
	// for the delivery jobs.
	rateReserve int
}

// Compile-time checks of the capabilities Client implements.
var (
	_ connectors.Connector         = (*Client)(nil)
	_ connectors.Poller            = (*Client)(nil)
	_ connectors.MessageFinder     = (*Client)(nil)
	_ connectors.AttachmentFetcher = (*Client)(nil)
	_ connectors.Tester            = (*Client)(nil)
)

// New builds a Freshdesk connector from cfg after validating it against
// [Description]. It does no network I/O.
func New(cfg connectors.Config) (*Client, error) {
	base, err := httpapi.BaseURL(Description, cfg, "https://"+connectors.AsString(cfg.Settings[SettingDomain])+".freshdesk.com",
		"base URL must be an absolute http(s) URL without query or credentials")
	if err != nil {
		return nil, err
	}
	c := &Client{
		name:        cfg.Name,
		source:      intSetting(cfg.Settings, SettingSource, 7),
		priority:    intSetting(cfg.Settings, SettingPriority, 1),
		externalCF:  connectors.AsString(cfg.Settings[SettingExternalIDField]),
		rateReserve: 10,
	}
	if c.priority < 1 || c.priority > 4 {
		return nil, errors.New("freshdesk: ticket priority must be 1 to 4")
	}
	// The API key only ever goes to the account's own host: attachment
	// URLs point at a file store elsewhere.
	c.site = httpapi.NewSite(base, httpapi.Client{Name: Kind, Error: apiError}, cfg.HTTPClient, 30*time.Second, "", func(next http.RoundTripper) http.RoundTripper {
		// Freshdesk's API key authentication: HTTP Basic with the key as
		// user name and "X" as password.
		return httpapi.BasicAuth(next, cfg.Credentials[CredentialAPIKey], "X")
	})
	return c, nil
}

func intSetting(settings map[string]any, key string, def int64) int64 {
	if n, ok := connectors.AsInt(settings[key]); ok && n > 0 {
		return n
	}
	return def
}

// Kind implements connectors.Connector.
func (c *Client) Kind() string { return Kind }

// ticketURL is the agent-facing link to a ticket.
func (c *Client) ticketURL(id string) string { return c.site.Base.String() + "/a/tickets/" + id }
