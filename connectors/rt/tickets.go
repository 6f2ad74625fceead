package rt

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"net/mail"
	"net/url"
	"strings"
	"time"

	"github.com/relaydesk/relaydesk/connectors"
	"github.com/relaydesk/relaydesk/connectors/internal/httpapi"
)

// userInfo is what the connector remembers of an RT user.
type userInfo struct {
	id         string // numeric
	email      string
	privileged bool
}

// user reads a user by numeric id or name, remembering it by name.
func (c *Client) user(ctx context.Context, idOrName string) (userInfo, error) {
	if v, ok := c.users.Load(idOrName); ok {
		return v.(userInfo), nil
	}
	var u userJSON
	if err := c.do(ctx, call{method: http.MethodGet, path: "user/" + url.PathEscape(idOrName), out: &u}); err != nil {
		return userInfo{}, err
	}
	info := userInfo{id: string(u.ID), email: u.EmailAddress, privileged: u.Privileged == "1"}
	if info.id == "" {
		return userInfo{}, connectors.RetryError("rt: user without id", nil)
	}
	if u.Name != "" {
		c.users.Store(u.Name, info)
	}
	return info, nil
}

// EnsureRequester implements connectors.Connector: the user named, then
// the user whose email address is, "wa+<digits>@whatsapp.invalid", or a new
// unprivileged user with that name and address, the profile name as real
// name and the number as mobile phone. Calls for one number
// are serialised within the process; RT's unique user names make
// concurrent creation elsewhere converge too.
//
// A requester without a phone (known by BSUID only) is the user named
// "wa+<bsuid, lowercased>@whatsapp.invalid", made without a mobile phone
// and with the username or profile name as real name.
func (c *Client) EnsureRequester(ctx context.Context, r connectors.Requester) (string, error) {
	var phone, email string
	if r.Phoneless() {
		if _, err := r.BSUIDKey(); err != nil {
			return "", err
		}
		email = "wa+" + strings.ToLower(r.UserID) + "@" + CustomerDomain
	} else {
		var err error
		if phone, err = connectors.E164(r.Phone); err != nil {
			return "", err
		}
		email = customerEmail(phone)
	}
	defer c.phoneLocks.Lock(email)()

	if id, ok, err := c.userByName(ctx, email); err != nil || ok {
		return id, err
	}
	// REST2 in RT 5.0 cannot search users by phone (only Name,
	// EmailAddress and other "public" fields are searchable): a user an
	// agent made is found by its email address.
	var page collection[userJSON]
	err := c.do(ctx, call{
		method: http.MethodPost, path: "users", query: url.Values{"fields": {"Name,EmailAddress"}, "orderby": {"id"}, "per_page": {"10"}},
		in: []condition{{Field: "EmailAddress", Value: email}}, out: &page,
	})
	if err != nil {
		return "", err
	}
	for _, u := range page.Items {
		if !strings.EqualFold(u.EmailAddress, email) {
			continue
		}
		info, err := c.user(ctx, u.Name)
		if err != nil {
			return "", err
		}
		return info.id, nil
	}
	name := strings.TrimSpace(r.Name)
	if r.Phoneless() {
		name = r.DisplayName()
	}
	if name == "" {
		name = phone
	}
	in := map[string]any{"Name": email, "EmailAddress": email, "RealName": name, "Privileged": 0}
	if phone != "" {
		in["MobilePhone"] = phone
	}
	err = c.do(ctx, call{method: http.MethodPost, path: "user", in: in})
	if id, ok, ferr := c.userByName(ctx, email); ferr == nil && ok {
		return id, nil // made now, or by a concurrent call ("Name in use")
	}
	if err != nil {
		return "", err
	}
	return "", connectors.RetryError("rt: created user "+email+" not found", nil)
}

// userByName returns the numeric id of the user with this name, if any.
func (c *Client) userByName(ctx context.Context, name string) (string, bool, error) {
	info, err := c.user(ctx, name)
	if connectors.IsNotFound(err) {
		return "", false, nil
	}
	if err != nil {
		return "", false, err
	}
	return info.id, true, nil
}

