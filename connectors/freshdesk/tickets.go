package freshdesk

import (
	"context"
	"errors"
	"fmt"
	"html"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/relaydesk/relaydesk/connectors"
	"github.com/relaydesk/relaydesk/connectors/internal/httpapi"
)

// maxPages bounds the pages read from one list endpoint.
const maxPages = 10

// DescriptionCommentID returns the comment id relaydesk gives a ticket's
// description (its first message): Freshdesk does not count the
// description as a conversation, so it has no id of its own.
func DescriptionCommentID(ticketID string) string { return "desc-" + ticketID }

// EnsureRequester implements connectors.Connector. It looks for a contact
// whose phone, then mobile, is the number (exact filter), and creates one
// with the number as phone otherwise. Calls for one number are serialised
// within the process.
//
// A requester without a phone (known by BSUID only) is found and created
// by unique_external_id "wa:<BSUID>", which needs the unique external id
// feature enabled in Freshdesk (otherwise the creation is refused and the
// message fails with Freshdesk's reason). The list filter on
// unique_external_id is UNCONFIRMED in Freshdesk's public docs (phone,
// mobile and email are documented).
func (c *Client) EnsureRequester(ctx context.Context, r connectors.Requester) (string, error) {
	if r.Phoneless() {
		return c.ensurePhoneless(ctx, r)
	}
	phone, err := connectors.E164(r.Phone)
	if err != nil {
		return "", err
	}
	defer c.phoneLocks.Lock(phone)()

	if id, err := c.findContact(ctx, phone); err != nil || id != 0 {
		return formatID(id), err
	}
	name := strings.TrimSpace(r.Name)
	if name == "" {
		name = phone
	}
	var created contact
	_, _, err = c.do(ctx, call{method: http.MethodPost, path: "contacts", in: map[string]any{"name": name, "phone": phone}, out: &created})
	var ce *connectors.Error
	if errors.As(err, &ce) && (ce.Status == http.StatusConflict || ce.Class == connectors.ClassPermanent) {
		// Another replica may have created it meanwhile (duplicate_value).
		if id, ferr := c.findContact(ctx, phone); ferr == nil && id != 0 {
			return formatID(id), nil
		}
	}
	if err != nil {
		return "", err
	}
	return httpapi.CreatedID(Kind, "contact", created.ID)
}

// ensurePhoneless finds or creates the contact whose unique_external_id is
// the requester's "wa:<BSUID>".
func (c *Client) ensurePhoneless(ctx context.Context, r connectors.Requester) (string, error) {
	ext, err := r.BSUIDKey()
	if err != nil {
		return "", err
	}
	defer c.phoneLocks.Lock(ext)()
	if id, err := c.findExternal(ctx, ext); err != nil || id != 0 {
		return formatID(id), err
	}
	var created contact
	_, _, err = c.do(ctx, call{method: http.MethodPost, path: "contacts",
		in: map[string]any{"name": r.DisplayName(), "unique_external_id": ext}, out: &created})
	var ce *connectors.Error
	if errors.As(err, &ce) && (ce.Status == http.StatusConflict || ce.Class == connectors.ClassPermanent) {
		if id, ferr := c.findExternal(ctx, ext); ferr == nil && id != 0 {
			return formatID(id), nil // created meanwhile (duplicate_value)
		}
	}
	if err != nil {
		return "", err
	}
	return httpapi.CreatedID(Kind, "contact", created.ID)
}

// findExternal returns the oldest contact with exactly this
// unique_external_id, or 0.
func (c *Client) findExternal(ctx context.Context, ext string) (int64, error) {
	var found []contact
	if _, _, err := c.do(ctx, call{method: http.MethodGet, path: "contacts", query: url.Values{"unique_external_id": {ext}}, out: &found}); err != nil {
		return 0, err
	}
	var match int64
	for _, ct := range found {
		if ct.UniqueExternalID == ext && (match == 0 || ct.ID < match) {
			match = ct.ID
		}
	}
	return match, nil
}

