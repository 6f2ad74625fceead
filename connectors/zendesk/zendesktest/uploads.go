package zendesktest

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"mime"
	"net/http"
	"net/url"
	"strconv"
	"time"

	"github.com/relaydesk/relaydesk/connectors/connectortest"
)

// Uploads and attachments.

func (f *Fake) handleUpload(w http.ResponseWriter, r *http.Request) {
	name := r.URL.Query().Get("filename")
	if name == "" {
		f.Violate("POST /api/v2/uploads: the filename query parameter is required")
		writeError(w, http.StatusBadRequest, "InvalidParameter", "filename is required")
		return
	}
	ct := r.Header.Get("Content-Type")
	if mt, _, err := mime.ParseMediaType(ct); err != nil || mt == "application/json" {
		f.Violate("POST /api/v2/uploads: Content-Type must be the file's MIME type, got %q", ct)
		writeError(w, http.StatusBadRequest, "InvalidHeader", "Content-Type must describe the file")
		return
	}
	limit := f.opts.MaxUploadBytes
	var data []byte
	var size int64
	var sum string
	if f.opts.DiscardUploads {
		h := sha256.New()
		n, err := io.Copy(h, io.LimitReader(r.Body, limit+1))
		if err != nil {
			writeError(w, http.StatusBadRequest, "InvalidBody", err.Error())
			return
		}
		size, sum = n, hex.EncodeToString(h.Sum(nil))
	} else {
		var err error
		if data, err = io.ReadAll(io.LimitReader(r.Body, limit+1)); err != nil {
			writeError(w, http.StatusBadRequest, "InvalidBody", err.Error())
			return
		}
		size = int64(len(data))
	}
	if size > limit {
		writeError(w, http.StatusRequestEntityTooLarge, "AttachmentTooLarge", fmt.Sprintf("Attachments can be up to %d MB", limit>>20))
		return
	}
	if r.ContentLength >= 0 && r.ContentLength != size {
		f.Violate("POST /api/v2/uploads: Content-Length %d but %d bytes", r.ContentLength, size)
	}
	f.Mu.Lock()
	defer f.Mu.Unlock()
	a := f.newAttachment(name, ct, data)
	a.size, a.sha256 = size, sum
	tok := r.URL.Query().Get("token")
	u := f.uploads[tok]
	if tok != "" && u == nil {
		writeError(w, http.StatusNotFound, "RecordNotFound", "upload token not found")
		return
	}
	if u == nil {
		u = &upload{token: randomToken(), expiresAt: f.now().Add(60 * time.Minute)}
		f.uploads[u.token] = u
	}
	u.attachments = append(u.attachments, a.id)
	list := make([]attachmentJSON, 0, len(u.attachments))
	for _, aid := range u.attachments {
		list = append(list, f.attachmentJSON(f.attachments[aid]))
	}
	connectortest.WriteJSON(w, http.StatusCreated, map[string]any{"upload": map[string]any{
		"token": u.token, "expires_at": u.expiresAt.UTC().Format(time.RFC3339), "attachment": f.attachmentJSON(a), "attachments": list,
	}})
}

func (f *Fake) handleDownload(w http.ResponseWriter, r *http.Request) {
	if auth := r.Header.Get("Authorization"); auth != "" && !f.authorized(r) {
		writeError(w, http.StatusUnauthorized, "Couldn't authenticate you", "")
		return
	}
	f.Mu.Lock()
	a := f.byToken[r.PathValue("token")]
	var data []byte
	var ct, name string
	var size int64
	if a != nil {
		data, ct, name, size = a.data, a.contentType, a.fileName, a.size
	}
	f.Mu.Unlock()
	if a == nil {
		writeError(w, http.StatusNotFound, "RecordNotFound", "Not found")
		return
	}
	w.Header().Set("Content-Type", ct)
	w.Header().Set("Content-Length", strconv.FormatInt(size, 10))
	w.Header().Set("Content-Disposition", mime.FormatMediaType("attachment", map[string]string{"filename": name}))
	if data == nil && size > 0 { // a discarded upload: zeros of its size
		_, _ = io.CopyN(w, zeros{}, size)
		return
	}
	_, _ = w.Write(data)
}

type zeros struct{}

func (zeros) Read(p []byte) (int, error) {
	clear(p)
	return len(p), nil
}

func (f *Fake) attachmentJSON(a *attachment) attachmentJSON {
	content := f.URL + "/attachments/token/" + a.token + "/?name=" + url.QueryEscape(a.fileName)
	return attachmentJSON{
		ID: a.id, URL: f.apiURL("attachments/" + formatID(a.id) + ".json"), FileName: a.fileName,
		ContentURL: content, MappedContentURL: content, ContentType: a.contentType, Size: a.size, Thumbnails: []any{},
	}
}
