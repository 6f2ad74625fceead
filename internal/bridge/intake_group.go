package bridge

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/riverqueue/river"

	"github.com/relaydesk/relaydesk/internal/apiview"
	"github.com/relaydesk/relaydesk/internal/store"
)

// Group commit of WhatsApp deliveries.
//
// Concurrent deliveries are gathered and stored by one transaction with
// set-based statements (store.RecordInboundMany, one multi-row insert of
// the raw events, one River InsertManyTx), and each request is answered
// only after that transaction committed. Gathering costs an idle process
// nothing: a delivery that finds fewer than groupParallel transactions
// running starts its own at once; only when they are all busy does it wait,
// at most the window, for others to join it (or until the group is full).
// A group whose transaction fails (a value the database refuses, a
// deadlock, a constraint) is stored again one delivery per transaction, so
// one bad delivery never fails its neighbours.

// ErrIntakeDeadline is a delivery not stored within the intake deadline:
// answered with a retriable 5xx, never with a 200.
var ErrIntakeDeadline = errors.New("delivery not stored within the intake deadline")

// groupParallel is how many group transactions run at once before new
// deliveries wait for a group to form.
const groupParallel = 2

// DefaultIntakeWindow, DefaultIntakeBatch and DefaultIntakeDeadline are the
// group commit's defaults (RELAYDESK_INTAKE_WINDOW, RELAYDESK_INTAKE_BATCH,
// RELAYDESK_INTAKE_DEADLINE).
const (
	DefaultIntakeWindow   = 2 * time.Millisecond
	DefaultIntakeBatch    = 64
	DefaultIntakeDeadline = 10 * time.Second
)

// gatherer gathers concurrent requests of one intake into groups; store
// stores a group and answers each of its requests.
type gatherer[Req, Res any] struct {
	window   time.Duration
	max      int
	deadline time.Duration
	store    func(ctx context.Context, reqs []*grouped[Req, Res])
	slots    chan struct{}

	mu   sync.Mutex
	open *group[Req, Res] // the group taking new requests, if any
}

type group[Req, Res any] struct {
	reqs []*grouped[Req, Res]
	full chan struct{} // closed when the group reached its size
}

type grouped[Req, Res any] struct {
	req  Req
	done chan groupResult[Res] // buffered: the group never waits for a request
}

type groupResult[Res any] struct {
	res Res
	err error
}

func (r *grouped[Req, Res]) answer(res Res, err error) { r.done <- groupResult[Res]{res, err} }

func newGatherer[Req, Res any](window time.Duration, size int, deadline time.Duration,
	store func(context.Context, []*grouped[Req, Res])) *gatherer[Req, Res] {
	return &gatherer[Req, Res]{window: window, max: size, deadline: deadline, store: store, slots: make(chan struct{}, groupParallel)}
}

// do stores r with whatever other requests arrive with it. ctx carries the
// intake deadline: past it the request gives up with ErrIntakeDeadline
// (its group may still commit it; the sender's retry is then a
// redelivery).
func (g *gatherer[Req, Res]) do(ctx context.Context, r Req) (Res, error) {
	gr := &grouped[Req, Res]{req: r, done: make(chan groupResult[Res], 1)}
	g.mu.Lock()
	if p := g.open; p != nil {
		p.reqs = append(p.reqs, gr)
		if len(p.reqs) >= g.max {
			g.open = nil
			close(p.full)
		}
		g.mu.Unlock()
		return g.wait(ctx, gr)
	}
	p := &group[Req, Res]{reqs: []*grouped[Req, Res]{gr}, full: make(chan struct{})}
	g.open = p
	g.mu.Unlock()

	// This request leads the group: it starts the transaction when one of
	// the slots is free, the group is full or the window is over.
	slot := false
	select {
	case g.slots <- struct{}{}:
		slot = true
	default:
		t := time.NewTimer(g.window)
		select {
		case g.slots <- struct{}{}:
			slot = true
		case <-p.full:
		case <-t.C:
		}
		t.Stop()
	}
	g.mu.Lock()
	if g.open == p {
		g.open = nil
	}
	reqs := p.reqs
	g.mu.Unlock()

	// The group's transaction belongs to every request in it: it is not
	// cut short by the leader's client going away, only by the deadline.
	gctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), g.deadline)
	g.store(gctx, reqs)
	cancel()
	if slot {
		<-g.slots
	}
	return g.wait(ctx, gr)
}

func (g *gatherer[Req, Res]) wait(ctx context.Context, gr *grouped[Req, Res]) (Res, error) {
	select {
	case d := <-gr.done:
		if d.err != nil && (ctx.Err() != nil || errors.Is(d.err, context.DeadlineExceeded)) {
			return d.res, fmt.Errorf("%w: %v", ErrIntakeDeadline, d.err)
		}
		return d.res, d.err
	case <-ctx.Done():
		var zero Res
		return zero, ErrIntakeDeadline
	}
}

// groupMemo is what a group's set-based statements already did for the
// deliveries of the group; storeChange takes its results from it instead of
// running the statement of each delivery.
type groupMemo struct {
	// recorded holds, by inboundKey, the results in the order the group
	// recorded them: a delivery and its redelivery in one group have the
	// same key, and each takes its own result.
	recorded map[string][]store.InboundResult
	released map[store.ConversationID]int
	// received says, by number, whether any app subscribes to its
	// message.received events.
	received map[store.AccountID]bool
}

