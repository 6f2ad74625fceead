package bridge

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/jackc/pgx/v5"
	"github.com/riverqueue/river"

	"github.com/relaydesk/relaydesk/internal/apievents"
	"github.com/relaydesk/relaydesk/internal/apiview"
)

// Public-API events are stored, with their delivery jobs, in the
// transaction of the change they report. With no subscriber an event costs
// one query.

// emitReceived emits message.received for the customer messages a delivery
// stored in this transaction.
func (b *Bridge) emitReceived(ctx context.Context, tx pgx.Tx, accountID, convID int64) error {
	return b.emitMessages(ctx, tx, apiview.EventMessageReceived, accountID, func() ([]int64, error) {
		return b.store.InboundInsertedInTx(ctx, tx, convID)
	})
}

// emitStatus emits message.status for an outbound message whose status
// moved forward.
func (b *Bridge) emitStatus(ctx context.Context, tx pgx.Tx, accountID, messageID int64) error {
	return b.emitMessages(ctx, tx, apiview.EventMessageStatus, accountID, func() ([]int64, error) {
		return []int64{messageID}, nil
	})
}

// emitMessages emits one event of type typ a message, for the messages
// listed by ids, when the number has subscribers to typ.
func (b *Bridge) emitMessages(ctx context.Context, tx pgx.Tx, typ string, accountID int64, ids func() ([]int64, error)) error {
	subs, err := b.store.EventSubscribers(ctx, tx, typ, accountID)
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

func (b *Bridge) emitMessage(ctx context.Context, tx pgx.Tx, typ string, accountID, messageID int64, subs []int64) error {
	m, err := b.store.APIMessageByID(ctx, tx, messageID)
	if err != nil {
		return err
	}
	chat, err := b.store.APIChatByID(ctx, tx, m.ConversationID)
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
func (b *Bridge) emitTicketLinked(ctx context.Context, tx pgx.Tx, accountID, convID int64) error {
	subs, err := b.store.EventSubscribers(ctx, tx, apiview.EventChatTicketLinked, accountID)
	if err != nil || len(subs) == 0 {
		return err
	}
	chat, err := b.store.APIChatByID(ctx, tx, convID)
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

func (b *Bridge) insertEvent(ctx context.Context, tx pgx.Tx, typ, key string, accountID int64, data apiview.EventData, subs []int64) error {
	payload, err := json.Marshal(data)
	if err != nil {
		return err
	}
	deliveries, err := b.store.InsertEvent(ctx, tx, typ, key, accountID, payload, subs)
	if err != nil || len(deliveries) == 0 {
		return err
	}
	jobs := make([]river.InsertManyParams, 0, len(deliveries))
	for _, d := range deliveries {
		jobs = append(jobs, river.InsertManyParams{Args: apievents.DeliverArgs{DeliveryID: d}})
	}
	_, err = b.jobs.InsertManyTx(ctx, tx, jobs)
	return err
}
