package rt

import (
	"bufio"
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"io"
	"mime"
	"mime/multipart"
	"net/http"
	"net/mail"
	"net/textproto"
	"strings"
	"time"

	"github.com/relaydesk/relaydesk/connectors"
	"github.com/relaydesk/relaydesk/connectors/internal/httpapi"
)

// messageID is the Message-ID (without angle brackets) of the email that
// carries the message with this idempotency key into this queue.
func messageID(queue, key string) string {
	sum := sha256.Sum256([]byte("relaydesk:" + queue + ":" + key))
	return "relaydesk." + hex.EncodeToString(sum[:16]) + "@" + CustomerDomain
}

// customerEmail is the address relaydesk gives a customer.
func customerEmail(phone string) string { return "wa+" + phone[1:] + "@" + CustomerDomain }

// findByMessageID returns the transaction and ticket of the email with
// this Message-ID, if RT has it.
func (c *Client) findByMessageID(ctx context.Context, id string) (txn, ticket string, found bool, err error) {
	var page collection[attachmentJSON]
	err = c.do(ctx, call{
		method: http.MethodPost, path: "attachments", query: map[string][]string{"fields": {"TransactionId"}},
		in: []condition{{Field: "MessageId", Value: id}}, out: &page,
	})
	if err != nil || len(page.Items) == 0 {
		return "", "", false, err
	}
	txn = string(page.Items[0].TransactionID)
	var tx transactionJSON
	if err := c.do(ctx, call{method: http.MethodGet, path: "transaction/" + url_(txn), out: &tx}); err != nil {
		return "", "", false, err
	}
	if tx.Object.Type != "ticket" || tx.Object.ID == "" {
		return "", "", false, connectors.RetryError("rt: transaction "+txn+" is not on a ticket", nil)
	}
	return txn, string(tx.Object.ID), true, nil
}

func url_(s string) string { return strings.NewReplacer("/", "%2F", "?", "%3F", "#", "%23").Replace(s) }

// gateway posts m to RT's mail gateway as an email from the customer,
// creating a ticket in the queue (ticketID empty) or adding correspondence
// to ticketID. The message is streamed: files are opened and encoded while
// the request is sent.
func (c *Client) gatewayPost(ctx context.Context, ticketID string, from mail.Address, subject string, m connectors.Message) error {
	body, ctype := httpapi.MultipartPipe(func(form *multipart.Writer) error {
		fields := [][2]string{{"queue", c.queue}, {"action", "correspond"}}
		if ticketID != "" {
			fields = append(fields, [2]string{"ticket", ticketID})
		}
		for _, kv := range fields {
			if err := form.WriteField(kv[0], kv[1]); err != nil {
				return err
			}
		}
		w, err := form.CreateFormField("message")
		if err != nil {
			return err
		}
		return writeMessage(ctx, w, from, subject, messageID(c.queue, m.Key), m)
	})
	defer body.Close() // stops the writer if the transport gave up early
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, c.gateway, body)
	if err != nil {
		return connectors.PermanentError("rt: build request", err)
	}
	req.ContentLength = -1
	req.Header.Set("Content-Type", ctype)
	resp, err := c.site.API.HTTP.Do(req)
	if err != nil {
		return fmt.Errorf("rt: mail gateway: %w", connectors.Classify(httpapi.UnwrapURL(err)))
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
	if err != nil {
		return fmt.Errorf("rt: mail gateway: read response: %w", connectors.Classify(err))
	}
	if resp.StatusCode/100 != 2 {
		return fmt.Errorf("rt: mail gateway: %w", apiError(resp, data))
	}
	// The gateway answers 200 whatever happened: its first line says.
	first, _, _ := strings.Cut(strings.TrimSpace(string(data)), "\n")
	switch {
	case first == "ok":
		return nil
	case strings.HasPrefix(first, "temporary failure"):
		return connectors.RetryError("rt: mail gateway: "+first, nil)
	case strings.HasPrefix(first, "not ok"):
		return connectors.PermanentError("rt: mail gateway refused the message (grant Everyone CreateTicket and ReplyToTicket on the queue): "+first, nil)
	}
	return connectors.RetryError("rt: mail gateway: unexpected answer "+fmt.Sprintf("%.80q", first), nil)
}

