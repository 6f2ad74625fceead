package whatsapp

import (
	"context"
	"fmt"
	"io"
	"mime"
	"mime/multipart"
	"net/http"
	"net/textproto"
	"net/url"
	"path"
	"strings"
	"unicode"
)

// MediaLimit is what WhatsApp accepts for one MIME type.
type MediaLimit struct {
	// Kind is the message type the file is sent as (TypeImage, TypeAudio,
	// TypeVideo, TypeDocument, TypeSticker).
	Kind string
	// MaxBytes is the size limit of that media class.
	MaxBytes int64
}

const mib = 1 << 20

// Size limits per media class (Meta "Supported media types"; whatsapp.md §6
// marks them unverified). MB is read as MiB, the generous reading.
const (
	MaxAudioBytes    = 16 * mib
	MaxDocumentBytes = 100 * mib
	MaxImageBytes    = 5 * mib
	// MaxStickerBytes is the animated sticker limit (static stickers: 100 KB).
	MaxStickerBytes = 500 << 10
	MaxVideoBytes   = 16 * mib
)

// mediaTypes maps a MIME type (lowercase, without parameters) to its limit.
var mediaTypes = map[string]MediaLimit{
	"audio/aac":  {TypeAudio, MaxAudioBytes},
	"audio/amr":  {TypeAudio, MaxAudioBytes},
	"audio/mpeg": {TypeAudio, MaxAudioBytes},
	"audio/mp4":  {TypeAudio, MaxAudioBytes},
	"audio/ogg":  {TypeAudio, MaxAudioBytes}, // OPUS codec only

	"text/plain":         {TypeDocument, MaxDocumentBytes},
	"application/pdf":    {TypeDocument, MaxDocumentBytes},
	"application/msword": {TypeDocument, MaxDocumentBytes},
	"application/vnd.openxmlformats-officedocument.wordprocessingml.document": {TypeDocument, MaxDocumentBytes},
	"application/vnd.ms-excel": {TypeDocument, MaxDocumentBytes},
	"application/vnd.openxmlformats-officedocument.spreadsheetml.sheet":         {TypeDocument, MaxDocumentBytes},
	"application/vnd.ms-powerpoint":                                             {TypeDocument, MaxDocumentBytes},
	"application/vnd.openxmlformats-officedocument.presentationml.presentation": {TypeDocument, MaxDocumentBytes},

	"image/jpeg": {TypeImage, MaxImageBytes},
	"image/png":  {TypeImage, MaxImageBytes},

	"image/webp": {TypeSticker, MaxStickerBytes},

	"video/mp4":  {TypeVideo, MaxVideoBytes},
	"video/3gpp": {TypeVideo, MaxVideoBytes},
}

// LookupMediaType returns how a file of MIME type mimeType is sent and its
// size limit. Parameters are ignored ("audio/ogg; codecs=opus" is
// "audio/ogg"). It returns ErrUnsupportedMediaType for anything else; send
// such files as a document only if their type is a document type.
func LookupMediaType(mimeType string) (MediaLimit, error) {
	mt, _, err := mime.ParseMediaType(mimeType)
	if err != nil {
		return MediaLimit{}, fmt.Errorf("%w: %q", ErrUnsupportedMediaType, mimeType)
	}
	lim, ok := mediaTypes[mt]
	if !ok {
		return MediaLimit{}, fmt.Errorf("%w: %q", ErrUnsupportedMediaType, mt)
	}
	return lim, nil
}

// CheckMedia checks that a file of the given MIME type and size can be
// uploaded; it returns ErrUnsupportedMediaType or ErrMediaTooLarge (both
// ClassFinal). size < 0 means unknown and is not checked here.
func CheckMedia(mimeType string, size int64) (MediaLimit, error) {
	lim, err := LookupMediaType(mimeType)
	if err != nil {
		return lim, err
	}
	if size > lim.MaxBytes {
		return lim, fmt.Errorf("%w: %d bytes, %s files are limited to %d", ErrMediaTooLarge, size, lim.Kind, lim.MaxBytes)
	}
	return lim, nil
}

// MediaInfo describes a media object (GET /{media-id}).
type MediaInfo struct {
	// ID is the media id.
	ID string
	// URL is the short-lived (about 5 minutes) download URL; it requires the
	// access token.
	URL string
	// MimeType is the file's MIME type.
	MimeType string
	// SHA256 is the file hash as reported by Graph.
	SHA256 string
	// FileSize is the size in bytes.
	FileSize int64
}

