package server

import (
	"bytes"
	"net/http"
	"strconv"
	"strings"
)

// River UI is a prebuilt single-page app with no link out. Its HTML page
// (not its API or assets) gets a fixed link back to the admin page, placed
// right after <body>; River UI's stylesheet policy allows inline styles.
const jobsBackLink = `<a id="back-to-admin" href="/admin/numbers" style="position:fixed;z-index:2147483647;` +
	`right:12px;bottom:12px;padding:8px 14px;border-radius:8px;background:#0f766e;color:#fff;` +
	`font:600 14px/1.2 system-ui,sans-serif;text-decoration:none;box-shadow:0 2px 8px rgba(0,0,0,.25)">` +
	`← relaydesk admin</a>`

// backLinkWriter buffers an uncompressed HTML answer to add jobsBackLink;
// anything else passes straight through.
type backLinkWriter struct {
	http.ResponseWriter
	buf     *bytes.Buffer
	code    int
	decided bool
}

func (w *backLinkWriter) decide() {
	if w.decided {
		return
	}
	w.decided = true
	h := w.Header()
	if strings.HasPrefix(h.Get("Content-Type"), "text/html") && h.Get("Content-Encoding") == "" {
		w.buf = &bytes.Buffer{}
	}
}

func (w *backLinkWriter) WriteHeader(code int) {
	w.decide()
	if w.buf == nil {
		w.ResponseWriter.WriteHeader(code)
		return
	}
	w.code = code
}

func (w *backLinkWriter) Write(p []byte) (int, error) {
	w.decide()
	if w.buf == nil {
		return w.ResponseWriter.Write(p)
	}
	return w.buf.Write(p)
}

// finish writes the buffered page with the link.
func (w *backLinkWriter) finish() error {
	if w.buf == nil {
		return nil
	}
	body := w.buf.Bytes()
	if i := bytes.Index(body, []byte("<body")); i >= 0 {
		if j := bytes.IndexByte(body[i:], '>'); j >= 0 {
			at := i + j + 1
			body = append(body[:at:at], append([]byte(jobsBackLink), body[at:]...)...)
		}
	}
	w.Header().Set("Content-Length", strconv.Itoa(len(body)))
	if w.code == 0 {
		w.code = http.StatusOK
	}
	w.ResponseWriter.WriteHeader(w.code)
	_, err := w.ResponseWriter.Write(body)
	return err
}
