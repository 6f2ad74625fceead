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

// claim takes a conversation's lease for one direction, reading what the
// job needs first in the same statement (store.ClaimAndLoad), and keeps the
// lease alive until release is called.
func (b *Bridge) claim(ctx context.Context, convID store.ConversationID, dir store.Direction) (cl store.Claimed, release func(released bool), err error) {
	cl, ok, err := b.store.ClaimAndLoad(ctx, convID, dir, lease)
	if err != nil {
		return cl, nil, err
	}
	if !ok {
		if _, err := b.store.ConversationByID(ctx, convID); errors.Is(err, store.ErrNotFound) {
			return cl, nil, errConversationGone
		}
		return cl, nil, b.busy()
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
	return cl, func(released bool) {
		stop()
		<-done
		if released {
			return // by the drain's last statement (store.TakeInbound)
		}
		rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
		defer cancel()
		if err := b.store.ReleaseConversation(rctx, convID, dir); err != nil {
			b.log.Warn("could not release conversation lease (it expires by itself)", "conversation", convID, "err", err)
		}
	}, nil
}

// drain claims a conversation's direction and works its pending messages in
// the queue's order until none is left or one asks the job to stop. It
// waits while the target's circuit breaker is open, and closes it once a
// message went through. Customer messages are taken by takeInbound, which
// lets the queue settle first; replies by store.NextPendingAttempt.
func (b *Bridge) drain(ctx context.Context, convID store.ConversationID, dir store.Direction, work func(context.Context, *convCtx, store.Message) error) (err error) {
	cl, release, err := b.claim(ctx, convID, dir)
	if errors.Is(err, errConversationGone) {
		b.log.Info("conversation was deleted; its job ends", "conversation", convID)
		return nil
	}
	if err != nil {
		return err
	}
	var cc *convCtx
	defer func() { release(cc != nil && cc.released) }()

	cc, err = b.loadConversation(cl)
	if err != nil {
		return err
	}
	defer func() {
		if ferr := b.flushPosted(ctx, cc); err == nil {
			err = ferr // retried: the next job finds the comment before posting again
		}
	}()
	ref, err := b.breakerOf(ctx, cc, dir)
	if err != nil {
		return err
	}
	var reset bool // the breaker has failures to forget once the target answers
	if ref != nil {
		var giveBack func()
		if reset, giveBack, err = b.passBreaker(ctx, *ref, cl.Breaker); err != nil {
			return err
		}
		defer giveBack()
	}
	for {
		var m store.Message
		ok := true
		if dir == store.DirIn {
			m, ok, err = b.takeInbound(ctx, cc) // !ok: the queue read found none, no statement to learn it again
		} else if m, err = b.store.NextPendingAttempt(ctx, convID, directionOf(dir)); errors.Is(err, store.ErrNotFound) {
			ok, err = false, nil
		}
		if err != nil {
			return err
		}
		// After the take, which recorded the message just posted.
		if reset && cc.answered {
			reset = false
			if err := b.breakerSucceeded(ctx, *ref); err != nil {
				return err
			}
		}
		if !ok {
			return nil
		}
		if err := work(ctx, cc, m); err != nil {
			return err
		}
		if dir == store.DirIn {
			cc.answered = true // every customer message is a helpdesk call
		}
	}
}

// takeInbound takes the conversation's next customer message, recording
// the one just posted (convCtx.posted) in the same statement. Before it
// takes one it lets the queue settle: it waits until the longest-waiting
// pending message has been stored for the settle window. It reads the
// newest timestamp already posted, for arrivedLate, and reports false when
// no customer message is pending (that statement also gave the lease back:
// convCtx.released).
func (b *Bridge) takeInbound(ctx context.Context, cc *convCtx) (store.Message, bool, error) {
	for {
		step, err := b.store.TakeInbound(ctx, cc.conv.ID, cc.posted, b.settle)
		if err != nil {
			return store.Message{}, false, err
		}
		cc.posted = nil
		cc.released = step.Released
		cc.lastPosted = step.Queue.LastPosted
		if step.Message != nil {
			return *step.Message, true, nil
		}
		if step.Queue.OldestPending == nil {
			return store.Message{}, false, nil
		}
		// Not settled by the database's clock: wait out the rest of the
		// window (at least a millisecond, so rounding never spins).
		t := time.NewTimer(max(settleWait(step.Queue, b.settle), time.Millisecond))
		select {
		case <-ctx.Done():
			t.Stop()
			return store.Message{}, false, ctx.Err()
		case <-t.C:
		}
	}
}

// markPosted records that a customer message is in the helpdesk. In a
// drain, the record goes with the statement that takes the next message
// (store.TakeInbound), right after this returns; flushPosted writes it
// when the drain ends first.
func (b *Bridge) markPosted(ctx context.Context, cc *convCtx, p store.Posted) error {
	if cc.posted != nil { // never two: write the first now
		if err := b.flushPosted(ctx, cc); err != nil {
			return err
		}
	}
	cc.posted = &p
	return nil
}

// flushPosted writes a posted message's record still held by the drain,
// even when the job's context has ended: the comment is in the helpdesk.
func (b *Bridge) flushPosted(ctx context.Context, cc *convCtx) error {
	if cc.posted == nil {
		return nil
	}
	p := *cc.posted
	fctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
	defer cancel()
	if err := b.store.MarkPosted(fctx, p.Message, p.Ticket, p.Connection, p.RemoteID); err != nil {
		// Left pending with its attempt counted: the next job looks for the
		// comment before posting again (lookBeforePosting).
		b.log.Warn("could not record a posted message", "message", p.Message, "err", err)
		return err
	}
	cc.posted = nil
	return nil
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
	// ticket (or ticketErr, ErrNotFound) is the active ticket as read at
	// ticketRead (activeTicket).
	ticket     store.Ticket
	ticketErr  error
	ticketRead time.Time
	// posted is the customer message just posted, recorded by the next
	// queue statement (markPosted).
	posted *store.Posted
	// released is set when the queue's last statement gave the lease back.
	released bool
	// answered is set when the queue's target (Graph for replies) answered
	// a call in this drain; a reply held for the 24-hour window or an empty
	// one calls nothing, so it proves nothing to the circuit breaker.
	answered bool
}

func (b *Bridge) loadConversation(cl store.Claimed) (*convCtx, error) {
	graph, err := b.graphClient(cl.Account)
	if err != nil {
		return nil, err
	}
	cc := &convCtx{conv: cl.Conversation, account: cl.Account, graph: graph, ticketRead: time.Now(), ticketErr: store.ErrNotFound}
	if cl.Ticket != nil {
		cc.ticket, cc.ticketErr = *cl.Ticket, nil
	}
	if cl.Connection != nil {
		conn, err := b.connectionOf(*cl.Connection)
		if err != nil {
			return nil, err
		}
		cc.conns = map[store.ConnectionID]*connection{conn.row.ID: conn}
	}
	return cc, nil
}

// activeTicket is the conversation's active ticket (store.ErrNotFound for
// none), read once for the messages of a burst: it is read again when the
// last read is older than ticketMaxAge, so that a status changed in the
// helpdesk meanwhile (solved, closed) is seen, and after forgetTicket.
func (b *Bridge) activeTicket(ctx context.Context, cc *convCtx) (store.Ticket, error) {
	if cc.ticketRead.IsZero() || time.Since(cc.ticketRead) > ticketMaxAge {
		t, err := b.store.ActiveTicket(ctx, cc.conv.ID)
		if err != nil && !errors.Is(err, store.ErrNotFound) {
			return t, err
		}
		cc.ticket, cc.ticketErr, cc.ticketRead = t, err, time.Now()
	}
	return cc.ticket, cc.ticketErr
}

// forgetTicket makes the next activeTicket read the row: the drain opened
// a ticket or changed its status.
func (cc *convCtx) forgetTicket() { cc.ticketRead = time.Time{} }

// ticketMaxAge is how long a drain relies on the active ticket it read.
const ticketMaxAge = 2 * time.Second

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
	return b.connectionOf(row)
}

// connectionOf is a connection's row with its connector, built again only
// when the row changed since it was last built.
func (b *Bridge) connectionOf(row store.Connection) (*connection, error) {
	id, key := row.ID, row.BuildKey()
	b.built.mu.Lock()
	built, ok := b.built.m[id]
	b.built.mu.Unlock()
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
	b.built.mu.Lock()
	if b.built.m == nil {
		b.built.m = map[store.ConnectionID]builtConnector{}
	}
	b.built.m[id] = builtConnector{key: key, c: c}
	b.built.mu.Unlock()
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
