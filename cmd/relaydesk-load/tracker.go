package main

import (
	"context"
	"fmt"
	"regexp"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/relaydesk/relaydesk/connectors/zendesk/zendesktest"
	"github.com/relaydesk/relaydesk/internal/store"
	"github.com/relaydesk/relaydesk/internal/whatsapp/whatsapptest"
)

// Every generated message carries a token naming its conversation and its
// number in that conversation: #c12-m7# (customer message 7 of conversation
// 12) or #c12-r3# (agent reply 3). The fakes' hooks read them back.
var tokenRe = regexp.MustCompile(`#c(\d+)-([mr])(\d+)#`)

func inToken(c *conv, seq int) string    { return fmt.Sprintf("#c%d-m%d#", c.idx, seq) }
func replyToken(c *conv, seq int) string { return fmt.Sprintf("#c%d-r%d#", c.idx, seq) }

// conv is one customer's chat. Only the worker that owns it sends for it,
// so its messages and replies are sent one at a time, in order.
type conv struct {
	idx  int
	waID string
	name string

	// Owned by the driving worker.
	nextIn, nextReply int
	lastReply         time.Time

	// Guarded by tracker.mu.
	accepted []int // customer message numbers relaydesk accepted, in order
	replies  []int // agent reply numbers relaydesk accepted, in order
	ticketID string
}

// sentMsg is a customer message the load sent.
type sentMsg struct {
	conv     *conv
	seq      int
	kind     string
	ph       *phase
	t0       time.Time
	size     int64  // attachment size for media
	sha      string // attachment SHA-256 for media
	accepted bool
	got      int // times it appeared in the helpdesk
	gotSize  int64
	gotSHA   string
}

// sentReply is an agent reply the load posted.
type sentReply struct {
	conv     *conv
	seq      int
	ph       *phase
	t0       time.Time
	accepted bool
	got      int
}

// statusJob is a status webhook to send for a reply WhatsApp accepted.
type statusJob struct {
	wamid, to string
	due       time.Time
}

// tracker records what the load sent and what the fakes received.
type tracker struct {
	agentID string
	phase   atomic.Pointer[phase] // the phase now running (statuses count there)

	mu              sync.Mutex
	convs           []*conv
	in              map[string]*sentMsg
	out             map[string]*sentReply
	graphSeq        map[string][]int // wa_id -> reply numbers in the order Graph accepted them
	known           map[string]bool  // remote ticket ids relaydesk has stored
	unknownComments int
	unknownSends    int

	statuses       chan statusJob
	statusOn       atomic.Bool
	statusDropped  atomic.Int64
	statusInFlight atomic.Int64
}

func newTracker(n int) *tracker {
	t := &tracker{
		in: map[string]*sentMsg{}, out: map[string]*sentReply{}, graphSeq: map[string][]int{}, known: map[string]bool{},
		statuses: make(chan statusJob, 100_000),
	}
	for i := range n {
		t.convs = append(t.convs, &conv{idx: i, waID: fmt.Sprintf("1555%07d", 1_000_000+i), name: fmt.Sprintf("Customer %d", i)})
	}
	return t
}

// onComment is the fake Zendesk's hook (called with its lock held).
func (t *tracker) onComment(ev zendesktest.CommentEvent) {
	if !ev.Public || ev.AuthorID == t.agentID {
		return
	}
	for _, m := range tokenRe.FindAllStringSubmatch(ev.Body, -1) {
		if m[2] != "m" {
			continue
		}
		t.mu.Lock()
		s := t.in[m[0]]
		if s == nil {
			t.unknownComments++
			t.mu.Unlock()
			continue
		}
		s.got++
		if s.conv.ticketID == "" {
			s.conv.ticketID = ev.TicketID
		}
		first := s.got == 1
		if first && len(ev.Attachments) > 0 {
			s.gotSize, s.gotSHA = ev.Attachments[0].Size, ev.Attachments[0].SHA256
		}
		ph, t0 := s.ph, s.t0
		t.mu.Unlock()
		if first {
			ph.delivered(ev.At, ev.At.Sub(t0))
		}
	}
}

