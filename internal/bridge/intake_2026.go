package bridge

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"strings"
	"time"

	"github.com/riverqueue/river"

	"github.com/relaydesk/relaydesk/internal/msgconv"
	"github.com/relaydesk/relaydesk/internal/store"
	"github.com/relaydesk/relaydesk/internal/whatsapp"
)

// The 2026 webhook fields (issue 15 items 3 and 4):
//
//   - standby: Meta's AI agent holds the conversation. The customer's
//     messages are stored like any (never lost) and marked as handled by
//     the AI; the AI's replies (message echoes) become notes. Both reach
//     the ticket in the customer's order through the inbound queue.
//   - messaging_handovers: control moved between the AI and relaydesk; a
//     note says so.
//   - smb_message_echoes: the business wrote from the WhatsApp Business app
//     on a coexistence number. The message is stored as outbound and sent
//     (echo = true: never sent by relaydesk, never opening or extending the
//     24-hour window) and shown on the ticket as the business's note.
//
// An agent's reply takes a conversation back from the AI by itself: Meta's
// standby reference says a service message sent while observing makes the
// app the active handler, and messaging_handovers' control_taken is "taken
// ... implicitly by sending a Service message". No thread control call is
// made (see afterReply).

// markStandby marks customer messages that came on the standby field as
// handled by Meta's AI, and records that the AI holds the conversation.
func (b *Bridge) markStandby(ctx context.Context, tx *store.Tx, convID store.ConversationID, ids []store.MessageID) error {
	if convID == 0 {
		return nil
	}
	if err := tx.MarkHandledByAI(ctx, ids); err != nil {
		return err
	}
	_, err := tx.SetAIHolds(ctx, convID, true)
	return err
}

// storeSide stores a change's echoes and handovers and returns the jobs that
// post them.
func (b *Bridge) storeSide(ctx context.Context, tx *store.Tx, acc store.Account, ch whatsapp.Change, res *IntakeResult) ([]river.InsertManyParams, error) {
	var jobs []river.InsertManyParams
	for _, e := range ch.Echoes {
		cu := echoCustomer(ch, e)
		if e.ID == "" || (cu.WaID == "" && cu.UserID == "") {
			continue // nothing to key it on; kept in webhook_events
		}
		var rows []store.SideRow
		if ch.Field == whatsapp.FieldStandby {
			rows = aiReplyRows(e, b.now())
		} else {
			rows = businessEchoRows(e, b.now())
		}
		j, _, err := b.recordSide(ctx, tx, store.SideInbound{AccountID: acc.ID, Customer: cu, Rows: rows}, res, ch.Field == whatsapp.FieldStandby)
		if err != nil {
			return nil, err
		}
		jobs = append(jobs, j...)
	}
	for _, h := range ch.Handovers {
		if h.WaID == "" && h.UserID == "" {
			b.log.Info("handover without a customer id ignored (kept in webhook_events)", "account", acc.Name, "type", h.Type)
			continue
		}
		cu := store.Customer{WaID: h.WaID, UserID: h.UserID}
		sum := sha256.Sum256(h.Raw)
		at, _ := saneTimestamp(h.Timestamp, b.now())
		rows := []store.SideRow{{
			WAMID: "relaydesk:handover:" + acc.PhoneNumberID + ":" + hex.EncodeToString(sum[:12]), Direction: "in",
			Kind: store.KindNote, Author: store.AuthorWhatsApp, Body: handoverNote(h), At: at,
		}}
		j, r, err := b.recordSide(ctx, tx, store.SideInbound{AccountID: acc.ID, Customer: cu, Rows: rows}, res, false)
		if err != nil {
			return nil, err
		}
		jobs = append(jobs, j...)
		if r.Inserted > 0 { // a redelivered handover changes nothing again
			if _, err := tx.SetAIHolds(ctx, r.ConversationID, h.NowOwner() == whatsapp.OwnerAI); err != nil {
				return nil, err
			}
		}
	}
	return jobs, nil
}

// recordSide stores one customer's side rows and wakes the inbound queue for
// the new ones.
func (b *Bridge) recordSide(ctx context.Context, tx *store.Tx, in store.SideInbound, res *IntakeResult, aiHolds bool) ([]river.InsertManyParams, store.SideResult, error) {
	r, err := tx.RecordSide(ctx, in)
	if err != nil {
		return nil, r, err
	}
	res.NewMessages += r.Inserted
	res.Duplicates += len(in.Rows) - r.Inserted
	if r.Inserted > 0 {
		res.Conversations = append(res.Conversations, r.ConversationID)
	}
	if aiHolds && r.Inserted > 0 {
		if _, err := tx.SetAIHolds(ctx, r.ConversationID, true); err != nil {
			return nil, r, err
		}
	}
	if r.InsertedIn == 0 {
		return nil, r, nil
	}
	j, err := b.wake(ctx, tx, r.ConversationID, store.DirIn)
	return j, r, err
}

