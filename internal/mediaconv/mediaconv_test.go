package mediaconv_test

import (
	"bytes"
	"context"
	"image"
	"image/color"
	"image/gif"
	"image/jpeg"
	"image/png"
	"io"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"
	"golang.org/x/image/bmp"
	"golang.org/x/image/tiff"

	"github.com/relaydesk/relaydesk/internal/mediaconv"
	"github.com/relaydesk/relaydesk/internal/whatsapp"
)

// picture is a w x h test image: a gradient with a transparent corner.
func picture(w, h int) *image.RGBA {
	img := image.NewRGBA(image.Rect(0, 0, w, h))
	for y := range h {
		for x := range w {
			img.Set(x, y, color.RGBA{uint8(x), uint8(y), 128, 255})
		}
	}
	for y := range 16 {
		for x := range 16 {
			img.Set(x, y, color.RGBA{}) // transparent
		}
	}
	return img
}

// noise is an image that compresses badly, to make large files.
func noise(w, h int) *image.RGBA {
	img := image.NewRGBA(image.Rect(0, 0, w, h))
	r := rand.New(rand.NewPCG(1, 2))
	for i := range img.Pix {
		img.Pix[i] = uint8(r.UintN(256))
	}
	return img
}

func encoded(t *testing.T, enc func(io.Writer, image.Image) error, img image.Image) []byte {
	t.Helper()
	var b bytes.Buffer
	require.NoError(t, enc(&b, img))
	return b.Bytes()
}

func prepare(t *testing.T, c *mediaconv.Converter, name, ctype string, data []byte) (mediaconv.Output, []byte) {
	t.Helper()
	out, err := c.Prepare(context.Background(), name, ctype, int64(len(data)), io.NopCloser(bytes.NewReader(data)))
	require.NoError(t, err, name)
	body, err := io.ReadAll(out.Body)
	require.NoError(t, err)
	require.NoError(t, out.Body.Close())
	if out.Size >= 0 {
		require.EqualValues(t, len(body), out.Size, "the size announced is the size uploaded")
	}
	return out, body
}

func TestImagesWhatsAppRefusesBecomeJPEG(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	c := &mediaconv.Converter{TempDir: dir}
	pic := picture(200, 120)
	for _, tt := range []struct {
		name, ctype, from string
		data              []byte
		alpha             bool
	}{
		{"parcel.gif", "image/gif", "GIF", encoded(t, func(w io.Writer, m image.Image) error { return gif.Encode(w, m, nil) }, pic), false},
		{"scan.bmp", "image/bmp", "BMP", encoded(t, bmp.Encode, pic), false},
		{"scan.tiff", "image/tiff", "TIFF", encoded(t, func(w io.Writer, m image.Image) error { return tiff.Encode(w, m, nil) }, pic), true},
		{"label.tif", "application/octet-stream", "TIFF", encoded(t, func(w io.Writer, m image.Image) error { return tiff.Encode(w, m, nil) }, pic), true},
	} {
		t.Run(tt.name, func(t *testing.T) {
			out, body := prepare(t, c, tt.name, tt.ctype, tt.data)
			require.Equal(t, whatsapp.TypeImage, out.Kind)
			require.Equal(t, "image/jpeg", out.ContentType)
			require.Equal(t, tt.name[:len(tt.name)-len(filepath.Ext(tt.name))]+".jpg", out.Filename)
			require.Contains(t, out.Note, "converted from "+tt.from+" to JPEG")
			img, err := jpeg.Decode(bytes.NewReader(body))
			require.NoError(t, err, "a real JPEG")
			require.Equal(t, image.Pt(200, 120), img.Bounds().Size())
			if tt.alpha {
				r, g, b, _ := img.At(4, 4).RGBA()
				require.Greater(t, r>>8+g>>8+b>>8, uint32(700), "transparency becomes white")
			}
		})
	}
	entries, err := os.ReadDir(dir)
	require.NoError(t, err)
	require.Empty(t, entries, "temporary files are removed")
}

func TestLargeImagesAreScaledUnderTheLimit(t *testing.T) {
	t.Parallel()
	c := &mediaconv.Converter{TempDir: t.TempDir()}
	data := encoded(t, png.Encode, noise(1800, 1400))
	require.Greater(t, len(data), whatsapp.MaxImageBytes, "the test PNG is over 5 MB")
	out, body := prepare(t, c, "photo.png", "image/png", data)
	require.Equal(t, "image/jpeg", out.ContentType)
	require.LessOrEqual(t, len(body), whatsapp.MaxImageBytes)
	require.Contains(t, out.Note, "over WhatsApp's 5 MB for images")
	_, err := jpeg.Decode(bytes.NewReader(body))
	require.NoError(t, err)

	small := encoded(t, png.Encode, picture(50, 50))
	out, body = prepare(t, c, "small.png", "image/png", small)
	require.Equal(t, []any{whatsapp.TypeImage, "image/png", ""}, []any{out.Kind, out.ContentType, out.Note}, "a PNG under 5 MB goes as it is")
	require.Equal(t, small, body)
}

