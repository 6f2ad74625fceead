package bridge

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/riverqueue/river"

	"github.com/relaydesk/relaydesk/connectors"
	"github.com/relaydesk/relaydesk/internal/store"
)

// SnoozeError asks the job to run again after a while without counting a
// failed attempt (a rate limit, or another worker holding the conversation).
type SnoozeError struct{ After time.Duration }

func (e *SnoozeError) Error() string { return fmt.Sprintf("snooze for %s", e.After) }

// snooze builds a SnoozeError: the job runs again after d.
func (b *Bridge) snooze(d time.Duration) error { return &SnoozeError{After: d} }

// Each conversation has two queues, one a direction, each worked by one job
// at a time under a lease: customer messages to the helpdesk (DirIn) and
// replies to WhatsApp (DirOut). These are the lease's timings.
const (
	// lease is how long a claimed conversation stays claimed without a
	// heartbeat; after a crash, the conversation is free again this soon.
	lease = 20 * time.Second
	// heartbeat renews the lease while a worker runs.
	heartbeat = 5 * time.Second
	// orphanAfter is how long after its attempt began a running job that
	// holds no lease is taken for one orphaned by a killed process: a live
	// job claims its lease at once and renews it every heartbeat.
	orphanAfter = lease + heartbeat
	// busySnooze is how long a job waits when another worker holds the
	// conversation.
	busySnooze = 2 * time.Second
)

// busy is the outcome of a job whose conversation another worker holds.
func (b *Bridge) busy() error { return b.snooze(busySnooze) }

// jobFor is the job that works a conversation's queue of one direction.
func jobFor(dir store.Direction, convID store.ConversationID) river.JobArgs {
	if dir == store.DirOut {
		return SendOutboundArgs{ConversationID: convID}
	}
	return DeliverInboundArgs{ConversationID: convID}
}

// dirOf maps a message's direction ("in", "out") to its queue.
func dirOf(direction string) store.Direction {
	if direction == "out" {
		return store.DirOut
	}
	return store.DirIn
}

// directionOf maps a queue to its messages' direction ("in", "out").
func directionOf(dir store.Direction) string {
	if dir == store.DirOut {
		return "out"
	}
	return "in"
}

// wake marks a conversation's queue of one direction as queued and returns
// the job to enqueue in the same transaction, or none when one is queued
// already.
func (b *Bridge) wake(ctx context.Context, tx *store.Tx, convID store.ConversationID, dir store.Direction) ([]river.InsertManyParams, error) {
	queue, err := tx.MarkQueued(ctx, convID, dir)
	if err != nil || !queue {
		return nil, err
	}
	return []river.InsertManyParams{{Args: jobFor(dir, convID)}}, nil
}

// errConversationGone is a job's conversation deleted with its number.
var errConversationGone = errors.New("conversation deleted")

// claim takes a conversation's lease for one direction and keeps it alive
// until release is called.
func (b *Bridge) claim(ctx context.Context, convID store.ConversationID, dir store.Direction) (release func(), err error) {
	ok, err := b.store.ClaimConversation(ctx, convID, dir, lease)
	if err != nil {
		return nil, err
	}
	if !ok {
		if _, err := b.store.ConversationByID(ctx, convID); errors.Is(err, store.ErrNotFound) {
			return nil, errConversationGone
		}
		return nil, b.busy()
	}
	hctx, stop := context.WithCancel(context.WithoutCancel(ctx))
	done := make(chan struct{})
	go func() {
		defer close(done)
		t := time.NewTicker(heartbeat)
		defer t.Stop()
		for {
			select {
			case <-hctx.Done():
				return
			case <-t.C:
				if err := b.store.ExtendLease(hctx, convID, dir, lease); err != nil && hctx.Err() == nil {
					b.log.Warn("could not extend conversation lease", "conversation", convID, "err", err)
				}
			}
		}
	}()
	return func() {
		stop()
		<-done
		rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
		defer cancel()
		if err := b.store.ReleaseConversation(rctx, convID, dir); err != nil {
			b.log.Warn("could not release conversation lease (it expires by itself)", "conversation", convID, "err", err)
		}
	}, nil
}

// drain claims a conversation's direction and works its pending messages in
// the queue's order (store.NextPendingAttempt) until none is left or one asks
// the job to stop. It waits while the target's circuit breaker is open, and
// closes it once a message went through. Before each customer message it
// lets the queue settle.
func (b *Bridge) drain(ctx context.Context, convID store.ConversationID, dir store.Direction, work func(context.Context, *convCtx, store.Message) error) error {
	release, err := b.claim(ctx, convID, dir)
	if errors.Is(err, errConversationGone) {
		b.log.Info("conversation was deleted; its job ends", "conversation", convID)
		return nil
	}
	if err != nil {
		return err
	}
	defer release()

	cc, err := b.loadConversation(ctx, convID)
	if err != nil {
		return err
	}
	ref, err := b.breakerOf(ctx, cc, dir)
	if err != nil {
		return err
	}
	var reset bool // the breaker has failures to forget once the target answers
	if ref != nil {
		if reset, err = b.passBreaker(ctx, *ref); err != nil {
			return err
		}
	}
	for {
		if dir == store.DirIn {
			pending, err := b.settleInbound(ctx, cc)
			if err != nil {
				return err
			}
			if !pending {
				return nil // the queue read found none: no statement to learn it again
			}
		}
		m, err := b.store.NextPendingAttempt(ctx, convID, directionOf(dir))
		if errors.Is(err, store.ErrNotFound) {
			return nil
		}
		if err != nil {
			return err
		}
		if err := work(ctx, cc, m); err != nil {
			return err
		}
		if dir == store.DirIn {
			cc.answered = true // every customer message is a helpdesk call
		}
		if reset && cc.answered {
			reset = false
			if err := b.breakerSucceeded(ctx, *ref); err != nil {
				return err
			}
		}
	}
}

