package connectortest

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"time"

	"github.com/relaydesk/relaydesk/connectors"
)

// Notices stand in for webhooks in the fakes of helpdesks that push
// nothing signed (Freshdesk, Request Tracker), where the bridge learns of
// agent activity by polling. The fake's deliveries are signed notices
// naming a comment or a status change; [PollDelivery] answers one by
// polling the connector, so that the suite's webhook checks exercise Poll.

// Notice is the body of a notice delivery.
type Notice struct {
	TicketID  string `json:"ticket_id"`
	CommentID string `json:"comment_id,omitempty"`
	Status    string `json:"status,omitempty"`
	// Body is the comment's text, as a webhook payload would carry it.
	Body string `json:"body,omitempty"`
}

// Notice signature headers (test-only: the helpdesks sign nothing).
const (
	HeaderNoticeSignature = "X-Fake-Notice-Signature"
	HeaderNoticeTimestamp = "X-Fake-Notice-Timestamp"
)

// MaxNoticeAge is how far a notice's timestamp may be from now.
const MaxNoticeAge = 5 * time.Minute

// NoticeDelivery returns n as a delivery signed with secret at time at.
func NoticeDelivery(secret []byte, n Notice, at time.Time) Delivery {
	return SignedDelivery(n, at, func(body []byte, at time.Time) http.Header { return SignNotice(secret, body, at) })
}

// RedeliverNotice returns d signed again 30 seconds later, as a retried
// delivery.
func RedeliverNotice(secret []byte, d Delivery) Delivery {
	at := d.At.Add(30 * time.Second)
	return Delivery{Header: SignNotice(secret, d.Body, at), Body: slices.Clone(d.Body), At: at}
}

// SignNotice returns the headers that authenticate a notice body at time
// at: hex(HMAC-SHA256(secret, unix timestamp + "." + body)).
func SignNotice(secret, body []byte, at time.Time) http.Header {
	ts := strconv.FormatInt(at.Unix(), 10)
	h := http.Header{}
	h.Set(HeaderNoticeTimestamp, ts)
	h.Set(HeaderNoticeSignature, hex.EncodeToString(noticeMAC(secret, ts, body)))
	return h
}

func noticeMAC(secret []byte, ts string, body []byte) []byte {
	m := hmac.New(sha256.New, secret)
	m.Write([]byte(ts + "."))
	m.Write(body)
	return m.Sum(nil)
}

// PollDelivery answers a notice delivery the way the bridge learns of agent
// activity on a polled helpdesk: by polling. It authenticates the notice
// (signature and timestamp, as the suite expects of a webhook), polls p
// from cursor, and returns the polled events the notice names: those with
// its comment id, or the last status event of its ticket. Conformance tests
// wrap the connector so that ParseWebhook calls it.
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
