// Package mediaconv prepares an agent's file for WhatsApp: it decides how
// the file is sent (image, audio, video, document) and converts what
// WhatsApp will not take where that keeps its meaning. Images over 5 MB or
// in GIF, BMP, TIFF or WebP become a JPEG under the limit (HEIC too, when
// ffmpeg is installed); audio recorded in a browser (WebM, or Opus in
// another container) becomes OGG/Opus, which WhatsApp plays as a voice
// note, when ffmpeg is installed; a video over 16 MB goes as a document;
// plain text of another text type goes as a text document. Every change is
// named in [Output.Note] for the agent.
//
// Files that go as they are stream through untouched. A conversion spools
// the input to a temporary file (the image decoders need to read it twice)
// and writes its result to another, which the upload then streams: a file
// is never held in memory, only a decoded image is (at most MaxPixels).
package mediaconv

import (
	"context"
	"errors"
	"fmt"
	"io"
	"mime"
	"os"
	"os/exec"
	"path"
	"strings"

	"github.com/relaydesk/relaydesk/internal/whatsapp"
)

// MaxPixels is the largest image (width times height) converted: its
// decoded form takes four bytes a pixel. A larger one is refused.
const MaxPixels = 40_000_000

// ErrUnsupported is a file WhatsApp takes in no form relaydesk can give it.
var ErrUnsupported = whatsapp.ErrUnsupportedMediaType

// Output is a file ready to upload.
type Output struct {
	// Kind is the message type it is sent as (whatsapp.TypeImage...).
	Kind string
	// Filename and ContentType are what is uploaded.
	Filename    string
	ContentType string
	// Size is the length in bytes, -1 when unknown (a stream passed on).
	Size int64
	// Body is the content; the caller closes it (Close also removes a
	// conversion's temporary file).
	Body io.ReadCloser
	// Document is set when the file goes as a document although its type
	// is a media type (upload it with UploadDocument).
	Document bool
	// Note names the conversion for the agent; "" when the file goes as it
	// came.
	Note string
}

// Converter prepares files. The zero value converts images but not audio.
type Converter struct {
	// FFmpeg is the ffmpeg executable, "" when not installed: HEIC images
	// and browser audio are then not converted.
	FFmpeg string
	// TempDir holds the temporary files ("" is os.TempDir()).
	TempDir string
}

// New returns a converter using the ffmpeg on PATH, if any.
func New() *Converter {
	c := &Converter{}
	if p, err := exec.LookPath("ffmpeg"); err == nil {
		c.FFmpeg = p
	}
	return c
}

// extTypes are types Go's MIME table may not know, by extension.
var extTypes = map[string]string{
	".heic": "image/heic", ".heif": "image/heif", ".webm": "audio/webm", ".opus": "audio/opus", ".oga": "audio/ogg",
	".ogg": "audio/ogg", ".bmp": "image/bmp", ".tif": "image/tiff", ".tiff": "image/tiff", ".gif": "image/gif",
	".webp": "image/webp", ".weba": "audio/webm", ".mka": "audio/x-matroska",
}

// TypeOf is a file's MIME type without parameters, lower case: the one
// given, or from its name's extension when the given one says nothing.
func TypeOf(name, ctype string) string {
	base, _, err := mime.ParseMediaType(ctype)
	if err == nil && base != "" && base != "application/octet-stream" && base != "binary/octet-stream" {
		return strings.ToLower(base)
	}
	ext := strings.ToLower(path.Ext(name))
	if t, ok := extTypes[ext]; ok {
		return t
	}
	if t := mime.TypeByExtension(ext); t != "" {
		if b, _, err := mime.ParseMediaType(t); err == nil {
			return b
		}
	}
	return "application/octet-stream"
}

// convertedImage: types WhatsApp does not take as images that Go decodes.
var convertedImage = map[string]string{"image/gif": "GIF", "image/bmp": "BMP", "image/x-ms-bmp": "BMP", "image/tiff": "TIFF", "image/webp": "WebP"}

// browserAudio: audio containers browsers record in that WhatsApp refuses.
var browserAudio = map[string]bool{"audio/webm": true, "audio/opus": true, "audio/x-opus": true, "audio/x-matroska": true}

