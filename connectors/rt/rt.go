// Package rt is the relaydesk connector for Request Tracker 5 (REST2 at
// /REST/2.0/, plus RT's mail gateway).
//
// Customers are unprivileged RT users. relaydesk looks a customer up by its
// own user name "wa+<digits>@whatsapp.invalid", then by that email address
// (a user an agent made or edited), and otherwise creates the user with
// that name and address and the number as mobile phone. RT 5.0's REST2
// cannot search users by phone number (MobilePhone is not a searchable
// field), so the address is the key.
//
// Customer messages are posted through RT's mail gateway
// (/REST/1.0/NoAuth/mail-gateway, what rt-mailgate uses) as an email from
// the customer's address, because everything posted through REST2 is
// recorded as written by the API user: this way the first message creates
// the ticket with the customer as requestor and creator, later ones are the
// customer's correspondence on it (RT's usual "Correspondence added by"
// the requestor), RT's own scrips treat them like customer email, and
// agents' replies are simply correspondence by a privileged user. Every
// message carries a Message-ID derived from the queue and its idempotency
// key, and RT records it: before posting, and to learn the new transaction, the
// connector searches attachments by MessageId, which makes ticket creation
// and messages idempotent. Internal notes are REST2 comments by the API
// user; tags, the chat id and the follow-up link are set through REST2
// after creation (ticket custom fields and a RefersTo link).
//
// RT sends no webhooks: agent replies, comments and status changes are
// found by polling transactions newer than a stored transaction id
// ([Client.Poll]), one search for all tickets.
package rt

import (
	"errors"
	"net/http"
	"sync"
	"time"

	"github.com/relaydesk/relaydesk/connectors"
	"github.com/relaydesk/relaydesk/connectors/internal/httpapi"
	"github.com/relaydesk/relaydesk/connectors/internal/keylock"
)

// Kind is the connector kind.
const Kind = "rt"

// Settings and credentials keys.
const (
	SettingURL             = "url"
	SettingQueue           = "queue"
	SettingMailGatewayURL  = "mail_gateway_url"
	SettingExternalIDField = "external_id_field"
	SettingTagsField       = "tags_field"
	SettingPollInterval    = connectors.SettingPollInterval
	CredentialToken        = "token"
	CredentialUsername     = "username"
	CredentialPassword     = "password"
)

// DefaultPollInterval is the poll interval when the setting is empty.
const DefaultPollInterval = connectors.DefaultPollInterval

// CustomerDomain is the email domain of the addresses relaydesk gives
// customers: .invalid never resolves, so RT's notifications to them go
// nowhere.
const CustomerDomain = "whatsapp.invalid"

// Description describes the Request Tracker connector and its settings.
var Description = connectors.Description{
	Kind:        Kind,
	DisplayName: "Request Tracker",
	AuthMethods: []connectors.AuthMethod{connectors.AuthAPIToken},
	Fields: []connectors.Field{
		{
			Key: SettingURL, Label: "RT address", Type: connectors.FieldURL, Group: connectors.GroupSettings, Required: true, BaseURLFormat: "%s",
			Placeholder: "https://rt.example.com",
			Help:        "RT's web address ($WebURL), without /REST/2.0.",
		},
		{
			Key: SettingQueue, Label: "Queue", Type: connectors.FieldString, Group: connectors.GroupSettings, Required: true,
			Placeholder: "WhatsApp",
			Help:        "Queue new tickets go to. Grant Everyone CreateTicket and ReplyToTicket on it (customer messages come in like email).",
		},
		{
			Key: CredentialToken, Label: "Auth token", Type: connectors.FieldSecret, Group: connectors.GroupCredentials, Secret: true,
			Help: "An auth token of RT's user for relaydesk (Logged in as > Settings > Auth Tokens). Or give a username and password instead.",
		},
		{
			Key: CredentialUsername, Label: "Username", Type: connectors.FieldString, Group: connectors.GroupCredentials,
			Help: "For password (Basic) authentication instead of a token.",
		},
		{
			Key: CredentialPassword, Label: "Password", Type: connectors.FieldSecret, Group: connectors.GroupCredentials, Secret: true,
			Help: "For password (Basic) authentication instead of a token.",
		},
		{
			Key: SettingMailGatewayURL, Label: "Mail gateway URL", Type: connectors.FieldURL, Group: connectors.GroupSettings,
			Placeholder: "https://rt.example.com/REST/1.0/NoAuth/mail-gateway",
			Help:        "Optional: where relaydesk posts customer messages, when RT's mail gateway is reachable elsewhere than under the RT address.",
		},
		{
			Key: SettingExternalIDField, Label: "Chat id custom field", Type: connectors.FieldString, Group: connectors.GroupSettings,
			Placeholder: "WhatsApp ID",
			Help:        "Optional: name of a single-value ticket custom field where relaydesk stores the chat's id.",
		},
		{
			Key: SettingTagsField, Label: "Tags custom field", Type: connectors.FieldString, Group: connectors.GroupSettings,
			Placeholder: "WhatsApp Tags",
			Help:        "Optional: name of a multi-value ticket custom field for the route's tags (RT has no tags of its own).",
		},
		connectors.PollIntervalField("How often relaydesk looks for agent replies and status changes. Default 60."),
	},
	WebhookHelp: "Request Tracker sends no webhooks: relaydesk polls it for agent replies and status changes every " +
		"poll interval, with nothing to set up in RT. Requests to the webhook URL are refused.",
}

