package whatsapptest

import (
	"bytes"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"hash"
	"io"
	"mime"
	"mime/multipart"
	"net/http"
	"net/url"
	"strconv"

	"github.com/relaydesk/relaydesk/internal/whatsapp"
)

// handleUpload serves POST /{phone-number-id}/media. With validation the
// body is buffered (the validator needs it); without, it is streamed.
func (s *Server) handleUpload(x *exchange) {
	var form io.Reader
	if s.spec != nil {
		if !s.readBody(x, s.opts.MaxUploadBytes) {
			return
		}
		form = bytes.NewReader(x.body)
	} else {
		form = io.LimitReader(x.r.Body, s.opts.MaxUploadBytes)
	}
	pnid, ok := s.admitNumber(x, specPathMedia)
	if !ok {
		return
	}
	_, params, err := mime.ParseMediaType(x.r.Header.Get("Content-Type"))
	if err != nil || params["boundary"] == "" {
		s.graphError(x, http.StatusBadRequest, 100, 0, "(#100) Invalid parameter", "expected multipart/form-data")
		return
	}
	up, fields, err := s.readUploadForm(multipart.NewReader(form, params["boundary"]))
	if err != nil {
		s.graphError(x, http.StatusBadRequest, 100, 0, "(#100) Invalid parameter", err.Error())
		return
	}
	switch {
	case fields["messaging_product"] != "whatsapp":
		s.graphError(x, http.StatusBadRequest, 100, 0, "(#100) The parameter messaging_product is required.", "")
		return
	case fields["type"] == "":
		s.graphError(x, http.StatusBadRequest, 100, 0, "(#100) The parameter type is required.", "")
		return
	case up == nil:
		s.graphError(x, http.StatusBadRequest, 100, 0, "(#100) The parameter file is required.", "")
		return
	}
	up.MimeType = fields["type"]
	// The media endpoint takes the listed types only; a file of any of
	// them may go as a document, so the upload is bounded by the document
	// limit and the message's own type is checked when it is sent.
	if _, err := whatsapp.LookupMediaType(up.MimeType); err != nil {
		s.graphError(x, http.StatusBadRequest, 131053, 0, "(#131053) Media upload error", err.Error())
		return
	}
	if up.Size > whatsapp.MaxDocumentBytes {
		s.graphError(x, http.StatusBadRequest, 131053, 0, "(#131053) Media upload error",
			fmt.Sprintf("file is %d bytes, the limit is %d", up.Size, int64(whatsapp.MaxDocumentBytes)))
		return
	}
	up.PhoneNumberID = pnid
	up.ID = NewMediaID()
	m := &Media{ID: up.ID, PhoneNumberID: pnid, MimeType: up.MimeType, Size: up.Size, SHA256: up.SHA256}
	if up.Data != nil {
		data := up.Data
		m.Data = data
		m.Open = func() io.Reader { return bytes.NewReader(data) }
	} else {
		size := up.Size
		m.Open = func() io.Reader { return io.LimitReader(zeroReader{}, size) }
	}
	s.mu.Lock()
	s.media[m.ID] = m
	s.mu.Unlock()
	record(s, &s.uploads, *up)
	writeJSON(x.w, http.StatusOK, map[string]any{"id": up.ID})
}

func (s *Server) readUploadForm(mr *multipart.Reader) (*RecordedUpload, map[string]string, error) {
	fields := map[string]string{}
	var up *RecordedUpload
	for {
		part, err := mr.NextPart()
		if err == io.EOF {
			return up, fields, nil
		}
		if err != nil {
			return nil, nil, err
		}
		name := part.FormName()
		if name == "file" {
			up = &RecordedUpload{Filename: part.FileName()}
			h := sha256.New()
			var sink io.Writer = h
			var buf *bytes.Buffer
			if !s.opts.DiscardUploads {
				buf = &bytes.Buffer{}
				sink = io.MultiWriter(h, buf)
			}
			n, err := io.Copy(sink, part)
			if err != nil {
				return nil, nil, err
			}
			up.Size = n
			up.SHA256 = hexSum(h)
			if buf != nil {
				up.Data = buf.Bytes()
			}
			continue
		}
		v, err := io.ReadAll(io.LimitReader(part, 1<<10))
		if err != nil {
			return nil, nil, err
		}
		fields[name] = string(v)
	}
}

func hexSum(h hash.Hash) string { return hex.EncodeToString(h.Sum(nil)) }

type zeroReader struct{}

func (zeroReader) Read(p []byte) (int, error) {
	clear(p)
	return len(p), nil
}