// Prepare decides how a file is sent and converts it when needed. r is the
// file's content (size bytes, -1 when unknown); Prepare takes ownership of
// it: the Output's Body is r itself for a file sent as it came. An error
// wrapping ErrUnsupported or whatsapp.ErrMediaTooLarge says why the file
// cannot go at all.
func (c *Converter) Prepare(ctx context.Context, name, ctype string, size int64, r io.ReadCloser) (Output, error) {
	t := TypeOf(name, ctype)
	as := func(kind string) Output {
		return Output{Kind: kind, Filename: name, ContentType: t, Size: size, Body: r}
	}
	if size > whatsapp.MaxDocumentBytes {
		r.Close()
		return Output{}, fmt.Errorf("%w: %d bytes, WhatsApp takes files up to %d MB", whatsapp.ErrMediaTooLarge, size, whatsapp.MaxDocumentBytes>>20)
	}
	switch {
	case t == "image/jpeg" || t == "image/png":
		if size <= whatsapp.MaxImageBytes {
			return as(whatsapp.TypeImage), nil
		}
		return c.image(ctx, name, t, strings.ToUpper(strings.TrimPrefix(t, "image/")), r,
			fmt.Sprintf("it was %s, over WhatsApp's 5 MB for images", megabytes(size)))
	case convertedImage[t] != "":
		return c.image(ctx, name, t, convertedImage[t], r, "WhatsApp takes only JPEG and PNG images")
	case t == "image/heic" || t == "image/heif":
		if c.FFmpeg == "" {
			r.Close()
			return Output{}, fmt.Errorf("%w: %s; relaydesk converts HEIC photos to JPEG only when ffmpeg is installed on its server", ErrUnsupported, t)
		}
		return c.heic(ctx, name, r)
	case browserAudio[t]:
		if c.FFmpeg == "" {
			// WhatsApp's upload refuses these types whatever the message
			// type, so the file cannot go even as a document.
			r.Close()
			return Output{}, fmt.Errorf("%w: %s; relaydesk converts browser recordings to OGG/Opus voice notes only when ffmpeg is installed on its server", ErrUnsupported, t)
		}
		return c.voice(ctx, name, t, r)
	case (t == "video/mp4" || t == "video/3gpp") && size > whatsapp.MaxVideoBytes:
		o := as(whatsapp.TypeDocument)
		o.Document = true
		o.Note = fmt.Sprintf("%s (%s) was sent as a document: WhatsApp plays videos up to 16 MB.", name, megabytes(size))
		return o, nil
	case strings.HasPrefix(t, "text/") && t != "text/plain":
		o := as(whatsapp.TypeDocument)
		o.ContentType = "text/plain"
		o.Note = fmt.Sprintf("%s (%s) was sent as a plain-text document: WhatsApp takes no %s files.", name, t, t)
		return o, nil
	}
	lim, err := whatsapp.LookupMediaType(t)
	if err != nil {
		r.Close()
		return Output{}, err
	}
	if size > lim.MaxBytes {
		o := as(whatsapp.TypeDocument)
		o.Document = true
		o.Note = fmt.Sprintf("%s (%s) was sent as a document: it is over WhatsApp's %s for %s messages.", name, megabytes(size), megabytes(lim.MaxBytes), lim.Kind)
		return o, nil
	}
	kind := lim.Kind
	if kind == whatsapp.TypeSticker {
		kind = whatsapp.TypeImage // unreachable: WebP is converted above
	}
	return as(kind), nil
}

func megabytes(n int64) string {
	if n < 1<<20 {
		return fmt.Sprintf("%d KB", (n+1023)>>10)
	}
	return fmt.Sprintf("%.1f MB", float64(n)/float64(1<<20))
}

// spool copies r to a temporary file, closing r, and returns the file
// rewound.
func (c *Converter) spool(r io.ReadCloser, pattern string) (*os.File, error) {
	defer r.Close()
	f, err := os.CreateTemp(c.TempDir, pattern)
	if err != nil {
		return nil, err
	}
	if _, err := io.Copy(f, r); err != nil {
		removeFile(f)
		return nil, err
	}
	if _, err := f.Seek(0, io.SeekStart); err != nil {
		removeFile(f)
		return nil, err
	}
	return f, nil
}

func removeFile(f *os.File) {
	f.Close()
	os.Remove(f.Name())
}

// tempBody is a temporary file that removes itself when closed.
type tempBody struct{ *os.File }

func (t tempBody) Close() error {
	err := t.File.Close()
	os.Remove(t.File.Name())
	return err
}

// fileOutput turns a finished temporary file into an Output.
func fileOutput(f *os.File, kind, name, ctype, note string) (Output, error) {
	st, err := f.Stat()
	if err == nil {
		_, err = f.Seek(0, io.SeekStart)
	}
	if err != nil {
		removeFile(f)
		return Output{}, err
	}
	return Output{Kind: kind, Filename: name, ContentType: ctype, Size: st.Size(), Body: tempBody{f}, Note: note}, nil
}

// withExt is name with its extension replaced.
func withExt(name, ext string) string {
	base := strings.TrimSuffix(name, path.Ext(name))
	if base == "" {
		base = "file"
	}
	return base + ext
}

// errFFmpeg is ffmpeg failing on a file (not a broken installation).
var errFFmpeg = errors.New("ffmpeg could not convert the file")
