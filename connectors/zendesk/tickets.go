package zendesk

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"fmt"
	"net/http"
	"net/url"
	"strings"

	"github.com/relaydesk/relaydesk/connectors"
	"github.com/relaydesk/relaydesk/connectors/internal/httpapi"
)

// EnsureRequester implements connectors.Connector. It looks the user up by
// the external id relaydesk gives its users ("wa:+<E.164>"), then by exact
// phone number among end users (a customer an agent already knows), and
// otherwise creates the user with create_or_update keyed on the external id,
// so concurrent calls converge on one user.
//
// A requester without a phone (known by BSUID only) is found and created
// by the external id "wa:<BSUID>" alone, named by its username or profile
// name.
func (c *Client) EnsureRequester(ctx context.Context, r connectors.Requester) (string, error) {
	if r.Phoneless() {
		return c.ensurePhoneless(ctx, r)
	}
	phone, err := connectors.E164(r.Phone)
	if err != nil {
		return "", err
	}
	ext := "wa:" + phone
	var found struct {
		Users []user `json:"users"`
	}
	if err := c.do(ctx, call{method: http.MethodGet, path: "users/search", query: url.Values{"external_id": {ext}}, out: &found}); err != nil {
		return "", err
	}
	if len(found.Users) > 0 {
		return formatID(found.Users[0].ID), nil
	}
	digits := phone[1:]
	found.Users = nil
	q := url.Values{"query": {"role:end-user phone:" + digits}}
	if err := c.do(ctx, call{method: http.MethodGet, path: "users/search", query: q, out: &found}); err != nil {
		return "", err
	}
	var match int64
	for _, u := range found.Users {
		// Search matches loosely; keep exact numbers only, the oldest user first.
		if connectors.Digits(u.Phone) == digits && (match == 0 || u.ID < match) {
			match = u.ID
		}
	}
	if match != 0 {
		return formatID(match), nil
	}
	name := strings.TrimSpace(r.Name)
	if name == "" {
		name = phone
	}
	in := map[string]any{"user": map[string]any{"name": name, "phone": phone, "external_id": ext, "role": "end-user"}}
	var created struct {
		User user `json:"user"`
	}
	if err := c.do(ctx, call{method: http.MethodPost, path: "users/create_or_update", in: in, out: &created}); err != nil {
		return "", err
	}
	if created.User.ID == 0 {
		return "", connectors.RetryError("zendesk: create_or_update returned no user id", nil)
	}
	return formatID(created.User.ID), nil
}

// ensurePhoneless finds the end user with the external id "wa:<BSUID>",
// or creates it with create_or_update keyed on that id.
func (c *Client) ensurePhoneless(ctx context.Context, r connectors.Requester) (string, error) {
	ext, err := r.BSUIDKey()
	if err != nil {
		return "", err
	}
	var found struct {
		Users []user `json:"users"`
	}
	if err := c.do(ctx, call{method: http.MethodGet, path: "users/search", query: url.Values{"external_id": {ext}}, out: &found}); err != nil {
		return "", err
	}
	if len(found.Users) > 0 {
		return formatID(found.Users[0].ID), nil
	}
	in := map[string]any{"user": map[string]any{"name": r.DisplayName(), "external_id": ext, "role": "end-user"}}
	var created struct {
		User user `json:"user"`
	}
	if err := c.do(ctx, call{method: http.MethodPost, path: "users/create_or_update", in: in, out: &created}); err != nil {
		return "", err
	}
	if created.User.ID == 0 {
		return "", connectors.RetryError("zendesk: create_or_update returned no user id", nil)
	}
	return formatID(created.User.ID), nil
}

// CreateTicket implements connectors.Connector. The request carries an
// Idempotency-Key derived from t.First.Key, so a retry returns the ticket of
// the first attempt. Upload tokens differ between attempts, so a retry of a
// message with files sends a different body: if Zendesk refuses the reused
// key for that reason, the ticket of the first attempt is found among the
// requester's tickets instead.
func (c *Client) CreateTicket(ctx context.Context, t connectors.NewTicket) (connectors.Ticket, string, error) {
	rid, err := parseID("requester", t.RequesterID)
	if err != nil {
		return connectors.Ticket{}, "", err
	}
	body, err := commentText(t.First)
	if err != nil {
		return connectors.Ticket{}, "", err
	}
	in := map[string]any{
		"subject":      t.Subject,
		"requester_id": rid,
	}
	if len(t.Tags) > 0 {
		in["tags"] = t.Tags
	}
	if t.ExternalID != "" {
		in["external_id"] = t.ExternalID
	}
	if t.PreviousTicketID != "" {
		prev, err := c.getTicket(ctx, t.PreviousTicketID)
		switch {
		case connectors.IsNotFound(err):
			// Deleted meanwhile: nothing to link.
		case err != nil:
			return connectors.Ticket{}, "", err
		case prev.Status == "closed":
			// Only closed tickets take follow-ups; solved ones are reopened
			// by the bridge instead.
			in["via_followup_source_id"] = prev.ID
		}
	}
	uploads, err := c.uploadAll(ctx, t.First.Attachments)
	if err != nil {
		return connectors.Ticket{}, "", err
	}
	in["comment"] = commentInput{Body: body, Public: true, AuthorID: rid, Uploads: uploads}

	var out ticketEnvelope
	err = c.do(ctx, call{
		method: http.MethodPost, path: "tickets", in: map[string]any{"ticket": in}, out: &out,
		header: http.Header{"Idempotency-Key": {idempotencyKey(t, rid, body)}},
	})
	if isIdempotencyConflict(err) {
		return c.findCreated(ctx, rid, t.First, err)
	}
	if err != nil {
		return connectors.Ticket{}, "", err
	}
	commentID := out.Audit.commentID()
	if commentID == 0 {
		first, err := c.firstComment(ctx, out.Ticket.ID)
		if err != nil {
			return connectors.Ticket{}, "", err
		}
		commentID = first.ID
	}
	return c.toTicket(out.Ticket), formatID(commentID), nil
}