// sender is the From address of the requester's messages.
func (c *Client) sender(ctx context.Context, requesterID string) (mail.Address, error) {
	if _, err := parseID("requester", requesterID); err != nil {
		return mail.Address{}, err
	}
	var u userJSON
	if err := c.do(ctx, call{method: http.MethodGet, path: "user/" + requesterID, out: &u}); err != nil {
		return mail.Address{}, err
	}
	if u.EmailAddress == "" {
		return mail.Address{}, connectors.PermanentError("rt: requester "+requesterID+" has no email address", nil)
	}
	return mail.Address{Address: u.EmailAddress}, nil
}

// CreateTicket implements connectors.Connector. The first message is
// emailed through the mail gateway into the queue, which creates the
// ticket with the customer as requestor; the ticket is then found by the
// message's Message-ID (so a retry finds the ticket of an earlier attempt)
// and given the chat id and tags custom fields and a RefersTo link to the
// previous ticket through REST2.
func (c *Client) CreateTicket(ctx context.Context, t connectors.NewTicket) (connectors.Ticket, string, error) {
	from, err := c.sender(ctx, t.RequesterID)
	if err != nil {
		return connectors.Ticket{}, "", err
	}
	if strings.TrimSpace(t.First.Body) == "" && len(t.First.Attachments) == 0 {
		return connectors.Ticket{}, "", connectors.PermanentError("rt: empty message", nil)
	}
	if t.First.Key == "" {
		return connectors.Ticket{}, "", connectors.PermanentError("rt: message without idempotency key", nil)
	}
	mid := messageID(c.queue, t.First.Key)
	txn, tid, found, err := c.findByMessageID(ctx, mid)
	if err != nil {
		return connectors.Ticket{}, "", err
	}
	if !found {
		if err := c.gatewayPost(ctx, "", from, t.Subject, t.First); err != nil {
			return connectors.Ticket{}, "", err
		}
		if txn, tid, found, err = c.findByMessageID(ctx, mid); err != nil {
			return connectors.Ticket{}, "", err
		}
		if !found {
			return connectors.Ticket{}, "", connectors.RetryError("rt: the mail gateway took the message but no ticket has it", nil)
		}
	}
	update := map[string]any{}
	cfs := map[string]any{}
	if c.externalCF != "" && t.ExternalID != "" {
		cfs[c.externalCF] = t.ExternalID
	}
	if c.tagsCF != "" && len(t.Tags) > 0 {
		cfs[c.tagsCF] = t.Tags
	}
	if len(cfs) > 0 {
		update["CustomFields"] = cfs
	}
	if t.PreviousTicketID != "" {
		if prev, err := parseID("ticket", t.PreviousTicketID); err == nil {
			update["AddRefersTo"] = prev
		}
	}
	if len(update) > 0 {
		if err := c.do(ctx, call{method: http.MethodPut, path: "ticket/" + tid, in: update}); err != nil {
			return connectors.Ticket{}, "", err
		}
	}
	tk, err := c.GetTicket(ctx, tid)
	if err != nil {
		return connectors.Ticket{}, "", err
	}
	return tk, txn, nil
}

// AddMessage implements connectors.Connector: the message is emailed
// through the mail gateway as the requester's correspondence on the ticket.
// A rejected or deleted ticket refuses it; a resolved or stalled one is set
// back to open first. A message RT already has (same key) is not posted
// again.
func (c *Client) AddMessage(ctx context.Context, ticketID, requesterID string, m connectors.Message) (string, error) {
	if strings.TrimSpace(m.Body) == "" && len(m.Attachments) == 0 {
		return "", connectors.PermanentError("rt: empty message", nil)
	}
	if m.Key == "" {
		return "", connectors.PermanentError("rt: message without idempotency key", nil)
	}
	tk, err := c.getTicket(ctx, ticketID)
	if err != nil {
		return "", err
	}
	mid := messageID(c.queue, m.Key)
	if txn, tid, found, err := c.findByMessageID(ctx, mid); err != nil || found {
		if err == nil && tid != ticketID {
			return "", connectors.PermanentError("rt: message "+m.Key+" is already on ticket "+tid, nil)
		}
		return txn, err
	}
	switch normalize(tk.Status) {
	case connectors.StatusClosed:
		return "", &connectors.Error{Class: connectors.ClassPermanent, Message: "rt: ticket " + ticketID + " is " + tk.status(), Err: connectors.ErrTicketClosed}
	case connectors.StatusSolved, connectors.StatusPending:
		if err := c.do(ctx, call{method: http.MethodPut, path: "ticket/" + ticketID, in: map[string]any{"Status": "open"}}); err != nil {
			return "", err
		}
	}
	from, err := c.sender(ctx, requesterID)
	if err != nil {
		return "", err
	}
	subject := tk.Subject
	if subject == "" {
		subject = "WhatsApp message"
	}
	if err := c.gatewayPost(ctx, ticketID, from, subject, m); err != nil {
		return "", err
	}
	txn, _, found, err := c.findByMessageID(ctx, mid)
	if err != nil {
		return "", err
	}
	if !found {
		return "", connectors.RetryError("rt: the mail gateway took the message but the ticket does not have it", nil)
	}
	return txn, nil
}

