package bridge

import (
	"context"
	"encoding/base64"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/relaydesk/relaydesk/internal/store"
	"github.com/relaydesk/relaydesk/internal/whatsapp"
)

// MediaLinkTTL is how long a media link in a comment can be opened. Graph
// keeps a customer's media about 30 days; a week covers the agent's work on
// the ticket with room to spare.
const MediaLinkTTL = 7 * 24 * time.Hour

// mediaLinkPurpose binds media link tokens to their use: a token sealed for
// anything else does not open as a link, nor a link as anything else.
const mediaLinkPurpose = "media-link"

// Media link errors: a token that does not open (forged, altered, sealed
// under a key no longer configured) and one past its expiry.
var (
	ErrMediaLinkInvalid = errors.New("media link is not valid")
	ErrMediaLinkExpired = errors.New("media link has expired")
)

// MediaLinkToken is the token of a link to a customer's media file: the
// number, the media id and the expiry, sealed (AES-GCM, authenticated) with
// the service's secret key (RELAYDESK_SECRET_KEY), so nobody can forge or
// alter one and the media id is not readable in it.
func (b *Bridge) MediaLinkToken(accountID store.AccountID, mediaID string, expires time.Time) string {
	buf := binary.BigEndian.AppendUint64(nil, uint64(accountID))
	buf = binary.BigEndian.AppendUint64(buf, uint64(expires.Unix()))
	buf = append(buf, mediaID...)
	return base64.RawURLEncoding.EncodeToString(b.store.Keys().Seal(buf, mediaLinkPurpose))
}

// mediaLinkURL is the link an agent opens for a customer's media file.
func (b *Bridge) mediaLinkURL(accountID store.AccountID, mediaID string, expires time.Time) string {
	return b.apiBase + "/media/" + b.MediaLinkToken(accountID, mediaID, expires)
}

// OpenMediaLink checks a media link token and streams the file it names
// from Graph. The caller closes the reader.
func (b *Bridge) OpenMediaLink(ctx context.Context, token string) (io.ReadCloser, whatsapp.MediaInfo, error) {
	raw, err := base64.RawURLEncoding.DecodeString(token)
	if err != nil {
		return nil, whatsapp.MediaInfo{}, ErrMediaLinkInvalid
	}
	buf, err := b.store.Keys().Open(raw, mediaLinkPurpose) // authenticated: constant-time tag check
	if err != nil || len(buf) <= 16 {
		return nil, whatsapp.MediaInfo{}, ErrMediaLinkInvalid
	}
	accountID := store.AccountID(binary.BigEndian.Uint64(buf))
	expires := time.Unix(int64(binary.BigEndian.Uint64(buf[8:])), 0)
	if !b.now().Before(expires) {
		return nil, whatsapp.MediaInfo{}, ErrMediaLinkExpired
	}
	rc, info, err := b.OpenMedia(ctx, accountID, string(buf[16:]))
	if err != nil {
		return nil, info, fmt.Errorf("open linked media: %w", err)
	}
	return rc, info, nil
}
