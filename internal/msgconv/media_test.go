package msgconv_test

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/relaydesk/relaydesk/internal/msgconv"
	"github.com/relaydesk/relaydesk/internal/whatsapp"
)

func TestShortIDAndTruncate(t *testing.T) {
	t.Parallel()
	require.Equal(t, "HBgLMTY1MDU1", msgconv.ShortID("wamid.HBgLMTY1MDU1"))
	require.Equal(t, "ABCDEF123456", msgconv.ShortID("wamid.xxxxxxxxABCDEF123456"))
	require.Equal(t, "ABC123", msgconv.ShortID("wamid.AB=C-1_23"), "only letters and digits")
	require.Equal(t, "hello", msgconv.Truncate("hello", 5))
	require.Equal(t, "hell…", msgconv.Truncate("hello!", 5))
	require.Equal(t, "ääää…", msgconv.Truncate("äääääää", 5), "counts characters, not bytes")
}

func TestMediaKind(t *testing.T) {
	t.Parallel()
	for ctype, want := range map[string]string{
		"image/webp": "sticker", "image/jpeg": "image", "image/png": "image", "video/mp4": "video",
		"audio/ogg; codecs=opus": "audio", "application/pdf": "document", "": "document", "text/plain": "document",
	} {
		require.Equal(t, want, msgconv.MediaKind(ctype), ctype)
	}
}

func TestExtension(t *testing.T) {
	t.Parallel()
	for mimeType, want := range map[string]string{
		"image/jpeg": ".jpg", "audio/ogg; codecs=opus": ".ogg", "application/pdf": ".pdf", "video/3gpp": ".3gp",
		"application/x-nothing-known": "", "": "",
	} {
		require.Equal(t, want, msgconv.Extension(mimeType), mimeType)
	}
}

func TestAttachmentNameAndType(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, typ, wamid string
		media            whatsapp.Media
		wantName         string
		wantType         string
	}{
		{"a document keeps its name", "document", "wamid.X1", whatsapp.Media{Filename: "invoice.pdf", MimeType: "application/pdf"},
			"invoice.pdf", "application/pdf"},
		{"a photo is named by type, id and extension", "image", "wamid.HBgLMTY1MDU1", whatsapp.Media{MimeType: "image/jpeg"},
			"image-HBgLMTY1MDU1.jpg", "image/jpeg"},
		{"a voice note keeps its codecs", "audio", "wamid.V1", whatsapp.Media{MimeType: "audio/ogg; codecs=opus"},
			"audio-V1.ogg", "audio/ogg; codecs=opus"},
		{"other parameters are dropped", "video", "wamid.T1", whatsapp.Media{MimeType: "video/mp4; codecs=avc1"},
			"video-T1.mp4", "video/mp4"},
		{"an unknown type gets no extension", "document", "wamid.U1", whatsapp.Media{MimeType: "application/x-nothing-known"},
			"document-U1", "application/x-nothing-known"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			require.Equal(t, tt.wantName, msgconv.AttachmentName(tt.typ, tt.wamid, tt.media))
			require.Equal(t, tt.wantType, msgconv.AttachmentContentType(tt.media.MimeType))
		})
	}
}
