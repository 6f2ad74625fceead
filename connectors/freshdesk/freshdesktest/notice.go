package freshdesktest

import (
	"bytes"
	"context"
	"crypto/hmac"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"time"

	"github.com/relaydesk/relaydesk/connectors"
)

// MaxNoticeAge is how far a notice's timestamp may be from now.
const MaxNoticeAge = 5 * time.Minute

// PollDelivery answers one of the fake's deliveries the way the bridge
// learns of agent activity on Freshdesk: by polling. It authenticates the
// notice (signature and timestamp, as the conformance suite expects of a
// webhook), polls p from cursor, and returns the polled events the notice
// names: those with its comment id, or the last status event of its ticket.
// Conformance tests wrap the connector so that ParseWebhook calls it,
// making the suite's webhook checks exercise Poll.
func PollDelivery(ctx context.Context, p connectors.Poller, cursor string, h http.Header, body, secret []byte, now time.Time) ([]connectors.Event, error) {
	if len(secret) == 0 {
		return nil, fmt.Errorf("%w: no secret", connectors.ErrUnauthorized)
	}
	ts, sig := h.Get(HeaderNoticeTimestamp), h.Get(HeaderNoticeSignature)
	if ts == "" || sig == "" {
		return nil, fmt.Errorf("%w: missing notice headers", connectors.ErrUnauthorized)
	}
	secs, err := strconv.ParseInt(ts, 10, 64)
	if err != nil {
		return nil, fmt.Errorf("%w: bad timestamp", connectors.ErrUnauthorized)
	}
	if d := now.Sub(time.Unix(secs, 0)); d > MaxNoticeAge || d < -MaxNoticeAge {
		return nil, fmt.Errorf("%w: stale notice", connectors.ErrUnauthorized)
	}
	got, err := hex.DecodeString(sig)
	if err != nil || !hmac.Equal(got, noticeMAC(secret, ts, body)) {
		return nil, fmt.Errorf("%w: signature mismatch", connectors.ErrUnauthorized)
	}
	var n Notice
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&n); err != nil || n.TicketID == "" {
		return nil, fmt.Errorf("%w: %v", connectors.ErrMalformed, err)
	}
	events, _, err := p.Poll(ctx, cursor)
	if err != nil {
		return nil, err
	}
	var out []connectors.Event
	for _, e := range events {
		switch {
		case n.CommentID != "" && e.CommentID == n.CommentID:
			out = append(out, e)
		case n.CommentID == "" && e.Type == connectors.EventTicketStatus && e.TicketID == n.TicketID:
			out = []connectors.Event{e} // the last one wins
		}
	}
	return out, nil
}