// settleInbound waits, before the next customer message is taken, until the
// longest-waiting pending one has been stored for the settle window, and
// reads the newest timestamp already posted, for arrivedLate. It reports
// whether any customer message is pending.
func (b *Bridge) settleInbound(ctx context.Context, cc *convCtx) (pending bool, _ error) {
	q, err := b.store.InboundQueueOf(ctx, cc.conv.ID)
	if err != nil {
		return false, err
	}
	cc.lastPosted = q.LastPosted
	if q.OldestPending == nil {
		return false, nil
	}
	wait := settleWait(q, b.settle)
	if wait == 0 {
		return true, nil
	}
	t := time.NewTimer(wait)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return false, ctx.Err()
	case <-t.C:
		return true, nil
	}
}

// settleWait is how long to wait before taking a conversation's next
// customer message. WhatsApp does not deliver a burst's webhooks in order,
// so nothing is posted until the longest-waiting pending message has been
// stored for the window: an earlier message of the burst arriving meanwhile
// takes its place in the customer's order. Measured from the oldest pending
// message, the wait adds at most the window to any message's delivery; a
// message stored long ago (a retry, a restart) does not wait at all.
func settleWait(q store.InboundQueue, window time.Duration) time.Duration {
	if window <= 0 || q.OldestPending == nil {
		return 0
	}
	return min(max(q.OldestPending.Add(window).Sub(q.Now), 0), window)
}

// convCtx is what working on one conversation needs.
type convCtx struct {
	conv       store.Conversation
	account    store.Account
	graph      Graph
	conns      map[store.ConnectionID]*connection // built once per drain, not once per message
	routes     []store.Route                      // the number's routes, read once per drain
	haveRoutes bool
	lastPosted *time.Time // the newest WhatsApp timestamp posted, read before each customer message
	// answered is set when the queue's target (Graph for replies) answered
	// a call in this drain; a reply held for the 24-hour window or an empty
	// one calls nothing, so it proves nothing to the circuit breaker.
	answered bool
}

func (b *Bridge) loadConversation(ctx context.Context, convID store.ConversationID) (*convCtx, error) {
	conv, err := b.store.ConversationByID(ctx, convID)
	if err != nil {
		return nil, fmt.Errorf("load conversation %d: %w", convID, err)
	}
	acc, err := b.store.AccountByID(ctx, conv.AccountID)
	if err != nil {
		return nil, fmt.Errorf("load account: %w", err)
	}
	graph, err := b.graphClient(acc)
	if err != nil {
		return nil, err
	}
	return &convCtx{conv: conv, account: acc, graph: graph}, nil
}

// routesOf returns the number's routes, read once per drain.
func (b *Bridge) routesOf(ctx context.Context, cc *convCtx) ([]store.Route, error) {
	if !cc.haveRoutes {
		routes, err := b.store.RoutesForAccount(ctx, cc.account.ID)
		if err != nil {
			return nil, fmt.Errorf("load routes: %w", err)
		}
		cc.routes, cc.haveRoutes = routes, true
	}
	return cc.routes, nil
}

// connection is a helpdesk connection with its connector.
type connection struct {
	row store.Connection
	c   connectors.Connector
}

func (b *Bridge) connection(ctx context.Context, id store.ConnectionID) (*connection, error) {
	row, err := b.store.ConnectionByID(ctx, id)
	if err != nil {
		return nil, fmt.Errorf("load connection %d: %w", id, err)
	}
	key := row.BuildKey()
	b.builtMu.Lock()
	built, ok := b.built[id]
	b.builtMu.Unlock()
	if ok && built.key == key {
		return &connection{row: row, c: built.c}, nil
	}
	creds, err := b.store.Credentials(row)
	if err != nil {
		return nil, err
	}
	c, err := b.connectors(row, creds, b.callClient(CallHelpdesk, row.Name))
	if err != nil {
		return nil, fmt.Errorf("connection %s: %w", row.Name, err)
	}
	b.builtMu.Lock()
	if b.built == nil {
		b.built = map[store.ConnectionID]builtConnector{}
	}
	b.built[id] = builtConnector{key: key, c: c}
	b.builtMu.Unlock()
	return &connection{row: row, c: c}, nil
}

// builtConnector is a connector kept while its connection's row is
// unchanged: credentials are decrypted and the connector built once, and
// its per-requester locks and caches are shared by every job of the
// process (connectors are safe for concurrent use).
type builtConnector struct {
	key string
	c   connectors.Connector
}

// connFor returns a helpdesk connection's connector, built once per drain.
func (b *Bridge) connFor(ctx context.Context, cc *convCtx, id store.ConnectionID) (*connection, error) {
	if c, ok := cc.conns[id]; ok {
		return c, nil
	}
	c, err := b.connection(ctx, id)
	if err != nil {
		return nil, err
	}
	if cc.conns == nil {
		cc.conns = map[store.ConnectionID]*connection{}
	}
	cc.conns[id] = c
	return c, nil
}
