package zendesk

import (
	"context"
	"fmt"
	"io"
	"mime"
	"net/http"
	"net/url"
	"path"
	"strings"

	"github.com/relaydesk/relaydesk/connectors"
)

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
	return c.site.API.OpenRemote(ctx, a)
}
