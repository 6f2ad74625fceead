// Package zammad is the relaydesk connector for Zammad (REST API v1,
// self-hosted or hosted).
//
// # Model
//
// The connector authenticates with a Zammad access token ("Authorization:
// Token token=..."). Zammad is also an OAuth2 provider (Doorkeeper), but the
// connector does not offer it: its tokens carry no scopes (they act with
// every permission of the user), the application must still be registered by
// hand in the admin interface, and the authorization flow only returns to
// the client when the user already has a Zammad session (zammad/zammad#4820,
// open). A token restricted to the permissions below is the safer choice.
//
// Customers are Zammad users found by phone or mobile number through the
// user search (Elasticsearch query syntax), or by the login
// "whatsapp-<digits>" relaydesk gives the customers it creates (a plain
// term Zammad's database search finds too, when there is no
// Elasticsearch); otherwise a customer is created with the number as mobile
// and that login. Zammad has no unique external id for users and renames
// clashing logins, so creations are serialized per number within a replica
// and a newly created customer is remembered for a while (the search index
// lags behind); two replicas racing on a brand-new number may still create
// two customers, which an agent can merge. Without Elasticsearch, customers
// that agents entered by hand are not found by number.
//
// A ticket is a Zammad ticket in the configured group, tagged "relaydesk"
// (the webhook triggers only fire for tickets with that tag, so other
// tickets' replies never leave Zammad). Customer messages are articles the
// API user creates on the customer's behalf, as Zammad documents for an
// agent recording an inbound call: type "phone", sender "Customer",
// internal false, origin_by_id the customer. Zammad's own article types for
// messaging channels ("whatsapp message", "sms", ...) would make Zammad try
// to deliver agent replies itself. Internal notes are "note" articles with
// internal true. The first message's key (the WhatsApp message id) and the
// external id are kept in the ticket's preferences ("relaydesk"), which is
// how a retried CreateTicket finds the ticket a failed attempt created (in
// this replica's memory, or through the ticket search, which needs
// Elasticsearch); a follow-up ticket is linked ("normal" link) to the
// previous one.
//
// Attachments go inside the article as base64 (Zammad's REST API has no
// separate upload). The JSON body is encoded on the fly while the files are
// read, so nothing is buffered, and it has an exact Content-Length when the
// file sizes are known. Zammad's reverse proxy limits request bodies
// (client_max_body_size 50M in Zammad's nginx configuration): the
// max_upload_mb setting (default 50) bounds the encoded request, so a single
// message can carry about three quarters of it in files; a larger message
// fails with a permanent error instead of a failed upload.
//
// # Statuses
//
// Zammad states map by their state type:
//
//	new, open                       -> open
//	pending reminder, pending close -> pending
//	closed                          -> solved, or closed when the ticket's group
//	                                   refuses follow-ups ("follow_up_possible":
//	                                   "new_ticket", or past its reopen time)
//	merged, removed                 -> closed
//
// A closed Zammad ticket takes a customer's follow-up by default, which is
// what the normalized "solved" means; the group setting that refuses
// follow-ups is what makes it final. A customer message on a pending or
// closed (but reopenable) ticket sets it back to open, as a customer's email
// reply does.
//
// # Webhooks
//
// [Client.InstallWebhook] creates a webhook (signed with an HMAC-SHA1
// signature token) and two triggers that call it for tickets tagged
// "relaydesk": one when an agent adds a public article, one when the state
// changes. Zammad sends its default payload (the ticket and the article) with
// X-Hub-Signature: sha1=<hex HMAC-SHA1 of the body>, which
// [Client.ParseWebhook] verifies in constant time.
//
// Zammad webhooks carry no signed timestamp. ParseWebhook bounds replays
// with the newest time inside the signed payload (the ticket's updated_at,
// the article's created_at and updated_at) and rejects requests whose
// payload is more than [MaxWebhookAge] old or ahead: Zammad retries a failed
// delivery four times over about two minutes, seven at worst, so that covers
// its retries. Within that window a captured request can be replayed:
// comment events are then harmless because the bridge deduplicates agent
// replies on the article id, and a replayed status event only restates a
// recent status.
//
// The token needs the permissions ticket.agent (in the configured group),
// admin.webhook and admin.trigger to install the webhook (or none of the
// admin ones when the webhook is set up by hand), and optionally admin.group
// to read the groups' follow-up settings (without it, closed tickets count
// as solved).
package zammad

import (
	"errors"
	"fmt"
	"net/http"
	"sync"
	"time"

	"github.com/relaydesk/relaydesk/connectors"
	"github.com/relaydesk/relaydesk/connectors/internal/httpapi"
	"github.com/relaydesk/relaydesk/connectors/internal/keylock"
)

// Kind is the connector kind.
const Kind = "zammad"

// Settings and credentials keys.
const (
	SettingBaseURL      = "base_url"
	SettingGroup        = "group"
	SettingMaxUploadMB  = "max_upload_mb"
	CredentialAPIToken  = "api_token"
	defaultMaxUploadMB  = 50
	defaultGroup        = "Users"
	maxAllowedUploadMB  = 2048
	recentTTL           = 10 * time.Minute
	policyCacheDuration = 5 * time.Minute
)

// Tag is the tag relaydesk puts on its tickets; the webhook triggers only
// fire for tickets that have it.
const Tag = "relaydesk"