// echoCustomer is the customer an echo was sent to: its recipient (to,
// to_user_id), with the change's contact entry when it has one.
func echoCustomer(ch whatsapp.Change, e whatsapp.Message) store.Customer {
	cu := store.Customer{WaID: strings.TrimPrefix(e.To, "+"), UserID: e.ToUserID}
	for _, ct := range ch.Contacts {
		if (cu.UserID != "" && ct.UserID == cu.UserID) || (cu.WaID != "" && ct.WaID == cu.WaID) {
			cu.UserID, cu.Username, cu.ProfileName = firstOf(cu.UserID, ct.UserID), ct.Username, ct.Name
			cu.WaID = firstOf(cu.WaID, ct.WaID)
		}
	}
	return cu
}

func firstOf(a, b string) string {
	if a != "" {
		return a
	}
	return b
}

// aiReplyRows is a reply of Meta's AI: a note on the ticket, deduplicated on
// its wamid. Its statuses (also on standby) find no outbound row and change
// nothing.
func aiReplyRows(e whatsapp.Message, now time.Time) []store.SideRow {
	at, _ := saneTimestamp(e.Timestamp, now)
	return []store.SideRow{{
		WAMID: e.ID, Direction: "in", Kind: store.KindNote, Author: store.AuthorMetaAI, Message: &e, At: at,
		Body: "Meta's AI replied to the customer (the AI handles this conversation until an agent replies):\n" + echoText(e),
	}}
}

// businessEchoRows is a message sent from the WhatsApp Business app: an
// outbound row marked echo, already sent (statuses apply to it), and the
// note that shows it on the ticket. Edits and deletes of the business's own
// messages are notes only.
func businessEchoRows(e whatsapp.Message, now time.Time) []store.SideRow {
	at, _ := saneTimestamp(e.Timestamp, now)
	switch e.Type {
	case whatsapp.TypeEdit, whatsapp.TypeRevoke:
		return []store.SideRow{{WAMID: e.ID, Direction: "in", Kind: store.KindNote, Author: store.AuthorBusinessApp, Message: &e, At: at}}
	}
	body := echoText(e)
	return []store.SideRow{
		{WAMID: e.ID, Direction: "out", Kind: cmpKind(e.Type), Body: body, Author: store.AuthorBusinessApp, Message: &e, At: at, Echo: true},
		{Direction: "in", Kind: store.KindNote, Author: store.AuthorBusinessApp, Message: &e, At: at, IfPrevious: true,
			Body: "Sent by the business from the WhatsApp Business app (not through relaydesk; relaydesk will not send it again):\n" + body},
	}
}

func cmpKind(t string) string {
	if t == "" {
		return whatsapp.TypeUnknown
	}
	return t
}

// echoText renders an echoed message like a customer message.
func echoText(e whatsapp.Message) string {
	if t := strings.TrimSpace(msgconv.Render(e)); t != "" {
		return t
	}
	return "[" + cmpKind(e.Type) + " message]"
}

// handoverNote tells the agent who handles the conversation now.
func handoverNote(h whatsapp.Handover) string {
	detail := ""
	if h.PreviousOwner != "" || h.NewOwner != "" {
		detail = " (WhatsApp reported " + firstOf(h.Type, "a handover") + ": " + firstOf(h.PreviousOwner, "?") + " → " + firstOf(h.NewOwner, "?") + ")"
	}
	if h.NowOwner() == whatsapp.OwnerAI {
		return "Meta's AI now handles this conversation" + detail + ". Its replies appear here as notes; " +
			"a reply from an agent takes the conversation back."
	}
	return "Meta's AI handed this conversation over to relaydesk" + detail + ". The customer's next messages come here as usual."
}

// onlyAccountOf is the one vouched-for number of a business account, for an
// event that names the account but no number.
func onlyAccountOf(accounts []store.Account, wabaID string) (store.Account, bool) {
	var found []store.Account
	for _, a := range accounts {
		if a.WABAID == wabaID {
			found = append(found, a)
		}
	}
	if len(found) != 1 {
		return store.Account{}, false
	}
	return found[0], true
}