// AddNote implements connectors.Connector: a REST2 comment by the API user.
// REST2 answers with messages only, so the note's transaction is then found
// among the ticket's newest comments by its text.
func (c *Client) AddNote(ctx context.Context, ticketID string, n connectors.Note) (string, error) {
	if _, err := httpapi.NoteTarget(Kind, "ticket", ticketID, n); err != nil {
		return "", err
	}
	in := map[string]any{"Content": n.Body, "ContentType": "text/plain"}
	if err := c.do(ctx, call{method: http.MethodPost, path: "ticket/" + ticketID + "/comment", in: in}); err != nil {
		return "", err
	}
	var page collection[transactionJSON]
	err := c.do(ctx, call{
		method: http.MethodPost, path: "transactions", query: url.Values{"orderby": {"id"}, "order": {"DESC"}, "per_page": {"5"}},
		in: []condition{{Field: "ObjectType", Value: "RT::Ticket"}, {Field: "ObjectId", Value: ticketID}, {Field: "Type", Value: "Comment"}}, out: &page,
	})
	if err != nil {
		return "", err
	}
	if len(page.Items) == 0 {
		return "", connectors.RetryError("rt: comment added but not found", nil)
	}
	for _, tx := range page.Items {
		body, _, err := c.transactionContent(ctx, string(tx.ID))
		if err != nil {
			return "", err
		}
		if strings.TrimSpace(body) == strings.TrimSpace(n.Body) {
			return string(tx.ID), nil
		}
	}
	return string(page.Items[0].ID), nil
}

// GetTicket implements connectors.Connector.
func (c *Client) GetTicket(ctx context.Context, ticketID string) (connectors.Ticket, error) {
	tk, err := c.getTicket(ctx, ticketID)
	if err != nil {
		return connectors.Ticket{}, err
	}
	return connectors.Ticket{ID: ticketID, Status: normalize(tk.Status), URL: c.ticketURL(ticketID)}, nil
}

func (c *Client) getTicket(ctx context.Context, ticketID string) (ticketJSON, error) {
	if _, err := parseID("ticket", ticketID); err != nil {
		return ticketJSON{}, err
	}
	var tk ticketJSON
	if err := c.do(ctx, call{method: http.MethodGet, path: "ticket/" + ticketID, out: &tk}); err != nil {
		return ticketJSON{}, err
	}
	return tk, nil
}

// FindMessage implements connectors.MessageFinder by the message's
// Message-ID.
func (c *Client) FindMessage(ctx context.Context, ticketID, requesterID string, m connectors.Message) (string, bool, error) {
	if m.Key == "" {
		return "", false, nil
	}
	txn, tid, found, err := c.findByMessageID(ctx, messageID(c.queue, m.Key))
	if err != nil || !found || tid != ticketID {
		return "", false, err
	}
	return txn, true, nil
}

