package e2e

import (
	"bytes"
	"image"
	"image/color"
	"image/gif"
	"image/jpeg"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/relaydesk/relaydesk/connectors/connectortest"
)

func gifFile(t *testing.T) []byte {
	t.Helper()
	img := image.NewPaletted(image.Rect(0, 0, 64, 48), []color.Color{color.White, color.Black})
	img.SetColorIndex(3, 3, 1)
	var b bytes.Buffer
	require.NoError(t, gif.Encode(&b, img, nil))
	return b.Bytes()
}

// webmRecording is a one-second Opus recording in WebM, as a browser's
// MediaRecorder makes, or nil without ffmpeg.
func webmRecording(t *testing.T) []byte {
	t.Helper()
	ffmpeg, err := exec.LookPath("ffmpeg")
	if err != nil {
		return nil
	}
	path := filepath.Join(t.TempDir(), "rec.webm")
	out, err := exec.Command(ffmpeg, "-hide_banner", "-loglevel", "error", "-f", "lavfi", "-i", "sine=frequency=300:duration=1",
		"-c:a", "libopus", "-f", "webm", path).CombinedOutput()
	require.NoError(t, err, string(out))
	data, err := os.ReadFile(path)
	require.NoError(t, err)
	return data
}

// An agent's files go to Graph as uploads sent by media id: a GIF becomes
// a JPEG image, a video over 16 MB a document, a browser recording an
// OGG/Opus voice note (with ffmpeg), and each change is a note on the
// ticket; nothing is sent by link.
func TestAgentFilesAreConvertedAndSentByID(t *testing.T) {
	t.Parallel()
	h := newHarness(t, harnessOpts{})
	tk := h.openTicket("can you send me the label?")
	files := []connectortest.File{
		{Filename: "label.gif", ContentType: "image/gif", Data: gifFile(t)},
		{Filename: "unboxing.mp4", ContentType: "video/mp4", Data: append([]byte("\x00\x00\x00\x18ftypmp42"), make([]byte, 17<<20)...)},
	}
	rec := webmRecording(t)
	if rec != nil {
		files = append(files, connectortest.File{Filename: "voice.webm", ContentType: "audio/webm", Data: rec})
	}
	h.agentRepliesWith(tk, "Here you are.", files...)
	h.eventually(func() bool { return len(h.graph.Sent()) == len(files)+1 }, "the files and the text are sent; failures: %s", h.failures())

	ups := h.graph.Uploads()
	require.Len(t, ups, len(files))
	require.Equal(t, []string{"label.jpg", "image/jpeg"}, []string{ups[0].Filename, ups[0].MimeType})
	_, err := jpeg.Decode(bytes.NewReader(ups[0].Data))
	require.NoError(t, err, "a real JPEG reaches Graph")
	require.Equal(t, []string{"unboxing.mp4", "video/mp4"}, []string{ups[1].Filename, ups[1].MimeType})
	sent := h.graph.Sent()
	require.Equal(t, "image", sent[0].Type)
	require.Equal(t, "document", sent[1].Type)
	require.Contains(t, string(sent[1].Body), `"filename":"unboxing.mp4"`)
	for _, s := range sent[:len(files)] {
		require.NotContains(t, string(s.Body), `"link"`, "by media id, never by link")
	}
	want := []string{"converted from GIF to JPEG", "unboxing.mp4 (17.0 MB) was sent as a document"}
	if rec != nil {
		require.Equal(t, []string{"voice.ogg", "audio/ogg"}, []string{ups[2].Filename, ups[2].MimeType})
		require.Equal(t, "OggS", string(ups[2].Data[:4]))
		require.Equal(t, "audio", sent[2].Type)
		want = append(want, "converted from audio/webm to OGG/Opus")
	} else {
		t.Log("SKIPPING the voice-note part: ffmpeg is not installed (.ci/run installs it)")
	}
	h.eventually(func() bool { return len(h.notes(tk)) == len(want) }, "one note per conversion")
	notes := strings.Join(h.notes(tk), "\n")
	for _, w := range want {
		require.Contains(t, notes, w)
	}
	h.noViolations()
}

// Without ffmpeg a browser recording is not sent (WhatsApp's upload takes
// no WebM in any message type) and the note says ffmpeg converts it; the
// rest of the reply goes.
func TestBrowserRecordingWithoutFFmpeg(t *testing.T) {
	t.Parallel()
	h := newHarness(t, harnessOpts{noFFmpeg: true})
	tk := h.openTicket("hello")
	h.agentRepliesWith(tk, "Listen to this.", connectortest.File{Filename: "voice.webm", ContentType: "audio/webm", Data: []byte("\x1aE\xdf\xa3 not really webm")})
	h.eventually(func() bool { return len(h.graph.Sent()) == 1 }, "the text is sent")
	require.Equal(t, "Listen to this.", h.graph.Sent()[0].Text)
	h.eventually(func() bool { return len(h.notes(tk)) == 1 }, "a note")
	require.Contains(t, h.notes(tk)[0], "voice.webm of this reply was NOT sent")
	require.Contains(t, h.notes(tk)[0], "only when ffmpeg is installed")
	require.Empty(t, h.graph.Uploads())
}

// agentRepliesWith has an agent answer publicly in Zendesk with files.
func (h *harness) agentRepliesWith(ticketID, body string, files ...connectortest.File) {
	h.t.Helper()
	id := h.zd.AgentReply(ticketID, body, files...)
	require.Equal(h.t, 200, h.postHelpdesk(h.zd.CommentDelivery(ticketID, id)))
}
