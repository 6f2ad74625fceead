package bridge

import (
	"context"
	"fmt"
	"time"

	"github.com/relaydesk/relaydesk/internal/store"
	"github.com/relaydesk/relaydesk/internal/whatsapp"
)

// Window is WhatsApp's customer service window: free-form messages may be
// sent only this long after the customer's last message.
const Window = 24 * time.Hour

// freeFormAllowed answers "may we send free-form now?": only while the
// customer's last message is less than Window old; never when they have
// not written.
func freeFormAllowed(lastInbound *time.Time, now time.Time) bool {
	return lastInbound != nil && now.Sub(*lastInbound) < Window
}

// inWindow applies freeFormAllowed to a conversation at the bridge's clock.
func (b *Bridge) inWindow(c store.Conversation) bool {
	return freeFormAllowed(c.LastInboundAt, b.now())
}

// needsWindow reports whether a message of this type is free-form, and so
// may be sent only inside the window: everything but a template.
func needsWindow(messageType string) bool { return messageType != whatsapp.TypeTemplate }

// reengagementSent reports whether the re-engagement template went out
// after the customer's last message, so the window's closing was already
// announced and a second template must not be sent.
func reengagementSent(c store.Conversation) bool {
	return c.ReengagedAt != nil && (c.LastInboundAt == nil || c.ReengagedAt.After(*c.LastInboundAt))
}

// outsideWindow applies the 24-hour rule: send the route's re-engagement
// template (once) and hold the reply until the customer writes, or tell the
// agent why it was not sent.
func (b *Bridge) outsideWindow(ctx context.Context, cc *convCtx, m store.Message) error {
	tpl, err := b.reengagementTemplate(ctx, cc, m)
	if err != nil {
		return err
	}
	if tpl == nil {
		return b.failWithNote(ctx, m, "not_sent_window",
			"This reply was NOT sent to the customer on WhatsApp: the customer's last message is more than 24 hours old, "+
				"and WhatsApp only allows approved templates after that. No re-engagement template is configured for this route. "+
				"Ask an admin to set one in relaydesk, or wait until the customer writes again.")
	}
	if !reengagementSent(cc.conv) {
		wire, err := b.reengagementSend(ctx, cc, *tpl)
		if err != nil {
			return err
		}
		sctx, cancel := context.WithTimeout(ctx, b.timeout)
		wamid, err := cc.graph.SendTemplate(sctx, recipient(cc.conv), wire)
		cancel()
		if err != nil {
			return b.graphErr(ctx, cc, m, err)
		}
		cc.answered = true
		now := b.now()
		if err := b.recordReengagement(ctx, cc, m, wire, wamid, now); err != nil {
			return err
		}
		cc.conv.ReengagedAt = &now // later replies of this drain are held without a second template
	}
	return b.holdWithNote(ctx, m, fmt.Sprintf(
		"The customer's last message is more than 24 hours old, so WhatsApp does not allow this reply yet. "+
			"relaydesk sent the re-engagement template %q; your reply is held and will be delivered automatically "+
			"as soon as the customer answers.", tpl.Name))
}

// reengagementTemplate is the template of the route of the reply's ticket,
// or nil when there is none.
func (b *Bridge) reengagementTemplate(ctx context.Context, cc *convCtx, m store.Message) (*store.Template, error) {
	if m.TicketID == nil {
		return nil, nil
	}
	t, err := b.store.TicketByID(ctx, *m.TicketID)
	if err != nil || t.RouteID == nil {
		return nil, nil // an unreadable ticket counts as one without a route
	}
	routes, err := b.routesOf(ctx, cc)
	if err != nil {
		return nil, err
	}
	if r := routeByID(routes, t.RouteID); r != nil {
		return r.ReengagementTemplate, nil
	}
	return nil, nil
}

// holdWithNote parks a reply until the window opens again and queues a note
// telling the agent, in one transaction.
func (b *Bridge) holdWithNote(ctx context.Context, m store.Message, note string) error {
	return b.store.InTx(ctx, func(tx *store.Tx) error {
		if err := tx.MarkState(ctx, m.ID, store.StateWaitingWindow, store.Failure("", note)); err != nil {
			return err
		}
		return b.enqueueNote(ctx, tx, m, note, "held")
	})
}
