package whatsapp_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"runtime"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/relaydesk/relaydesk/internal/whatsapp"
	"github.com/relaydesk/relaydesk/internal/whatsapp/whatsapptest"
)

func TestLookupMediaType(t *testing.T) {
	t.Parallel()

	tests := []struct {
		mime string
		kind string
		max  int64
	}{
		{"image/jpeg", whatsapp.TypeImage, whatsapp.MaxImageBytes},
		{"IMAGE/PNG", whatsapp.TypeImage, whatsapp.MaxImageBytes},
		{"image/webp", whatsapp.TypeSticker, whatsapp.MaxStickerBytes},
		{"audio/ogg; codecs=opus", whatsapp.TypeAudio, whatsapp.MaxAudioBytes},
		{"audio/mpeg", whatsapp.TypeAudio, whatsapp.MaxAudioBytes},
		{"video/mp4", whatsapp.TypeVideo, whatsapp.MaxVideoBytes},
		{"video/3gpp", whatsapp.TypeVideo, whatsapp.MaxVideoBytes},
		{"application/pdf", whatsapp.TypeDocument, whatsapp.MaxDocumentBytes},
		{"text/plain; charset=utf-8", whatsapp.TypeDocument, whatsapp.MaxDocumentBytes},
		{"application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", whatsapp.TypeDocument, whatsapp.MaxDocumentBytes},
		{"image/gif", "", 0},
		{"application/zip", "", 0},
		{"video/quicktime", "", 0},
		{"", "", 0},
		{"not a mime type;;", "", 0},
	}
	for _, tt := range tests {
		t.Run(tt.mime, func(t *testing.T) {
			t.Parallel()
			lim, err := whatsapp.LookupMediaType(tt.mime)
			if tt.kind == "" {
				require.ErrorIs(t, err, whatsapp.ErrUnsupportedMediaType)
				return
			}
			require.NoError(t, err)
			require.Equal(t, whatsapp.MediaLimit{Kind: tt.kind, MaxBytes: tt.max}, lim)
		})
	}
}

func TestUploadAndDownloadRoundTrip(t *testing.T) {
	t.Parallel()
	b := setupClient(t)
	ctx := context.Background()

	data := bytes.Repeat([]byte("%PDF-1.7 relaydesk "), 5000)
	id, err := b.client.UploadMedia(ctx, "../../tmp/In\r\nvoice.pdf", "application/pdf", int64(len(data)), bytes.NewReader(data))
	require.NoError(t, err)

	ups := b.fake.Uploads()
	require.Len(t, ups, 1)
	sum := sha256.Sum256(data)
	require.Equal(t, id, ups[0].ID)
	require.Equal(t, "Invoice.pdf", ups[0].Filename, "path and control characters are stripped")
	require.Equal(t, "application/pdf", ups[0].MimeType)
	require.Equal(t, int64(len(data)), ups[0].Size)
	require.Equal(t, hex.EncodeToString(sum[:]), ups[0].SHA256)

	// The uploaded id can be sent.
	_, err = b.client.SendMedia(ctx, "16505551234", whatsapp.TypeDocument, whatsapp.MediaRef{ID: id, Filename: "Invoice.pdf"}, "")
	require.NoError(t, err)

	info, err := b.client.MediaInfo(ctx, id)
	require.NoError(t, err)
	require.Equal(t, id, info.ID)
	require.Equal(t, "application/pdf", info.MimeType)
	require.Equal(t, int64(len(data)), info.FileSize)
	require.Equal(t, hex.EncodeToString(sum[:]), info.SHA256)

	rc, info2, err := b.client.DownloadMedia(ctx, id)
	require.NoError(t, err)
	got, err := io.ReadAll(rc)
	require.NoError(t, err)
	require.NoError(t, rc.Close())
	require.Equal(t, data, got)
	require.Equal(t, info.FileSize, info2.FileSize)

	require.NoError(t, b.client.DeleteMedia(ctx, id))
	_, err = b.client.MediaInfo(ctx, id)
	var apiErr *whatsapp.APIError
	require.ErrorAs(t, err, &apiErr)
	require.Equal(t, 100, apiErr.Code)
}

// failingReader fails the test if the client reads it.
type failingReader struct{ t *testing.T }

func (r failingReader) Read([]byte) (int, error) {
	r.t.Error("reader must not be touched when the upload is refused up front")
	return 0, io.EOF
}

