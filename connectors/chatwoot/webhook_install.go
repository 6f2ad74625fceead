package chatwoot

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"net/http"
	"net/url"
	"slices"

	"github.com/relaydesk/relaydesk/connectors"
)

// webhookSubscriptions are the events relaydesk's webhook subscribes to.
var webhookSubscriptions = []string{EventMessageCreated, EventConversationStatusChanged}

type webhookJSON struct {
	ID            int64    `json:"id"`
	Name          string   `json:"name"`
	URL           string   `json:"url"`
	Subscriptions []string `json:"subscriptions"`
	Secret        *string  `json:"secret"`
}

// InstallWebhook implements connectors.WebhookInstaller. It creates an
// account webhook for callbackURL subscribed to message_created and
// conversation_status_changed (or reuses the one already there) and returns
// its signing secret. When the Chatwoot version returns no secret (before
// 4.11.2, unsigned webhooks), the webhook is registered again with a random
// token in its URL's "token" parameter, and that token is the secret.
func (c *Client) InstallWebhook(ctx context.Context, callbackURL string) ([]byte, error) {
	cb, err := url.Parse(callbackURL)
	if err != nil || cb.Host == "" || (cb.Scheme != "https" && cb.Scheme != "http") || cb.Query().Has(QueryToken) {
		return nil, connectors.PermanentError("chatwoot: callback URL must be an absolute http(s) URL without a token parameter", nil)
	}
	hooks, err := c.webhooks(ctx)
	if err != nil {
		return nil, err
	}
	for _, w := range hooks {
		if withoutToken(w.URL) != callbackURL {
			continue
		}
		if !containsAll(w.Subscriptions, webhookSubscriptions) {
			subs := append(slices.Clone(w.Subscriptions), webhookSubscriptions...)
			slices.Sort(subs)
			in := map[string]any{"url": w.URL, "name": w.Name, "subscriptions": slices.Compact(subs)}
			if err := c.do(ctx, call{method: http.MethodPatch, path: c.accountPath("webhooks/" + formatID(w.ID)), in: in}); err != nil {
				return nil, err
			}
		}
		if w.Secret != nil && *w.Secret != "" {
			return []byte(*w.Secret), nil
		}
		if tok := tokenOf(w.URL); tok != "" {
			return []byte(tok), nil
		}
		// Unsigned and without a token: useless, replace it.
		if err := c.deleteWebhook(ctx, w.ID); err != nil {
			return nil, err
		}
	}
	created, err := c.createWebhook(ctx, callbackURL)
	if err != nil {
		return nil, err
	}
	if created.Secret != nil && *created.Secret != "" {
		return []byte(*created.Secret), nil
	}
	// An older Chatwoot: no secret, unsigned deliveries.
	if err := c.deleteWebhook(ctx, created.ID); err != nil {
		return nil, err
	}
	tok, err := randomToken()
	if err != nil {
		return nil, err
	}
	q := cb.Query()
	q.Set(QueryToken, tok)
	cb.RawQuery = q.Encode()
	if _, err := c.createWebhook(ctx, cb.String()); err != nil {
		return nil, err
	}
	return []byte(tok), nil
}

func (c *Client) createWebhook(ctx context.Context, u string) (webhookJSON, error) {
	name := "relaydesk"
	if c.name != "" {
		name += " (" + c.name + ")"
	}
	in := map[string]any{"url": u, "name": name, "subscriptions": webhookSubscriptions}
	var out struct {
		Payload struct {
			Webhook webhookJSON `json:"webhook"`
		} `json:"payload"`
	}
	if err := c.do(ctx, call{method: http.MethodPost, path: c.accountPath("webhooks"), in: in, out: &out}); err != nil {
		return webhookJSON{}, err
	}
	if out.Payload.Webhook.ID == 0 {
		return webhookJSON{}, connectors.RetryError("chatwoot: created webhook has no id", nil)
	}
	return out.Payload.Webhook, nil
}

func (c *Client) deleteWebhook(ctx context.Context, id int64) error {
	err := c.do(ctx, call{method: http.MethodDelete, path: c.accountPath("webhooks/" + formatID(id))})
	if connectors.IsNotFound(err) {
		return nil
	}
	return err
}

// UninstallWebhook implements connectors.WebhookInstaller: it deletes the
// account webhooks pointing at callbackURL, with or without a token.
func (c *Client) UninstallWebhook(ctx context.Context, callbackURL string) error {
	hooks, err := c.webhooks(ctx)
	if err != nil {
		return err
	}
	for _, w := range hooks {
		if withoutToken(w.URL) == callbackURL {
			if err := c.deleteWebhook(ctx, w.ID); err != nil {
				return err
			}
		}
	}
	return nil
}

func (c *Client) webhooks(ctx context.Context) ([]webhookJSON, error) {
	var out struct {
		Payload struct {
			Webhooks []webhookJSON `json:"webhooks"`
		} `json:"payload"`
	}
	if err := c.do(ctx, call{method: http.MethodGet, path: c.accountPath("webhooks"), out: &out}); err != nil {
		return nil, err
	}
	return out.Payload.Webhooks, nil
}

// withoutToken is u without its token query parameter.
func withoutToken(u string) string {
	p, err := url.Parse(u)
	if err != nil {
		return u
	}
	q := p.Query()
	if !q.Has(QueryToken) {
		return u
	}
	q.Del(QueryToken)
	p.RawQuery = q.Encode()
	return p.String()
}

func tokenOf(u string) string {
	p, err := url.Parse(u)
	if err != nil {
		return ""
	}
	return p.Query().Get(QueryToken)
}

func randomToken() (string, error) {
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		return "", connectors.RetryError("chatwoot: random token", err)
	}
	return base64.RawURLEncoding.EncodeToString(b), nil
}

func containsAll(have, want []string) bool {
	for _, w := range want {
		if !slices.Contains(have, w) {
			return false
		}
	}
	return true
}