// onSent is the fake Graph's hook.
func (t *tracker) onSent(rm whatsapptest.RecordedMessage) {
	m := tokenRe.FindStringSubmatch(rm.Text)
	if m == nil || m[2] != "r" {
		return
	}
	now := time.Now()
	seq, _ := strconv.Atoi(m[3])
	t.mu.Lock()
	r := t.out[m[0]]
	if r == nil {
		t.unknownSends++
		t.mu.Unlock()
		return
	}
	r.got++
	first := r.got == 1
	t.graphSeq[rm.To] = append(t.graphSeq[rm.To], seq)
	ph, t0 := r.ph, r.t0
	t.mu.Unlock()
	if first {
		ph.reply.add(now.Sub(t0))
		ph.repliesSent.Add(1)
	}
	if t.statusOn.Load() {
		select {
		case t.statuses <- statusJob{wamid: rm.ID, to: rm.To, due: now.Add(time.Second)}:
			t.statusInFlight.Add(1)
		default:
			t.statusDropped.Add(1)
		}
	}
}

func (t *tracker) register(s *sentMsg, tok string) {
	t.mu.Lock()
	t.in[tok] = s
	t.mu.Unlock()
}

func (t *tracker) accept(toks []string) {
	t.mu.Lock()
	defer t.mu.Unlock()
	for _, tok := range toks {
		s := t.in[tok]
		if s == nil || s.accepted {
			continue
		}
		s.accepted = true
		s.conv.accepted = append(s.conv.accepted, s.seq)
	}
}

func (t *tracker) registerReply(r *sentReply, tok string) {
	t.mu.Lock()
	t.out[tok] = r
	t.mu.Unlock()
}

func (t *tracker) acceptReply(tok string) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if r := t.out[tok]; r != nil && !r.accepted {
		r.accepted = true
		r.conv.replies = append(r.conv.replies, r.seq)
	}
}

// ticketFor returns the conversation's ticket when relaydesk has stored it
// (an agent can only answer in a ticket relaydesk knows).
func (t *tracker) ticketFor(c *conv) string {
	t.mu.Lock()
	defer t.mu.Unlock()
	if c.ticketID != "" && t.known[c.ticketID] {
		return c.ticketID
	}
	return ""
}

// refreshKnown keeps the set of tickets relaydesk has stored up to date.
func (t *tracker) refreshKnown(ctx context.Context, st *store.Store) {
	tick := time.NewTicker(500 * time.Millisecond)
	defer tick.Stop()
	for {
		if ids, err := st.TicketRemoteIDs(ctx); err == nil {
			known := make(map[string]bool, len(ids))
			for _, id := range ids {
				known[id] = true
			}
			t.mu.Lock()
			t.known = known
			t.mu.Unlock()
		}
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
	}
}

// outstanding counts accepted messages and replies not yet seen on the
// other side, and status webhooks not yet posted.
func (t *tracker) outstanding() (in, out int, statuses int64) {
	t.mu.Lock()
	defer t.mu.Unlock()
	for _, s := range t.in {
		if s.accepted && s.got == 0 {
			in++
		}
	}
	for _, r := range t.out {
		if r.accepted && r.got == 0 {
			out++
		}
	}
	return in, out, t.statusInFlight.Load()
}

// phase accumulates one load phase's figures.
type phase struct {
	name        string
	start       time.Time
	endAt       atomic.Int64 // unix nanos when the load window closed
	intake      latencies    // webhook -> 200, every accepted webhook
	e2e         latencies    // webhook -> comment in the helpdesk
	reply       latencies    // agent reply webhook -> message at Graph
	webhooks    atomic.Int64
	errors      atomic.Int64 // failed attempts (retried)
	rejected    atomic.Int64 // 4xx: not retried
	gaveUp      atomic.Int64
	messages    atomic.Int64 // customer messages accepted
	redelivered atomic.Int64
	statuses    atomic.Int64
	replies     atomic.Int64 // agent replies accepted
	repliesSent atomic.Int64
	deliveredN  atomic.Int64
	inWindow    atomic.Int64 // delivered before the load window ended
	lastAt      atomic.Int64 // unix nanos of the last delivery
}

func (p *phase) delivered(at time.Time, lat time.Duration) {
	p.e2e.add(lat)
	p.deliveredN.Add(1)
	if end := p.endAt.Load(); end == 0 || at.UnixNano() < end {
		p.inWindow.Add(1)
	}
	for {
		old := p.lastAt.Load()
		if at.UnixNano() <= old || p.lastAt.CompareAndSwap(old, at.UnixNano()) {
			return
		}
	}
}

func (p *phase) end() time.Time {
	if n := p.endAt.Load(); n != 0 {
		return time.Unix(0, n)
	}
	return time.Now()
}
