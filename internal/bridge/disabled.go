package bridge

import (
	"context"

	"github.com/relaydesk/relaydesk/internal/store"
)

// A disabled helpdesk connection receives nothing and sends nothing: no
// ticket is opened in it, no customer message is posted to it, no agent
// reply of it reaches WhatsApp, and its webhooks are refused. The messages
// already queued for it are held (store.StateHeld), shown with their reason
// on the conversation page, and go on once the connection is enabled again
// (ReleaseHeld).

// heldCode is the stable code of a message held for a disabled connection.
const heldCode = "connection_disabled"

// RejectDisabled is the rejection reason of a webhook for a disabled
// connection.
const RejectDisabled = "connection_disabled"

// holdForDisabled holds a message because its connection is disabled.
func (b *Bridge) holdForDisabled(ctx context.Context, m store.Message, conn *connection) error {
	why := "The helpdesk connection " + conn.row.Name + " is disabled. The message goes on when it is enabled again."
	if m.Direction == "out" {
		why = "This reply comes from the helpdesk connection " + conn.row.Name +
			", which is disabled. It is sent when the connection is enabled again."
	}
	b.log.Info("message held: its helpdesk connection is disabled", "connection", conn.row.Name, "message", m.ID)
	return b.store.MarkState(ctx, m.ID, store.StateHeld, store.Failure(heldCode, why))
}

// ReleaseHeld puts the messages held for disabled connections back
// in their queues (called once a connection is enabled again or deleted);
// those whose connection is still disabled are held again. It returns how
// many conversations were woken.
func (b *Bridge) ReleaseHeld(ctx context.Context) (int, error) {
	var n int
	err := b.store.InTx(ctx, func(tx *store.Tx) error {
		in, out, err := tx.ReleaseHeld(ctx)
		if err != nil {
			return err
		}
		n = len(in) + len(out)
		if err := b.wakeAll(ctx, tx, in, store.DirIn); err != nil {
			return err
		}
		return b.wakeAll(ctx, tx, out, store.DirOut)
	})
	return n, err
}
