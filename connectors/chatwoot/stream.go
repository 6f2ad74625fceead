package chatwoot

import (
	"crypto/rand"
	"encoding/hex"
	"io"
	"mime"
	"mime/multipart"
	"net/textproto"

	"github.com/relaydesk/relaydesk/connectors"
	"github.com/relaydesk/relaydesk/connectors/internal/httpapi"
)

// formField is one text field of a multipart body.
type formField struct{ name, value string }

// newMultipart streams a multipart/form-data body of fields then files
// (each as field fileField), written on the fly from the already opened
// files: nothing is buffered. Its length is exact when every file size is
// known, and -1 (chunked) otherwise. It takes ownership of files.
func newMultipart(fields []formField, fileField string, files []httpapi.File) (*httpapi.Stream, error) {
	var b [16]byte
	if _, err := rand.Read(b[:]); err != nil {
		httpapi.CloseFiles(files)
		return nil, connectors.RetryError("chatwoot: boundary", err)
	}
	boundary := "relaydesk-" + hex.EncodeToString(b[:])

	// The framing does not depend on the file contents: write it once with
	// empty files to learn the length.
	length := int64(-1)
	if httpapi.KnownSizes(files) {
		var cw countWriter
		if err := writeMultipart(&cw, boundary, fields, fileField, files, func(io.Writer, httpapi.File) error { return nil }); err != nil {
			httpapi.CloseFiles(files)
			return nil, connectors.PermanentError("chatwoot: multipart", err)
		}
		length = cw.n
		for _, f := range files {
			length += f.Size
		}
	}
	ctype := mime.FormatMediaType("multipart/form-data", map[string]string{"boundary": boundary})
	return httpapi.NewStream(ctype, length, files, func(s *httpapi.Stream, w io.Writer) error {
		return writeMultipart(w, boundary, fields, fileField, files, func(w io.Writer, f httpapi.File) error {
			_, err := s.Copy(w, f)
			return err
		})
	}), nil
}

// writeMultipart writes the whole body, calling content for each file.
func writeMultipart(w io.Writer, boundary string, fields []formField, fileField string, files []httpapi.File, content func(io.Writer, httpapi.File) error) error {
	mw := multipart.NewWriter(w)
	if err := mw.SetBoundary(boundary); err != nil {
		return err
	}
	for _, f := range fields {
		if err := mw.WriteField(f.name, f.value); err != nil {
			return err
		}
	}
	for _, f := range files {
		h := textproto.MIMEHeader{}
		h.Set("Content-Disposition", multipart.FileContentDisposition(fileField, f.Name))
		h.Set("Content-Type", f.ContentType)
		part, err := mw.CreatePart(h)
		if err != nil {
			return err
		}
		if err := content(part, f); err != nil {
			return err
		}
	}
	return mw.Close()
}

type countWriter struct{ n int64 }

// Write implements io.Writer.
func (c *countWriter) Write(p []byte) (int, error) {
	c.n += int64(len(p))
	return len(p), nil
}
