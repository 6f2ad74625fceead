package bridge

import (
	"context"

	"github.com/riverqueue/river"

	"github.com/relaydesk/relaydesk/connectors"
	"github.com/relaydesk/relaydesk/internal/store"
)

// SchedulePolls enqueues a poll for each enabled connection whose connector
// polls. River's uniqueness by period keeps it to one poll per interval
// whichever replica schedules it.
func (b *Bridge) SchedulePolls(ctx context.Context) (int, error) {
	conns, err := b.store.Connections(ctx)
	if err != nil {
		return 0, err
	}
	var jobs []river.InsertManyParams
	for _, row := range conns {
		if !row.Enabled {
			continue
		}
		creds, err := b.store.Credentials(row)
		if err != nil {
			b.log.Warn("cannot open connection credentials", "connection", row.Name, "err", err)
			continue
		}
		c, err := b.connectors(row, creds, b.callClient(CallHelpdesk, row.Name))
		if err != nil {
			continue
		}
		if _, ok := c.(connectors.Poller); !ok {
			continue
		}
		jobs = append(jobs, river.InsertManyParams{Args: PollArgs{ConnectionID: row.ID}, InsertOpts: &river.InsertOpts{
			UniqueOpts: river.UniqueOpts{ByArgs: true, ByPeriod: connectors.PollInterval(row.Settings)},
		}})
	}
	if err := b.enqueueAlone(ctx, jobs); err != nil {
		return 0, err
	}
	return len(jobs), nil
}

// Poll asks a connection's helpdesk for events after its stored cursor,
// stores them like webhook events and moves the cursor, in one transaction:
// a crash between the two re-reads the same events, which the bridge
// deduplicates by comment id.
func (b *Bridge) Poll(ctx context.Context, connectionID store.ConnectionID) (HelpdeskResult, error) {
	conn, err := b.connection(ctx, connectionID)
	if err != nil {
		return HelpdeskResult{}, err
	}
	p, ok := conn.c.(connectors.Poller)
	if !ok {
		return HelpdeskResult{}, nil
	}
	pctx, cancel := context.WithTimeout(ctx, 2*b.timeout)
	events, next, err := p.Poll(pctx, conn.row.PollCursor)
	cancel()
	if err != nil {
		return HelpdeskResult{}, b.helpdeskErr(ctx, conn, err)
	}
	var res HelpdeskResult
	err = b.store.InTx(ctx, func(tx *store.Tx) error {
		res = HelpdeskResult{Kind: conn.row.Kind}
		jobs, err := b.storeEvents(ctx, tx, conn.row, events, &res)
		if err != nil {
			return err
		}
		if err := tx.SetPollCursor(ctx, conn.row.ID, next); err != nil {
			return err
		}
		return b.enqueue(ctx, tx, jobs)
	})
	return res, err
}