// idempotencyKey derives the Idempotency-Key from the message key (or, when
// the bridge gave none, from the requester, text and time).
func idempotencyKey(t connectors.NewTicket, rid int64, body string) string {
	src := "relaydesk:ticket:" + t.First.Key
	if t.First.Key == "" {
		src = fmt.Sprintf("relaydesk:ticket:%d:%d:%s", rid, t.First.At.UnixNano(), body)
	}
	sum := sha256.Sum256([]byte(src))
	return "relaydesk-" + base64.RawURLEncoding.EncodeToString(sum[:])
}

// findCreated recovers the ticket a previous attempt created: the newest of
// the requester's tickets whose first comment is m by the requester.
func (c *Client) findCreated(ctx context.Context, rid int64, m connectors.Message, cause error) (connectors.Ticket, string, error) {
	var newest *ticket
	var newestComment int64
	q := url.Values{"page[size]": {"100"}}
	for range maxPages {
		var page struct {
			Tickets []ticket `json:"tickets"`
			cursorPage
		}
		if err := c.do(ctx, call{method: http.MethodGet, path: "users/" + formatID(rid) + "/tickets/requested", query: q, out: &page}); err != nil {
			return connectors.Ticket{}, "", err
		}
		for i := range page.Tickets {
			tk := page.Tickets[i]
			if newest != nil && tk.ID < newest.ID {
				continue
			}
			first, err := c.firstComment(ctx, tk.ID)
			if err != nil {
				return connectors.Ticket{}, "", err
			}
			if sameMessage(first, rid, m) {
				newest, newestComment = &tk, first.ID
			}
		}
		if !page.Meta.HasMore {
			break
		}
		q.Set("page[after]", page.Meta.AfterCursor)
	}
	if newest == nil {
		return connectors.Ticket{}, "", cause
	}
	return c.toTicket(*newest), formatID(newestComment), nil
}

// maxPages bounds the pages read when searching comments or tickets.
const maxPages = 10

func (c *Client) firstComment(ctx context.Context, ticketID int64) (comment, error) {
	var page struct {
		Comments []comment `json:"comments"`
	}
	q := url.Values{"sort_order": {"asc"}, "page[size]": {"1"}}
	if err := c.do(ctx, call{method: http.MethodGet, path: "tickets/" + formatID(ticketID) + "/comments", query: q, out: &page}); err != nil {
		return comment{}, err
	}
	if len(page.Comments) == 0 {
		return comment{}, connectors.RetryError(fmt.Sprintf("zendesk: ticket %d has no comment yet", ticketID), nil)
	}
	return page.Comments[0], nil
}

// AddMessage implements connectors.Connector. Zendesk does not reopen a
// ticket when an API call adds a comment on an end user's behalf (the API
// user is the updater), so the connector reads the status first and sets it
// back to open when it was solved or pending, as Zendesk does when an end
// user replies by email. On-hold tickets stay on hold.
func (c *Client) AddMessage(ctx context.Context, ticketID, requesterID string, m connectors.Message) (string, error) {
	rid, err := parseID("requester", requesterID)
	if err != nil {
		return "", err
	}
	body, err := commentText(m)
	if err != nil {
		return "", err
	}
	tk, err := c.getTicket(ctx, ticketID)
	if err != nil {
		return "", err
	}
	if tk.Status == "closed" {
		return "", &connectors.Error{Class: connectors.ClassPermanent, Message: "zendesk: ticket " + ticketID + " is closed", Err: connectors.ErrTicketClosed}
	}
	uploads, err := c.uploadAll(ctx, m.Attachments)
	if err != nil {
		return "", err
	}
	in := map[string]any{"comment": commentInput{Body: body, Public: true, AuthorID: rid, Uploads: uploads}}
	if tk.Status == "solved" || tk.Status == "pending" {
		in["status"] = "open"
	}
	return c.addComment(ctx, tk.ID, in)
}

