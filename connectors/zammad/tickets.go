package zammad

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strings"

	"github.com/relaydesk/relaydesk/connectors"
	"github.com/relaydesk/relaydesk/connectors/internal/httpapi"
)

// Article field values for relaydesk's articles.
const (
	customerArticleType = "phone"
	noteArticleType     = "note"
)

// CreateTicket implements connectors.Connector: a ticket in the configured
// group whose first article is t.First, recorded for the customer. Zammad
// has no idempotency key: the ticket keeps t.First.Key in its preferences,
// and a retry finds the ticket of a failed attempt among the customer's
// recent tickets (and, within this process, remembers it).
func (c *Client) CreateTicket(ctx context.Context, t connectors.NewTicket) (connectors.Ticket, string, error) {
	cid, err := parseID("requester", t.RequesterID)
	if err != nil {
		return connectors.Ticket{}, "", err
	}
	if err := checkMessage(t.First); err != nil {
		return connectors.Ticket{}, "", err
	}
	key := messageKey(t.First, cid)
	if tk, first, ok, err := c.findCreated(ctx, cid, key); err != nil || ok {
		return tk, first, err
	}

	title := strings.TrimSpace(t.Subject)
	if title == "" {
		title = "WhatsApp"
	}
	tags := []string{Tag}
	for _, tag := range t.Tags {
		// The API takes tags as one comma-separated string.
		for part := range strings.SplitSeq(tag, ",") {
			if part = strings.TrimSpace(part); part != "" && !slices.Contains(tags, part) {
				tags = append(tags, part)
			}
		}
	}
	prefs := map[string]any{"key": key}
	if t.ExternalID != "" {
		prefs["external_id"] = t.ExternalID
	}
	in := map[string]any{
		"title": title, "group": c.group, "customer_id": cid, "tags": strings.Join(tags, ","),
		"preferences": map[string]any{"relaydesk": prefs},
	}
	if t.PreviousTicketID != "" {
		prev, err := c.getTicket(ctx, t.PreviousTicketID)
		switch {
		case connectors.IsNotFound(err):
			// Deleted meanwhile: nothing to link (Zammad refuses a link to a
			// missing ticket).
		case err != nil:
			return connectors.Ticket{}, "", err
		default:
			in["links"] = map[string]any{"Ticket": map[string]any{"normal": []int64{prev.ID}}}
		}
	}
	art, pending, err := c.articleBody(ctx, t.First, cid, nil)
	if err != nil {
		return connectors.Ticket{}, "", err
	}
	in["article"] = art
	var tk ticket
	if pending != nil {
		body, err := pending.with(in)
		if err != nil {
			return connectors.Ticket{}, "", err
		}
		err = c.do(ctx, call{method: http.MethodPost, path: "tickets", query: url.Values{"expand": {"true"}}, body: body, out: &tk})
		if err != nil {
			return connectors.Ticket{}, "", err
		}
	} else {
		err = c.do(ctx, call{method: http.MethodPost, path: "tickets", query: url.Values{"expand": {"true"}}, in: in, out: &tk})
	}
	if err != nil {
		return connectors.Ticket{}, "", err
	}
	if tk.ID == 0 || len(tk.ArticleIDs) == 0 {
		return connectors.Ticket{}, "", connectors.RetryError("zammad: created ticket has no id or article", nil)
	}
	first := formatID(slices.Min(tk.ArticleIDs))
	c.remember("ticket:"+key, formatID(tk.ID)+"/"+first)
	st, err := c.status(ctx, tk)
	if err != nil {
		st = connectors.StatusOpen
	}
	return connectors.Ticket{ID: formatID(tk.ID), Status: st, URL: c.ticketURL(formatID(tk.ID))}, first, nil
}

// findCreated finds the ticket a previous attempt created for key: in this
// process's memory, or among the customer's tickets (the search index sees
// a ticket a moment after its creation).
func (c *Client) findCreated(ctx context.Context, cid int64, key string) (connectors.Ticket, string, bool, error) {
	if v, ok := c.recalled("ticket:" + key); ok {
		tid, first, _ := strings.Cut(v, "/")
		tk, err := c.GetTicket(ctx, tid)
		if err == nil {
			return tk, first, true, nil
		}
		if !connectors.IsNotFound(err) {
			return connectors.Ticket{}, "", false, err
		}
		c.forget("ticket:" + key)
	}
	q := url.Values{
		"query": {fmt.Sprintf("customer_id:%d AND tags:%s", cid, Tag)}, "expand": {"true"}, "limit": {"50"},
		"sort_by": {"created_at"}, "order_by": {"desc"},
	}
	var found []ticket
	if err := c.do(ctx, call{method: http.MethodGet, path: "tickets/search", query: q, out: &found}); err != nil {
		return connectors.Ticket{}, "", false, err
	}
	for _, tk := range found {
		rd, _ := tk.Preferences["relaydesk"].(map[string]any)
		if tk.CustomerID != cid || rd == nil || fmt.Sprint(rd["key"]) != key || len(tk.ArticleIDs) == 0 {
			continue
		}
		st, err := c.status(ctx, tk)
		if err != nil {
			return connectors.Ticket{}, "", false, err
		}
		return connectors.Ticket{ID: formatID(tk.ID), Status: st, URL: c.ticketURL(formatID(tk.ID))}, formatID(slices.Min(tk.ArticleIDs)), true, nil
	}
	return connectors.Ticket{}, "", false, nil
}

