package bridge

import (
	"errors"
	"fmt"
	"net/http"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/relaydesk/relaydesk/connectors"
	"github.com/relaydesk/relaydesk/internal/whatsapp"
)

func TestRefusedAttachment(t *testing.T) {
	t.Parallel()
	withFile := connectors.Message{Body: "hi", Attachments: []connectors.Attachment{{Filename: "a.pdf"}}}
	tooLarge := connectors.HTTPError(http.StatusRequestEntityTooLarge, http.Header{}, "Attachments can be up to 50 MB.")
	for _, tc := range []struct {
		name     string
		msg      connectors.Message
		err      error
		mediaErr error
		reason   string // "" when not a refused file
	}{
		{"413", withFile, fmt.Errorf("upload: %w", tooLarge), nil, "it is larger than the helpdesk accepts (Attachments can be up to 50 MB)"},
		{"415", withFile, connectors.HTTPError(http.StatusUnsupportedMediaType, http.Header{}, ""), nil, "the helpdesk refused its type"},
		{"422 is the message's problem", withFile, connectors.HTTPError(http.StatusUnprocessableEntity, http.Header{}, "bad"), nil, ""},
		{"no file", connectors.Message{Body: "hi"}, tooLarge, nil, ""},
		{"the download failed", withFile, tooLarge, errors.New("graph down"), ""},
		{"transport error", withFile, errors.New("connection reset"), nil, ""},
	} {
		r := refusedAttachment(tc.msg, tc.err, tc.mediaErr)
		if tc.reason == "" {
			require.Nil(t, r, tc.name)
			continue
		}
		require.NotNil(t, r, tc.name)
		require.Equal(t, tc.reason, r.(*attachmentRefusedError).reason(), tc.name)
	}
}

func TestFileRefused(t *testing.T) {
	t.Parallel()
	_, gif := whatsapp.CheckMedia("image/gif", 10)
	_, big := whatsapp.CheckMedia("image/jpeg", 6<<20)
	for _, tc := range []struct {
		name    string
		err     error
		refused bool
	}{
		{"gif", gif, true},
		{"image over 5 MB", big, true},
		{"Graph refused the upload", &whatsapp.APIError{HTTPStatus: 400, Code: 131053}, true},
		{"attachment URL refused", fmt.Errorf("%w: scheme \"file\"", errAttachmentURL), true},
		{"outside the window is the reply's problem", &whatsapp.APIError{HTTPStatus: 400, Code: 131047}, false},
		{"transient", errors.New("timeout"), false},
		{"nil", nil, false},
	} {
		require.Equal(t, tc.refused, fileRefused(tc.err) != "", "%s: %q", tc.name, fileRefused(tc.err))
	}
	require.Equal(t, `WhatsApp does not take files of this type ("image/gif")`, fileRefused(gif))
}