// findContact returns the oldest contact with exactly this phone or mobile
// number, or 0.
func (c *Client) findContact(ctx context.Context, phone string) (int64, error) {
	for _, field := range []string{"phone", "mobile"} {
		var found []contact
		if _, _, err := c.do(ctx, call{method: http.MethodGet, path: "contacts", query: url.Values{field: {phone}}, out: &found}); err != nil {
			return 0, err
		}
		var match int64
		for _, ct := range found {
			v := ct.Phone
			if field == "mobile" {
				v = ct.Mobile
			}
			if connectors.Digits(v) == phone[1:] && (match == 0 || ct.ID < match) {
				match = ct.ID
			}
		}
		if match != 0 {
			return match, nil
		}
	}
	return 0, nil
}

// CreateTicket implements connectors.Connector. The first message becomes
// the ticket's description, with its files attached. Freshdesk has no
// idempotency key, so the requester's newest tickets are checked first: one
// created since the message was sent whose description is the same text
// with the same file names is the ticket of an earlier attempt. A follow-up
// of a previous ticket gets a private note linking it (Freshdesk's API has
// no follow-up link).
func (c *Client) CreateTicket(ctx context.Context, t connectors.NewTicket) (connectors.Ticket, string, error) {
	rid, err := parseID("requester", t.RequesterID)
	if err != nil {
		return connectors.Ticket{}, "", err
	}
	text, err := commentText(t.First)
	if err != nil {
		return connectors.Ticket{}, "", err
	}
	if tk, ok, err := c.findCreated(ctx, rid, t.First); err != nil || ok {
		if err != nil {
			return connectors.Ticket{}, "", err
		}
		id := formatID(tk.ID)
		return c.toTicket(tk), DescriptionCommentID(id), nil
	}
	subject := strings.TrimSpace(t.Subject)
	if subject == "" {
		subject = "WhatsApp conversation"
	}
	fields := map[string]any{
		"requester_id": rid,
		"subject":      subject,
		"description":  toHTML(text),
		"status":       statusOpen,
		"priority":     c.priority,
		"source":       c.source,
	}
	if len(t.Tags) > 0 {
		fields["tags"] = t.Tags
	}
	if c.externalCF != "" && t.ExternalID != "" {
		fields["custom_fields"] = map[string]any{c.externalCF: t.ExternalID}
	}
	var out ticket
	k := call{method: http.MethodPost, path: "tickets", out: &out}
	if len(t.First.Attachments) > 0 {
		f := &form{files: t.First.Attachments}
		for _, key := range []string{"requester_id", "subject", "description", "status", "priority", "source"} {
			f.fields = append(f.fields, [2]string{key, fmt.Sprint(fields[key])})
		}
		for _, tag := range t.Tags {
			f.fields = append(f.fields, [2]string{"tags[]", tag})
		}
		if cf, ok := fields["custom_fields"].(map[string]any); ok {
			f.fields = append(f.fields, [2]string{"custom_fields[" + c.externalCF + "]", fmt.Sprint(cf[c.externalCF])})
		}
		k.form = f
	} else {
		k.in = fields
	}
	if _, _, err := c.do(ctx, k); err != nil {
		return connectors.Ticket{}, "", err
	}
	id, err := httpapi.CreatedID(Kind, "ticket", out.ID)
	if err != nil {
		return connectors.Ticket{}, "", err
	}
	if t.PreviousTicketID != "" {
		if prev, err := parseID("ticket", t.PreviousTicketID); err == nil {
			note := fmt.Sprintf("%s%d (%s)", FollowUpNotePrefix, prev, c.ticketURL(formatID(prev)))
			if _, err := c.addNote(ctx, out.ID, note); err != nil {
				return connectors.Ticket{}, "", fmt.Errorf("freshdesk: ticket %s created, linking it failed: %w", id, err)
			}
		}
	}
	return c.toTicket(out), DescriptionCommentID(id), nil
}

// FollowUpNotePrefix starts the private note that links a follow-up ticket
// to the one it continues; the previous ticket's id follows it.
const FollowUpNotePrefix = "WhatsApp follow-up of ticket #"

