package bridge

import (
	"context"
	"crypto/sha256"
	"encoding/hex"

	"github.com/relaydesk/relaydesk/internal/store"
	"github.com/relaydesk/relaydesk/internal/whatsapp"
)

// placeholderBody is what agents see for a message PostgreSQL refused.
const placeholderBody = "[relaydesk could not store this WhatsApp message as received; " +
	"its original is kept in the raw webhook event]"

// recordInbound stores one customer's messages in a savepoint. When
// PostgreSQL refuses them as received, each becomes a visible placeholder
// (same order, an id derived from the wamid so a redelivery is still
// recognised); when even that fails, the customer's messages are counted as
// unstorable and skipped (zero ConversationID), and the delivery's other
// customers are stored all the same.
func (b *Bridge) recordInbound(ctx context.Context, tx *store.Tx, in store.Inbound, res *IntakeResult) (store.InboundResult, error) {
	if r, ok := res.recordedInGroup(in); ok {
		return r, nil
	}
	var r store.InboundResult
	err := tx.Savepoint(ctx, func(sp *store.Tx) error {
		var err error
		r, err = sp.RecordInbound(ctx, in)
		return err
	})
	if err == nil || !store.IsRefusedValue(err) {
		return r, err
	}
	b.log.Warn("customer messages refused by the database; storing placeholders", "messages", len(in.Messages), "err", err)
	ph := in
	ph.Messages = make([]store.InboundMessage, len(in.Messages))
	for i, m := range in.Messages {
		sum := sha256.Sum256([]byte(m.WAMID))
		ph.Messages[i] = store.InboundMessage{WAMID: "relaydesk-placeholder:" + hex.EncodeToString(sum[:]),
			Kind: whatsapp.TypeUnknown, Body: placeholderBody, At: m.At}
	}
	err = tx.Savepoint(ctx, func(sp *store.Tx) error {
		var err error
		r, err = sp.RecordInbound(ctx, ph)
		return err
	})
	if err == nil {
		res.Placeholders += len(in.Messages)
		return r, nil
	}
	if !store.IsRefusedValue(err) {
		return r, err
	}
	b.log.Error("customer messages could not be stored even as placeholders; kept in the raw event only",
		"messages", len(in.Messages), "err", err)
	res.Unstorable += len(in.Messages)
	return store.InboundResult{}, nil
}
