package chatwoottest

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"time"

	"github.com/relaydesk/relaydesk/connectors/connectortest"
)

// SetRawStatus sets a Chatwoot status (open, pending, snoozed, resolved) as
// an agent would and returns the conversation_status_changed delivery.
func (f *Fake) SetRawStatus(ticketID, raw string) connectortest.Delivery {
	if !slices.Contains([]string{"open", "pending", "snoozed", "resolved"}, raw) {
		panic("chatwoottest: unknown status " + raw)
	}
	return connectortest.LockedDelivery(&f.Mu, f.delivery, func() (statusChangedJSON, time.Time) {
		cv := connectortest.MustFind(f.conversations, "chatwoottest", "conversation", ticketID)
		prev := cv.status
		f.setStatus(cv, raw, f.agents[AgentID+1])
		changed := []map[string]any{{"status": map[string]any{"previous_value": prev, "current_value": raw}}}
		payload := statusChangedJSON{webhookConversationJSON: f.webhookConversation(cv), Event: "conversation_status_changed", ChangedAttributes: changed}
		return payload, f.now().UTC().Truncate(time.Second)
	})
}

// CommentDelivery implements connectortest.Fake: the message_created
// delivery of a message, signed now.
func (f *Fake) CommentDelivery(ticketID, commentID string) connectortest.Delivery {
	return connectortest.LockedDelivery(&f.Mu, f.delivery, func() (messageCreatedJSON, time.Time) {
		cv, m := connectortest.MustComment(f.conversations, f.messages, func(m *message) int64 { return m.convID }, "chatwoottest", ticketID, commentID)
		return f.messageCreated(cv, m), f.now().UTC().Truncate(time.Second)
	})
}

// messageCreated renders a message's webhook_data. Callers hold f.Mu.
func (f *Fake) messageCreated(cv *conversation, m *message) messageCreatedJSON {
	p := messageCreatedJSON{
		Account:              map[string]any{"id": AccountID, "name": "Acme Support"},
		AdditionalAttributes: map[string]any{},
		ContentAttributes:    cloneMap(m.contentAttrs),
		ContentType:          "text",
		Content:              m.content,
		Conversation:         f.webhookConversation(cv),
		CreatedAt:            m.createdAt.Format("2006-01-02T15:04:05.000Z"),
		ID:                   m.id,
		Inbox:                map[string]any{"id": cv.inboxID, "name": f.inboxName(cv.inboxID)},
		MessageType:          m.msgType,
		Private:              m.private,
		SourceID:             m.sourceID,
		Event:                "message_created",
	}
	switch m.senderType {
	case "contact":
		ct := f.contacts[m.senderID]
		p.Sender = &webhookSenderJSON{ID: ct.id, Name: ct.name, Type: "contact"}
	case "user":
		a := f.agents[m.senderID]
		p.Sender = &webhookSenderJSON{ID: a.id, Name: a.name, Type: "user", Email: &a.email}
	}
	for _, b := range m.attachments {
		p.Attachments = append(p.Attachments, f.attachmentJSON(m, b))
	}
	return p
}

func (f *Fake) delivery(payload any, at time.Time) connectortest.Delivery {
	return connectortest.SignedDelivery(payload, at, f.Sign)
}

// Redeliver implements connectortest.Fake: the same body and delivery id,
// signed 30 seconds later, as when Chatwoot's job retries.
func (f *Fake) Redeliver(d connectortest.Delivery) connectortest.Delivery {
	at := d.At.Add(30 * time.Second)
	h := f.Sign(d.Body, at)
	if id := d.Header.Get("X-Chatwoot-Delivery"); id != "" {
		h.Set("X-Chatwoot-Delivery", id)
	}
	return connectortest.Delivery{Header: h, Body: slices.Clone(d.Body), At: at}
}

// Sign implements connectortest.Fake: Chatwoot's headers, with
// X-Chatwoot-Signature = "sha256=" + hex(HMAC-SHA256(secret, ts + "." +
// body)), signed with [Fake.WebhookSecret]. In legacy mode there is no signature; the token relaydesk's HTTP
// layer copies from the callback URL stands in for it.
func (f *Fake) Sign(body []byte, at time.Time) http.Header {
	f.Mu.Lock()
	legacy, secret := f.legacy, f.webhookSecretLocked()
	f.Mu.Unlock()
	h := http.Header{}
	h.Set("Content-Type", "application/json")
	h.Set("Accept", "application/json")
	h.Set("User-Agent", "rest-client/2.1.0 (linux x86_64) ruby/3.3.3p89")
	if legacy {
		h.Set("X-Relaydesk-Token", string(secret))
		return h
	}
	ts := strconv.FormatInt(at.Unix(), 10)
	mac := hmac.New(sha256.New, secret)
	mac.Write([]byte(ts + "."))
	mac.Write(body)
	h.Set("X-Chatwoot-Timestamp", ts)
	h.Set("X-Chatwoot-Signature", "sha256="+hex.EncodeToString(mac.Sum(nil)))
	h.Set("X-Chatwoot-Delivery", uuid())
	return h
}

// WebhookSecret implements connectortest.Fake: the secret of the last
// webhook created through the API (each webhook has its own), or the
// fake's own before there is one; in legacy mode, the webhook URL's token.
func (f *Fake) WebhookSecret() []byte {
	f.Mu.Lock()
	defer f.Mu.Unlock()
	return f.webhookSecretLocked()
}

func (f *Fake) webhookSecretLocked() []byte {
	if f.legacy {
		return []byte(f.legacyToken)
	}
	if n := len(f.webhookOrder); n > 0 {
		return []byte(f.webhooks[f.webhookOrder[n-1]].secret)
	}
	return slices.Clone(f.secret)
}

// Deliver posts d to every webhook registered through the API, as Chatwoot
// would (to the registered URL, token included). It returns the first
// failure.
func (f *Fake) Deliver(ctx context.Context, hc *http.Client, d connectortest.Delivery) error {
	d.Header = d.Header.Clone()
	d.Header.Del("X-Relaydesk-Token") // Chatwoot does not send it; the URL carries the token
	for _, w := range f.Webhooks() {
		if err := connectortest.DeliverTo(ctx, hc, w.URL, d); err != nil {
			return fmt.Errorf("chatwoottest: %w", err)
		}
	}
	return nil
}
