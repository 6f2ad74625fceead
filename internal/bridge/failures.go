package bridge

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/riverqueue/river"

	"github.com/relaydesk/relaydesk/connectors"
	"github.com/relaydesk/relaydesk/internal/msgconv"
	"github.com/relaydesk/relaydesk/internal/store"
	"github.com/relaydesk/relaydesk/internal/whatsapp"
)

// A failed call ends one of three ways: a snooze (rate limits), an error
// (River retries with backoff; a transient failure also counts on the
// target's circuit breaker, see breaker.go) or, for good, the message marked failed with
// its reason, and for replies a note telling the agent.

// classify turns a failed helpdesk call into the job's outcome. Permanent
// failures mark the message failed (with the reason, retryable from the admin
// page) and let the job go on with the next message. mediaErr, when set, is
// the download from Graph that failed inside the upload.
func (b *Bridge) classify(ctx context.Context, ic *convCtx, m store.Message, conn *connection, err, mediaErr error) error {
	if mediaErr != nil {
		return b.mediaErr(ctx, ic.account, mediaErr)
	}
	if connectors.IsPermanent(err) {
		b.log.Warn("helpdesk refused a message for good", "connection", conn.row.Name, "message", m.ID, "err", err)
		return b.failInbound(ctx, m, "the helpdesk refused it: "+err.Error())
	}
	return b.helpdeskErr(ctx, conn, err)
}

// mediaErr maps a failed media download from the number's Graph to the
// job's outcome; a refused token marks that number.
func (b *Bridge) mediaErr(ctx context.Context, acc store.Account, err error) error {
	switch cls, wait := whatsapp.Classify(err); cls {
	case whatsapp.ClassWait:
		return b.snooze(wait)
	case whatsapp.ClassAuth:
		_ = b.store.SetAccountHealth(ctx, acc.ID, "token_expired", "media download refused: "+err.Error())
	case whatsapp.ClassFinal:
		return errMediaGone
	}
	return fmt.Errorf("media download: %w", err)
}

// helpdeskErr maps a failed helpdesk call to the job's outcome; refused
// credentials mark the connection.
func (b *Bridge) helpdeskErr(ctx context.Context, conn *connection, err error) error {
	if wait, ok := connectors.IsRateLimited(err); ok {
		return b.snooze(max(wait, time.Second))
	}
	if connectors.IsAuth(err) {
		_ = b.store.SetConnectionHealth(ctx, conn.row.ID, "auth_failed", err.Error())
		return err
	}
	b.breakerFailed(ctx, *connRef(conn.row.ID), err)
	return err
}

// graphErr maps a failed send to the job's outcome.
// A final refusal is still an answer: Graph is up.
func (b *Bridge) graphErr(ctx context.Context, cc *convCtx, m store.Message, err error) error {
	acc := cc.account
	cls, wait := whatsapp.Classify(err)
	switch cls {
	case whatsapp.ClassWait:
		return b.snooze(max(wait, time.Second))
	case whatsapp.ClassAuth:
		_ = b.store.SetAccountHealth(ctx, acc.ID, "token_expired",
			"Graph refused the access token; replace it in the admin page")
		return err
	case whatsapp.ClassFinal:
		cc.answered = true
		reason := err.Error()
		var ae *whatsapp.APIError
		if errors.As(err, &ae) {
			reason = fmt.Sprintf("%s (WhatsApp error %d)", ae.PlainReason(), ae.Code)
		}
		return b.failWithNote(ctx, m, "whatsapp_refused", "This reply was NOT delivered to the customer: "+reason)
	}
	b.breakerFailed(ctx, breakerRef{target: store.BreakerAccount, id: int64(acc.ID)}, err)
	return err
}

// failWithNote marks an outbound message failed and queues a note telling
// the agent why, in one transaction.
func (b *Bridge) failWithNote(ctx context.Context, m store.Message, code, note string) error {
	return b.store.InTx(ctx, func(tx *store.Tx) error {
		if err := tx.MarkState(ctx, m.ID, store.StateFailed, store.Failure(code, note)); err != nil {
			return err
		}
		return b.enqueueNote(ctx, tx, m, note, code)
	})
}

func (b *Bridge) enqueueNote(ctx context.Context, tx *store.Tx, m store.Message, note, key string) error {
	if m.TicketID == nil {
		return nil // an API send without a ticket: the admin page shows the reason
	}
	return b.enqueue(ctx, tx, []river.InsertManyParams{{Args: AddNoteArgs{
		TicketID: *m.TicketID, Body: "[relaydesk] " + note, Key: fmt.Sprintf("msg-%d-%s", m.ID, key)}}})
}

