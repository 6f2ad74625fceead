package connectortest

import (
	"reflect"
	"testing"
	"time"

	"github.com/relaydesk/relaydesk/connectors"
)

// FuzzWebhook fuzzes a connector's ParseWebhook with bodies signed the way
// the helpdesk signs them (so the parser, not only the signature check, is
// reached), seeded with the fake's real deliveries: an agent reply, an
// internal note and a status change. ParseWebhook must never panic and must
// give the same answer twice for the same request.
func FuzzWebhook[F Configured, C connectors.Connector](f *testing.F, fake F, newConnector func(connectors.Config) (C, error)) {
	cfg := fake.Config()
	cfg.HTTPClient = nil
	c, err := newConnector(cfg)
	if err != nil {
		f.Fatalf("build connector: %v", err)
	}
	ctx := f.Context()
	rid, err := c.EnsureRequester(ctx, connectors.Requester{Phone: "+447700900123", Name: "Grace"})
	if err != nil {
		f.Fatalf("requester: %v", err)
	}
	tk, _, err := c.CreateTicket(ctx, connectors.NewTicket{RequesterID: rid, Subject: "Hi",
		First: connectors.Message{Key: "wamid.fuzz", Body: "hello"}})
	if err != nil {
		f.Fatalf("ticket: %v", err)
	}
	f.Add(fake.CommentDelivery(tk.ID, fake.AgentReply(tk.ID, "Your order ships today.")).Body)
	f.Add(fake.CommentDelivery(tk.ID, fake.AgentNote(tk.ID, "internal")).Body)
	f.Add(fake.SetStatus(tk.ID, connectors.StatusSolved).Body)
	f.Add([]byte(`{}`))
	f.Add([]byte(`not json`))

	at := time.Now()
	secret := fake.WebhookSecret()
	f.Fuzz(func(t *testing.T, body []byte) {
		h := fake.Sign(body, at)
		evs, err := c.ParseWebhook(h, body, secret, at)
		again, err2 := c.ParseWebhook(fake.Sign(body, at), body, secret, at)
		if (err == nil) != (err2 == nil) || !reflect.DeepEqual(evs, again) {
			t.Fatalf("ParseWebhook is not deterministic: %v / %v", err, err2)
		}
	})
}