// AddNote implements connectors.Connector: a private comment by the API user.
func (c *Client) AddNote(ctx context.Context, ticketID string, n connectors.Note) (string, error) {
	id, err := httpapi.NoteTarget(Kind, "ticket", ticketID, n)
	if err != nil {
		return "", err
	}
	return c.addComment(ctx, id, map[string]any{"comment": commentInput{Body: n.Body, Public: false}})
}

func (c *Client) addComment(ctx context.Context, ticketID int64, in map[string]any) (string, error) {
	var out ticketEnvelope
	if err := c.do(ctx, call{method: http.MethodPut, path: "tickets/" + formatID(ticketID), in: map[string]any{"ticket": in}, out: &out}); err != nil {
		return "", err
	}
	id := out.Audit.commentID()
	if id == 0 {
		return "", connectors.RetryError("zendesk: update response has no comment event", nil)
	}
	return formatID(id), nil
}

// commentText is the comment body for m: its text, or the file names when
// it only carries files (Zendesk needs a body).
func commentText(m connectors.Message) (string, error) {
	if strings.TrimSpace(m.Body) != "" {
		return m.Body, nil
	}
	names := make([]string, 0, len(m.Attachments))
	for _, a := range m.Attachments {
		names = append(names, fileName(a))
	}
	if len(names) == 0 {
		return "", connectors.PermanentError("zendesk: empty message", nil)
	}
	return "[" + strings.Join(names, ", ") + "]", nil
}

// GetTicket implements connectors.Connector.
func (c *Client) GetTicket(ctx context.Context, ticketID string) (connectors.Ticket, error) {
	tk, err := c.getTicket(ctx, ticketID)
	if err != nil {
		return connectors.Ticket{}, err
	}
	return c.toTicket(tk), nil
}

func (c *Client) getTicket(ctx context.Context, ticketID string) (ticket, error) {
	id, err := parseID("ticket", ticketID)
	if err != nil {
		return ticket{}, err
	}
	var out ticketEnvelope
	if err := c.do(ctx, call{method: http.MethodGet, path: "tickets/" + formatID(id), out: &out}); err != nil {
		return ticket{}, err
	}
	return out.Ticket, nil
}

func (c *Client) toTicket(t ticket) connectors.Ticket {
	st, ok := normalize(t.Status)
	if !ok {
		st = connectors.StatusOpen
	}
	id := formatID(t.ID)
	return connectors.Ticket{ID: id, Status: st, URL: c.ticketURL(id)}
}

// FindMessage implements connectors.MessageFinder: it reads the ticket's
// comments newest first and matches the author, visibility, text and file
// names.
func (c *Client) FindMessage(ctx context.Context, ticketID, requesterID string, m connectors.Message) (string, bool, error) {
	rid, err := parseID("requester", requesterID)
	if err != nil {
		return "", false, err
	}
	var found string
	err = c.eachComment(ctx, ticketID, 3, func(cm comment) bool {
		if sameMessage(cm, rid, m) {
			found = formatID(cm.ID)
			return false
		}
		return true
	})
	return found, found != "", err
}

// eachComment calls fn on the ticket's comments, newest first, until fn
// returns false or pages run out.
func (c *Client) eachComment(ctx context.Context, ticketID string, pages int, fn func(comment) bool) error {
	id, err := parseID("ticket", ticketID)
	if err != nil {
		return err
	}
	q := url.Values{"sort_order": {"desc"}, "page[size]": {"100"}}
	for range pages {
		var page struct {
			Comments []comment `json:"comments"`
			cursorPage
		}
		if err := c.do(ctx, call{method: http.MethodGet, path: "tickets/" + formatID(id) + "/comments", query: q, out: &page}); err != nil {
			return err
		}
		for _, cm := range page.Comments {
			if !fn(cm) {
				return nil
			}
		}
		if !page.Meta.HasMore {
			return nil
		}
		q.Set("page[after]", page.Meta.AfterCursor)
	}
	return nil
}

func sameMessage(cm comment, rid int64, m connectors.Message) bool {
	want, err := commentText(m)
	if err != nil || cm.AuthorID != rid || !cm.Public {
		return false
	}
	if httpapi.NormText(cm.Body) != httpapi.NormText(want) && httpapi.NormText(cm.PlainBody) != httpapi.NormText(want) {
		return false
	}
	return httpapi.SameFiles(cm.Attachments, func(a attachment) string { return a.FileName }, m.Attachments, fileName)
}

// Test implements connectors.Tester with GET /api/v2/users/me. Zendesk
// answers an anonymous user rather than 401 for some bad credentials, so an
// end-user or id-less answer is an auth failure too.
func (c *Client) Test(ctx context.Context) error {
	var out struct {
		User user `json:"user"`
	}
	if err := c.do(ctx, call{method: http.MethodGet, path: "users/me", out: &out}); err != nil {
		return err
	}
	if out.User.ID == 0 || out.User.Role == "end-user" {
		return connectors.AuthError("zendesk: the credentials do not belong to an agent or admin", nil)
	}
	return nil
}