// AddNote posts an internal note on a ticket (the add_note job).
func (b *Bridge) AddNote(ctx context.Context, a AddNoteArgs) error {
	t, err := b.store.TicketByID(ctx, a.TicketID)
	if err != nil {
		return err
	}
	conn, err := b.connection(ctx, t.ConnectionID)
	if err != nil {
		return err
	}
	if !conn.row.Enabled {
		b.log.Warn("helpdesk connection is disabled; its internal note is not posted", "connection", conn.row.Name, "ticket", t.RemoteID)
		return nil
	}
	// A note waits for a helpdesk that is down like the messages do.
	ref := *connRef(t.ConnectionID)
	reset, giveBack, err := b.passBreaker(ctx, ref, nil)
	if err != nil {
		return err
	}
	defer giveBack()
	nctx, cancel := context.WithTimeout(ctx, b.timeout)
	defer cancel()
	if _, err := conn.c.AddNote(nctx, t.RemoteID, connectors.Note{Body: a.Body, Key: a.Key}); err != nil {
		if connectors.IsPermanent(err) || connectors.IsNotFound(err) {
			b.log.Warn("helpdesk refused an internal note; dropping it", "ticket", t.RemoteID, "err", err)
			return nil
		}
		return b.helpdeskErr(ctx, conn, err)
	}
	if reset {
		return b.breakerSucceeded(ctx, ref)
	}
	return nil
}

// DropNote records that a note was given up after its helpdesk stayed down
// for jobs.GiveUpAfter: the failure it reports is on the admin page already.
func (b *Bridge) DropNote(a AddNoteArgs, cause error) {
	b.log.Warn("gave up on an internal note: the helpdesk stayed down", "ticket", a.TicketID, "key", a.Key, "err", cause)
}

// ReportFailure turns a WhatsApp "failed" status of an outbound message into
// an internal note on its ticket.
func (b *Bridge) ReportFailure(ctx context.Context, messageID store.MessageID) error {
	m, err := b.store.MessageByID(ctx, messageID)
	if err != nil {
		return err
	}
	if m.TicketID == nil {
		return nil
	}
	reason := "WhatsApp reported a delivery failure."
	if m.Error != nil && len(m.Error.WhatsApp) > 0 {
		code := m.Error.WhatsApp[0].Code
		reason = fmt.Sprintf("%s (WhatsApp error %d)", whatsapp.PlainReason(code), code)
	}
	excerpt := msgconv.Truncate(strings.TrimSpace(m.Body), 80)
	return b.AddNote(ctx, AddNoteArgs{TicketID: *m.TicketID, Key: fmt.Sprintf("msg-%d-failed", m.ID),
		Body: fmt.Sprintf("[relaydesk] The reply %q was not delivered to the customer: %s", excerpt, reason)})
}

// giveUp is what a job's last failed attempt records on the first pending
// message: the reason, and for replies the code of the note that tells the
// agent (a customer message's note is inboundGiveUpNote, on its
// conversation's ticket when there is one).
type giveUp struct {
	reason   string
	noteCode string
}

func giveUpFor(direction string, cause error) giveUp {
	note := "relaydesk gave up after repeated failures: " + cause.Error()
	if direction == "out" {
		return giveUp{reason: "This reply was NOT delivered to the customer: " + note, noteCode: "gave_up"}
	}
	return giveUp{reason: note}
}

// inboundGiveUpNote is the note that tells the agents of a conversation's
// ticket which customer message relaydesk gave up posting, and why.
func inboundGiveUpNote(body, reason string) string {
	return fmt.Sprintf("A customer message was NOT posted to this ticket (%q): %s",
		msgconv.Truncate(strings.TrimSpace(body), 80), reason)
}

// GiveUp is called after a job's last attempt: the conversation's first
// pending message is marked failed with the last error, so it is visible and
// can be retried from the admin page, an internal note tells the agents (for
// a customer message, on the conversation's active ticket when it has one),
// and the job ends.
func (b *Bridge) GiveUp(ctx context.Context, convID store.ConversationID, direction string, cause error) error {
	m, err := b.store.NextPending(ctx, convID, direction)
	if errors.Is(err, store.ErrNotFound) {
		return nil
	}
	if err != nil {
		return err
	}
	g := giveUpFor(direction, cause)
	if g.noteCode != "" {
		return b.failWithNote(ctx, m, g.noteCode, g.reason)
	}
	return b.failInbound(ctx, m, g.reason)
}

// failInbound marks a customer message failed with its reason (the admin
// page lists it, with Retry) and, when its conversation has an active
// ticket, queues a note there naming the message, so the agents know.
func (b *Bridge) failInbound(ctx context.Context, m store.Message, reason string) error {
	t, err := b.store.ActiveTicket(ctx, m.ConversationID)
	if errors.Is(err, store.ErrNotFound) {
		return b.store.MarkState(ctx, m.ID, store.StateFailed, store.Failure("", reason))
	}
	if err != nil {
		return err
	}
	return b.store.InTx(ctx, func(tx *store.Tx) error {
		if err := tx.MarkState(ctx, m.ID, store.StateFailed, store.Failure("", reason)); err != nil {
			return err
		}
		m.TicketID = &t.ID
		return b.enqueueNote(ctx, tx, m, inboundGiveUpNote(m.Body, reason), "not_posted")
	})
}
