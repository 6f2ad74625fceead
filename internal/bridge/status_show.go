package bridge

import (
	"context"
	"time"

	"github.com/riverqueue/river"

	"github.com/relaydesk/relaydesk/connectors"
	"github.com/relaydesk/relaydesk/internal/store"
)

// StatusCoalesce is how often, at most, one ticket's helpdesk is updated
// with its agent messages' delivery status: a burst of statuses (sent,
// delivered, read for several replies) within one period costs one update.
const StatusCoalesce = 5 * time.Second

// statusSettle is how long after its period the update runs, so that a
// status stored by a transaction still open at the period's end is read.
const statusSettle = 2 * time.Second

// ShowStatusArgs asks for the latest delivery status of a ticket's agent
// messages to be shown in the helpdesk (a message status, or a ticket tag
// such as whatsapp-read). One job per ticket and StatusCoalesce period:
// the job reads the latest status when it runs.
type ShowStatusArgs struct {
	TicketID store.TicketID `json:"ticket_id"`
}

// Kind is the job kind.
func (ShowStatusArgs) Kind() string { return "show_status" }

// showStatusJob is the coalesced job for a ticket: unique by ticket within
// the current StatusCoalesce period (River's ByPeriod uniqueness), run just
// after the period ends. River's clock is the wall clock, so this is too
// (not the bridge's, which tests move).
func showStatusJob(id store.TicketID) river.InsertManyParams {
	now := time.Now()
	return river.InsertManyParams{Args: ShowStatusArgs{TicketID: id}, InsertOpts: &river.InsertOpts{
		ScheduledAt: now.Truncate(StatusCoalesce).Add(StatusCoalesce + statusSettle),
		UniqueOpts:  river.UniqueOpts{ByArgs: true, ByPeriod: StatusCoalesce},
	}}
}

// statusJobFor adds to jobs the show_status job for a status WhatsApp
// reported on an outbound message, when agents see it: sent, delivered and
// read on a message of a ticket (failures are notes, see ReportFailure).
// A ticket gets one job per batch (River refuses two unique jobs alike in
// one insert).
func (b *Bridge) statusJobFor(ctx context.Context, tx *store.Tx, jobs []river.InsertManyParams, id store.MessageID, status string) ([]river.InsertManyParams, error) {
	if !connectors.ValidDelivery(status) {
		return jobs, nil
	}
	t, ok, err := tx.StatusTicketOf(ctx, id)
	if err != nil || !ok {
		return jobs, err
	}
	for _, j := range jobs {
		if a, ok := j.Args.(ShowStatusArgs); ok && a.TicketID == t {
			return jobs, nil
		}
	}
	return append(jobs, showStatusJob(t)), nil
}

// ShowStatus shows the latest delivery status of a ticket's agent messages
// in its helpdesk, the way the ticket's route says (native, tag, off). An
// unchanged status, a failed one (a note tells of it), a helpdesk that
// cannot show one and a disabled connection cost no call.
func (b *Bridge) ShowStatus(ctx context.Context, a ShowStatusArgs) error {
	s, err := b.store.StatusShowingOf(ctx, a.TicketID)
	if err != nil {
		return err
	}
	if s.Display == store.StatusDisplayOff || !connectors.ValidDelivery(s.Latest) || s.Latest == s.Shown {
		return nil
	}
	conn, err := b.connection(ctx, s.ConnectionID)
	if err != nil {
		return err
	}
	shower, ok := conn.c.(connectors.StatusShower)
	if !ok || !conn.row.Enabled {
		return nil
	}
	ref := *connRef(s.ConnectionID)
	reset, giveBack, err := b.passBreaker(ctx, ref, nil)
	if err != nil {
		return err
	}
	defer giveBack()
	sctx, cancel := context.WithTimeout(ctx, b.timeout)
	err = shower.ShowStatus(sctx, connectors.StatusUpdate{TicketID: s.RemoteTicketID, CommentID: s.LatestCommentID,
		Status: s.Latest, Previous: s.Shown, Native: s.Display == store.StatusDisplayNative})
	cancel()
	if err != nil {
		if connectors.IsPermanent(err) || connectors.IsNotFound(err) {
			b.log.Warn("helpdesk refused a delivery status; not shown", "ticket", s.RemoteTicketID, "status", s.Latest, "err", err)
			return nil
		}
		return b.helpdeskErr(ctx, conn, err)
	}
	if err := b.store.SetShownStatus(ctx, a.TicketID, s.Latest); err != nil {
		return err
	}
	if reset {
		return b.breakerSucceeded(ctx, ref)
	}
	return nil
}