// transactionContent returns a transaction's text and files: the first
// text/plain part without a file name (or text/html, made plain), and the
// parts with a file name.
func (c *Client) transactionContent(ctx context.Context, txn string) (string, []connectors.RemoteAttachment, error) {
	var page collection[attachmentJSON]
	q := url.Values{"fields": {"ContentType,Filename,ContentLength"}, "per_page": {"100"}}
	if err := c.do(ctx, call{method: http.MethodGet, path: "transaction/" + url.PathEscape(txn) + "/attachments", query: q, out: &page}); err != nil {
		return "", nil, err
	}
	var textID, htmlID string
	var files []connectors.RemoteAttachment
	for _, a := range page.Items {
		ct := strings.ToLower(a.ContentType)
		switch {
		case a.Filename != "":
			size := int64(-1)
			fmt.Sscan(string(a.ContentLength), &size)
			files = append(files, connectors.RemoteAttachment{
				URL: c.site.Base.String() + "/REST/2.0/attachment/" + string(a.ID), Filename: a.Filename, ContentType: a.ContentType, Size: size,
			})
		case ct == "text/plain" && textID == "":
			textID = string(a.ID)
		case ct == "text/html" && htmlID == "":
			htmlID = string(a.ID)
		}
	}
	id, isHTML := textID, false
	if id == "" {
		id, isHTML = htmlID, true
	}
	if id == "" {
		return "", files, nil
	}
	data, _, err := c.attachment(ctx, id)
	if err != nil {
		return "", nil, err
	}
	text := string(data)
	if isHTML {
		text = htmlToText(text)
	}
	return strings.TrimRight(text, "\r\n"), files, nil
}

// attachment reads an attachment's content.
func (c *Client) attachment(ctx context.Context, id string) ([]byte, string, error) {
	var a attachmentJSON
	if err := c.do(ctx, call{method: http.MethodGet, path: "attachment/" + url.PathEscape(id), out: &a}); err != nil {
		return nil, "", err
	}
	data, err := decodeContent(a.Content)
	if err != nil {
		return nil, "", connectors.RetryError("rt: attachment content is not base64", err)
	}
	return data, a.ContentType, nil
}

// OpenAttachment implements connectors.AttachmentFetcher for the REST2
// attachment URLs Poll reports.
func (c *Client) OpenAttachment(ctx context.Context, a connectors.RemoteAttachment) (io.ReadCloser, string, error) {
	prefix := c.site.Base.String() + "/REST/2.0/attachment/"
	id, ok := strings.CutPrefix(a.URL, prefix)
	if !ok || id == "" || strings.Contains(id, "/") {
		return nil, "", connectors.PermanentError("rt: not an attachment URL of this RT", nil)
	}
	data, ct, err := c.attachment(ctx, id)
	if err != nil {
		return nil, "", err
	}
	if ct == "" {
		ct = a.ContentType
	}
	return io.NopCloser(bytes.NewReader(data)), ct, nil
}

// Test implements connectors.Tester: it reads the configured queue, which
// checks the credentials, the queue's name and the SeeQueue right at once.
func (c *Client) Test(ctx context.Context) error {
	err := c.do(ctx, call{method: http.MethodGet, path: "queue/" + url.PathEscape(c.queue)})
	if connectors.IsNotFound(err) {
		return connectors.PermanentError("rt: queue "+c.queue+" does not exist or the user cannot see it", err)
	}
	return err
}

// ParseWebhook implements connectors.Connector. Request Tracker sends no
// webhooks (relaydesk polls it), so every request is refused with
// [connectors.ErrUnauthorized] and stores nothing.
func (c *Client) ParseWebhook(h http.Header, body []byte, secret []byte, now time.Time) ([]connectors.Event, error) {
	return nil, fmt.Errorf("%w: Request Tracker sends no webhooks; relaydesk polls it", connectors.ErrUnauthorized)
}

// htmlToText makes an HTML body plain: tags dropped, line breaks kept.
func htmlToText(s string) string {
	r := strings.NewReplacer("<br>", "\n", "<br/>", "\n", "<br />", "\n", "</p>", "\n", "</div>", "\n")
	s = r.Replace(s)
	var b strings.Builder
	in := false
	for _, ch := range s {
		switch {
		case ch == '<':
			in = true
		case ch == '>':
			in = false
		case !in:
			b.WriteRune(ch)
		}
	}
	return strings.TrimSpace(strings.NewReplacer("&nbsp;", " ", "&lt;", "<", "&gt;", ">", "&quot;", `"`, "&#39;", "'", "&amp;", "&").Replace(b.String()))
}
