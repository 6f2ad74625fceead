// Package zendesk is the relaydesk connector for Zendesk Support (the
// Ticketing API v2).
//
// Customers are Zendesk end users found by exact phone number, or created
// with the external id "wa:+<E.164>" through users/create_or_update, which
// makes creation idempotent. Each WhatsApp message becomes a public comment
// authored by that end user; tickets are created with an Idempotency-Key
// derived from the first message's key, and follow up closed tickets with
// via_followup_source_id. Files go through the Uploads API.
//
// Agent replies come back through a webhook subscribed to Zendesk's ticket
// events zen:event-type:ticket.comment_added and
// zen:event-type:ticket.status_changed, created through the Webhooks API on
// connect ([Client.InstallWebhook]). Event subscriptions were chosen over a
// trigger-connected webhook because their payloads are fixed JSON with the
// comment id, author and visibility (a trigger body is hand-written JSON
// built from placeholders, with no comment id and text that is not escaped
// for JSON), because one API call installs them with no trigger to keep in
// sync with admin edits, and because ticket events are now documented for
// webhooks. Their payloads carry no attachments, so the connector implements
// [connectors.EventHydrator], which reads the comment back from the API.
// Requests are signed with X-Zendesk-Webhook-Signature =
// base64(HMAC-SHA256(secret, timestamp + body)).
package zendesk

import (
	"errors"
	"fmt"
	"net/http"
	"time"

	"golang.org/x/oauth2"

	"github.com/relaydesk/relaydesk/connectors"
	"github.com/relaydesk/relaydesk/connectors/internal/httpapi"
)

// Kind is the connector kind.
const Kind = "zendesk"

// Settings and credentials keys.
const (
	SettingSubdomain       = "subdomain"
	SettingClientID        = "client_id"
	CredentialEmail        = "email"
	CredentialAPIToken     = "api_token"
	CredentialClientSecret = "client_secret"
)

// Description describes the Zendesk connector and its settings form.
var Description = connectors.Description{
	Kind:        Kind,
	DisplayName: "Zendesk",
	AuthMethods: []connectors.AuthMethod{connectors.AuthAPIToken, connectors.AuthOAuth2},
	Fields: []connectors.Field{
		{
			Key: connectors.SettingAuthMethod, Label: "Authentication", Type: connectors.FieldSelect, Group: connectors.GroupSettings,
			Help: "API token is the quickest to set up; OAuth lets an admin grant access without sharing a token.",
			Options: []connectors.Option{
				{Value: string(connectors.AuthAPIToken), Label: "API token"},
				{Value: string(connectors.AuthOAuth2), Label: "OAuth (Zendesk login)"},
			},
		},
		{
			Key: SettingSubdomain, Label: "Subdomain", Type: connectors.FieldString, Group: connectors.GroupSettings, Required: true,
			Placeholder: "yourcompany", Pattern: `[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?`, BaseURLFormat: "https://%s.zendesk.com",
			Help: "The part before .zendesk.com in your Zendesk address. Not needed when the connection has a base URL.",
		},
		{
			Key: CredentialEmail, Label: "Agent email", Type: connectors.FieldEmail, Group: connectors.GroupCredentials, Required: true,
			Placeholder: "admin@yourcompany.com", AuthMethods: []connectors.AuthMethod{connectors.AuthAPIToken},
			Help: "Email of the Zendesk admin the API token belongs to. Internal notes are written as this user.",
		},
		{
			Key: CredentialAPIToken, Label: "API token", Type: connectors.FieldSecret, Group: connectors.GroupCredentials, Required: true, Secret: true,
			AuthMethods: []connectors.AuthMethod{connectors.AuthAPIToken},
			Help:        "Admin Center > Apps and integrations > APIs > Zendesk API: enable token access and add a token.",
		},
		{
			Key: SettingClientID, Label: "OAuth client identifier", Type: connectors.FieldString, Group: connectors.GroupSettings, Required: true,
			AuthMethods: []connectors.AuthMethod{connectors.AuthOAuth2},
			Help:        "Admin Center > Apps and integrations > APIs > OAuth Clients: the client's unique identifier. Add relaydesk's callback URL to its redirect URLs.",
		},
		{
			Key: CredentialClientSecret, Label: "OAuth client secret", Type: connectors.FieldSecret, Group: connectors.GroupCredentials, Required: true, Secret: true,
			AuthMethods: []connectors.AuthMethod{connectors.AuthOAuth2},
			Help:        "Shown once when the OAuth client is created.",
		},
	},
	WebhookHelp: "relaydesk creates its webhook when you connect. To do it by hand: in Admin Center > Apps and integrations > " +
		"Webhooks, create a webhook with the endpoint URL shown below, request method POST, request format JSON, and subscribe " +
		"it to the Zendesk events \"Ticket comment added\" (zen:event-type:ticket.comment_added) and \"Ticket status changed\" " +
		"(zen:event-type:ticket.status_changed). Then reveal its signing secret and paste it into relaydesk.",
}

