package bridge

import (
	"context"
	"fmt"
	"time"

	"github.com/relaydesk/relaydesk/connectors"
	"github.com/relaydesk/relaydesk/internal/store"
)

// Erasure is what erasing a contact did: relaydesk's own rows, counted,
// and, when asked, one sentence per helpdesk requester.
type Erasure struct {
	store.ErasedContact
	// Helpdesk says, per requester, what the helpdesk did or why nothing
	// was done there; empty when the helpdesk side was not asked for.
	Helpdesk []string
}

// EraseContact erases what relaydesk holds about a contact, in one
// transaction recorded in the audit log without the content; with
// inHelpdesk it then deletes the requester of each of the contact's
// tickets in helpdesks whose API can (connectors.RequesterEraser) and says
// for each what was done. It returns store.ErrNotFound for an unknown
// contact.
func (b *Bridge) EraseContact(ctx context.Context, who store.Actor, id store.ContactID, inHelpdesk bool) (Erasure, error) {
	erased, err := b.store.EraseContact(ctx, who, id)
	if err != nil {
		return Erasure{}, err
	}
	out := Erasure{ErasedContact: erased}
	if !inHelpdesk {
		return out, nil
	}
	type requester struct {
		conn store.ConnectionID
		id   string
	}
	seen := map[requester]bool{}
	for _, t := range erased.HelpdeskTickets {
		r := requester{t.ConnectionID, t.RequesterID}
		if r.id == "" || seen[r] {
			continue
		}
		seen[r] = true
		out.Helpdesk = append(out.Helpdesk, b.eraseRequester(ctx, r.conn, r.id))
	}
	if len(out.Helpdesk) > 0 {
		if err := b.store.RecordAudit(ctx, who, "contact.erased_in_helpdesk", "contact", int64(id),
			fmt.Sprintf("contact %d", id), map[string]any{"helpdesk": out.Helpdesk}); err != nil {
			return out, err
		}
	}
	return out, nil
}

// eraseRequester deletes one requester in its helpdesk and says what
// happened, in a sentence naming the ids only.
func (b *Bridge) eraseRequester(ctx context.Context, connID store.ConnectionID, requesterID string) string {
	conn, err := b.connection(ctx, connID)
	if err != nil {
		return fmt.Sprintf("Connection %d: nothing deleted there, it could not be loaded (%v).", connID, err)
	}
	er, ok := conn.c.(connectors.RequesterEraser)
	if !ok {
		return fmt.Sprintf("%s: its API offers no deletion of a requester; delete requester %s there by hand.", conn.row.Name, requesterID)
	}
	cctx, cancel := context.WithTimeout(ctx, b.timeout)
	defer cancel()
	done, err := er.EraseRequester(cctx, requesterID)
	if err != nil {
		return fmt.Sprintf("%s: requester %s was NOT deleted: %v. Try again, or delete it there by hand.", conn.row.Name, requesterID, err)
	}
	return fmt.Sprintf("%s: %s.", conn.row.Name, done)
}

// redactBatch is how many messages one statement of RedactOldMessages
// changes, so intake never waits long behind it.
const redactBatch = 500

// RedactOldMessages empties the bodies and payloads of finished messages
// older than retention (RELAYDESK_MESSAGE_RETENTION), batch by batch, and
// returns how many it changed.
func (b *Bridge) RedactOldMessages(ctx context.Context, retention time.Duration) (int, error) {
	before := time.Now().Add(-retention)
	total := 0
	for {
		n, err := b.store.RedactOldMessages(ctx, before, redactBatch)
		total += n
		if err != nil || n < redactBatch {
			return total, err
		}
	}
}