// messageKey is the key kept for a ticket's first message: its WhatsApp id,
// or a digest of its content when the bridge gave none.
func messageKey(m connectors.Message, cid int64) string {
	if m.Key != "" {
		return m.Key
	}
	names := make([]string, len(m.Attachments))
	for i, a := range m.Attachments {
		names[i] = httpapi.FileName(a)
	}
	sum := sha256.Sum256(fmt.Appendf(nil, "%d\x00%d\x00%s\x00%s", cid, m.At.UnixNano(), m.Body, strings.Join(names, "\x00")))
	return "relaydesk-" + base64.RawURLEncoding.EncodeToString(sum[:18])
}

func checkMessage(m connectors.Message) error {
	if strings.TrimSpace(m.Body) == "" && len(m.Attachments) == 0 {
		return connectors.PermanentError("zammad: empty message", nil)
	}
	return nil
}

// articleText is the article body for m: its text, or the file names when
// it only carries files (Zammad needs a body).
func articleText(m connectors.Message) string {
	if strings.TrimSpace(m.Body) != "" {
		return m.Body
	}
	names := make([]string, 0, len(m.Attachments))
	for _, a := range m.Attachments {
		names = append(names, httpapi.FileName(a))
	}
	return "[" + strings.Join(names, ", ") + "]"
}

// pendingBody is a request whose files are opened, waiting for the rest of
// the request to be built around the article.
type pendingBody struct {
	placeholders []string
	files        []httpapi.File
	limit        int64
}

// with streams the request in with the files in place.
func (p *pendingBody) with(in any) (*httpapi.Stream, error) {
	return newJSONStream(in, p.placeholders, p.files, p.limit)
}

// articleBody builds a customer article for m. When m has files they are
// opened and the returned pendingBody must be used to send the request.
func (c *Client) articleBody(ctx context.Context, m connectors.Message, cid int64, ticketID *int64) (map[string]any, *pendingBody, error) {
	art := map[string]any{
		"body": articleText(m), "content_type": "text/plain", "type": customerArticleType, "sender": "Customer",
		"internal": false, "origin_by_id": cid,
	}
	if ticketID != nil {
		art["ticket_id"] = *ticketID
	}
	if len(m.Attachments) == 0 {
		return art, nil, nil
	}
	files, err := httpapi.OpenFiles(ctx, Kind, m.Attachments)
	if err != nil {
		return nil, nil, err
	}
	p := &pendingBody{files: files, limit: c.maxBody}
	atts := make([]attachmentJSON, len(files))
	for i, f := range files {
		ph, err := placeholder(i)
		if err != nil {
			httpapi.CloseFiles(files)
			return nil, nil, err
		}
		p.placeholders = append(p.placeholders, ph)
		atts[i] = attachmentJSON{Filename: f.Name, Data: ph, MimeType: f.MediaType()}
	}
	art["attachments"] = atts
	return art, p, nil
}

// AddMessage implements connectors.Connector: an article recorded for the
// customer. On a pending or closed ticket that takes follow-ups it first
// sets the state back to open; a ticket that is merged, removed or in a
// group refusing follow-ups refuses with [connectors.ErrTicketClosed].
func (c *Client) AddMessage(ctx context.Context, ticketID, requesterID string, m connectors.Message) (string, error) {
	cid, err := parseID("requester", requesterID)
	if err != nil {
		return "", err
	}
	if err := checkMessage(m); err != nil {
		return "", err
	}
	tk, err := c.getTicket(ctx, ticketID)
	if err != nil {
		return "", err
	}
	st, err := c.status(ctx, tk)
	if err != nil {
		return "", err
	}
	switch st {
	case connectors.StatusClosed:
		return "", &connectors.Error{Class: connectors.ClassPermanent, Message: "zammad: ticket " + ticketID + " is " + tk.State + " and takes no follow-ups", Err: connectors.ErrTicketClosed}
	case connectors.StatusPending, connectors.StatusSolved:
		// Reopen first: if the article then fails, the retry finds an open
		// ticket; the other way round a retry would not reopen it.
		if err := c.do(ctx, call{method: http.MethodPut, path: "tickets/" + formatID(tk.ID), in: map[string]any{"state": "open"}}); err != nil {
			return "", err
		}
	}
	art, pending, err := c.articleBody(ctx, m, cid, &tk.ID)
	if err != nil {
		return "", err
	}
	return c.postArticle(ctx, art, pending)
}

