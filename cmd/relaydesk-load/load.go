package main

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	"github.com/relaydesk/relaydesk/connectors/zendesk/zendesktest"
	"github.com/relaydesk/relaydesk/internal/whatsapp/whatsapptest"
)

// mediaObj is a file the fake Graph serves for inbound media messages. A
// small set is reused across messages: each message still makes relaydesk
// download and upload the bytes.
type mediaObj struct {
	id, kind, mime, filename string
	size                     int64
	sha                      string
}

// loader sends webhooks to relaydesk the way Meta and Zendesk do.
type loader struct {
	t   *tracker
	log *slog.Logger
	hc  *http.Client
	// baseURLs are the relaydesk replicas; each attempt goes to the next
	// one, as a round-robin load balancer sends them, so a retry after a
	// refused connection reaches another replica.
	baseURLs  atomic.Pointer[[]string]
	next      atomic.Uint64
	publicID  string
	appSecret []byte
	pnid      string
	zd        *zendesktest.Fake
	images    []mediaObj
	docs      []mediaObj
	// retryFor is how long a refused or failed webhook is retried, as Meta
	// and Zendesk retry deliveries.
	retryFor time.Duration
}

// addMedia registers the reusable media files with the fake Graph.
func (l *loader) addMedia(g *whatsapptest.Server, rng *rand.Rand) {
	mk := func(kind, mime, name string, header []byte, size int) mediaObj {
		data := make([]byte, size)
		for i := range data {
			data[i] = byte(rng.Uint32())
		}
		copy(data, header)
		sum := sha256.Sum256(data)
		id := g.AddMedia(whatsapptest.Media{MimeType: mime, Data: data})
		return mediaObj{id: id, kind: kind, mime: mime, filename: name, size: int64(size), sha: hex.EncodeToString(sum[:])}
	}
	for i := range 16 {
		l.images = append(l.images, mk("image", "image/jpeg", "", []byte{0xff, 0xd8, 0xff, 0xe0}, 24<<10+rng.IntN(96<<10)))
		_ = i
	}
	for i := range 4 {
		l.docs = append(l.docs, mk("document", "application/pdf", fmt.Sprintf("invoice-%d.pdf", i), []byte("%PDF-1.7\n"), 128<<10+rng.IntN(128<<10)))
	}
}

// phaseCfg says what one phase sends.
type phaseCfg struct {
	duration    time.Duration
	rate        float64 // customer messages per second; 0: as fast as the workers go
	concurrency int
	convs       []*conv
	replyRatio  float64 // chance that an action is an agent reply (when the ticket is known)
	redeliver   float64 // chance that an action re-sends an earlier delivery
	batch       float64 // chance that a delivery carries 2-4 messages
	media       bool
	maxMessages int // stop after this many messages (0: no limit)
	// sweep sends exactly one text message to every conversation, then stops.
	sweep bool
	// sweepReplies adds one agent reply per conversation to the sweep, where
	// the ticket is known.
	sweepReplies bool
}

var sentences = []string{
	"Hello, my order has not arrived yet", "Can you check the status of my parcel?", "The box was damaged",
	"I would like a refund please", "Is the shop open on Sunday?", "Thanks, that helps", "The app shows an error",
	"I was charged twice", "Where do I find my invoice?", "Can I change the delivery address?",
}

// run drives one phase to its end and returns when every worker stopped.
func (l *loader) run(ctx context.Context, ph *phase, cfg phaseCfg) {
	l.t.phase.Store(ph)
	ph.start = time.Now()
	deadline := ph.start.Add(cfg.duration)
	pace := newPacer(cfg.rate)
	c := max(1, min(cfg.concurrency, len(cfg.convs)))
	groups := make([][]*conv, c)
	for i, cv := range cfg.convs {
		groups[i%c] = append(groups[i%c], cv)
	}
	var budget chan struct{}
	if cfg.maxMessages > 0 {
		budget = make(chan struct{}, cfg.maxMessages)
		for range cfg.maxMessages {
			budget <- struct{}{}
		}
	}
	var wg sync.WaitGroup
	for w := range c {
		wg.Add(1)
		go func() {
			defer wg.Done()
			l.worker(ctx, ph, cfg, groups[w], pace, deadline, budget, rand.New(rand.NewPCG(uint64(w), uint64(time.Now().UnixNano()))))
		}()
	}
	wg.Wait()
	ph.endAt.Store(time.Now().UnixNano())
}