// findCreated looks among the requester's ten newest tickets for one made
// from m by an earlier attempt.
func (c *Client) findCreated(ctx context.Context, rid int64, m connectors.Message) (ticket, bool, error) {
	var list []ticket
	q := url.Values{
		"requester_id": {formatID(rid)}, "order_by": {"created_at"}, "order_type": {"desc"},
		"per_page": {"10"}, "include": {"description"},
	}
	if _, _, err := c.do(ctx, call{method: http.MethodGet, path: "tickets", query: q, out: &list}); err != nil {
		return ticket{}, false, err
	}
	notBefore := time.Now().Add(-10 * time.Minute)
	if !m.At.IsZero() {
		notBefore = m.At.Add(-time.Minute)
	}
	want, _ := commentText(m)
	for _, tk := range list {
		if tk.RequesterID != rid || tk.CreatedAt.Before(notBefore) || httpapi.NormText(tk.DescriptionText) != httpapi.NormText(want) {
			continue
		}
		if sameFiles(tk.Attachments, m.Attachments) {
			return tk, true, nil
		}
	}
	return ticket{}, false, nil
}

// AddMessage implements connectors.Connector: an incoming public note by
// the requester. A closed ticket refuses it; a resolved or pending one is
// set back to open first, as Freshdesk does when a requester replies by
// email, so that a failed note leaves nothing to undo.
func (c *Client) AddMessage(ctx context.Context, ticketID, requesterID string, m connectors.Message) (string, error) {
	rid, err := parseID("requester", requesterID)
	if err != nil {
		return "", err
	}
	text, err := commentText(m)
	if err != nil {
		return "", err
	}
	tk, err := c.getTicket(ctx, ticketID)
	if err != nil {
		return "", err
	}
	switch tk.Status {
	case statusClosed:
		return "", &connectors.Error{Class: connectors.ClassPermanent, Message: "freshdesk: ticket " + ticketID + " is closed", Err: connectors.ErrTicketClosed}
	case statusResolved, statusPending:
		if _, _, err := c.do(ctx, call{method: http.MethodPut, path: "tickets/" + formatID(tk.ID), in: map[string]any{"status": statusOpen}}); err != nil {
			return "", err
		}
	}
	var out conversation
	k := call{method: http.MethodPost, path: "tickets/" + formatID(tk.ID) + "/notes", out: &out}
	if len(m.Attachments) > 0 {
		k.form = &form{
			fields: [][2]string{{"body", toHTML(text)}, {"incoming", "true"}, {"private", "false"}, {"user_id", formatID(rid)}},
			files:  m.Attachments,
		}
	} else {
		k.in = map[string]any{"body": toHTML(text), "incoming": true, "private": false, "user_id": rid}
	}
	if _, _, err := c.do(ctx, k); err != nil {
		return "", err
	}
	return httpapi.CreatedID(Kind, "note", out.ID)
}

// AddNote implements connectors.Connector: a private note by the API user.
func (c *Client) AddNote(ctx context.Context, ticketID string, n connectors.Note) (string, error) {
	id, err := httpapi.NoteTarget(Kind, "ticket", ticketID, n)
	if err != nil {
		return "", err
	}
	return c.addNote(ctx, id, n.Body)
}

func (c *Client) addNote(ctx context.Context, ticketID int64, text string) (string, error) {
	var out conversation
	in := map[string]any{"body": toHTML(text), "private": true}
	if _, _, err := c.do(ctx, call{method: http.MethodPost, path: "tickets/" + formatID(ticketID) + "/notes", in: in, out: &out}); err != nil {
		return "", err
	}
	return httpapi.CreatedID(Kind, "note", out.ID)
}

// toHTML renders plain text as the HTML Freshdesk bodies are.
func toHTML(text string) string {
	lines := strings.Split(strings.ReplaceAll(text, "\r\n", "\n"), "\n")
	for i, l := range lines {
		lines[i] = html.EscapeString(l)
	}
	return "<div>" + strings.Join(lines, "<br>") + "</div>"
}

