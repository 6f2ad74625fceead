package zammad

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strings"

	"github.com/relaydesk/relaydesk/connectors"
	"github.com/relaydesk/relaydesk/connectors/internal/httpapi"
)

// EnsureRequester implements connectors.Connector. It searches users whose
// phone or mobile is this number (the search index matches the number's
// digits; the connector keeps exact matches only, the oldest user first),
// then the login "whatsapp-<digits>" it gives its customers, and otherwise
// creates a customer with the number as mobile and that login. Creations are
// serialized per number within this process, and a created customer is
// remembered for a while because the search index only sees it after a
// moment.
//
// A requester without a phone (known by BSUID only) is found and created
// by the login "whatsapp-<bsuid>" (lowercased: Zammad lowercases logins),
// a searchable field, named by its username or profile name.
func (c *Client) EnsureRequester(ctx context.Context, r connectors.Requester) (string, error) {
	if r.Phoneless() {
		return c.ensurePhoneless(ctx, r)
	}
	phone, err := connectors.E164(r.Phone)
	if err != nil {
		return "", err
	}
	defer c.locks.Lock(phone)()
	if id, ok := c.recalled("user:" + phone); ok {
		return id, nil
	}
	// First by number (Elasticsearch query syntax), then by the login
	// relaydesk gives its customers, a plain term that Zammad's database
	// search (without Elasticsearch) also finds.
	digits := phone[1:]
	for _, query := range []string{fmt.Sprintf(`mobile:"%s" OR phone:"%s"`, phone, phone), login(phone)} {
		var found []user
		q := url.Values{"query": {query}, "limit": {"100"}}
		if err := c.do(ctx, call{method: http.MethodGet, path: "users/search", query: q, out: &found}); err != nil {
			return "", err
		}
		var match int64
		for _, u := range found {
			if (connectors.Digits(u.Mobile) == digits || connectors.Digits(u.Phone) == digits) && (match == 0 || u.ID < match) {
				match = u.ID
			}
		}
		if match != 0 {
			return formatID(match), nil
		}
	}
	first, last := splitName(r.Name)
	if first == "" && last == "" {
		first = phone
	}
	in := map[string]any{
		"firstname": first, "lastname": last, "mobile": phone, "login": login(phone), "roles": []string{"Customer"},
		"note": "WhatsApp customer, created by relaydesk.",
	}
	var created user
	if err := c.do(ctx, call{method: http.MethodPost, path: "users", in: in, out: &created}); err != nil {
		return "", err
	}
	id, err := httpapi.CreatedID(Kind, "user", created.ID)
	if err != nil {
		return "", err
	}
	c.remember("user:"+phone, id)
	return id, nil
}

// ensurePhoneless finds the customer with the login of the requester's
// BSUID, or creates it.
func (c *Client) ensurePhoneless(ctx context.Context, r connectors.Requester) (string, error) {
	if _, err := r.BSUIDKey(); err != nil {
		return "", err
	}
	lg := "whatsapp-" + strings.ToLower(r.UserID)
	defer c.locks.Lock(lg)()
	if id, ok := c.recalled("user:" + lg); ok {
		return id, nil
	}
	var found []user
	q := url.Values{"query": {lg}, "limit": {"100"}}
	if err := c.do(ctx, call{method: http.MethodGet, path: "users/search", query: q, out: &found}); err != nil {
		return "", err
	}
	var match int64
	for _, u := range found {
		if strings.EqualFold(u.Login, lg) && (match == 0 || u.ID < match) {
			match = u.ID
		}
	}
	if match != 0 {
		return formatID(match), nil
	}
	first, last := splitName(r.DisplayName())
	in := map[string]any{
		"firstname": first, "lastname": last, "login": lg, "roles": []string{"Customer"},
		"note": "WhatsApp customer without a shared phone number (business-scoped user id " + r.UserID + "), created by relaydesk.",
	}
	var created user
	if err := c.do(ctx, call{method: http.MethodPost, path: "users", in: in, out: &created}); err != nil {
		return "", err
	}
	id, err := httpapi.CreatedID(Kind, "user", created.ID)
	if err != nil {
		return "", err
	}
	c.remember("user:"+lg, id)
	return id, nil
}

// login is the login of the customers relaydesk creates (they have no
// email address, which Zammad would otherwise use).
func login(phone string) string { return "whatsapp-" + phone[1:] }

// splitName splits a profile name into Zammad's first and last name.
func splitName(name string) (string, string) {
	fields := strings.Fields(name)
	switch len(fields) {
	case 0:
		return "", ""
	case 1:
		return fields[0], ""
	}
	return strings.Join(fields[:len(fields)-1], " "), fields[len(fields)-1]
}