func (l *loader) worker(ctx context.Context, ph *phase, cfg phaseCfg, group []*conv, pace *pacer, deadline time.Time, budget chan struct{}, rng *rand.Rand) {
	if cfg.sweep {
		for _, cv := range group {
			if !pace.wait(1, deadline) {
				return
			}
			body, toks := l.customerDelivery(ph, cv, 1, false, rng)
			if l.postWhatsApp(ph, body) {
				l.t.accept(toks)
				ph.messages.Add(1)
			}
			if cfg.sweepReplies {
				if tk := l.t.ticketFor(cv); tk != "" {
					l.reply(ph, cv, tk)
				}
			}
		}
		return
	}
	var recent [][]byte
	for ctx.Err() == nil && time.Now().Before(deadline) {
		cv := group[rng.IntN(len(group))]
		r := rng.Float64()
		switch {
		case r < cfg.replyRatio:
			if tk := l.t.ticketFor(cv); tk != "" && time.Since(cv.lastReply) > 7*time.Second {
				l.reply(ph, cv, tk)
				continue
			}
		case r < cfg.replyRatio+cfg.redeliver && len(recent) > 0:
			if l.postWhatsApp(ph, recent[rng.IntN(len(recent))]) {
				ph.redelivered.Add(1)
			}
			continue
		}
		k := 1
		if rng.Float64() < cfg.batch {
			k = 2 + rng.IntN(3)
		}
		if budget != nil {
			got := 0
			for got < k {
				select {
				case <-budget:
					got++
					continue
				default:
				}
				break
			}
			if got == 0 {
				return
			}
			k = got
		}
		if !pace.wait(k, deadline) {
			return
		}
		body, toks := l.customerDelivery(ph, cv, k, cfg.media, rng)
		if l.postWhatsApp(ph, body) {
			l.t.accept(toks)
			ph.messages.Add(int64(len(toks)))
			if len(recent) < 16 {
				recent = append(recent, body)
			} else {
				recent[rng.IntN(len(recent))] = body
			}
		}
	}
}

// customerDelivery builds one signed-to-be webhook body with k messages
// from the customer, registering each.
func (l *loader) customerDelivery(ph *phase, cv *conv, k int, media bool, rng *rand.Rand) ([]byte, []string) {
	d := whatsapptest.NewDelivery(l.pnid).Name(cv.waID, cv.name)
	var toks []string
	now := time.Now()
	for range k {
		cv.nextIn++
		tok := inToken(cv, cv.nextIn)
		s := &sentMsg{conv: cv, seq: cv.nextIn, ph: ph, t0: now, kind: "text"}
		x := rng.IntN(100)
		switch {
		case media && x < 10:
			m := l.images[rng.IntN(len(l.images))]
			s.kind, s.size, s.sha = "image", m.size, m.sha
			d.Image(cv.waID, m.id, m.mime, "Photo of the problem "+tok)
		case media && x < 14:
			m := l.docs[rng.IntN(len(l.docs))]
			s.kind, s.size, s.sha = "document", m.size, m.sha
			d.Document(cv.waID, m.id, m.mime, m.filename, "Invoice attached "+tok)
		case x < 20:
			s.kind = "location"
			d.Location(cv.waID, 52.52+rng.Float64()/100, 13.40+rng.Float64()/100, "Pickup point "+tok, "Main Street 1")
		default:
			d.Text(cv.waID, sentences[rng.IntN(len(sentences))]+" "+tok)
		}
		l.t.register(s, tok)
		toks = append(toks, tok)
	}
	return d.Bytes(), toks
}

