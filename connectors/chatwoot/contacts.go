package chatwoot

import (
	"context"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/relaydesk/relaydesk/connectors"
	"github.com/relaydesk/relaydesk/connectors/internal/httpapi"
)

// contactsPerPage is the contacts search page size (RESULTS_PER_PAGE in
// Chatwoot's contacts controller).
const contactsPerPage = 15

// maxPages bounds the pages read by any lookup.
const maxPages = 5

// EnsureRequester implements connectors.Connector. It searches contacts for
// the exact E.164 number (or the identifier "wa:+<E.164>" relaydesk gives
// the contacts it creates) and otherwise creates the contact in the API
// inbox. Chatwoot keeps phone numbers and identifiers unique per account, so
// when another replica created the contact first the creation is refused and
// the search that follows finds it.
//
// A requester without a phone (known by BSUID only) is found and created
// by the identifier "wa:<BSUID>" alone, named by its username or profile
// name.
func (c *Client) EnsureRequester(ctx context.Context, r connectors.Requester) (string, error) {
	if r.Phoneless() {
		return c.ensurePhoneless(ctx, r)
	}
	phone, err := connectors.E164(r.Phone)
	if err != nil {
		return "", err
	}
	defer c.locks.Lock(phone)()
	if id, ok, err := c.findContact(ctx, phone); err != nil || ok {
		return id, err
	}
	name := strings.TrimSpace(r.Name)
	if name == "" {
		name = phone
	}
	in := map[string]any{"inbox_id": c.inboxID, "name": name, "phone_number": phone, "identifier": identifier(phone)}
	var out struct {
		Payload struct {
			Contact contact `json:"contact"`
		} `json:"payload"`
	}
	err = c.do(ctx, call{method: http.MethodPost, path: c.accountPath("contacts"), in: in, out: &out})
	if isInvalidRecord(err) {
		// Taken meanwhile (phone number or identifier): use that contact.
		if id, ok, ferr := c.findContact(ctx, phone); ferr != nil || ok {
			return id, ferr
		}
		return "", err
	}
	if err != nil {
		return "", err
	}
	return httpapi.CreatedID(Kind, "contact", out.Payload.Contact.ID)
}

// ensurePhoneless finds the contact with the requester's BSUID
// identifier, or creates it in the API inbox.
func (c *Client) ensurePhoneless(ctx context.Context, r connectors.Requester) (string, error) {
	ident, err := r.BSUIDKey()
	if err != nil {
		return "", err
	}
	defer c.locks.Lock(ident)()
	if id, ok, err := c.findContactBy(ctx, r.UserID, func(ct contact) bool { return ct.Identifier == ident }); err != nil || ok {
		return id, err
	}
	in := map[string]any{"inbox_id": c.inboxID, "name": r.DisplayName(), "identifier": ident}
	var out struct {
		Payload struct {
			Contact contact `json:"contact"`
		} `json:"payload"`
	}
	err = c.do(ctx, call{method: http.MethodPost, path: c.accountPath("contacts"), in: in, out: &out})
	if isInvalidRecord(err) {
		// Taken meanwhile: use that contact.
		if id, ok, ferr := c.findContactBy(ctx, r.UserID, func(ct contact) bool { return ct.Identifier == ident }); ferr != nil || ok {
			return id, ferr
		}
		return "", err
	}
	if err != nil {
		return "", err
	}
	return httpapi.CreatedID(Kind, "contact", out.Payload.Contact.ID)
}

// identifier is the external identifier of the contacts relaydesk creates.
func identifier(phone string) string { return "wa:" + phone }

// findContact searches contacts and keeps the ones with exactly this number
// or identifier; the search itself matches substrings of names, emails,
// numbers and identifiers.
func (c *Client) findContact(ctx context.Context, phone string) (string, bool, error) {
	digits := phone[1:]
	return c.findContactBy(ctx, phone, func(ct contact) bool {
		return connectors.Digits(ct.PhoneNumber) == digits || ct.Identifier == identifier(phone)
	})
}

// findContactBy searches contacts for needle and returns the oldest one
// match keeps.
func (c *Client) findContactBy(ctx context.Context, needle string, match func(contact) bool) (string, bool, error) {
	var best *contact
	for page := 1; page <= maxPages; page++ {
		q := url.Values{"q": {needle}, "page": {strconv.Itoa(page)}, "include_contact_inboxes": {"false"}}
		var out struct {
			Payload []contact `json:"payload"`
		}
		if err := c.do(ctx, call{method: http.MethodGet, path: c.accountPath("contacts/search"), query: q, out: &out}); err != nil {
			return "", false, err
		}
		for i := range out.Payload {
			ct := out.Payload[i]
			if !match(ct) {
				continue
			}
			if best == nil || ct.ID < best.ID {
				best = &ct
			}
		}
		if len(out.Payload) < contactsPerPage {
			break
		}
	}
	if best == nil {
		return "", false, nil
	}
	return formatID(best.ID), true, nil
}

// sourceID returns the contact's source id in the relaydesk inbox, creating
// the contact inbox when the contact has none (a contact an agent created,
// or one from another inbox).
func (c *Client) sourceID(ctx context.Context, contactID int64) (string, error) {
	var out struct {
		Payload contact `json:"payload"`
	}
	if err := c.do(ctx, call{method: http.MethodGet, path: c.accountPath("contacts/" + formatID(contactID)), out: &out}); err != nil {
		return "", err
	}
	for _, ci := range out.Payload.ContactInboxes {
		if ci.Inbox.ID == c.inboxID && ci.SourceID != "" {
			return ci.SourceID, nil
		}
	}
	var created contactInbox
	in := map[string]any{"inbox_id": c.inboxID}
	if err := c.do(ctx, call{method: http.MethodPost, path: c.accountPath("contacts/" + formatID(contactID) + "/contact_inboxes"), in: in, out: &created}); err != nil {
		return "", err
	}
	if created.SourceID == "" {
		return "", connectors.RetryError("chatwoot: created contact inbox has no source_id", nil)
	}
	return created.SourceID, nil
}