// commentText is the text of m: its body, or the file names when it only
// carries files (Freshdesk needs a body).
func commentText(m connectors.Message) (string, error) {
	if strings.TrimSpace(m.Body) != "" {
		return m.Body, nil
	}
	names := make([]string, 0, len(m.Attachments))
	for _, a := range m.Attachments {
		names = append(names, httpapi.FileName(a))
	}
	if len(names) == 0 {
		return "", connectors.PermanentError("freshdesk: empty message", nil)
	}
	return "[" + strings.Join(names, ", ") + "]", nil
}

func sameFiles(have []attachmentJSON, want []connectors.Attachment) bool {
	return httpapi.SameFiles(have, func(a attachmentJSON) string { return a.Name }, want, httpapi.FileName)
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
	var out ticket
	if _, _, err := c.do(ctx, call{method: http.MethodGet, path: "tickets/" + formatID(id), out: &out}); err != nil {
		return ticket{}, err
	}
	return out, nil
}

func (c *Client) toTicket(t ticket) connectors.Ticket {
	id := formatID(t.ID)
	return connectors.Ticket{ID: id, Status: normalize(t.Status), URL: c.ticketURL(id)}
}

// conversations lists a ticket's conversations, oldest first, following
// the Link header's next pages.
func (c *Client) conversations(ctx context.Context, ticketID int64) ([]conversation, rate, error) {
	var all []conversation
	var last rate
	page := 1
	for range maxPages * 3 {
		var list []conversation
		q := url.Values{"per_page": {"100"}, "page": {strconv.Itoa(page)}}
		r, h, err := c.do(ctx, call{method: http.MethodGet, path: "tickets/" + formatID(ticketID) + "/conversations", query: q, out: &list})
		if err != nil {
			return nil, r, err
		}
		last = r
		all = append(all, list...)
		if page = nextPage(h); page == 0 {
			return all, last, nil
		}
	}
	return all, last, nil
}

// FindMessage implements connectors.MessageFinder: it reads the ticket's
// conversations newest first and matches an incoming public note by the
// requester with the same text and file names.
func (c *Client) FindMessage(ctx context.Context, ticketID, requesterID string, m connectors.Message) (string, bool, error) {
	rid, err := parseID("requester", requesterID)
	if err != nil {
		return "", false, err
	}
	tid, err := parseID("ticket", ticketID)
	if err != nil {
		return "", false, err
	}
	want, err := commentText(m)
	if err != nil {
		return "", false, err
	}
	convs, _, err := c.conversations(ctx, tid)
	if err != nil {
		return "", false, err
	}
	for _, cv := range slices.Backward(convs) {
		if cv.UserID == rid && cv.Incoming && !cv.Private && httpapi.NormText(cv.BodyText) == httpapi.NormText(want) && sameFiles(cv.Attachments, m.Attachments) {
			return formatID(cv.ID), true, nil
		}
	}
	return "", false, nil
}

// OpenAttachment implements connectors.AttachmentFetcher. Freshdesk's
// attachment URLs are signed links to its file store, fetched without the
// API key (which only ever goes to the account's own host).
func (c *Client) OpenAttachment(ctx context.Context, a connectors.RemoteAttachment) (io.ReadCloser, string, error) {
	body, ct, err := c.site.API.OpenRemote(ctx, a)
	if err == nil && strings.HasPrefix(ct, "binary/octet-stream") {
		ct = a.ContentType // the file store's own name for "unknown"
	}
	return body, ct, err
}

// Test implements connectors.Tester with GET /api/v2/agents/me: only an
// agent's API key answers it.
func (c *Client) Test(ctx context.Context) error {
	var out struct {
		ID int64 `json:"id"`
	}
	if _, _, err := c.do(ctx, call{method: http.MethodGet, path: "agents/me", out: &out}); err != nil {
		return err
	}
	if out.ID == 0 {
		return connectors.AuthError("freshdesk: the API key does not belong to an agent", nil)
	}
	return nil
}
