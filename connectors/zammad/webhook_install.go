package zammad

import (
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strings"

	"github.com/relaydesk/relaydesk/connectors"
)

type webhookJSON struct {
	ID       int64  `json:"id"`
	Name     string `json:"name"`
	Endpoint string `json:"endpoint"`
	Active   bool   `json:"active"`
}

type triggerJSON struct {
	ID      int64                      `json:"id"`
	Name    string                     `json:"name"`
	Perform map[string]json.RawMessage `json:"perform"`
}

// webhookID returns the webhook a trigger runs, or 0.
func (t triggerJSON) webhookID() int64 {
	var w struct {
		WebhookID flexInt `json:"webhook_id"`
	}
	if raw, ok := t.Perform["notification.webhook"]; ok && json.Unmarshal(raw, &w) == nil {
		return int64(w.WebhookID)
	}
	return 0
}

// signatureToken derives the webhook's HMAC-SHA1 signature token from the
// API token, the callback URL and a nonce kept in the webhook's name. Zammad
// never returns a stored token: deriving it is what lets a second
// InstallWebhook return the same secret, while a new webhook (after an
// uninstall, to rotate the secret) gets a new nonce and so a new token.
func (c *Client) signatureToken(callbackURL, nonce string) string {
	m := hmac.New(sha256.New, []byte(c.token))
	m.Write([]byte("relaydesk zammad webhook\x00" + callbackURL + "\x00" + nonce))
	return hex.EncodeToString(m.Sum(nil))
}

// webhookName is the name of relaydesk's webhook, ending with its nonce.
func (c *Client) webhookName(nonce string) string {
	name := "relaydesk"
	if c.name != "" {
		name += " (" + c.name + ")"
	}
	return name + " #" + nonce
}

// nonceOf returns the nonce at the end of a webhook name, or "".
func nonceOf(name string) string {
	i := strings.LastIndex(name, " #")
	if i < 0 || len(name)-i-2 != 16 {
		return ""
	}
	if _, err := hex.DecodeString(name[i+2:]); err != nil {
		return ""
	}
	return name[i+2:]
}

// InstallWebhook implements connectors.WebhookInstaller. It creates (or
// updates) a webhook for callbackURL with a signature token, and two
// triggers that run it for tickets tagged "relaydesk": when an agent adds a
// public article, and when the state changes. It returns the signature
// token.
func (c *Client) InstallWebhook(ctx context.Context, callbackURL string) ([]byte, error) {
	if u, err := url.Parse(callbackURL); err != nil || u.Host == "" || (u.Scheme != "https" && u.Scheme != "http") {
		return nil, connectors.PermanentError("zammad: callback URL must be an absolute http(s) URL", nil)
	}
	hooks, err := c.webhooks(ctx)
	if err != nil {
		return nil, err
	}
	var id int64
	var nonce string
	for _, w := range hooks {
		if w.Endpoint == callbackURL {
			id, nonce = w.ID, nonceOf(w.Name)
			break
		}
	}
	if nonce == "" {
		var b [8]byte
		if _, err := rand.Read(b[:]); err != nil {
			return nil, connectors.RetryError("zammad: random", err)
		}
		nonce = hex.EncodeToString(b[:])
	}
	token := c.signatureToken(callbackURL, nonce)
	hook := map[string]any{
		"name": c.webhookName(nonce), "endpoint": callbackURL, "http_method": "post", "signature_token": token,
		"ssl_verify": strings.HasPrefix(callbackURL, "https://"), "customized_payload": false, "active": true,
		"note": "Agent replies and state changes of WhatsApp tickets, for relaydesk. Managed by relaydesk.",
	}
	if id != 0 {
		// The stored token cannot be read back: set it again.
		if err := c.do(ctx, call{method: http.MethodPut, path: "webhooks/" + formatID(id), in: hook}); err != nil {
			return nil, err
		}
	} else {
		var created webhookJSON
		if err := c.do(ctx, call{method: http.MethodPost, path: "webhooks", in: hook, out: &created}); err != nil {
			return nil, err
		}
		if created.ID == 0 {
			return nil, connectors.RetryError("zammad: created webhook has no id", nil)
		}
		id = created.ID
	}
	if err := c.ensureTriggers(ctx, id); err != nil {
		return nil, err
	}
	return []byte(token), nil
}

// triggers are the triggers relaydesk installs for webhook id: name suffix
// and conditions.
func triggers(id int64) map[string]map[string]any {
	tagged := map[string]any{"operator": "contains one", "value": Tag}
	return map[string]map[string]any{
		fmt.Sprintf("relaydesk agent replies (webhook %d)", id): {
			"article.action":    map[string]any{"operator": "is", "value": "create"},
			"article.sender_id": map[string]any{"operator": "is", "value": []int{senderAgentID}},
			"article.internal":  map[string]any{"operator": "is", "value": "false"},
			"ticket.tags":       tagged,
		},
		fmt.Sprintf("relaydesk state changes (webhook %d)", id): {
			"ticket.state_id": map[string]any{"operator": "has changed", "value": []int{}},
			"ticket.tags":     tagged,
		},
	}
}

func (c *Client) ensureTriggers(ctx context.Context, webhookID int64) error {
	var existing []triggerJSON
	if err := c.do(ctx, call{method: http.MethodGet, path: "triggers", out: &existing}); err != nil {
		return err
	}
	for name, condition := range triggers(webhookID) {
		in := map[string]any{
			"name": name, "condition": condition, "activator": "action", "execution_condition_mode": "selective", "active": true,
			"perform": map[string]any{"notification.webhook": map[string]any{"webhook_id": webhookID}},
			"note":    "Managed by relaydesk: sends WhatsApp tickets' agent replies and state changes to relaydesk.",
		}
		var id int64
		for _, t := range existing {
			if t.Name == name {
				id = t.ID
			}
		}
		var err error
		if id != 0 {
			err = c.do(ctx, call{method: http.MethodPut, path: "triggers/" + formatID(id), in: in})
		} else {
			err = c.do(ctx, call{method: http.MethodPost, path: "triggers", in: in})
		}
		if err != nil {
			return err
		}
	}
	return nil
}

// UninstallWebhook implements connectors.WebhookInstaller: it deletes the
// triggers that run the webhooks of callbackURL (Zammad refuses to delete a
// webhook a trigger still references), then the webhooks.
func (c *Client) UninstallWebhook(ctx context.Context, callbackURL string) error {
	hooks, err := c.webhooks(ctx)
	if err != nil {
		return err
	}
	ids := map[int64]bool{}
	for _, w := range hooks {
		if w.Endpoint == callbackURL {
			ids[w.ID] = true
		}
	}
	if len(ids) == 0 {
		return nil
	}
	var existing []triggerJSON
	if err := c.do(ctx, call{method: http.MethodGet, path: "triggers", out: &existing}); err != nil {
		return err
	}
	for _, t := range existing {
		if ids[t.webhookID()] {
			if err := c.do(ctx, call{method: http.MethodDelete, path: "triggers/" + formatID(t.ID)}); err != nil && !connectors.IsNotFound(err) {
				return err
			}
		}
	}
	for id := range ids {
		if err := c.do(ctx, call{method: http.MethodDelete, path: "webhooks/" + formatID(id)}); err != nil && !connectors.IsNotFound(err) {
			return err
		}
	}
	return nil
}

func (c *Client) webhooks(ctx context.Context) ([]webhookJSON, error) {
	var hooks []webhookJSON
	if err := c.do(ctx, call{method: http.MethodGet, path: "webhooks", out: &hooks}); err != nil {
		return nil, err
	}
	return hooks, nil
}