type wireMediaInfo struct {
	ID       string  `json:"id"`
	URL      string  `json:"url"`
	MimeType string  `json:"mime_type"`
	SHA256   string  `json:"sha256"`
	FileSize flexInt `json:"file_size"`
}

// UploadMedia uploads a file to /{phone-number-id}/media and returns its
// media id, for use in MediaRef.ID. The MIME type and declared size are
// checked before anything is sent (ErrUnsupportedMediaType,
// ErrMediaTooLarge). The body is streamed as multipart/form-data through a
// pipe, never buffered whole; if r yields more than size bytes (or more than
// the class limit when size < 0) the upload is aborted with
// ErrMediaTooLarge. The upload relies on ctx for its deadline.
func (c *Client) UploadMedia(ctx context.Context, filename, mimeType string, size int64, r io.Reader) (string, error) {
	lim, err := CheckMedia(mimeType, size)
	if err != nil {
		return "", err
	}
	return c.upload(ctx, filename, mimeType, size, lim.MaxBytes, r)
}

// UploadDocument uploads a file to be sent as a document (TypeDocument),
// whatever its MIME type, up to MaxDocumentBytes: a file WhatsApp takes in
// no other form (an archive, a video over the video limit). Graph's media
// endpoint documents fewer document types than it takes [unverified: Meta
// lists PDF, text and Office types]; a type it refuses comes back as its
// error 131053, which the caller reports. Otherwise as UploadMedia.
func (c *Client) UploadDocument(ctx context.Context, filename, mimeType string, size int64, r io.Reader) (string, error) {
	if _, _, err := mime.ParseMediaType(mimeType); err != nil {
		mimeType = "application/octet-stream"
	}
	if size > MaxDocumentBytes {
		return "", fmt.Errorf("%w: %d bytes, documents are limited to %d", ErrMediaTooLarge, size, int64(MaxDocumentBytes))
	}
	return c.upload(ctx, filename, mimeType, size, MaxDocumentBytes, r)
}

func (c *Client) upload(ctx context.Context, filename, mimeType string, size, maxBytes int64, r io.Reader) (string, error) {
	if size == 0 {
		return "", fmt.Errorf("%w: empty file", ErrInvalidArgument)
	}
	limit := maxBytes
	if size > 0 {
		limit = size
	}
	tok, err := c.token(ctx)
	if err != nil {
		return "", err
	}

	pr, pw := io.Pipe()
	mw := multipart.NewWriter(pw)
	writeDone := make(chan error, 1)
	go func() {
		err := writeUpload(mw, sanitizeFilename(filename), mimeType, &limitedReader{r: r, remaining: limit})
		pw.CloseWithError(err)
		writeDone <- err
	}()

	resp, err := c.do(ctx, tok, request{
		op: "upload media", method: http.MethodPost, url: c.endpoint(c.phoneNumberID, "media"),
		body: pr, contentType: mw.FormDataContentType(),
	})
	// Unblock the writer if the transport stopped reading early (or never
	// started), then wait for it so r is no longer used when we return.
	pr.CloseWithError(io.ErrClosedPipe)
	werr := <-writeDone
	if werr != nil && werr != io.ErrClosedPipe {
		if resp != nil {
			resp.Body.Close()
		}
		return "", redactErr(fmt.Errorf("whatsapp: upload media: %w", werr), tok)
	}
	if err != nil {
		return "", err
	}
	defer resp.Body.Close()
	var out struct {
		ID string `json:"id"`
	}
	if err := c.readJSON(resp, &out, tok); err != nil {
		return "", err
	}
	if out.ID == "" {
		return "", fmt.Errorf("whatsapp: upload response carries no media id")
	}
	return out.ID, nil
}

// writeUpload writes the multipart form: messaging_product, type, file.
func writeUpload(mw *multipart.Writer, filename, mimeType string, r io.Reader) error {
	if err := mw.WriteField("messaging_product", "whatsapp"); err != nil {
		return err
	}
	if err := mw.WriteField("type", mimeType); err != nil {
		return err
	}
	h := make(textproto.MIMEHeader)
	h.Set("Content-Disposition", mime.FormatMediaType("form-data", map[string]string{"name": "file", "filename": filename}))
	h.Set("Content-Type", mimeType)
	part, err := mw.CreatePart(h)
	if err != nil {
		return err
	}
	if _, err := io.Copy(part, r); err != nil {
		return err
	}
	return mw.Close()
}