func TestWhatGoesAsItIsOrAsADocument(t *testing.T) {
	t.Parallel()
	c := &mediaconv.Converter{}
	big := int64(20 << 20)
	for _, tt := range []struct {
		name, ctype string
		size        int64
		kind, typ   string
		document    bool
		note        string
	}{
		{"label.pdf", "application/pdf", 1000, whatsapp.TypeDocument, "application/pdf", false, ""},
		{"clip.mp4", "video/mp4", 1000, whatsapp.TypeVideo, "video/mp4", false, ""},
		{"long.mp4", "video/mp4", big, whatsapp.TypeDocument, "video/mp4", true, "sent as a document: WhatsApp plays videos up to 16 MB"},
		{"song.mp3", "audio/mpeg", big, whatsapp.TypeDocument, "audio/mpeg", true, "over WhatsApp's 16.0 MB for audio"},
		{"orders.csv", "text/csv", 1000, whatsapp.TypeDocument, "text/plain", false, "plain-text document"},
		{"voice.ogg", "audio/ogg; codecs=opus", 1000, whatsapp.TypeAudio, "audio/ogg", false, ""},
	} {
		out, err := c.Prepare(context.Background(), tt.name, tt.ctype, tt.size, io.NopCloser(bytes.NewReader(nil)))
		require.NoError(t, err, tt.name)
		require.Equal(t, []any{tt.kind, tt.typ, tt.document}, []any{out.Kind, out.ContentType, out.Document}, tt.name)
		if tt.note == "" {
			require.Empty(t, out.Note, tt.name)
		} else {
			require.Contains(t, out.Note, tt.note, tt.name)
		}
	}
	for _, tt := range []struct {
		name, ctype string
		size        int64
		err         error
	}{
		{"archive.zip", "application/zip", 1000, whatsapp.ErrUnsupportedMediaType},
		{"huge.pdf", "application/pdf", 101 << 20, whatsapp.ErrMediaTooLarge},
	} {
		_, err := c.Prepare(context.Background(), tt.name, tt.ctype, tt.size, io.NopCloser(bytes.NewReader(nil)))
		require.ErrorIs(t, err, tt.err, tt.name)
	}
}

// Browser audio: converted to OGG/Opus with ffmpeg; without ffmpeg it is
// refused with a reason naming ffmpeg (WhatsApp's upload takes no WebM
// in any message type).
func TestBrowserAudioBecomesAVoiceNote(t *testing.T) {
	t.Parallel()
	_, err := (&mediaconv.Converter{}).Prepare(context.Background(), "rec.webm", "audio/webm", 10, io.NopCloser(bytes.NewReader(make([]byte, 10))))
	require.ErrorIs(t, err, whatsapp.ErrUnsupportedMediaType)
	require.Contains(t, err.Error(), "only when ffmpeg is installed")

	ffmpeg, lerr := exec.LookPath("ffmpeg")
	if lerr != nil {
		t.Skip("SKIPPING the ffmpeg conversion: ffmpeg is not installed (.ci/run installs it); only the fallback was checked")
	}
	dir := t.TempDir()
	webm := filepath.Join(dir, "rec.webm")
	out, err := exec.Command(ffmpeg, "-hide_banner", "-loglevel", "error", "-f", "lavfi", "-i", "sine=frequency=440:duration=1",
		"-c:a", "libopus", "-f", "webm", webm).CombinedOutput()
	require.NoError(t, err, string(out))
	data, err := os.ReadFile(webm)
	require.NoError(t, err)

	c := &mediaconv.Converter{FFmpeg: ffmpeg, TempDir: t.TempDir()}
	for _, ctype := range []string{"audio/webm", "audio/webm;codecs=opus"} {
		o, body := prepare(t, c, "rec.webm", ctype, data)
		require.Equal(t, []string{whatsapp.TypeAudio, "audio/ogg", "rec.ogg"}, []string{o.Kind, o.ContentType, o.Filename})
		require.Equal(t, "OggS", string(body[:4]), "an Ogg stream")
		require.Contains(t, string(body[:200]), "OpusHead", "with Opus in it")
		require.Contains(t, o.Note, "plays as a voice note")
	}
}