func init() {
	connectors.Register(Description, func(cfg connectors.Config) (connectors.Connector, error) { return New(cfg) })
}

// Client is a Zendesk connector. It is safe for concurrent use.
type Client struct {
	name         string
	site         httpapi.Site // the account's address and API client
	method       connectors.AuthMethod
	clientID     string
	clientSecret string
}

// Compile-time checks of the capabilities Client implements.
var (
	_ connectors.Connector         = (*Client)(nil)
	_ connectors.OAuth2Connector   = (*Client)(nil)
	_ connectors.WebhookInstaller  = (*Client)(nil)
	_ connectors.MessageFinder     = (*Client)(nil)
	_ connectors.AttachmentFetcher = (*Client)(nil)
	_ connectors.EventHydrator     = (*Client)(nil)
	_ connectors.Tester            = (*Client)(nil)
)

// New builds a Zendesk connector from cfg after validating it against
// [Description]. The account's address is cfg.BaseURL, or
// https://<subdomain>.zendesk.com when there is no base URL. It does no
// network I/O.
func New(cfg connectors.Config) (*Client, error) {
	if err := Description.ValidateConnection(cfg.BaseURL, cfg.Settings, cfg.Credentials); err != nil {
		return nil, fmt.Errorf("%s: %w", Kind, err)
	}
	base, ok := httpapi.ParseBaseURL(Description.BaseURL(cfg.BaseURL, cfg.Settings))
	if !ok {
		return nil, errors.New("zendesk: base URL must be an absolute http(s) URL without query or credentials")
	}
	c := &Client{
		name:         cfg.Name,
		method:       Description.AuthMethod(cfg.Settings),
		clientID:     connectors.AsString(cfg.Settings[SettingClientID]),
		clientSecret: cfg.Credentials[CredentialClientSecret],
	}
	// Credentials only ever go to the account's own host: attachment URLs and
	// redirects may point elsewhere.
	c.site = httpapi.NewSite(base, httpapi.Client{Name: Kind, Error: apiError}, cfg.HTTPClient, 30*time.Second, "", func(next http.RoundTripper) http.RoundTripper {
		if c.method != connectors.AuthOAuth2 {
			return httpapi.BasicAuth(next, cfg.Credentials[CredentialEmail]+"/token", cfg.Credentials[CredentialAPIToken])
		}
		if cfg.TokenSource == nil {
			return failingTransport{connectors.AuthError("zendesk: not connected: complete the OAuth authorization first", nil)}
		}
		return &oauth2.Transport{Source: oauth2.ReuseTokenSource(nil, cfg.TokenSource), Base: next}
	})
	return c, nil
}

// Kind implements connectors.Connector.
func (c *Client) Kind() string { return Kind }

// OAuth2Config implements connectors.OAuth2Connector. Zendesk's token
// endpoint takes the client credentials in the request body.
func (c *Client) OAuth2Config(redirectURL string) *oauth2.Config {
	return &oauth2.Config{
		ClientID:     c.clientID,
		ClientSecret: c.clientSecret,
		RedirectURL:  redirectURL,
		Scopes:       []string{"read", "write"},
		Endpoint: oauth2.Endpoint{
			AuthURL:   c.site.Base.String() + "/oauth/authorizations/new",
			TokenURL:  c.site.Base.String() + "/oauth/tokens",
			AuthStyle: oauth2.AuthStyleInParams,
		},
	}
}

// PKCE implements connectors.OAuth2Connector: Zendesk supports S256 PKCE for
// the Ticketing API.
func (c *Client) PKCE() bool { return true }

// ticketURL is the agent-facing link to a ticket.
func (c *Client) ticketURL(id string) string { return c.site.Base.String() + "/agent/tickets/" + id }

// failingTransport fails every request with err.
type failingTransport struct{ err error }

// RoundTrip implements http.RoundTripper.
func (f failingTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	if req.Body != nil {
		req.Body.Close()
	}
	return nil, f.err
}