// limitedReader fails with ErrMediaTooLarge once more than remaining bytes
// have been read.
type limitedReader struct {
	r         io.Reader
	remaining int64
}

func (l *limitedReader) Read(p []byte) (int, error) {
	if l.remaining < 0 {
		return 0, fmt.Errorf("%w: file is larger than declared or allowed", ErrMediaTooLarge)
	}
	if int64(len(p)) > l.remaining+1 {
		p = p[:l.remaining+1]
	}
	n, err := l.r.Read(p)
	l.remaining -= int64(n)
	if l.remaining < 0 {
		return 0, fmt.Errorf("%w: file is larger than declared or allowed", ErrMediaTooLarge)
	}
	return n, err
}

// sanitizeFilename keeps the base name and drops control characters, so a
// helpdesk attachment name cannot break the multipart header.
func sanitizeFilename(name string) string {
	name = path.Base(strings.ReplaceAll(name, "\\", "/"))
	name = strings.Map(func(r rune) rune {
		if unicode.IsControl(r) {
			return -1
		}
		return r
	}, name)
	if name == "" || name == "." || name == "/" {
		name = "file"
	}
	return name
}

// MediaInfo returns a media object's details, including its short-lived
// download URL. The phone_number_id query parameter makes Graph check that
// the media belongs to this client's number.
func (c *Client) MediaInfo(ctx context.Context, mediaID string) (MediaInfo, error) {
	if err := checkNotEmpty("media id", mediaID); err != nil {
		return MediaInfo{}, err
	}
	var w wireMediaInfo
	if err := c.doJSON(ctx, http.MethodGet, c.mediaEndpoint(mediaID), nil, &w); err != nil {
		return MediaInfo{}, err
	}
	if w.URL == "" {
		return MediaInfo{}, fmt.Errorf("whatsapp: media %s: response carries no url", mediaID)
	}
	return MediaInfo{ID: w.ID, URL: w.URL, MimeType: w.MimeType, SHA256: w.SHA256, FileSize: int64(w.FileSize)}, nil
}

// DownloadMedia fetches a media object's URL (MediaInfo) and then streams
// the file: the returned body must be closed by the caller and is never
// buffered, so files of any size use constant memory. The info call runs
// under the per-call timeout; the download relies on ctx. The access token
// is only sent to an https URL, or to a URL with the same scheme and host as
// the configured base URL (tests); otherwise ErrMediaURLRejected.
func (c *Client) DownloadMedia(ctx context.Context, mediaID string) (io.ReadCloser, MediaInfo, error) {
	info, err := c.MediaInfo(ctx, mediaID)
	if err != nil {
		return nil, MediaInfo{}, err
	}
	u, err := url.Parse(info.URL)
	if err != nil || u.Host == "" {
		return nil, info, fmt.Errorf("%w: unparsable URL", ErrMediaURLRejected)
	}
	sameOrigin := u.Scheme == c.base.Scheme && u.Host == c.base.Host
	if u.Scheme != "https" && !sameOrigin {
		return nil, info, fmt.Errorf("%w: scheme %q", ErrMediaURLRejected, u.Scheme)
	}
	tok, err := c.token(ctx)
	if err != nil {
		return nil, info, err
	}
	resp, err := c.do(ctx, tok, request{op: "download media " + mediaID, method: http.MethodGet, url: u, rawAccept: true})
	if err != nil {
		return nil, info, err
	}
	if !isSuccess(resp.StatusCode) {
		defer resp.Body.Close()
		return nil, info, c.errorFromResponse(resp, tok)
	}
	return resp.Body, info, nil
}

// DeleteMedia deletes an uploaded media object.
func (c *Client) DeleteMedia(ctx context.Context, mediaID string) error {
	if err := checkNotEmpty("media id", mediaID); err != nil {
		return err
	}
	return c.doSuccess(ctx, http.MethodDelete, c.mediaEndpoint(mediaID), nil, "delete media "+mediaID)
}

// mediaEndpoint is /{media-id}?phone_number_id=..., which makes Graph check
// that the media belongs to this client's number.
func (c *Client) mediaEndpoint(mediaID string) *url.URL {
	u := c.endpoint(mediaID)
	u.RawQuery = url.Values{"phone_number_id": {c.phoneNumberID}}.Encode()
	return u
}
