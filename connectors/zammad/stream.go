package zammad

import (
	"bytes"
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"

	"github.com/relaydesk/relaydesk/connectors"
	"github.com/relaydesk/relaydesk/connectors/internal/httpapi"
)

// attachmentJSON is an article attachment as the API takes it: the content
// in base64. data holds a placeholder that the stream replaces.
type attachmentJSON struct {
	Filename string `json:"filename"`
	Data     string `json:"data"`
	MimeType string `json:"mime-type"`
}

// newJSONStream marshals v, in which the files' placeholders stand for
// their base64 contents, and streams it with the contents base64-encoded on
// the fly from the already opened files: nothing is buffered. Its length is
// exact when every file size is known, and -1 (chunked) otherwise. limit
// bounds the whole body. It takes ownership of files.
func newJSONStream(v any, placeholders []string, files []httpapi.File, limit int64) (*httpapi.Stream, error) {
	raw, err := json.Marshal(v)
	if err != nil {
		httpapi.CloseFiles(files)
		return nil, connectors.PermanentError("zammad: encode request", err)
	}
	// Split the JSON around each placeholder (inside its quotes).
	segments := make([][]byte, 0, len(files)+1)
	rest := raw
	for _, ph := range placeholders {
		i := bytes.Index(rest, []byte(ph))
		if i < 0 {
			httpapi.CloseFiles(files)
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
		if f.Size < 0 {
			length = -1
			break
		}
		length += int64(base64.StdEncoding.EncodedLen(int(f.Size)))
	}
	if length > limit {
		httpapi.CloseFiles(files)
		return nil, tooLarge(limit)
	}
	return httpapi.NewStream("application/json", length, files, func(s *httpapi.Stream, w io.Writer) error {
		return writeSegments(s, &limitWriter{w: w, left: limit, limit: limit, fail: s.Fail}, segments, files)
	}), nil
}

func writeSegments(s *httpapi.Stream, w io.Writer, segments [][]byte, files []httpapi.File) error {
	for i, f := range files {
		if _, err := w.Write(segments[i]); err != nil {
			return err
		}
		enc := base64.NewEncoder(base64.StdEncoding, w)
		if _, err := s.Copy(enc, f); err != nil {
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

// placeholder returns a token that cannot occur in user text, to mark
// where a file's base64 content goes.
func placeholder(i int) (string, error) {
	var b [12]byte
	if _, err := rand.Read(b[:]); err != nil {
		return "", connectors.RetryError("zammad: random", err)
	}
	return fmt.Sprintf("relaydesk-file-%d-%s", i, hex.EncodeToString(b[:])), nil
}