// writeMessage writes the customer's email: a text part and the files,
// base64-encoded.
func writeMessage(ctx context.Context, w io.Writer, from mail.Address, subject, msgID string, m connectors.Message) error {
	at := m.At
	if at.IsZero() {
		at = time.Now()
	}
	bw := bufio.NewWriter(w)
	hdr := func(k, v string) { fmt.Fprintf(bw, "%s: %s\r\n", k, v) }
	hdr("From", from.String())
	hdr("Subject", mime.QEncoding.Encode("utf-8", oneLine(subject)))
	hdr("Message-ID", "<"+msgID+">")
	hdr("Date", at.Format(time.RFC1123Z))
	hdr("MIME-Version", "1.0")
	hdr("X-Relaydesk", "whatsapp")
	if len(m.Attachments) == 0 {
		hdr("Content-Type", "text/plain; charset=utf-8")
		hdr("Content-Transfer-Encoding", "base64")
		bw.WriteString("\r\n")
		if err := writeBase64(bw, strings.NewReader(m.Body)); err != nil {
			return err
		}
		return bw.Flush()
	}
	mw := multipart.NewWriter(bw)
	hdr("Content-Type", "multipart/mixed; boundary="+mw.Boundary())
	bw.WriteString("\r\n")
	if m.Body != "" {
		h := textproto.MIMEHeader{}
		h.Set("Content-Type", "text/plain; charset=utf-8")
		h.Set("Content-Transfer-Encoding", "base64")
		part, err := mw.CreatePart(h)
		if err != nil {
			return err
		}
		if err := writeBase64(part, strings.NewReader(m.Body)); err != nil {
			return err
		}
	}
	for i, a := range m.Attachments {
		if a.Open == nil {
			return connectors.PermanentError(fmt.Sprintf("rt: attachment %d has no content", i+1), nil)
		}
		ctype := a.ContentType
		if _, _, err := mime.ParseMediaType(ctype); err != nil {
			ctype = "application/octet-stream"
		}
		h := textproto.MIMEHeader{}
		name := httpapi.FileName(a)
		h.Set("Content-Type", mime.FormatMediaType(ctype, map[string]string{"name": name}))
		h.Set("Content-Disposition", mime.FormatMediaType("attachment", map[string]string{"filename": name}))
		h.Set("Content-Transfer-Encoding", "base64")
		part, err := mw.CreatePart(h)
		if err != nil {
			return err
		}
		rc, err := a.Open(ctx)
		if err != nil {
			return fmt.Errorf("rt: attachment %d: open: %w", i+1, err)
		}
		err = writeBase64(part, rc)
		rc.Close()
		if err != nil {
			return fmt.Errorf("rt: attachment %d: %w", i+1, err)
		}
	}
	if err := mw.Close(); err != nil {
		return err
	}
	return bw.Flush()
}

func oneLine(s string) string {
	s = strings.Join(strings.Fields(s), " ")
	if s == "" {
		return "WhatsApp conversation"
	}
	return s
}

// writeBase64 writes r base64-encoded in lines of 76 characters.
func writeBase64(w io.Writer, r io.Reader) error {
	lw := &lineWriter{w: w}
	enc := base64.NewEncoder(base64.StdEncoding, lw)
	if _, err := io.Copy(enc, r); err != nil {
		return err
	}
	if err := enc.Close(); err != nil {
		return err
	}
	_, err := w.Write([]byte("\r\n"))
	return err
}

// lineWriter breaks its output into lines of 76 characters.
type lineWriter struct {
	w   io.Writer
	col int
}

// Write implements io.Writer.
func (l *lineWriter) Write(p []byte) (int, error) {
	n := 0
	for len(p) > 0 {
		chunk := min(76-l.col, len(p))
		if _, err := l.w.Write(p[:chunk]); err != nil {
			return n, err
		}
		n += chunk
		l.col += chunk
		p = p[chunk:]
		if l.col == 76 {
			if _, err := l.w.Write([]byte("\r\n")); err != nil {
				return n, err
			}
			l.col = 0
		}
	}
	return n, nil
}
