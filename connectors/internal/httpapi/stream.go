package httpapi

import (
	"context"
	"errors"
	"fmt"
	"io"
	"mime"
	"mime/multipart"
	"path"
	"strings"
	"sync"

	"github.com/relaydesk/relaydesk/connectors"
)

// File is an attachment opened for streaming (see [OpenFiles]).
type File struct {
	// Name is the attachment's safe file name ([FileName]).
	Name string
	// ContentType is its MIME type with its parameters, or
	// application/octet-stream.
	ContentType string
	// Size is its length in bytes, or -1 when unknown.
	Size int64

	rc       io.ReadCloser
	helpdesk string
}

// MediaType is the file's MIME type without parameters.
func (f File) MediaType() string {
	mt, _, _ := mime.ParseMediaType(f.ContentType)
	return mt
}

// OpenFiles opens every attachment before anything is sent, so that a file
// that cannot be opened fails the call with nothing posted. helpdesk starts
// the error messages. The caller passes the files to [NewStream] or closes
// them with [CloseFiles].
func OpenFiles(ctx context.Context, helpdesk string, atts []connectors.Attachment) ([]File, error) {
	files := make([]File, 0, len(atts))
	for i, a := range atts {
		if a.Open == nil {
			CloseFiles(files)
			return nil, connectors.PermanentError(fmt.Sprintf("%s: attachment %d has no content", helpdesk, i+1), nil)
		}
		rc, err := a.Open(ctx)
		if err != nil {
			CloseFiles(files)
			return nil, fmt.Errorf("%s: open attachment %d: %w", helpdesk, i+1, connectors.Classify(err))
		}
		size := a.Size
		if size < 0 {
			size = -1
		}
		ctype := "application/octet-stream"
		if mt, params, err := mime.ParseMediaType(a.ContentType); err == nil {
			ctype = mime.FormatMediaType(mt, params)
		}
		files = append(files, File{Name: FileName(a), ContentType: ctype, Size: size, rc: rc, helpdesk: helpdesk})
	}
	return files, nil
}

// CloseFiles closes files that will not be sent.
func CloseFiles(files []File) {
	for _, f := range files {
		f.rc.Close()
	}
}

// KnownSizes reports whether every file's size is known.
func KnownSizes(files []File) bool {
	for _, f := range files {
		if f.Size < 0 {
			return false
		}
	}
	return true
}

// Stream is a request body written on the fly, by a goroutine, from
// already opened files: nothing is buffered. Send it as [Request].Stream.
type Stream struct {
	// ContentType is the body's Content-Type.
	ContentType string
	// Length is the body's exact length, or -1 (sent chunked).
	Length int64

	pr        *io.PipeReader
	done      chan struct{}
	closeOnce sync.Once

	mu  sync.Mutex
	err error // a failure of a source file, as opposed to the connection
}

// NewStream starts write in a goroutine, writing the body as the transport
// reads it. It takes ownership of files and closes them when write returns.
// write copies each file's content with [Stream.Copy].
func NewStream(contentType string, length int64, files []File, write func(s *Stream, w io.Writer) error) *Stream {
	pr, pw := io.Pipe()
	s := &Stream{ContentType: contentType, Length: length, pr: pr, done: make(chan struct{})}
	go func() {
		defer close(s.done)
		defer CloseFiles(files)
		pw.CloseWithError(write(s, pw))
	}()
	return s
}

// Read implements io.Reader.
func (s *Stream) Read(p []byte) (int, error) { return s.pr.Read(p) }

// Close stops the writer and waits until every file is closed.
func (s *Stream) Close() error {
	s.closeOnce.Do(func() {
		s.pr.Close()
		<-s.done
	})
	return nil
}

// Fail records err as the failure that broke the body (a file, or a limit
// of the body), as opposed to the connection. The first one wins.
func (s *Stream) Fail(err error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.err == nil {
		s.err = err
	}
}

// Err returns the failure recorded by Fail, if any.
func (s *Stream) Err() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.err
}

// Copy copies f's content to w. A read failure, or content of another
// length than f.Size announced, is recorded with Fail.
func (s *Stream) Copy(w io.Writer, f File) (int64, error) {
	return io.Copy(w, &sourceReader{r: f.rc, file: f, fail: s.Fail})
}

// sourceReader reads a source file, reporting its read failures and a
// length other than the announced size (size -1: unknown).
type sourceReader struct {
	r    io.Reader
	file File
	n    int64
	fail func(error)
}

// Read implements io.Reader.
func (s *sourceReader) Read(p []byte) (int, error) {
	n, err := s.r.Read(p)
	s.n += int64(n)
	size := s.file.Size
	switch {
	case size >= 0 && (s.n > size || errors.Is(err, io.EOF) && s.n != size):
		err = connectors.PermanentError(fmt.Sprintf("%s: attachment %q has not the %d bytes announced", s.file.helpdesk, s.file.Name, size), nil)
		s.fail(err)
		return 0, err
	case err != nil && !errors.Is(err, io.EOF):
		err = fmt.Errorf("%s: read attachment: %w", s.file.helpdesk, connectors.Classify(err))
		s.fail(err)
	}
	return n, err
}

// MultipartPipe returns a multipart/form-data body that write produces, in
// a goroutine, as the transport reads it (files may be opened only then),
// and its Content-Type. The multipart writer is closed after write. Send it
// with ContentLength -1; closing the body stops write.
func MultipartPipe(write func(mw *multipart.Writer) error) (body io.ReadCloser, contentType string) {
	pr, pw := io.Pipe()
	mw := multipart.NewWriter(pw)
	go func() {
		err := write(mw)
		if err == nil {
			err = mw.Close()
		}
		pw.CloseWithError(err)
	}()
	return pr, mw.FormDataContentType()
}

// FileName is a safe file name for a: its base name, or "attachment", with
// an extension matching its type when it has none.
func FileName(a connectors.Attachment) string {
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
