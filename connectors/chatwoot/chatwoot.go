// Package chatwoot is the relaydesk connector for Chatwoot (Application
// API v1, Chatwoot Cloud or self-hosted).
//
// # Model
//
// relaydesk acts as the channel of an API-channel inbox ("Channel::Api"),
// whose id is a setting. Customers are Chatwoot contacts found by their E.164
// phone number through contacts/search, or created with that phone number
// and the identifier "wa:+<E.164>" (Chatwoot keeps both unique per account,
// so concurrent creations converge on one contact). A contact gets a contact
// inbox (source_id) in the relaydesk inbox when it has none.
//
// A ticket is one conversation in that inbox. Customer messages are
// "incoming" messages, sent as multipart/form-data when they carry files
// (streamed, never buffered), with the WhatsApp message id as the message's
// source_id: the connector reads it back to make CreateTicket and retries
// idempotent ([Client.FindMessage]). Internal notes are private outgoing
// messages. Chatwoot conversations have no subject, external id or link to a
// previous conversation: the connector keeps them in the conversation's
// additional_attributes (relaydesk_subject, relaydesk_external_id,
// relaydesk_previous_conversation_id, relaydesk_key). Tags become labels.
//
// # Statuses
//
// Chatwoot has four conversation statuses and no final one:
//
//	open     -> open
//	pending  -> pending   (waiting for a bot or an agent to pick it up)
//	snoozed  -> pending
//	resolved -> solved
//
// The connector never reports [connectors.StatusClosed]. A new incoming
// message reopens a resolved (or snoozed) conversation, as Chatwoot does for
// every incoming message; the bridge only sends it there within the route's
// reopen window, and otherwise opens a new conversation that records the
// previous one. A deleted conversation answers 404, which the bridge also
// treats as "open a new one".
//
// # Webhooks
//
// Agent replies come from an account webhook subscribed to message_created
// and conversation_status_changed, which [Client.InstallWebhook] creates
// through the webhooks API (an administrator's token is needed). Events of
// other inboxes are skipped. An outgoing, non-private message is an agent
// reply; incoming messages (the ones relaydesk posts) are flagged
// FromRequester; activity and template messages are skipped.
//
// Chatwoot signs webhooks since v4.11.2 (account webhooks; API inbox and
// agent bot webhooks since v4.13.0): X-Chatwoot-Signature is "sha256=" and
// the hex HMAC-SHA256 of "<X-Chatwoot-Timestamp>.<raw body>" keyed with the
// webhook's secret, which the webhooks API returns. [Client.ParseWebhook]
// verifies it in constant time and rejects timestamps more than
// [MaxWebhookAge] away from now.
//
// Older Chatwoot versions send unsigned webhooks and return no secret. For
// them InstallWebhook registers the callback URL with a random "token" query
// parameter and returns that token as the webhook secret. ParseWebhook only
// sees headers and body, so relaydesk's HTTP layer copies the "token" query
// parameter of the callback request into the [HeaderToken] header
// (X-Relaydesk-Token), which ParseWebhook compares with the secret in
// constant time. Such requests carry no timestamp: a captured request can be
// replayed, and the bridge's deduplication on the message id is what makes
// that harmless for agent replies. A signature, when present, always takes
// precedence over the token.
package chatwoot

import (
	"errors"
	"net/http"
	"strconv"
	"time"

	"github.com/relaydesk/relaydesk/connectors"
	"github.com/relaydesk/relaydesk/connectors/internal/httpapi"
	"github.com/relaydesk/relaydesk/connectors/internal/keylock"
)

// Kind is the connector kind.
const Kind = "chatwoot"

// Settings and credentials keys.
const (
	SettingBaseURL      = "base_url"
	SettingAccountID    = "account_id"
	SettingInboxID      = "inbox_id"
	CredentialAPIToken  = "api_access_token"
	defaultChatwootHost = "https://app.chatwoot.com"
)

