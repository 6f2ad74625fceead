package zammadtest

import (
	"context"
	"crypto/hmac"
	"crypto/sha1"
	"encoding/hex"
	"fmt"
	"net/http"
	"slices"
	"time"

	"github.com/relaydesk/relaydesk/connectors/connectortest"
)

// SetState sets a ticket's state by name as an agent would and returns the
// delivery of the state-change trigger.
func (f *Fake) SetState(ticketID, name string) connectortest.Delivery {
	return connectortest.LockedDelivery(&f.Mu, f.trigger("relaydesk state changes"), func() (payloadJSON, time.Time) {
		t := f.tickets[parseID(ticketID)]
		if t == nil || f.stateID(name) == 0 {
			panic("zammadtest: unknown ticket or state " + ticketID + " " + name)
		}
		f.setState(t, name)
		return payloadJSON{Ticket: f.payloadTicket(t), Article: map[string]any{}}, f.now().UTC()
	})
}

// CommentDelivery implements connectortest.Fake: the delivery of the
// article trigger for an article.
func (f *Fake) CommentDelivery(ticketID, commentID string) connectortest.Delivery {
	return connectortest.LockedDelivery(&f.Mu, f.trigger("relaydesk agent replies"), func() (payloadJSON, time.Time) {
		t, a := connectortest.MustComment(f.tickets, f.articles, func(a *article) int64 { return a.ticketID }, "zammadtest", ticketID, commentID)
		return payloadJSON{Ticket: f.payloadTicket(t), Article: f.payloadArticle(a)}, f.now().UTC()
	})
}

func (f *Fake) delivery(payload payloadJSON, at time.Time, trigger string) connectortest.Delivery {
	d := connectortest.SignedDelivery(payload, at, f.Sign)
	d.Header.Set("X-Zammad-Trigger", trigger)
	return d
}

// trigger returns the deliverer of the trigger with this name.
func (f *Fake) trigger(name string) func(payload any, at time.Time) connectortest.Delivery {
	return func(payload any, at time.Time) connectortest.Delivery {
		return f.delivery(payload.(payloadJSON), at, name)
	}
}

// Redeliver implements connectortest.Fake: Zammad's job retries with the
// same body and delivery id, 30 seconds later.
func (f *Fake) Redeliver(d connectortest.Delivery) connectortest.Delivery {
	return connectortest.Delivery{Header: d.Header.Clone(), Body: slices.Clone(d.Body), At: d.At.Add(30 * time.Second)}
}

// Sign implements connectortest.Fake: X-Hub-Signature = "sha1=" +
// hex(HMAC-SHA1(signature token, body)). Zammad signs no time: at only
// matters through the times inside the payload.
func (f *Fake) Sign(body []byte, at time.Time) http.Header {
	mac := hmac.New(sha1.New, f.WebhookSecret())
	mac.Write(body)
	h := http.Header{}
	h.Set("Content-Type", "application/json; charset=utf-8")
	h.Set("User-Agent", "Zammad User Agent")
	h.Set("X-Zammad-Trigger", "relaydesk")
	h.Set("X-Zammad-Delivery", randomHex(16))
	h.Set("X-Hub-Signature", "sha1="+hex.EncodeToString(mac.Sum(nil)))
	return h
}

// WebhookSecret implements connectortest.Fake: the signature token of the
// last webhook created or updated through the API, or the fake's own
// before there is one.
func (f *Fake) WebhookSecret() []byte {
	f.Mu.Lock()
	defer f.Mu.Unlock()
	for i := len(f.webhookOrder) - 1; i >= 0; i-- {
		if w := f.webhooks[f.webhookOrder[i]]; w.token != "" {
			return []byte(w.token)
		}
	}
	return []byte(f.secret)
}

// Deliver posts d to every active webhook, as Zammad's trigger job would.
// It returns the first failure.
func (f *Fake) Deliver(ctx context.Context, hc *http.Client, d connectortest.Delivery) error {
	for _, w := range f.Webhooks() {
		if !w.Active {
			continue
		}
		if err := connectortest.DeliverTo(ctx, hc, w.Endpoint, d); err != nil {
			return fmt.Errorf("zammadtest: %w", err)
		}
	}
	return nil
}

var _ connectortest.Fake = (*Fake)(nil)