func inboundKey(in store.Inbound) string {
	var sb strings.Builder
	sb.WriteString(strconv.FormatInt(int64(in.AccountID), 10))
	sb.WriteByte('|')
	sb.WriteString(in.Customer.Key())
	for _, m := range in.Messages {
		sb.WriteByte('|')
		sb.WriteString(m.WAMID)
	}
	return sb.String()
}

// storeGroup stores the group's deliveries in one transaction and answers
// each; when that fails, it stores them one by one.
func (b *Bridge) storeGroup(ctx context.Context, reqs []*grouped[*intakeRequest, IntakeResult]) {
	if len(reqs) == 1 {
		reqs[0].answer(b.storeAlone(ctx, reqs[0].req))
		return
	}
	results := make([]IntakeResult, len(reqs))
	err := b.store.InTx(ctx, func(tx *store.Tx) error {
		memo, err := b.prepareGroup(ctx, tx, reqs)
		if err != nil {
			return err
		}
		var jobs []river.InsertManyParams
		events := make([]store.WebhookEvent, len(reqs))
		for i, r := range reqs {
			results[i] = IntakeResult{group: memo}
			j, err := b.storeBatch(ctx, tx, r.req.accounts, r.req.batch, &results[i])
			if err != nil {
				return err
			}
			jobs = append(jobs, j...)
			events[i] = webhookEvent(r.req, &results[i])
		}
		ids, err := tx.InsertWebhookEvents(ctx, events)
		if err != nil {
			return err
		}
		for i := range results {
			results[i].EventID = ids[i]
			results[i].group = nil
		}
		return b.enqueue(ctx, tx, jobs)
	})
	if err == nil {
		for i, r := range reqs {
			r.answer(results[i], nil)
		}
		return
	}
	if ctx.Err() != nil {
		for _, r := range reqs {
			r.answer(IntakeResult{}, err)
		}
		return
	}
	b.log.Info("group commit failed; storing its deliveries one by one", "deliveries", len(reqs), "err", err)
	for _, r := range reqs {
		r.answer(b.storeAlone(ctx, r.req))
	}
}

// prepareGroup runs the set-based statements of a group: every customer
// message of every delivery, the replies the new messages release, and
// whether anyone subscribes to the numbers' message events.
func (b *Bridge) prepareGroup(ctx context.Context, tx *store.Tx, reqs []*grouped[*intakeRequest, IntakeResult]) (*groupMemo, error) {
	memo := &groupMemo{recorded: map[string][]store.InboundResult{}, received: map[store.AccountID]bool{}}
	var ins []store.Inbound
	for _, gr := range reqs {
		r := gr.req
		byPhone := map[string]store.Account{}
		for _, a := range r.accounts {
			byPhone[a.PhoneNumberID] = a
		}
		for _, ch := range r.batch.Changes {
			acc, ok := byPhone[ch.PhoneNumberID]
			if !ok {
				continue
			}
			if _, seen := memo.received[acc.ID]; !seen {
				subs, err := tx.EventSubscribers(ctx, apiview.EventMessageReceived, acc.ID)
				if err != nil {
					return nil, err
				}
				memo.received[acc.ID] = len(subs) > 0
			}
			if err := b.applyUserIDChanges(ctx, tx, acc, ch); err != nil {
				return nil, err
			}
			in, _, _ := b.groupInbound(acc, ch)
			ins = append(ins, in...)
		}
	}
	recorded, err := tx.RecordInboundMany(ctx, ins)
	if err != nil {
		return nil, err
	}
	var wrote []store.ConversationID
	for i, in := range ins {
		k := inboundKey(in)
		memo.recorded[k] = append(memo.recorded[k], recorded[i])
		if recorded[i].Inserted > 0 {
			wrote = append(wrote, recorded[i].ConversationID)
		}
	}
	if memo.released, err = tx.ReleaseWaitingMany(ctx, wrote); err != nil {
		return nil, err
	}
	for _, id := range wrote {
		memo.released[id] += 0 // known: none held
	}
	return memo, nil
}

// recordedInGroup returns what the group already recorded for in.
func (res *IntakeResult) recordedInGroup(in store.Inbound) (store.InboundResult, bool) {
	if res.group == nil {
		return store.InboundResult{}, false
	}
	k := inboundKey(in)
	rs := res.group.recorded[k]
	if len(rs) == 0 {
		return store.InboundResult{}, false
	}
	res.group.recorded[k] = rs[1:]
	return rs[0], true
}

// emitReceivedIn emits message.received for ids, skipping the lookup of
// subscribers when the group already knows there are none.
func (b *Bridge) emitReceivedIn(ctx context.Context, tx *store.Tx, res *IntakeResult, accountID store.AccountID, ids []store.MessageID) error {
	if res.group != nil {
		if subscribed, known := res.group.received[accountID]; known && !subscribed {
			return nil
		}
	}
	return b.emitReceived(ctx, tx, accountID, ids)
}

// releaseWaiting releases the replies a conversation held for the 24-hour
// window, or reports those its group released.
func (b *Bridge) releaseWaiting(ctx context.Context, tx *store.Tx, res *IntakeResult, id store.ConversationID) (int, error) {
	if res.group != nil {
		if n, ok := res.group.released[id]; ok {
			res.group.released[id] = 0 // released once, for the first delivery
			return n, nil
		}
	}
	return tx.ReleaseWaiting(ctx, id)
}