// Description describes the Chatwoot connector and its settings form.
var Description = connectors.Description{
	Kind:        Kind,
	DisplayName: "Chatwoot",
	AuthMethods: []connectors.AuthMethod{connectors.AuthAPIToken},
	Fields: []connectors.Field{
		{
			Key: SettingBaseURL, Label: "Chatwoot URL", Type: connectors.FieldURL, Group: connectors.GroupSettings, Required: true, BaseURLFormat: "%s",
			Placeholder: defaultChatwootHost,
			Help:        "The address of your Chatwoot: https://app.chatwoot.com for Chatwoot Cloud, or your own host.",
		},
		{
			Key: SettingAccountID, Label: "Account ID", Type: connectors.FieldInt, Group: connectors.GroupSettings, Required: true,
			Placeholder: "1",
			Help:        "The number after /app/accounts/ in the address bar when you are signed in to Chatwoot.",
		},
		{
			Key: SettingInboxID, Label: "API inbox ID", Type: connectors.FieldInt, Group: connectors.GroupSettings, Required: true,
			Placeholder: "7",
			Help: "Create an inbox of type API (Settings > Inboxes > Add Inbox > API; leave its webhook URL empty) and enter " +
				"the number after /inboxes/ in its settings address.",
		},
		{
			Key: CredentialAPIToken, Label: "Access token", Type: connectors.FieldSecret, Group: connectors.GroupCredentials, Required: true, Secret: true,
			Help: "Profile settings > Access Token of an administrator of the account (administrators can create the webhook; " +
				"an agent's token works if you create the webhook by hand). The agent must be a member of the API inbox.",
		},
	},
	WebhookHelp: "relaydesk creates its webhook when you connect (Settings > Integrations > Webhooks, with an administrator's token). " +
		"To do it by hand: add a webhook with the endpoint URL shown below and the events \"Message created\" and " +
		"\"Conversation status changed\", then paste the webhook's secret (shown in its settings on Chatwoot 4.11.2 and later) " +
		"into relaydesk. On older Chatwoot versions, which do not sign webhooks, add \"?token=\" followed by a long random " +
		"value to the endpoint URL instead, and paste that value as the secret.",
}

func init() {
	connectors.Register(Description, func(cfg connectors.Config) (connectors.Connector, error) { return New(cfg) })
}

// Client is a Chatwoot connector. It is safe for concurrent use.
type Client struct {
	name      string
	site      httpapi.Site // the account's address and API client
	accountID int64
	inboxID   int64
	locks     keylock.Map
}

// Compile-time checks of the capabilities Client implements.
var (
	_ connectors.Connector        = (*Client)(nil)
	_ connectors.WebhookInstaller = (*Client)(nil)
	_ connectors.MessageFinder    = (*Client)(nil)
	_ connectors.Tester           = (*Client)(nil)
)

// New builds a Chatwoot connector from cfg after validating it against
// [Description]. It does no network I/O. cfg.BaseURL, when set, overrides
// the base_url setting.
func New(cfg connectors.Config) (*Client, error) {
	base, err := httpapi.BaseURL(Description, cfg, connectors.AsString(cfg.Settings[SettingBaseURL]),
		"base URL must be an absolute http(s) URL without query or credentials")
	if err != nil {
		return nil, err
	}
	account, _ := connectors.AsInt(cfg.Settings[SettingAccountID])
	inbox, _ := connectors.AsInt(cfg.Settings[SettingInboxID])
	if account <= 0 || inbox <= 0 {
		return nil, errors.New("chatwoot: account and inbox ids must be positive")
	}
	// The token only ever goes to the Chatwoot host.
	site := httpapi.NewSite(base, httpapi.Client{Name: Kind, Error: apiError}, cfg.HTTPClient, 30*time.Second, "", func(next http.RoundTripper) http.RoundTripper {
		return httpapi.SetHeader(next, "api_access_token", cfg.Credentials[CredentialAPIToken])
	})
	return &Client{
		name: cfg.Name, site: site, accountID: account, inboxID: inbox,
	}, nil
}

// Kind implements connectors.Connector.
func (c *Client) Kind() string { return Kind }

// accountPath is the API path of an account resource.
func (c *Client) accountPath(rest string) string {
	return "/api/v1/accounts/" + strconv.FormatInt(c.accountID, 10) + "/" + rest
}

// conversationURL is the agent-facing link to a conversation.
func (c *Client) conversationURL(id string) string {
	return c.site.Base.String() + "/app/accounts/" + strconv.FormatInt(c.accountID, 10) + "/conversations/" + id
}