func TestUploadRefusedBeforeSending(t *testing.T) {
	t.Parallel()

	tests := []struct {
		name string
		mime string
		size int64
		want error
	}{
		{"gif not supported", "image/gif", 100, whatsapp.ErrUnsupportedMediaType},
		{"zip not supported", "application/zip", 100, whatsapp.ErrUnsupportedMediaType},
		{"image over 5 MB", "image/jpeg", whatsapp.MaxImageBytes + 1, whatsapp.ErrMediaTooLarge},
		{"sticker over 500 KB", "image/webp", whatsapp.MaxStickerBytes + 1, whatsapp.ErrMediaTooLarge},
		{"audio over 16 MB", "audio/mpeg", whatsapp.MaxAudioBytes + 1, whatsapp.ErrMediaTooLarge},
		{"video over 16 MB", "video/mp4", whatsapp.MaxVideoBytes + 1, whatsapp.ErrMediaTooLarge},
		{"document over 100 MB", "application/pdf", whatsapp.MaxDocumentBytes + 1, whatsapp.ErrMediaTooLarge},
		{"empty file", "application/pdf", 0, whatsapp.ErrInvalidArgument},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			b := setupClient(t)
			_, err := b.client.UploadMedia(context.Background(), "f", tt.mime, tt.size, failingReader{t})
			require.ErrorIs(t, err, tt.want)
			class, _ := whatsapp.Classify(err)
			require.Equal(t, whatsapp.ClassFinal, class)
			require.Empty(t, b.fake.Requests(), "nothing may be sent")
		})
	}
}

func TestUploadStopsWhenReaderExceedsLimit(t *testing.T) {
	t.Parallel()

	t.Run("more than declared", func(t *testing.T) {
		t.Parallel()
		b := setupClient(t)
		data := bytes.Repeat([]byte{0xff}, 4096)
		_, err := b.client.UploadMedia(context.Background(), "a.jpg", "image/jpeg", 1000, bytes.NewReader(data))
		require.ErrorIs(t, err, whatsapp.ErrMediaTooLarge)
		require.Empty(t, b.fake.Uploads())
	})

	t.Run("unknown size over the class limit", func(t *testing.T) {
		t.Parallel()
		b := setupClient(t)
		r := io.LimitReader(zeros{}, whatsapp.MaxStickerBytes+10)
		_, err := b.client.UploadMedia(context.Background(), "s.webp", "image/webp", -1, r)
		require.ErrorIs(t, err, whatsapp.ErrMediaTooLarge)
		require.Empty(t, b.fake.Uploads())
	})

	t.Run("reader error surfaces", func(t *testing.T) {
		t.Parallel()
		b := setupClient(t)
		boom := errors.New("helpdesk stream broke")
		r := io.MultiReader(strings.NewReader("partial"), errReader{boom})
		_, err := b.client.UploadMedia(context.Background(), "a.pdf", "application/pdf", 100, r)
		require.ErrorIs(t, err, boom)
		require.Empty(t, b.fake.Uploads())
	})

	t.Run("server error is classified", func(t *testing.T) {
		t.Parallel()
		b := setupClient(t)
		b.fake.Fail(whatsapptest.Fault{Op: whatsapptest.OpUploadMedia, Code: 131000, HTTPStatus: 500})
		_, err := b.client.UploadMedia(context.Background(), "a.pdf", "application/pdf", 3, strings.NewReader("abc"))
		class, _ := whatsapp.Classify(err)
		require.Equal(t, whatsapp.ClassRetry, class)
	})
}

type errReader struct{ err error }

func (r errReader) Read([]byte) (int, error) { return 0, r.err }

func TestDownloadMediaErrors(t *testing.T) {
	t.Parallel()

	t.Run("unknown media id", func(t *testing.T) {
		t.Parallel()
		b := setupClient(t)
		_, _, err := b.client.DownloadMedia(context.Background(), "4242")
		var apiErr *whatsapp.APIError
		require.ErrorAs(t, err, &apiErr)
		require.Equal(t, 100, apiErr.Code)
	})

	t.Run("media of another number", func(t *testing.T) {
		t.Parallel()
		b := setupClient(t)
		id := b.fake.AddMedia(whatsapptest.Media{PhoneNumberID: "someone-else", MimeType: "image/jpeg", Data: []byte("x")})
		_, _, err := b.client.DownloadMedia(context.Background(), id)
		var apiErr *whatsapp.APIError
		require.ErrorAs(t, err, &apiErr)
	})

	t.Run("download fails after info", func(t *testing.T) {
		t.Parallel()
		b := setupClient(t)
		id := b.fake.AddMedia(whatsapptest.Media{MimeType: "image/jpeg", Data: []byte("x")})
		b.fake.Fail(whatsapptest.Fault{Op: whatsapptest.OpDownloadMedia, Times: 1, Body: "upstream", HTTPStatus: 503})
		_, _, err := b.client.DownloadMedia(context.Background(), id)
		class, _ := whatsapp.Classify(err)
		require.Equal(t, whatsapp.ClassRetry, class)
	})

	t.Run("token is not sent to a foreign plain-http URL", func(t *testing.T) {
		t.Parallel()
		var leaked bool
		foreign := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			leaked = leaked || r.Header.Get("Authorization") != ""
		}))
		t.Cleanup(foreign.Close)
		graph := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			_ = json.NewEncoder(w).Encode(map[string]any{"id": "1", "url": foreign.URL + "/file", "mime_type": "image/jpeg", "file_size": 1})
		}))
		t.Cleanup(graph.Close)
		c, err := whatsapp.NewClient(whatsapp.ClientOpts{BaseURL: graph.URL, AccessToken: "tok", PhoneNumberID: "1"})
		require.NoError(t, err)
		_, _, err = c.DownloadMedia(context.Background(), "1")
		require.ErrorIs(t, err, whatsapp.ErrMediaURLRejected)
		require.False(t, leaked)
	})
}

