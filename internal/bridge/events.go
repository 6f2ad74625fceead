package bridge

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/riverqueue/river"

	"github.com/relaydesk/relaydesk/internal/apievents"
	"github.com/relaydesk/relaydesk/internal/apiview"
	"github.com/relaydesk/relaydesk/internal/store"
)

// Public-API events are stored, with their delivery jobs, in the
// transaction of the change they report. With no subscriber an event costs
// one query.

// emitReceived emits message.received for the customer messages a delivery
// stored in this transaction.
func (b *Bridge) emitReceived(ctx context.Context, tx *store.Tx, accountID store.AccountID, ids []store.MessageID) error {
	return b.emitMessages(ctx, tx, apiview.EventMessageReceived, accountID, func() ([]store.MessageID, error) {
		return ids, nil
	})
}

// emitStatus emits message.status for an outbound message whose status
// moved forward.
func (b *Bridge) emitStatus(ctx context.Context, tx *store.Tx, accountID store.AccountID, messageID store.MessageID) error {
	return b.emitMessages(ctx, tx, apiview.EventMessageStatus, accountID, func() ([]store.MessageID, error) {
		return []store.MessageID{messageID}, nil
	})
}

// emitMessages emits one event of type typ a message, for the messages
// listed by ids, when the number has subscribers to typ.
func (b *Bridge) emitMessages(ctx context.Context, tx *store.Tx, typ string, accountID store.AccountID,
	ids func() ([]store.MessageID, error)) error {
	subs, err := tx.EventSubscribers(ctx, typ, accountID)
	if err != nil || len(subs) == 0 {
		return err
	}
	messageIDs, err := ids()
	if err != nil {
		return err
	}
	for _, id := range messageIDs {
		if err := b.emitMessage(ctx, tx, typ, accountID, id, subs); err != nil {
			return err
		}
	}
	return nil
}

func (b *Bridge) emitMessage(ctx context.Context, tx *store.Tx, typ string, accountID store.AccountID, messageID store.MessageID,
	subs []store.SubscriptionID) error {
	m, err := tx.APIMessageByID(ctx, messageID)
	if err != nil {
		return err
	}
	chat, err := tx.APIChatByID(ctx, m.ConversationID)
	if err != nil {
		return err
	}
	c := apiview.NewChat(chat, Window)
	msg := apiview.NewMessage(m, b.apiBase)
	key := fmt.Sprintf("received:%d", m.ID)
	if typ == apiview.EventMessageStatus {
		key = fmt.Sprintf("status:%d:%s", m.ID, m.Status)
	}
	return b.insertEvent(ctx, tx, typ, key, accountID, apiview.EventData{Chat: &c, Message: &msg}, subs)
}

// emitTicketLinked emits chat.ticket_linked when a chat gets a new ticket.
func (b *Bridge) emitTicketLinked(ctx context.Context, tx *store.Tx, accountID store.AccountID, convID store.ConversationID) error {
	subs, err := tx.EventSubscribers(ctx, apiview.EventChatTicketLinked, accountID)
	if err != nil || len(subs) == 0 {
		return err
	}
	chat, err := tx.APIChatByID(ctx, convID)
	if err != nil {
		return err
	}
	c := apiview.NewChat(chat, Window)
	key := fmt.Sprintf("chat:%d", convID)
	if chat.Ticket != nil {
		key = fmt.Sprintf("ticket:%d", chat.Ticket.ID)
	}
	return b.insertEvent(ctx, tx, apiview.EventChatTicketLinked, key, accountID, apiview.EventData{Chat: &c}, subs)
}

func (b *Bridge) insertEvent(ctx context.Context, tx *store.Tx, typ, key string, accountID store.AccountID, data apiview.EventData,
	subs []store.SubscriptionID) error {
	payload, err := json.Marshal(data)
	if err != nil {
		return fmt.Errorf("encode %s event: %w", typ, err)
	}
	deliveries, err := tx.InsertEvent(ctx, typ, key, accountID, payload, subs)
	if err != nil || len(deliveries) == 0 {
		return err
	}
	jobs := make([]river.InsertManyParams, 0, len(deliveries))
	for _, d := range deliveries {
		jobs = append(jobs, river.InsertManyParams{Args: apievents.DeliverArgs{DeliveryID: d}})
	}
	return b.enqueue(ctx, tx, jobs)
}
