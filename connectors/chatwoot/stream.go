package chatwoot

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"mime"
	"mime/multipart"
	"net/textproto"
	"path"
	"strings"
	"sync"

	"github.com/relaydesk/relaydesk/connectors"
)

// openFile is an attachment opened for streaming.
type openFile struct {
	name  string
	ctype string
	size  int64 // -1 when unknown
	rc    io.ReadCloser
}

// openAll opens every attachment before anything is sent, so a file that
// cannot be opened fails the call with nothing posted.
func openAll(ctx context.Context, atts []connectors.Attachment) ([]openFile, error) {
	files := make([]openFile, 0, len(atts))
	for i, a := range atts {
		if a.Open == nil {
			closeFiles(files)
			return nil, connectors.PermanentError(fmt.Sprintf("chatwoot: attachment %d has no content", i+1), nil)
		}
		rc, err := a.Open(ctx)
		if err != nil {
			closeFiles(files)
			return nil, fmt.Errorf("chatwoot: open attachment %d: %w", i+1, connectors.Classify(err))
		}
		size := a.Size
		if size < 0 {
			size = -1
		}
		files = append(files, openFile{name: fileName(a), ctype: contentType(a), size: size, rc: rc})
	}
	return files, nil
}

func closeFiles(files []openFile) {
	for _, f := range files {
		f.rc.Close()
	}
}

// streamBody is a multipart/form-data request body written on the fly from
// already opened files: nothing is buffered. Its length is exact when every
// file size is known, and -1 (chunked) otherwise.
type streamBody struct {
	pr          *io.PipeReader
	contentType string
	length      int64
	done        chan struct{}
	closeOnce   sync.Once

	mu  sync.Mutex
	err error // a failure of a source file, as opposed to the connection
}

// Read implements io.Reader.
func (s *streamBody) Read(p []byte) (int, error) { return s.pr.Read(p) }

// Close stops the writer and waits until every file is closed.
func (s *streamBody) Close() error {
	s.closeOnce.Do(func() {
		s.pr.Close()
		<-s.done
	})
	return nil
}

func (s *streamBody) setErr(err error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.err == nil {
		s.err = err
	}
}

// sourceErr returns the failure of a source file, if one broke the body.
func (s *streamBody) sourceErr() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.err
}

// formField is one text field of a multipart body.
type formField struct{ name, value string }

// newMultipart streams fields then files (each as field fileField). It
// takes ownership of files.
func newMultipart(fields []formField, fileField string, files []openFile) (*streamBody, error) {
	var b [16]byte
	if _, err := rand.Read(b[:]); err != nil {
		closeFiles(files)
		return nil, connectors.RetryError("chatwoot: boundary", err)
	}
	boundary := "relaydesk-" + hex.EncodeToString(b[:])

	// The framing does not depend on the file contents: write it once with
	// empty files to learn the length.
	length := int64(-1)
	if known(files) {
		var cw countWriter
		if err := writeMultipart(&cw, boundary, fields, fileField, files, func(io.Writer, openFile) error { return nil }); err != nil {
			closeFiles(files)
			return nil, connectors.PermanentError("chatwoot: multipart", err)
		}
		length = cw.n
		for _, f := range files {
			length += f.size
		}
	}

	pr, pw := io.Pipe()
	s := &streamBody{pr: pr, length: length, done: make(chan struct{}),
		contentType: mime.FormatMediaType("multipart/form-data", map[string]string{"boundary": boundary})}
	go func() {
		defer close(s.done)
		defer closeFiles(files)
		err := writeMultipart(pw, boundary, fields, fileField, files, func(w io.Writer, f openFile) error {
			_, err := io.Copy(w, &sourceReader{r: f.rc, name: f.name, size: f.size, fail: s.setErr})
			return err
		})
		pw.CloseWithError(err)
	}()
	return s, nil
}

func known(files []openFile) bool {
	for _, f := range files {
		if f.size < 0 {
			return false
		}
	}
	return true
}

// writeMultipart writes the whole body, calling content for each file.
func writeMultipart(w io.Writer, boundary string, fields []formField, fileField string, files []openFile, content func(io.Writer, openFile) error) error {
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
		h.Set("Content-Disposition", multipart.FileContentDisposition(fileField, f.name))
		h.Set("Content-Type", f.ctype)
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

// sourceReader reads a source file, reporting its read failures and a
// length other than the announced size (size -1: unknown).
type sourceReader struct {
	r    io.Reader
	name string
	size int64
	n    int64
	fail func(error)
}

// Read implements io.Reader.
func (s *sourceReader) Read(p []byte) (int, error) {
	n, err := s.r.Read(p)
	s.n += int64(n)
	switch {
	case s.size >= 0 && (s.n > s.size || errors.Is(err, io.EOF) && s.n != s.size):
		err = connectors.PermanentError(fmt.Sprintf("chatwoot: attachment %q has not the %d bytes announced", s.name, s.size), nil)
		s.fail(err)
		return 0, err
	case err != nil && !errors.Is(err, io.EOF):
		err = fmt.Errorf("chatwoot: read attachment: %w", connectors.Classify(err))
		s.fail(err)
	}
	return n, err
}

type countWriter struct{ n int64 }

// Write implements io.Writer.
func (c *countWriter) Write(p []byte) (int, error) {
	c.n += int64(len(p))
	return len(p), nil
}

// fileName is a safe file name for a, with an extension matching its type
// when it has none.
func fileName(a connectors.Attachment) string {
	name := path.Base(strings.ReplaceAll(strings.TrimSpace(a.Filename), "\\", "/"))
	if name == "." || name == "/" || name == "" {
		name = "attachment"
	}
	if path.Ext(name) == "" {
		if mt, _, err := mime.ParseMediaType(a.ContentType); err == nil {
			if ext := extensionFor(mt); ext != "" {
				name += ext
			}
		}
	}
	return name
}

func extensionFor(mt string) string {
	common := map[string]string{"image/jpeg": ".jpg", "audio/ogg": ".ogg", "audio/mpeg": ".mp3", "video/mp4": ".mp4", "text/plain": ".txt"}
	if e, ok := common[mt]; ok {
		return e
	}
	if exts, _ := mime.ExtensionsByType(mt); len(exts) > 0 {
		return exts[0]
	}
	return ""
}

// contentType is a's MIME type, or application/octet-stream.
func contentType(a connectors.Attachment) string {
	if mt, params, err := mime.ParseMediaType(a.ContentType); err == nil {
		return mime.FormatMediaType(mt, params)
	}
	return "application/octet-stream"
}