// TestDownloadMediaStreamsLargeFiles downloads a 100 MB file and checks the
// client streams it: the bytes allocated during the download stay far below
// the file size. It measures memory, not time. It does not call t.Parallel:
// the allocation counter is process-wide, and sequential tests run alone.
func TestDownloadMediaStreamsLargeFiles(t *testing.T) {
	const size = 100 << 20
	b := setupClient(t)
	ctx := context.Background()
	id := b.fake.AddMedia(whatsapptest.Media{
		MimeType: "application/pdf", Size: size,
		Open: func() io.Reader { return io.LimitReader(pattern{}, size) },
	})
	// Warm up: load the OpenAPI description, open the connection.
	_, err := b.client.MediaInfo(ctx, id)
	require.NoError(t, err)

	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)

	rc, info, err := b.client.DownloadMedia(ctx, id)
	require.NoError(t, err)
	require.EqualValues(t, size, info.FileSize)
	n, err := io.Copy(io.Discard, rc)
	require.NoError(t, err)
	require.NoError(t, rc.Close())

	runtime.ReadMemStats(&after)
	require.EqualValues(t, size, n)
	allocated := after.TotalAlloc - before.TotalAlloc
	t.Logf("download allocated %d bytes", allocated)
	require.Less(t, allocated, uint64(16<<20), "downloading 100 MB allocated %d MB: the body is being buffered", allocated>>20)
}

// TestUploadMediaStreamsLargeFiles is the upload counterpart, against a fake
// that neither validates (the validator needs the whole body) nor keeps the
// bytes.
func TestUploadMediaStreamsLargeFiles(t *testing.T) {
	const size = 64 << 20
	fake := whatsapptest.Start(t, whatsapptest.Options{SkipValidation: true, DiscardUploads: true})
	c := fake.NewClient(t, "")
	ctx := context.Background()
	_, err := c.PhoneNumber(ctx) // open the connection
	require.NoError(t, err)

	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)

	_, err = c.UploadMedia(ctx, "big.pdf", "application/pdf", size, io.LimitReader(pattern{}, size))
	require.NoError(t, err)

	runtime.ReadMemStats(&after)
	require.EqualValues(t, size, fake.Uploads()[0].Size)
	allocated := after.TotalAlloc - before.TotalAlloc
	t.Logf("upload allocated %d bytes", allocated)
	require.Less(t, allocated, uint64(16<<20), "uploading 64 MB allocated %d MB: the body is being buffered", allocated>>20)
}

// pattern is an endless, allocation-free stream of bytes.
type pattern struct{}

func (pattern) Read(p []byte) (int, error) {
	for i := range p {
		p[i] = byte(i)
	}
	return len(p), nil
}

// A video over the video limit goes as a document: UploadDocument takes it
// (UploadMedia refuses it), the fake takes it as a document and refuses it
// as a video.
func TestUploadDocumentTakesAVideoOverTheVideoLimit(t *testing.T) {
	t.Parallel()
	b := setupClient(t)
	ctx := context.Background()
	const size = 20 << 20
	_, err := b.client.UploadMedia(ctx, "long.mp4", "video/mp4", size, io.LimitReader(zeros{}, size))
	require.ErrorIs(t, err, whatsapp.ErrMediaTooLarge)

	id, err := b.client.UploadDocument(ctx, "long.mp4", "video/mp4", size, io.LimitReader(zeros{}, size))
	require.NoError(t, err)
	_, err = b.client.SendMedia(ctx, "16505551234", whatsapp.TypeVideo, whatsapp.MediaRef{ID: id}, "")
	var ae *whatsapp.APIError
	require.ErrorAs(t, err, &ae, "over 16 MB as a video")
	require.Equal(t, 131053, ae.Code)
	_, err = b.client.SendMedia(ctx, "16505551234", whatsapp.TypeDocument, whatsapp.MediaRef{ID: id, Filename: "long.mp4"}, "")
	require.NoError(t, err)

	_, err = b.client.UploadDocument(ctx, "a.zip", "application/zip", 10, strings.NewReader("0123456789"))
	require.ErrorAs(t, err, &ae, "Graph's upload takes only its listed types")
	require.Equal(t, 131053, ae.Code)
}

type zeros struct{}

func (zeros) Read(p []byte) (int, error) {
	clear(p)
	return len(p), nil
}