func init() {
	connectors.Register(Description, func(cfg connectors.Config) (connectors.Connector, error) { return New(cfg) })
}

// PollInterval returns the poll interval the settings ask for (see
// [connectors.PollInterval]).
func PollInterval(settings map[string]any) time.Duration { return connectors.PollInterval(settings) }

// Client is a Request Tracker connector. It is safe for concurrent use.
type Client struct {
	name       string
	site       httpapi.Site // the account's address and API client
	gateway    string       // mail gateway URL
	queue      string
	externalCF string
	tagsCF     string

	phoneLocks keylock.Map
	users      sync.Map // user name -> userInfo
}

// Compile-time checks of the capabilities Client implements.
var (
	_ connectors.Connector         = (*Client)(nil)
	_ connectors.Poller            = (*Client)(nil)
	_ connectors.MessageFinder     = (*Client)(nil)
	_ connectors.AttachmentFetcher = (*Client)(nil)
	_ connectors.Tester            = (*Client)(nil)
)

// New builds a Request Tracker connector from cfg after validating it
// against [Description]. It does no network I/O.
func New(cfg connectors.Config) (*Client, error) {
	base, err := httpapi.BaseURL(Description, cfg, connectors.AsString(cfg.Settings[SettingURL]),
		"URL must be an absolute http(s) URL without query or credentials")
	if err != nil {
		return nil, err
	}
	token := cfg.Credentials[CredentialToken]
	user, pass := cfg.Credentials[CredentialUsername], cfg.Credentials[CredentialPassword]
	if token == "" && (user == "" || pass == "") {
		return nil, errors.New("rt: give an auth token, or a username and password")
	}
	c := &Client{
		name:       cfg.Name,
		gateway:    connectors.AsString(cfg.Settings[SettingMailGatewayURL]),
		queue:      connectors.AsString(cfg.Settings[SettingQueue]),
		externalCF: connectors.AsString(cfg.Settings[SettingExternalIDField]),
		tagsCF:     connectors.AsString(cfg.Settings[SettingTagsField]),
	}
	if c.gateway == "" {
		c.gateway = base.String() + "/REST/1.0/NoAuth/mail-gateway"
	}
	// Credentials only ever go to RT's REST2 API on its own host; the mail
	// gateway takes none.
	c.site = httpapi.NewSite(base, httpapi.Client{Name: Kind, MaxResponse: maxResponse, Error: apiError}, cfg.HTTPClient, 30*time.Second, base.Path+"/REST/2.0/", func(next http.RoundTripper) http.RoundTripper {
		// RT's token authentication ("Authorization: token ..."), or Basic.
		if token != "" {
			return httpapi.SetHeader(next, "Authorization", "token "+token)
		}
		return httpapi.BasicAuth(next, user, pass)
	})
	return c, nil
}

// Kind implements connectors.Connector.
func (c *Client) Kind() string { return Kind }

// ticketURL is the agent-facing link to a ticket.
func (c *Client) ticketURL(id string) string {
	return c.site.Base.String() + "/Ticket/Display.html?id=" + id
}