func (c *Client) postArticle(ctx context.Context, art map[string]any, pending *pendingBody) (string, error) {
	var out article
	var err error
	if pending != nil {
		body, berr := pending.with(art)
		if berr != nil {
			return "", berr
		}
		err = c.do(ctx, call{method: http.MethodPost, path: "ticket_articles", body: body, out: &out})
	} else {
		err = c.do(ctx, call{method: http.MethodPost, path: "ticket_articles", in: art, out: &out})
	}
	if err != nil {
		return "", err
	}
	return httpapi.CreatedID(Kind, "article", out.ID)
}

// AddNote implements connectors.Connector: an internal note by the API
// user.
func (c *Client) AddNote(ctx context.Context, ticketID string, n connectors.Note) (string, error) {
	id, err := httpapi.NoteTarget(Kind, "ticket", ticketID, n)
	if err != nil {
		return "", err
	}
	return c.postArticle(ctx, map[string]any{
		"ticket_id": id, "body": n.Body, "content_type": "text/plain", "type": noteArticleType, "sender": "Agent", "internal": true,
	}, nil)
}

// GetTicket implements connectors.Connector.
func (c *Client) GetTicket(ctx context.Context, ticketID string) (connectors.Ticket, error) {
	tk, err := c.getTicket(ctx, ticketID)
	if err != nil {
		return connectors.Ticket{}, err
	}
	st, err := c.status(ctx, tk)
	if err != nil {
		return connectors.Ticket{}, err
	}
	return connectors.Ticket{ID: formatID(tk.ID), Status: st, URL: c.ticketURL(formatID(tk.ID))}, nil
}

func (c *Client) getTicket(ctx context.Context, ticketID string) (ticket, error) {
	id, err := parseID("ticket", ticketID)
	if err != nil {
		return ticket{}, err
	}
	var tk ticket
	if err := c.do(ctx, call{method: http.MethodGet, path: "tickets/" + formatID(id), query: url.Values{"expand": {"true"}}, out: &tk}); err != nil {
		return ticket{}, err
	}
	return tk, nil
}

// FindMessage implements connectors.MessageFinder: it reads the ticket's
// articles newest first for a public customer article for requesterID with
// m's text and file names.
func (c *Client) FindMessage(ctx context.Context, ticketID, requesterID string, m connectors.Message) (string, bool, error) {
	tid, err := parseID("ticket", ticketID)
	if err != nil {
		return "", false, err
	}
	cid, err := parseID("requester", requesterID)
	if err != nil {
		return "", false, err
	}
	var arts []article
	if err := c.do(ctx, call{method: http.MethodGet, path: "ticket_articles/by_ticket/" + formatID(tid), out: &arts}); err != nil {
		return "", false, err
	}
	want := httpapi.NormText(articleText(m))
	for i := len(arts) - 1; i >= 0; i-- {
		a := arts[i]
		if a.author() != cid || a.Internal || a.Sender != "Customer" || httpapi.NormText(plainText(a.Body, a.ContentType)) != want {
			continue
		}
		if sameFiles(a.Attachments, m.Attachments) {
			return formatID(a.ID), true, nil
		}
	}
	return "", false, nil
}

func sameFiles(got []articleAttachment, want []connectors.Attachment) bool {
	return httpapi.SameFiles(got, func(a articleAttachment) string { return a.Filename }, want, httpapi.FileName)
}

// attachmentPath matches Zammad's attachment download path.
var attachmentPath = regexp.MustCompile(`/api/v1/ticket_attachment/(\d+)/(\d+)/(\d+)$`)

// OpenAttachment implements connectors.AttachmentFetcher. Zammad builds
// attachment URLs from its configured FQDN, which may differ from the
// address relaydesk uses: the download always goes to the configured base
// URL, so the token never leaves it.
func (c *Client) OpenAttachment(ctx context.Context, a connectors.RemoteAttachment) (io.ReadCloser, string, error) {
	u, err := url.Parse(a.URL)
	if err != nil {
		return nil, "", connectors.PermanentError("zammad: unreadable attachment URL", nil)
	}
	m := attachmentPath.FindStringSubmatch(u.Path)
	if m == nil {
		return nil, "", connectors.PermanentError("zammad: not a Zammad attachment URL", nil)
	}
	p := "/api/v1/ticket_attachment/" + m[1] + "/" + m[2] + "/" + m[3]
	return c.site.API.Fetch(ctx, c.site.Base.String()+p, a.ContentType)
}

// Test implements connectors.Tester with GET /api/v1/users/me.
func (c *Client) Test(ctx context.Context) error {
	var me user
	if err := c.do(ctx, call{method: http.MethodGet, path: "users/me", out: &me}); err != nil {
		return err
	}
	if me.ID == 0 {
		return connectors.AuthError("zammad: the token belongs to no user", nil)
	}
	return nil
}
