package freshdesk

import (
	"bytes"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/relaydesk/relaydesk/connectors"
)

// ParseWebhook implements connectors.Connector for the optional automation
// rule described in [Description].WebhookHelp.
//
// Freshdesk signs nothing, so the request is authenticated by the shared
// secret alone: the [WebhookSecretHeader] header, or the password of HTTP
// Basic authentication ("Requires authentication" in the rule), compared
// with the connection's secret in constant time. There is no timestamp to
// check: a replayed request only repeats a status the bridge already
// stored. The body is {"relaydesk": 1, "ticket_id": "...", "status": "..."}
// and yields one status event; agent replies come by polling, because an
// automation rule's placeholders carry no conversation id to deduplicate
// on. A body without "relaydesk": 1 yields no events.
func (c *Client) ParseWebhook(h http.Header, body []byte, secret []byte, now time.Time) ([]connectors.Event, error) {
	if len(secret) == 0 {
		return nil, fmt.Errorf("%w: no webhook secret configured", connectors.ErrUnauthorized)
	}
	got := []byte(strings.TrimSpace(h.Get(WebhookSecretHeader)))
	if len(got) == 0 {
		r := http.Request{Header: h}
		if _, pw, ok := r.BasicAuth(); ok {
			got = []byte(pw)
		}
	}
	if len(got) == 0 {
		return nil, fmt.Errorf("%w: no %s header or Basic authentication", connectors.ErrUnauthorized, WebhookSecretHeader)
	}
	// Comparing digests keeps the comparison constant-time whatever the
	// lengths.
	gs, ws := sha256.Sum256(got), sha256.Sum256(secret)
	if subtle.ConstantTimeCompare(gs[:], ws[:]) != 1 {
		return nil, fmt.Errorf("%w: wrong webhook secret", connectors.ErrUnauthorized)
	}
	var p struct {
		Relaydesk json.Number `json:"relaydesk"`
		Status    string      `json:"status"`
	}
	var raw map[string]json.RawMessage
	if err := json.Unmarshal(body, &raw); err != nil {
		return nil, fmt.Errorf("%w: %v", connectors.ErrMalformed, err)
	}
	if err := json.Unmarshal(body, &p); err != nil {
		return nil, fmt.Errorf("%w: %v", connectors.ErrMalformed, err)
	}
	if p.Relaydesk.String() != "1" {
		return nil, nil
	}
	id, err := flexID(raw["ticket_id"])
	if err != nil {
		return nil, fmt.Errorf("%w: ticket_id: %v", connectors.ErrMalformed, err)
	}
	if strings.TrimSpace(p.Status) == "" {
		return nil, fmt.Errorf("%w: no status", connectors.ErrMalformed)
	}
	st := normalizeName(p.Status)
	return []connectors.Event{{
		Type:     connectors.EventTicketStatus,
		EventID:  "webhook-status:" + id + ":" + strings.ToLower(strings.TrimSpace(p.Status)),
		TicketID: id,
		Status:   st,
		At:       now,
	}}, nil
}

// flexID reads an id sent as a JSON string or number.
func flexID(b json.RawMessage) (string, error) {
	b = bytes.TrimSpace(b)
	if len(b) == 0 || string(b) == "null" {
		return "", fmt.Errorf("missing")
	}
	s := string(b)
	if b[0] == '"' {
		if err := json.Unmarshal(b, &s); err != nil {
			return "", err
		}
	}
	s = strings.TrimSpace(s)
	if n, err := strconv.ParseInt(s, 10, 64); err != nil || n <= 0 {
		return "", fmt.Errorf("%q is not an id", s)
	}
	return s, nil
}
