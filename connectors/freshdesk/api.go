package freshdesk

import (
	"context"
	"fmt"
	"io"
	"mime"
	"mime/multipart"
	"net/http"
	"net/textproto"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/relaydesk/relaydesk/connectors"
	"github.com/relaydesk/relaydesk/connectors/internal/httpapi"
)

// call is one API request.
type call struct {
	method string
	path   string // below /api/v2/, without a leading slash
	query  url.Values
	in     any   // JSON request body, or nil
	form   *form // multipart request body, or nil
	out    any   // decoded response, or nil
}

// form is a multipart/form-data body: plain fields, then files under
// "attachments[]".
type form struct {
	fields [][2]string // name, value in order ("tags[]" may repeat)
	files  []connectors.Attachment
}

// rate is what a response said about the per-minute budget.
type rate struct {
	remaining int // -1 when the header was absent
	total     int
}

// do runs k with [httpapi.Client.Do]: error messages carry the method, the
// path (ids only) and Freshdesk's own error text, never the API key. It
// returns what the response said of the rate limit, and its headers (nil
// when no response arrived).
func (c *Client) do(ctx context.Context, k call) (rate, http.Header, error) {
	r := httpapi.Request{Method: k.method, URL: c.site.Base.String() + "/api/v2/" + k.path, Path: k.path, Query: k.query, JSON: k.in, Out: k.out}
	if k.in == nil && k.form != nil {
		r.Body, r.ContentType = httpapi.MultipartPipe(func(mw *multipart.Writer) error { return writeForm(ctx, mw, k.form) })
		r.ContentLength = -1 // streamed, sent chunked
	}
	h, err := c.site.API.Do(ctx, r)
	if h == nil {
		return rate{remaining: -1}, nil, err
	}
	return readRate(h), h, err
}

func readRate(h http.Header) rate {
	r := rate{remaining: -1, total: -1}
	if v, err := strconv.Atoi(strings.TrimSpace(h.Get("X-RateLimit-Remaining"))); err == nil {
		r.remaining = v
	}
	if v, err := strconv.Atoi(strings.TrimSpace(h.Get("X-RateLimit-Total"))); err == nil {
		r.total = v
	}
	return r
}

// writeForm streams the form into mw, opening each file only now, so a
// retried request reads the files again. The caller closes mw.
func writeForm(ctx context.Context, mw *multipart.Writer, f *form) error {
	for _, kv := range f.fields {
		if err := mw.WriteField(kv[0], kv[1]); err != nil {
			return err
		}
	}
	for i, a := range f.files {
		if a.Open == nil {
			return connectors.PermanentError(fmt.Sprintf("attachment %d has no content", i+1), nil)
		}
		rc, err := a.Open(ctx)
		if err != nil {
			return fmt.Errorf("attachment %d: open: %w", i+1, err)
		}
		ctype := a.ContentType
		if _, _, err := mime.ParseMediaType(ctype); err != nil {
			ctype = "application/octet-stream"
		}
		h := make(textproto.MIMEHeader)
		h.Set("Content-Disposition", mime.FormatMediaType("form-data", map[string]string{"name": "attachments[]", "filename": httpapi.FileName(a)}))
		h.Set("Content-Type", ctype)
		part, err := mw.CreatePart(h)
		if err == nil {
			_, err = io.Copy(part, rc)
		}
		rc.Close()
		if err != nil {
			return fmt.Errorf("attachment %d: %w", i+1, err)
		}
	}
	return nil
}

// apiError classifies an error response. Freshdesk answers
// {"description": "Validation failed", "errors": [{"field", "message",
// "code"}]} or {"code": "...", "message": "..."}.
func apiError(resp *http.Response, data []byte) error {
	return httpapi.StatusError(resp, httpapi.ErrorText(resp, data, func(body errorBody) string {
		var parts []string
		for _, s := range []string{body.Code, body.Description, body.Message} {
			if s != "" {
				parts = append(parts, s)
			}
		}
		for _, e := range body.Errors {
			parts = append(parts, strings.Trim(e.Field+" "+e.Code+" "+e.Message, " "))
		}
		return strings.Join(parts, ": ")
	}))
}

