package zendesktest

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/relaydesk/relaydesk/connectors/connectortest"
)

// SetRawStatus sets a Zendesk status (new, open, pending, hold, solved,
// closed) as an agent would and returns the status-change delivery.
func (f *Fake) SetRawStatus(ticketID, raw string) connectortest.Delivery {
	return connectortest.LockedDelivery(&f.Mu, f.delivery, func() (eventJSON, time.Time) {
		t := connectortest.MustFind(f.tickets, "zendesktest", "ticket", ticketID)
		prev := t.status
		t.status = raw
		t.updatedAt = f.now().UTC()
		at := f.now().UTC().Truncate(time.Second)
		return eventJSON{
			AccountID:           AccountID,
			Detail:              f.detail(t),
			Event:               statusEventJSON{Current: strings.ToUpper(raw), Previous: strings.ToUpper(prev)},
			ID:                  eventID("status", t.id, f.newID()),
			Subject:             "zen:ticket:" + formatID(t.id),
			Time:                at.Format(time.RFC3339Nano),
			Type:                "zen:event-type:ticket.status_changed",
			ZendeskEventVersion: "2022-11-06",
		}, at
	})
}

// CommentDelivery implements connectortest.Fake: the
// zen:event-type:ticket.comment_added payload for a comment.
func (f *Fake) CommentDelivery(ticketID, commentID string) connectortest.Delivery {
	return connectortest.LockedDelivery(&f.Mu, f.delivery, func() (eventJSON, time.Time) {
		t, c := connectortest.MustComment(f.tickets, f.comments, func(c *comment) int64 { return c.ticketID }, "zendesktest", ticketID, commentID)
		return f.commentEvent(t, c), f.now().UTC().Truncate(time.Second)
	})
}

// commentEvent is the comment_added payload of a comment. Callers hold
// f.Mu.
func (f *Fake) commentEvent(t *ticket, c *comment) eventJSON {
	author := f.users[c.authorID]
	var ev commentEventJSON
	ev.Comment.ID = formatID(c.id)
	ev.Comment.Body = c.body
	ev.Comment.IsPublic = c.public
	ev.Comment.Author.ID = formatID(author.id)
	ev.Comment.Author.IsStaff = author.role != "end-user"
	ev.Comment.Author.Name = author.name
	payload := eventJSON{
		AccountID:           AccountID,
		Detail:              f.detail(t),
		Event:               ev,
		ID:                  eventID("comment", t.id, c.id),
		Subject:             "zen:ticket:" + formatID(t.id),
		Time:                c.createdAt.Format(time.RFC3339Nano),
		Type:                "zen:event-type:ticket.comment_added",
		ZendeskEventVersion: "2022-11-06",
	}
	payload.Detail.ActorID = formatID(author.id)
	return payload
}

// detail is the ticket part of an event payload. Callers hold f.Mu.
func (f *Fake) detail(t *ticket) detailJSON {
	d := detailJSON{
		ActorID:     formatID(f.agentID),
		BrandID:     "360000000001",
		CreatedAt:   t.createdAt.Format(time.RFC3339),
		Description: t.description,
		FormID:      "360000000002",
		ID:          formatID(t.id),
		IsPublic:    true,
		RequesterID: formatID(t.requesterID),
		Status:      strings.ToUpper(t.status),
		Subject:     t.subject,
		SubmitterID: formatID(t.submitterID),
		Tags:        slices.Clone(t.tags),
		UpdatedAt:   t.updatedAt.Format(time.RFC3339),
	}
	d.ExternalID = connectortest.Opt(t.externalID)
	if d.Tags == nil {
		d.Tags = []string{}
	}
	d.Via.Channel = "api"
	return d
}

// eventID is a stable, UUID-shaped event id.
func eventID(kind string, a, b int64) string {
	sum := sha256.Sum256([]byte(fmt.Sprintf("%s:%d:%d", kind, a, b)))
	h := hex.EncodeToString(sum[:16])
	return h[0:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:32]
}

func (f *Fake) delivery(payload any, at time.Time) connectortest.Delivery {
	return connectortest.SignedDelivery(payload, at, f.Sign)
}

// Redeliver implements connectortest.Fake: the same body, signed 30 seconds
// later, as when Zendesk retries a delivery.
func (f *Fake) Redeliver(d connectortest.Delivery) connectortest.Delivery {
	at := d.At.Add(30 * time.Second)
	return connectortest.Delivery{Header: f.Sign(d.Body, at), Body: slices.Clone(d.Body), At: at}
}

// Sign implements connectortest.Fake: Zendesk's headers, with
// X-Zendesk-Webhook-Signature = base64(HMAC-SHA256(secret, timestamp+body)).
func (f *Fake) Sign(body []byte, at time.Time) http.Header {
	ts := at.UTC().Format(time.RFC3339)
	mac := hmac.New(sha256.New, f.secret)
	mac.Write([]byte(ts))
	mac.Write(body)
	h := http.Header{}
	h.Set("Content-Type", "application/json; charset=utf-8")
	h.Set("X-Zendesk-Account-Id", formatID(AccountID))
	h.Set("X-Zendesk-Webhook-Id", "01HZFAKEWEBHOOK0000000000")
	h.Set("X-Zendesk-Webhook-Invocation-Id", formatID(at.UnixNano()%1e10))
	h.Set("X-Zendesk-Webhook-Signature-Timestamp", ts)
	h.Set("X-Zendesk-Webhook-Signature", base64.StdEncoding.EncodeToString(mac.Sum(nil)))
	return h
}

// WebhookSecret implements connectortest.Fake. Every webhook of the fake
// account shares it.
func (f *Fake) WebhookSecret() []byte { return slices.Clone(f.secret) }

// Deliver posts d to every active webhook registered through the API, as
// Zendesk would. It returns the first failure.
func (f *Fake) Deliver(ctx context.Context, hc *http.Client, d connectortest.Delivery) error {
	for _, w := range f.Webhooks() {
		if w.Status != "active" {
			continue
		}
		if err := connectortest.DeliverTo(ctx, hc, w.Endpoint, d); err != nil {
			return fmt.Errorf("zendesktest: %w", err)
		}
	}
	return nil
}
