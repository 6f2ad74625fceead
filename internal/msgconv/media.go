package msgconv

import (
	"mime"
	"strings"

	"github.com/relaydesk/relaydesk/internal/whatsapp"
)

// MediaKind is the WhatsApp message type a file of the given content type is
// sent as: WebP images are stickers, and anything not an image, video or
// audio is a document.
func MediaKind(ctype string) string {
	switch {
	case strings.HasPrefix(ctype, "image/webp"):
		return whatsapp.TypeSticker
	case strings.HasPrefix(ctype, "image/"):
		return whatsapp.TypeImage
	case strings.HasPrefix(ctype, "video/"):
		return whatsapp.TypeVideo
	case strings.HasPrefix(ctype, "audio/"):
		return whatsapp.TypeAudio
	}
	return whatsapp.TypeDocument
}

var preferredExt = map[string]string{
	"image/jpeg": ".jpg", "image/png": ".png", "image/webp": ".webp", "audio/ogg": ".ogg", "audio/mpeg": ".mp3",
	"audio/mp4": ".m4a", "audio/aac": ".aac", "audio/amr": ".amr", "video/mp4": ".mp4", "video/3gpp": ".3gp",
	"application/pdf": ".pdf",
}

// Extension is the file extension (with its dot) for a MIME type, parameters
// ignored, or "" when none is known.
func Extension(mimeType string) string {
	base, _, _ := mime.ParseMediaType(mimeType)
	if e, ok := preferredExt[base]; ok {
		return e
	}
	if exts, _ := mime.ExtensionsByType(base); len(exts) > 0 {
		return exts[0]
	}
	return ""
}

// ShortID is the last twelve letters and digits of a wamid, for file names.
func ShortID(wamid string) string {
	s := strings.TrimPrefix(wamid, "wamid.")
	if len(s) > 12 {
		s = s[len(s)-12:]
	}
	return strings.Map(func(r rune) rune {
		if r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' {
			return r
		}
		return -1
	}, s)
}

// Truncate shortens s to at most n characters, ending with "…" when cut.
func Truncate(s string, n int) string {
	r := []rune(s)
	if len(r) <= n {
		return s
	}
	return string(r[:n-1]) + "…"
}

// AttachmentName is the file name a customer's media file gets on the
// ticket: its own name when WhatsApp gives one (documents), else the type,
// a short message id and the extension of its MIME type.
func AttachmentName(messageType, wamid string, media whatsapp.Media) string {
	if media.Filename != "" {
		return media.Filename
	}
	return messageType + "-" + ShortID(wamid) + Extension(media.MimeType)
}

// AttachmentContentType is the content type a media file is uploaded to the
// helpdesk with: without parameters, except for Ogg audio, whose codecs
// parameter tells players it is a voice note.
func AttachmentContentType(mimeType string) string {
	if i := strings.Index(mimeType, ";"); i >= 0 && !strings.HasPrefix(mimeType, "audio/ogg") {
		return strings.TrimSpace(mimeType[:i])
	}
	return mimeType
}