// errorBody is Freshdesk's error answer.
type errorBody struct {
	Description string `json:"description"`
	Code        string `json:"code"`
	Message     string `json:"message"`
	Errors      []struct {
		Field   string `json:"field"`
		Message string `json:"message"`
		Code    string `json:"code"`
	} `json:"errors"`
}

// parseID parses a Freshdesk id given as a string.
func parseID(kind, s string) (int64, error) { return httpapi.ParseID(Kind, kind, s) }

func formatID(id int64) string { return strconv.FormatInt(id, 10) }

// nextPage reads the page number of the Link header's rel="next" URL, or 0.
func nextPage(h http.Header) int {
	for _, link := range h.Values("Link") {
		for _, part := range strings.Split(link, ",") {
			segs := strings.Split(part, ";")
			if len(segs) < 2 {
				continue
			}
			isNext := false
			for _, p := range segs[1:] {
				if strings.ReplaceAll(strings.TrimSpace(p), " ", "") == `rel="next"` {
					isNext = true
				}
			}
			if !isNext {
				continue
			}
			u, err := url.Parse(strings.Trim(strings.TrimSpace(segs[0]), "<>"))
			if err != nil {
				continue
			}
			if n, err := strconv.Atoi(u.Query().Get("page")); err == nil && n > 0 {
				return n
			}
		}
	}
	return 0
}

// Wire types: the fields of Freshdesk's JSON the connector reads.

type contact struct {
	ID               int64  `json:"id"`
	Name             string `json:"name"`
	Phone            string `json:"phone"`
	Mobile           string `json:"mobile"`
	UniqueExternalID string `json:"unique_external_id"`
}

type attachmentJSON struct {
	ID            int64  `json:"id"`
	Name          string `json:"name"`
	ContentType   string `json:"content_type"`
	Size          int64  `json:"size"`
	AttachmentURL string `json:"attachment_url"`
}

type ticket struct {
	ID              int64            `json:"id"`
	Status          int              `json:"status"`
	RequesterID     int64            `json:"requester_id"`
	Subject         string           `json:"subject"`
	DescriptionText string           `json:"description_text"`
	Attachments     []attachmentJSON `json:"attachments"`
	CreatedAt       time.Time        `json:"created_at"`
	UpdatedAt       time.Time        `json:"updated_at"`
}

type conversation struct {
	ID          int64            `json:"id"`
	Body        string           `json:"body"`
	BodyText    string           `json:"body_text"`
	Incoming    bool             `json:"incoming"`
	Private     bool             `json:"private"`
	UserID      int64            `json:"user_id"`
	Source      int              `json:"source"`
	TicketID    int64            `json:"ticket_id"`
	Attachments []attachmentJSON `json:"attachments"`
	CreatedAt   time.Time        `json:"created_at"`
}

// Freshdesk's ticket statuses.
const (
	statusOpen     = 2
	statusPending  = 3
	statusResolved = 4
	statusClosed   = 5
)

// normalize maps a Freshdesk status onto the four normalized ones: custom
// statuses (6 and up) count as pending, waiting on someone other than the
// agent.
func normalize(status int) connectors.Status {
	switch status {
	case statusOpen:
		return connectors.StatusOpen
	case statusResolved:
		return connectors.StatusSolved
	case statusClosed:
		return connectors.StatusClosed
	}
	return connectors.StatusPending
}

// normalizeName maps a status name (as the {{ticket.status}} placeholder
// renders it) onto the normalized ones.
func normalizeName(name string) connectors.Status {
	switch strings.ToLower(strings.TrimSpace(name)) {
	case "open", "2":
		return connectors.StatusOpen
	case "resolved", "4":
		return connectors.StatusSolved
	case "closed", "5":
		return connectors.StatusClosed
	}
	return connectors.StatusPending
}