// reply has an agent answer publicly in the fake Zendesk and Zendesk deliver
// the comment webhook to relaydesk.
func (l *loader) reply(ph *phase, cv *conv, ticketID string) {
	cv.nextReply++
	tok := replyToken(cv, cv.nextReply)
	r := &sentReply{conv: cv, seq: cv.nextReply, ph: ph, t0: time.Now()}
	l.t.registerReply(r, tok)
	id := l.zd.AgentReply(ticketID, "Thanks for waiting, we are on it. "+tok)
	d := l.zd.CommentDelivery(ticketID, id)
	cv.lastReply = time.Now()
	if l.post(ph, "/webhooks/helpdesk/"+l.publicID, d.Body, d.Header) {
		l.t.acceptReply(tok)
		ph.replies.Add(1)
	}
}

func (l *loader) postWhatsApp(ph *phase, body []byte) bool {
	h := http.Header{}
	h.Set("Content-Type", "application/json")
	h.Set("X-Hub-Signature-256", whatsapptest.SignBody(l.appSecret, body))
	return l.post(ph, "/webhooks/whatsapp", body, h)
}

// post delivers a webhook to path on a replica, retrying failures (5xx,
// connection errors) for up to retryFor as the senders do. A 4xx is a
// rejection and is not retried.
func (l *loader) post(ph *phase, path string, body []byte, h http.Header) bool {
	first := time.Now()
	backoff := 100 * time.Millisecond
	for {
		start := time.Now()
		urls := *l.baseURLs.Load()
		url := urls[int(l.next.Add(1)%uint64(len(urls)))] + path
		req, err := http.NewRequest(http.MethodPost, url, bytes.NewReader(body))
		if err != nil {
			panic(err)
		}
		req.Header = h.Clone()
		resp, err := l.hc.Do(req)
		if err == nil {
			_, _ = io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			switch {
			case resp.StatusCode == http.StatusOK:
				ph.intake.add(time.Since(start))
				ph.webhooks.Add(1)
				return true
			case resp.StatusCode >= 400 && resp.StatusCode < 500 && resp.StatusCode != http.StatusTooManyRequests:
				ph.rejected.Add(1)
				l.log.Warn("webhook rejected", "url", url, "status", resp.StatusCode)
				return false
			}
		}
		ph.errors.Add(1)
		if time.Since(first) > l.retryFor {
			ph.gaveUp.Add(1)
			l.log.Warn("gave up on a webhook", "url", url, "err", err)
			return false
		}
		time.Sleep(backoff)
		backoff = min(2*backoff, 2*time.Second)
	}
}

// postStatuses sends "delivered" and "read" for every reply WhatsApp
// accepted, a second after it did, until ctx ends.
func (l *loader) postStatuses(ctx context.Context) {
	for {
		select {
		case <-ctx.Done():
			return
		case j := <-l.t.statuses:
			if d := time.Until(j.due); d > 0 {
				time.Sleep(d)
			}
			ph := l.t.phase.Load()
			for _, st := range []string{"delivered", "read"} {
				if l.postWhatsApp(ph, whatsapptest.NewDelivery(l.pnid).Status(j.wamid, st, j.to).Bytes()) {
					ph.statuses.Add(1)
				}
			}
			l.t.statusInFlight.Add(-1)
		}
	}
}

// drain waits until everything accepted has reached the other side and
// relaydesk has nothing pending, or timeout.
func (l *loader) drain(ctx context.Context, env *environment, timeout time.Duration) (time.Duration, bool) {
	start := time.Now()
	deadline := start.Add(timeout)
	last := time.Time{}
	for {
		in, out, st := l.t.outstanding()
		pending := int64(-1)
		if in == 0 && out == 0 && st == 0 {
			if n, err := env.st.PendingMessageCount(ctx); err == nil {
				pending = n
			}
			if pending == 0 {
				return time.Since(start), true
			}
		}
		if time.Now().After(deadline) || ctx.Err() != nil {
			l.log.Warn("drain timed out", "inbound_outstanding", in, "replies_outstanding", out, "statuses_in_flight", st, "db_pending", pending)
			return time.Since(start), false
		}
		if time.Since(last) > 10*time.Second {
			l.log.Info("draining", "inbound_outstanding", in, "replies_outstanding", out, "statuses_in_flight", st)
			last = time.Now()
		}
		time.Sleep(200 * time.Millisecond)
	}
}

// useReplicas sends the next attempts round-robin to urls.
func (l *loader) useReplicas(urls []string) { l.baseURLs.Store(&urls) }