// Description describes the Zammad connector and its settings form.
var Description = connectors.Description{
	Kind:        Kind,
	DisplayName: "Zammad",
	AuthMethods: []connectors.AuthMethod{connectors.AuthAPIToken},
	Fields: []connectors.Field{
		{
			Key: SettingBaseURL, Label: "Zammad URL", Type: connectors.FieldURL, Group: connectors.GroupSettings, Required: true, BaseURLFormat: "%s",
			Placeholder: "https://support.example.com",
			Help:        "The address of your Zammad, as in your browser (without /#...).",
		},
		{
			Key: SettingGroup, Label: "Group", Type: connectors.FieldString, Group: connectors.GroupSettings, Required: true,
			Placeholder: defaultGroup,
			Help:        "Name of the Zammad group new WhatsApp tickets go to. The token's user needs agent access to it.",
		},
		{
			Key: SettingMaxUploadMB, Label: "Upload limit (MB)", Type: connectors.FieldInt, Group: connectors.GroupSettings,
			Placeholder: "50",
			Help: "Largest request your Zammad accepts (client_max_body_size of its web server; 50 in Zammad's default " +
				"configuration). Files travel base64-encoded, so a message can carry about three quarters of this.",
		},
		{
			Key: CredentialAPIToken, Label: "Access token", Type: connectors.FieldSecret, Group: connectors.GroupCredentials, Required: true, Secret: true,
			Help: "Avatar > Profile > Token Access > Create, with the permissions ticket.agent, admin.webhook and admin.trigger " +
				"(and admin.group to honour the groups' follow-up settings). API token access must be enabled in Settings > System > API.",
		},
	},
	WebhookHelp: "relaydesk creates its webhook and two triggers when you connect (the token needs admin.webhook " +
		"and admin.trigger). To do it by hand: in Settings > Manage > Webhook, add a webhook with the endpoint URL shown below, " +
		"request method POST and an HMAC SHA1 signature token of your choice, and paste that token into relaydesk as the webhook " +
		"secret. Then in Settings > Manage > Trigger add two triggers whose action runs this webhook, both with the condition " +
		"\"Tags contains one relaydesk\": the first also with \"Article action is created\", \"Article sender is Agent\" and " +
		"\"Article visibility is public\" (agent replies); the second also with \"State has changed\" (status changes).",
}

func init() {
	connectors.Register(Description, func(cfg connectors.Config) (connectors.Connector, error) { return New(cfg) })
}

// Client is a Zammad connector. It is safe for concurrent use.
type Client struct {
	name    string
	site    httpapi.Site // the account's address and API client
	token   string
	group   string
	maxBody int64
	now     func() time.Time
	locks   keylock.Map

	mu       sync.Mutex
	recent   map[string]recentEntry // phone or ticket key -> id, while the search index catches up
	states   map[int64]string       // state id -> state type
	statesAt time.Time
	groups   map[int64]groupPolicy
}

type recentEntry struct {
	value   string
	expires time.Time
}

// Compile-time checks of the capabilities Client implements.
var (
	_ connectors.Connector         = (*Client)(nil)
	_ connectors.WebhookInstaller  = (*Client)(nil)
	_ connectors.MessageFinder     = (*Client)(nil)
	_ connectors.AttachmentFetcher = (*Client)(nil)
	_ connectors.Tester            = (*Client)(nil)
)

// New builds a Zammad connector from cfg after validating it against
// [Description]. It does no network I/O. cfg.BaseURL, when set, overrides
// the base_url setting.
func New(cfg connectors.Config) (*Client, error) {
	const badURL = "base URL must be an absolute http(s) URL without query, fragment or credentials"
	base, err := httpapi.BaseURL(Description, cfg, connectors.AsString(cfg.Settings[SettingBaseURL]), badURL)
	if err != nil {
		return nil, err
	}
	if base.Fragment != "" {
		return nil, errors.New("zammad: " + badURL)
	}
	maxMB := int64(defaultMaxUploadMB)
	if n, ok := connectors.AsInt(cfg.Settings[SettingMaxUploadMB]); ok {
		if n < 1 || n > maxAllowedUploadMB {
			return nil, fmt.Errorf("zammad: %s must be between 1 and %d", SettingMaxUploadMB, maxAllowedUploadMB)
		}
		maxMB = n
	}
	token := cfg.Credentials[CredentialAPIToken]
	// The token only ever goes to the Zammad host.
	site := httpapi.NewSite(base, httpapi.Client{Name: Kind, Error: apiError}, cfg.HTTPClient, 60*time.Second, "", func(next http.RoundTripper) http.RoundTripper {
		return httpapi.SetHeader(next, "Authorization", "Token token="+token)
	})
	return &Client{
		name: cfg.Name, site: site, token: token, group: connectors.AsString(cfg.Settings[SettingGroup]),
		maxBody: maxMB << 20, now: time.Now, recent: map[string]recentEntry{}, groups: map[int64]groupPolicy{},
	}, nil
}

// Kind implements connectors.Connector.
func (c *Client) Kind() string { return Kind }

// ticketURL is the agent-facing link to a ticket.
func (c *Client) ticketURL(id string) string { return c.site.Base.String() + "/#ticket/zoom/" + id }

// remember keeps key -> value for a while.
func (c *Client) remember(key, value string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	now := c.now()
	for k, e := range c.recent {
		if now.After(e.expires) {
			delete(c.recent, k)
		}
	}
	c.recent[key] = recentEntry{value: value, expires: now.Add(recentTTL)}
}

// recalled returns what remember kept for key, if it has not expired.
func (c *Client) recalled(key string) (string, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	e, ok := c.recent[key]
	if !ok || c.now().After(e.expires) {
		return "", false
	}
	return e.value, true
}

// forget drops what remember kept for key.
func (c *Client) forget(key string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	delete(c.recent, key)
}