// handleGetObject serves GET /{id}: a phone number or a media object.
func (s *Server) handleGetObject(x *exchange) {
	id := x.segs[1]
	s.mu.Lock()
	m, isMedia := s.media[id]
	s.mu.Unlock()
	if isMedia {
		x.rec.Op = OpMediaInfo
		if !s.admit(x, specPathMediaID) {
			return
		}
		if !visibleTo(m, x.r) {
			s.unknownObject(x, id, "get")
			return
		}
		writeJSON(x.w, http.StatusOK, map[string]any{
			"messaging_product": "whatsapp",
			"url":               s.mediaURL(id),
			"mime_type":         m.MimeType,
			"sha256":            m.SHA256,
			"file_size":         strconv.FormatInt(m.Size, 10),
			"id":                id,
		})
		return
	}
	x.rec.Op = OpPhoneNumber
	if !s.admit(x, specPathPhone) {
		return
	}
	p, ok := s.phone(id)
	if !ok {
		s.unknownObject(x, id, "get")
		return
	}
	writeJSON(x.w, http.StatusOK, p)
}

// visibleTo reports whether r may see m: the phone_number_id query
// parameter, when sent, must name the number owning m (if any).
func visibleTo(m *Media, r *http.Request) bool {
	pn := r.URL.Query().Get("phone_number_id")
	return pn == "" || m.PhoneNumberID == "" || pn == m.PhoneNumberID
}

// handleDelete serves DELETE /{media-id}.
func (s *Server) handleDelete(x *exchange) {
	if !s.admit(x, specPathMediaID) {
		return
	}
	id := x.segs[1]
	s.mu.Lock()
	m, ok := s.media[id]
	if ok {
		if !visibleTo(m, x.r) {
			ok = false
		} else {
			delete(s.media, id)
		}
	}
	s.mu.Unlock()
	if !ok {
		s.unknownObject(x, id, "delete")
		return
	}
	writeJSON(x.w, http.StatusOK, map[string]any{"success": true})
}

// mediaURL returns a signed, short-lived download URL under the fake, in the
// shape of Graph's lookaside URLs.
func (s *Server) mediaURL(id string) string {
	exp := strconv.FormatInt(s.opts.Now().Add(s.opts.MediaURLTTL).Unix(), 10)
	q := url.Values{"mid": {id}, "ext": {exp}, "hash": {s.urlMAC(id, exp)}}
	return s.srv.URL + attachmentsPath + "?" + q.Encode()
}

func (s *Server) urlMAC(id, exp string) string {
	mac := hmac.New(sha256.New, s.urlKey)
	mac.Write([]byte(id + "|" + exp))
	return hex.EncodeToString(mac.Sum(nil))
}

// handleDownload streams a media file. The URL must be one the fake handed
// out and not expired; the bearer token is required (checked earlier). This
// endpoint is not validated against the description, which models it as
// "/{Version}/{Media-URL}", a shape real download URLs do not have.
func (s *Server) handleDownload(x *exchange) {
	q := x.r.URL.Query()
	id, exp := q.Get("mid"), q.Get("ext")
	expUnix, err := strconv.ParseInt(exp, 10, 64)
	if err != nil || !hmac.Equal([]byte(q.Get("hash")), []byte(s.urlMAC(id, exp))) || s.opts.Now().Unix() > expUnix {
		http.Error(x.w, "URL signature mismatch or expired", http.StatusNotFound)
		return
	}
	s.mu.Lock()
	m, ok := s.media[id]
	s.mu.Unlock()
	if !ok {
		http.Error(x.w, "not found", http.StatusNotFound)
		return
	}
	x.w.Header().Set("Content-Type", m.MimeType)
	x.w.Header().Set("Content-Length", strconv.FormatInt(m.Size, 10))
	x.w.WriteHeader(http.StatusOK)
	_, _ = io.Copy(x.w, io.LimitReader(m.Open(), m.Size))
}

// checkMediaSend answers Graph's error and reports false when a media
// message names an uploaded file its type does not take: another class
// (a PDF sent as an image) or over the class's size limit (an image over
// 5 MB). Documents take any uploaded file.
func (s *Server) checkMediaSend(x *exchange, kind, mediaID string) bool {
	if mediaID == "" || kind == whatsapp.TypeDocument {
		return true
	}
	s.mu.Lock()
	m := s.media[mediaID]
	s.mu.Unlock()
	if m == nil {
		return true // unknown ids are not this check's business
	}
	lim, err := whatsapp.LookupMediaType(m.MimeType)
	switch {
	case err != nil:
	case lim.Kind != kind && !(kind == whatsapp.TypeSticker && lim.Kind == whatsapp.TypeImage):
		err = fmt.Errorf("%s media cannot be sent as %s", m.MimeType, kind)
	case m.Size > lim.MaxBytes:
		err = fmt.Errorf("%s media is %d bytes, %s messages take at most %d", m.MimeType, m.Size, kind, lim.MaxBytes)
	}
	if err != nil {
		s.graphError(x, http.StatusBadRequest, 131053, 0, "(#131053) Media upload error", err.Error())
		return false
	}
	return true
}
