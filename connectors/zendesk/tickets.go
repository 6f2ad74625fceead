package zendesk

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"fmt"
	"io"
	"mime"
	"net/http"
	"net/url"
	"path"
	"slices"
	"strings"

	"github.com/relaydesk/relaydesk/connectors"
)

// EnsureRequester implements connectors.Connector. It looks the user up by
// the external id relaydesk gives its users ("wa:+<E.164>"), then by exact
// phone number among end users (a customer an agent already knows), and
// otherwise creates the user with create_or_update keyed on the external id,
// so concurrent calls converge on one user.
func (c *Client) EnsureRequester(ctx context.Context, r connectors.Requester) (string, error) {
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
	id, err := parseID("ticket", ticketID)
	if err != nil {
		return "", err
	}
	if strings.TrimSpace(n.Body) == "" {
		return "", connectors.PermanentError("zendesk: empty note", nil)
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
	if norm(cm.Body) != norm(want) && norm(cm.PlainBody) != norm(want) {
		return false
	}
	if len(cm.Attachments) != len(m.Attachments) {
		return false
	}
	got := make([]string, len(cm.Attachments))
	for i, a := range cm.Attachments {
		got[i] = a.FileName
	}
	for _, a := range m.Attachments {
		i := slices.Index(got, fileName(a))
		if i < 0 {
			return false
		}
		got = slices.Delete(got, i, i+1)
	}
	return true
}

func norm(s string) string {
	return strings.Join(strings.Fields(strings.ReplaceAll(s, "\r\n", "\n")), " ")
}

// uploadAll uploads the files and returns their upload tokens.
func (c *Client) uploadAll(ctx context.Context, atts []connectors.Attachment) ([]string, error) {
	var tokens []string
	for i, a := range atts {
		tok, err := c.upload(ctx, a)
		if err != nil {
			return nil, fmt.Errorf("zendesk: attachment %d: %w", i+1, err)
		}
		tokens = append(tokens, tok)
	}
	return tokens, nil
}

// upload streams one file to the Uploads API.
func (c *Client) upload(ctx context.Context, a connectors.Attachment) (string, error) {
	if a.Open == nil {
		return "", connectors.PermanentError("attachment has no content", nil)
	}
	rc, err := a.Open(ctx)
	if err != nil {
		return "", fmt.Errorf("open: %w", err)
	}
	defer rc.Close()
	ctype := a.ContentType
	if _, _, err := mime.ParseMediaType(ctype); err != nil {
		ctype = "application/octet-stream"
	}
	var out struct {
		Upload struct {
			Token string `json:"token"`
		} `json:"upload"`
	}
	length := a.Size
	if length < 0 {
		length = -1
	}
	err = c.do(ctx, call{
		method: http.MethodPost, path: "uploads", query: url.Values{"filename": {fileName(a)}},
		body: io.NopCloser(rc), length: length, ctype: ctype, out: &out,
	})
	if err != nil {
		return "", err
	}
	if out.Upload.Token == "" {
		return "", connectors.RetryError("zendesk: upload returned no token", nil)
	}
	return out.Upload.Token, nil
}

// fileName is a safe file name for a, with an extension matching its type
// when it has none (Zendesk wants the extension to match the content).
func fileName(a connectors.Attachment) string {
	name := path.Base(strings.ReplaceAll(strings.TrimSpace(a.Filename), "\\", "/"))
	if name == "." || name == "/" || name == "" {
		name = "attachment"
	}
	if path.Ext(name) == "" {
		if mt, _, err := mime.ParseMediaType(a.ContentType); err == nil {
			if exts, _ := mime.ExtensionsByType(mt); len(exts) > 0 {
				name += preferredExt(mt, exts)
			}
		}
	}
	return name
}

func preferredExt(mt string, exts []string) string {
	common := map[string]string{"image/jpeg": ".jpg", "audio/ogg": ".ogg", "audio/mpeg": ".mp3", "video/mp4": ".mp4", "text/plain": ".txt"}
	if e, ok := common[mt]; ok {
		return e
	}
	return exts[0]
}

// HydrateEvent implements connectors.EventHydrator: Zendesk's comment
// events carry no attachments, so the comment is read back from the API.
func (c *Client) HydrateEvent(ctx context.Context, e connectors.Event) (connectors.Event, error) {
	if e.Type != connectors.EventComment || e.CommentID == "" {
		return e, nil
	}
	want, err := parseID("comment", e.CommentID)
	if err != nil {
		return e, err
	}
	var hit *comment
	err = c.eachComment(ctx, e.TicketID, maxPages, func(cm comment) bool {
		if cm.ID == want {
			hit = &cm
			return false
		}
		return true
	})
	if err != nil {
		return e, err
	}
	if hit == nil {
		return e, &connectors.Error{Class: connectors.ClassNotFound, Message: "zendesk: comment " + e.CommentID + " not found on ticket " + e.TicketID}
	}
	if strings.TrimSpace(e.Body) == "" {
		e.Body = hit.PlainBody
		if e.Body == "" {
			e.Body = hit.Body
		}
	}
	e.Public = hit.Public
	e.Attachments = nil
	for _, a := range hit.Attachments {
		e.Attachments = append(e.Attachments, connectors.RemoteAttachment{URL: a.ContentURL, Filename: a.FileName, ContentType: a.ContentType, Size: a.Size})
	}
	return e, nil
}

// OpenAttachment implements connectors.AttachmentFetcher. Credentials are
// sent only when the URL is on the account's own host (private
// attachments); Zendesk warns that content URLs may be hosted elsewhere.
func (c *Client) OpenAttachment(ctx context.Context, a connectors.RemoteAttachment) (io.ReadCloser, string, error) {
	u, err := url.Parse(a.URL)
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
		return nil, "", connectors.PermanentError("zendesk: attachment URL is not an absolute http(s) URL", nil)
	}
	resp, err := c.api.Download(ctx, u.String())
	if err != nil {
		return nil, "", err
	}
	ct := resp.Header.Get("Content-Type")
	if ct == "" || strings.HasPrefix(ct, "application/octet-stream") {
		ct = a.ContentType
	}
	return resp.Body, ct, nil
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
