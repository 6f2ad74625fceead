package zammad

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
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
			return nil, connectors.PermanentError(fmt.Sprintf("zammad: attachment %d has no content", i+1), nil)
		}
		rc, err := a.Open(ctx)
		if err != nil {
			closeFiles(files)
			return nil, fmt.Errorf("zammad: open attachment %d: %w", i+1, connectors.Classify(err))
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

// attachmentJSON is an article attachment as the API takes it: the content
// in base64. data holds a placeholder that the stream replaces.
type attachmentJSON struct {
	Filename string `json:"filename"`
	Data     string `json:"data"`
	MimeType string `json:"mime-type"`
}

// streamBody is a JSON request body whose attachment contents are
// base64-encoded on the fly from already opened files: nothing is buffered.
// Its length is exact when every file size is known, and -1 (chunked)
// otherwise.
type streamBody struct {
	pr        *io.PipeReader
	length    int64
	done      chan struct{}
	closeOnce sync.Once

	mu  sync.Mutex
	err error // a failure of a source file or of the size limit
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

// sourceErr returns the failure that broke the body, if any.
func (s *streamBody) sourceErr() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.err
}

// newJSONStream marshals v, in which the files' placeholders stand for
// their base64 contents, and streams it with the contents in place. limit
// bounds the whole body. It takes ownership of files.
func newJSONStream(v any, placeholders []string, files []openFile, limit int64) (*streamBody, error) {
	raw, err := json.Marshal(v)
	if err != nil {
		closeFiles(files)
		return nil, connectors.PermanentError("zammad: encode request", err)
	}
	// Split the JSON around each placeholder (inside its quotes).
	segments := make([][]byte, 0, len(files)+1)
	rest := raw
	for _, ph := range placeholders {
		i := bytes.Index(rest, []byte(ph))
		if i < 0 {
			closeFiles(files)
			return nil, connectors.PermanentError("zammad: encode request: attachment placeholder lost", nil)
		}
		segments = append(segments, rest[:i])
		rest = rest[i+len(ph):]
	}
	segments = append(segments, rest)

	length := int64(0)
	for _, s := range segments {
		length += int64(len(s))
	}
	for _, f := range files {
		if f.size < 0 {
			length = -1
			break
		}
		length += int64(base64.StdEncoding.EncodedLen(int(f.size)))
	}
	if length > limit {
		closeFiles(files)
		return nil, tooLarge(limit)
	}

	pr, pw := io.Pipe()
	s := &streamBody{pr: pr, length: length, done: make(chan struct{})}
	go func() {
		defer close(s.done)
		defer closeFiles(files)
		w := &limitWriter{w: pw, left: limit, limit: limit, fail: s.setErr}
		err := writeSegments(w, segments, files, s.setErr)
		pw.CloseWithError(err)
	}()
	return s, nil
}

func writeSegments(w io.Writer, segments [][]byte, files []openFile, fail func(error)) error {
	for i, f := range files {
		if _, err := w.Write(segments[i]); err != nil {
			return err
		}
		enc := base64.NewEncoder(base64.StdEncoding, w)
		if _, err := io.Copy(enc, &sourceReader{r: f.rc, name: f.name, size: f.size, fail: fail}); err != nil {
			return err
		}
		if err := enc.Close(); err != nil {
			return err
		}
	}
	_, err := w.Write(segments[len(segments)-1])
	return err
}

func tooLarge(limit int64) error {
	return connectors.PermanentError(fmt.Sprintf("zammad: the message with its files is over the upload limit of %d MB "+
		"(files travel base64-encoded: about %d MB of files at most)", limit>>20, limit*3/4>>20), nil)
}

// limitWriter fails once more than left bytes are written.
type limitWriter struct {
	w     io.Writer
	left  int64
	limit int64
	fail  func(error)
}

// Write implements io.Writer.
func (l *limitWriter) Write(p []byte) (int, error) {
	if int64(len(p)) > l.left {
		err := tooLarge(l.limit)
		l.fail(err)
		return 0, err
	}
	l.left -= int64(len(p))
	return l.w.Write(p)
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
		err = connectors.PermanentError(fmt.Sprintf("zammad: attachment %q has not the %d bytes announced", s.name, s.size), nil)
		s.fail(err)
		return 0, err
	case err != nil && !errors.Is(err, io.EOF):
		err = fmt.Errorf("zammad: read attachment: %w", connectors.Classify(err))
		s.fail(err)
	}
	return n, err
}

// placeholder returns a token that cannot occur in user text, to mark
// where a file's base64 content goes.
func placeholder(i int) (string, error) {
	var b [12]byte
	if _, err := rand.Read(b[:]); err != nil {
		return "", connectors.RetryError("zammad: random", err)
	}
	return fmt.Sprintf("relaydesk-file-%d-%s", i, hex.EncodeToString(b[:])), nil
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

// contentType is a's MIME type without parameters, or
// application/octet-stream.
func contentType(a connectors.Attachment) string {
	if mt, _, err := mime.ParseMediaType(a.ContentType); err == nil {
		return mt
	}
	return "application/octet-stream"
}
