package mediaconv

import (
	"bytes"
	"context"
	"fmt"
	"image/jpeg"
	"io"
	"os"
	"os/exec"
	"strings"

	"github.com/relaydesk/relaydesk/internal/whatsapp"
)

// run runs ffmpeg on in, writing out; its stderr's last line explains a
// failure.
func (c *Converter) run(ctx context.Context, args ...string) error {
	cmd := exec.CommandContext(ctx, c.FFmpeg, append([]string{"-hide_banner", "-loglevel", "error", "-nostdin", "-y"}, args...)...)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Run(); err != nil {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		last := strings.TrimSpace(stderr.String())
		if i := strings.LastIndexByte(last, '\n'); i >= 0 {
			last = last[i+1:]
		}
		return fmt.Errorf("%w: %v: %s", errFFmpeg, err, last)
	}
	return nil
}

// temp is an empty temporary file's name, for ffmpeg to write.
func (c *Converter) temp(pattern string) (string, error) {
	f, err := os.CreateTemp(c.TempDir, pattern)
	if err != nil {
		return "", err
	}
	f.Close()
	return f.Name(), nil
}

// voice converts browser audio to OGG/Opus (mono, 48 kHz, 32 kbit/s: a
// voice note).
func (c *Converter) voice(ctx context.Context, name, ctype string, r io.ReadCloser) (Output, error) {
	in, err := c.spool(r, "relaydesk-audio-*")
	if err != nil {
		return Output{}, err
	}
	defer removeFile(in)
	outName, err := c.temp("relaydesk-ogg-*.ogg")
	if err != nil {
		return Output{}, err
	}
	if err := c.run(ctx, "-i", in.Name(), "-vn", "-map_metadata", "-1", "-c:a", "libopus", "-b:a", "32k", "-ac", "1", "-ar", "48000",
		"-application", "voip", "-f", "ogg", outName); err != nil {
		os.Remove(outName)
		return Output{}, fmt.Errorf("%w: %s (%v)", ErrUnsupported, ctype, err)
	}
	out, err := os.Open(outName)
	if err != nil {
		os.Remove(outName)
		return Output{}, err
	}
	if st, err := out.Stat(); err == nil && st.Size() > whatsapp.MaxAudioBytes {
		removeFile(out)
		return Output{}, fmt.Errorf("%w: the recording is over WhatsApp's 16 MB for audio even as OGG/Opus", whatsapp.ErrMediaTooLarge)
	}
	note := fmt.Sprintf("%s was converted from %s to OGG/Opus so that it plays as a voice note on WhatsApp.", name, ctype)
	return fileOutput(out, whatsapp.TypeAudio, withExt(name, ".ogg"), "audio/ogg", note)
}

// heic converts a HEIC/HEIF photo to a JPEG under WhatsApp's 5 MB.
func (c *Converter) heic(ctx context.Context, name string, r io.ReadCloser) (Output, error) {
	in, err := c.spool(r, "relaydesk-heic-*")
	if err != nil {
		return Output{}, err
	}
	defer removeFile(in)
	outName, err := c.temp("relaydesk-heic-*.jpg")
	if err != nil {
		return Output{}, err
	}
	defer os.Remove(outName)
	if err := c.run(ctx, "-i", in.Name(), "-frames:v", "1", "-q:v", "3", outName); err != nil {
		return Output{}, fmt.Errorf("%w: image/heic (%v)", ErrUnsupported, err)
	}
	f, err := os.Open(outName)
	if err != nil {
		return Output{}, err
	}
	defer f.Close()
	img, err := jpeg.Decode(f)
	if err != nil {
		return Output{}, fmt.Errorf("%w: image/heic (ffmpeg's JPEG: %v)", ErrUnsupported, err)
	}
	out, _, err := c.jpegUnder(img, whatsapp.MaxImageBytes)
	if err != nil {
		return Output{}, err
	}
	return fileOutput(out, whatsapp.TypeImage, withExt(name, ".jpg"), "image/jpeg",
		name+" was converted from HEIC to JPEG (WhatsApp takes only JPEG and PNG images).")
}
