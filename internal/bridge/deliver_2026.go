package bridge

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/relaydesk/relaydesk/connectors"
	"github.com/relaydesk/relaydesk/internal/msgconv"
	"github.com/relaydesk/relaydesk/internal/store"
	"github.com/relaydesk/relaydesk/internal/whatsapp"
)

// handledByAIPrefix starts a customer message that arrived while Meta's AI
// held the conversation (the standby field): the agent reads the AI's
// transcript, not a request waiting for them.
const handledByAIPrefix = "[Handled by Meta's AI] "

// noteOf reports whether an inbound-queue row is shown on the ticket as an
// internal note rather than the customer's comment, and with what text:
// Meta's AI replies, business app echoes, handovers (stored with their text)
// and edits and revokes (written now, with the message they name).
func (b *Bridge) noteOf(ctx context.Context, ic *convCtx, m store.Message, wm whatsapp.Message) (string, bool, error) {
	byBusiness := m.Author == store.AuthorBusinessApp
	switch {
	case wm.Type == whatsapp.TypeEdit && wm.Edit != nil:
		was, err := b.originalText(ctx, ic, wm.Edit.OriginalID)
		if err != nil {
			return "", false, err
		}
		who := "The customer"
		if byBusiness {
			who = "The business (in the WhatsApp Business app)"
		}
		return fmt.Sprintf("%s edited a message. edited: %q (was: %s)", who, wm.Edit.NewText(), was), true, nil
	case wm.Type == whatsapp.TypeRevoke && wm.Revoke != nil:
		was, err := b.originalText(ctx, ic, wm.Revoke.OriginalID)
		if err != nil {
			return "", false, err
		}
		if byBusiness {
			return "The business deleted one of its messages for everyone in the WhatsApp Business app: " + was +
				". relaydesk keeps its content.", true, nil
		}
		return "The customer deleted a message for everyone: " + was +
			". The customer no longer sees it; relaydesk keeps its content.", true, nil
	case m.Kind == store.KindNote:
		return m.Body, true, nil
	}
	return "", false, nil
}

// originalText quotes the stored message a wamid names, or says it is not
// known to relaydesk.
func (b *Bridge) originalText(ctx context.Context, ic *convCtx, wamid string) (string, error) {
	if wamid == "" {
		return "a message WhatsApp did not name", nil
	}
	orig, err := b.store.MessageInConversation(ctx, ic.conv.ID, wamid)
	if errors.Is(err, store.ErrNotFound) {
		return "a message relaydesk never received", nil
	}
	if err != nil {
		return "", err
	}
	text := orig.Body
	if orig.Direction == "in" && (orig.Inbound != nil || len(orig.InboundRaw) > 0) {
		text = msgconv.Render(inboundOf(orig))
	}
	if strings.TrimSpace(text) == "" {
		text = "[" + orig.Kind + " message]"
	}
	return fmt.Sprintf("%q", text), nil
}

// deliverNote posts an inbound-queue row as an internal note on the
// conversation's ticket. Without a ticket that can take it (none yet, or
// closed), the note opens the ticket as its first comment: helpdesks create
// tickets with a requester comment, and the text says who wrote it.
func (b *Bridge) deliverNote(ctx context.Context, ic *convCtx, m store.Message, body string) error {
	ticket, err := b.activeTicket(ctx, ic)
	if err != nil && !errors.Is(err, store.ErrNotFound) {
		return err
	}
	first := connectors.Message{Body: "[relaydesk] " + body, Key: m.WAMID, At: m.CreatedAt}
	if first.Key == "" {
		first.Key = fmt.Sprintf("relaydesk-note-%d", m.ID) // an echo's note: its wamid is on the outbound row
	}
	if err != nil || connectors.Status(ticket.Status) == connectors.StatusClosed {
		var mediaErr error
		return b.postMessage(ctx, ic, m, first, &mediaErr)
	}
	conn, err := b.connFor(ctx, ic, ticket.ConnectionID)
	if err != nil {
		return err
	}
	if !conn.row.Enabled {
		return b.holdForDisabled(ctx, m, conn)
	}
	nctx, cancel := context.WithTimeout(ctx, b.timeout)
	noteID, err := conn.c.AddNote(nctx, ticket.RemoteID, connectors.Note{Body: "[relaydesk] " + body, Key: fmt.Sprintf("msg-%d-note", m.ID)})
	cancel()
	if errors.Is(err, connectors.ErrTicketClosed) || connectors.IsNotFound(err) {
		var mediaErr error
		return b.openTicket(ctx, ic, m, first, &ticket, &mediaErr)
	}
	if err != nil {
		return b.classify(ctx, ic, m, conn, err, nil)
	}
	return b.markPosted(ctx, ic, store.Posted{Message: m.ID, Ticket: ticket.ID, Connection: conn.row.ID, RemoteID: noteID})
}

// beforeReply applies the number's read receipt policy before an agent's
// reply goes out: under ReadPolicyOnReply the customer's last message is
// marked read with the typing indicator, in one Graph call. Its failure
// never holds the reply back (it is logged), and a retried reply does not
// call it again.
func (b *Bridge) beforeReply(ctx context.Context, cc *convCtx, m store.Message) {
	if cc.account.ReadPolicy != store.ReadPolicyOnReply || m.Attempts > 0 || len(m.SentParts) > 0 {
		return
	}
	wamid, err := b.store.LastCustomerWAMID(ctx, cc.conv.ID)
	if err != nil || wamid == "" {
		return
	}
	rctx, cancel := context.WithTimeout(ctx, b.timeout)
	defer cancel()
	if err := cc.graph.MarkReadTyping(rctx, wamid); err != nil {
		b.log.Warn("mark read with typing indicator failed; the reply is sent anyway", "account", cc.account.Name, "err", err)
	}
}

// afterReply notes that an agent's reply, sent while Meta's AI held the
// conversation, took it back: the AI stops answering this customer and
// their messages come on the messages field again.
func (b *Bridge) afterReply(ctx context.Context, cc *convCtx, m store.Message) error {
	holds, err := b.store.AIHolds(ctx, cc.conv.ID)
	if err != nil || !holds {
		return err
	}
	return b.store.InTx(ctx, func(tx *store.Tx) error {
		changed, err := tx.SetAIHolds(ctx, cc.conv.ID, false)
		if err != nil || !changed {
			return err
		}
		return b.enqueueNote(ctx, tx, m, "This reply took the conversation back from Meta's AI: "+
			"WhatsApp makes relaydesk the conversation's handler when it sends a service message, "+
			"so the AI stops answering this customer and their next messages come here as usual.", "took-back")
	})
}
