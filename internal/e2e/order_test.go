package e2e

// Customer messages reach the agent in the customer's order (WhatsApp's
// timestamp, then arrival), however their webhooks arrive. These tests run
// relaydesk's production defaults: the 1 s settle window, River's own retry
// policy and poll interval, no cap on snoozes.

import (
	"context"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/relaydesk/relaydesk/connectors/connectortest"
	"github.com/relaydesk/relaydesk/internal/app"
	"github.com/relaydesk/relaydesk/internal/bridge"
	"github.com/relaydesk/relaydesk/internal/jobs"
	"github.com/relaydesk/relaydesk/internal/whatsapp/whatsapptest"
)

// newOrderHarness is a harness whose jobs are worked by replicas started
// with every setting at its default (startReplica), instead of the
// harness's own worker, whose bridge has the harness's clock and a 2 s
// call timeout (RELAYDESK_CALL_TIMEOUT).
// It returns the function that kills each replica.
func newOrderHarness(t *testing.T, replicas int) (*harness, []func()) {
	t.Helper()
	h := newHarness(t, harnessOpts{})
	h.killWorkers()
	var kills []func()
	for range replicas {
		kills = append(kills, h.startReplica())
	}
	return h, kills
}

// startReplica starts a relaydesk process's workers on the harness's
// database, as serve builds them: its own bridge and River client, every
// setting at its default. The webhook handler's bridge enqueues through the
// replica started last. It returns the function that kills the replica:
// its running jobs are cancelled mid-way.
func (h *harness) startReplica() (kill func()) {
	h.t.Helper()
	log := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	br := bridge.New(bridge.Opts{Store: h.store, Logger: log, Connectors: app.NewConnector})
	c, err := jobs.NewClient(jobs.Opts{Store: h.store, Logger: slog.New(slog.DiscardHandler),
		RegisterWorkers: jobs.AddBridgeWorkers(br)})
	require.NoError(h.t, err)
	br.SetJobs(c)
	h.bridge.SetJobs(c)
	require.NoError(h.t, c.Start(context.Background()))
	stop := func() error {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		return c.StopAndCancel(ctx)
	}
	h.t.Cleanup(func() { _ = stop() })
	return func() { require.NoError(h.t, stop(), "kill a replica") }
}

// burst is n text messages from one customer, one second apart from first
// on, one delivery each, with the texts in the customer's order.
func burst(from string, first time.Time, n int) ([]*whatsapptest.Delivery, []string) {
	var ds []*whatsapptest.Delivery
	var texts []string
	for i := range n {
		text := fmt.Sprintf("%s message %02d", from, i+1)
		ds = append(ds, whatsapptest.NewDelivery(phoneID).At(first.Add(time.Duration(i)*time.Second)).Text(from, text))
		texts = append(texts, text)
	}
	return ds, texts
}

// postConcurrently delivers the webhooks in a shuffled order, all at once,
// as Meta's concurrent deliveries and redeliveries arrive.
func (h *harness) postConcurrently(ds []*whatsapptest.Delivery) {
	h.t.Helper()
	order := rand.Perm(len(ds))
	h.t.Logf("delivery order: %v", order)
	reqs := make([]*http.Request, len(ds))
	for i, j := range order {
		reqs[i] = whatsapptest.SignedRequest(h.t, h.srv.URL+"/webhooks/whatsapp", []byte(appSecret), ds[j].Bytes())
	}
	codes, errs := make([]int, len(reqs)), make([]error, len(reqs))
	gate := make(chan struct{})
	var wg sync.WaitGroup
	for i, req := range reqs {
		wg.Go(func() {
			<-gate
			resp, err := http.DefaultClient.Do(req)
			if errs[i] = err; err == nil {
				codes[i] = resp.StatusCode
				resp.Body.Close()
			}
		})
	}
	close(gate)
	wg.Wait()
	for i := range reqs {
		require.NoError(h.t, errs[i])
		require.Equal(h.t, http.StatusOK, codes[i], "delivery %d", order[i])
	}
}

// ticketOf returns the id of the ticket whose subject names the customer.
func (h *harness) ticketOf(customer string) string {
	for _, tk := range h.zd.Tickets() {
		if strings.Contains(tk.Subject, customer) {
			return tk.ID
		}
	}
	return ""
}

// bodiesOf returns the bodies of a customer's public comments, once there
// are at least n of them.
func (h *harness) bodiesOf(customer string, n int) []string {
	h.t.Helper()
	var out []string
	h.eventually(func() bool {
		tk := h.ticketOf(customer)
		if tk == "" {
			return false
		}
		out = out[:0]
		for _, c := range h.publicComments(tk) {
			out = append(out, c.Body)
		}
		return len(out) >= n
	}, "%d comments for %s", n, customer)
	return out
}

func TestInboundLandsInTheCustomersOrder(t *testing.T) {
	t.Parallel()
	h, _ := newOrderHarness(t, 1)

	// Twenty messages sent a second apart, their webhooks delivered at once
	// in a shuffled order.
	first := time.Now().Add(-25 * time.Second).Truncate(time.Second)
	ds, want := burst(customer, first, 20)
	h.postConcurrently(ds)
	require.Equal(t, want, h.bodiesOf(customer, len(want)), "in the customer's order, none marked late")

	t.Run("a message delivered late is posted at once, marked with its send time", func(t *testing.T) {
		// Sent 30 s before the last message of the burst, which is posted.
		sent := first.Add(19 * time.Second).Add(-30 * time.Second)
		h.postWhatsApp(whatsapptest.NewDelivery(phoneID).At(sent).Text(customer, "did you get my photo?"))
		got := h.bodiesOf(customer, len(want)+1)
		require.Equal(t, want, got[:len(want)], "what was posted stays as it was")
		late := got[len(want)]
		require.True(t, strings.HasPrefix(late, "[Sent "), late)
		require.True(t, strings.HasSuffix(late, sent.UTC().Format("15:04:05")+" UTC, arrived late]\ndid you get my photo?"), late)
	})

	t.Run("messages of the same second keep their arrival order, unmarked", func(t *testing.T) {
		now := time.Now()
		h.postWhatsApp(whatsapptest.NewDelivery(phoneID).At(now).Text(customer, "same second: first"))
		h.postWhatsApp(whatsapptest.NewDelivery(phoneID).At(now).Text(customer, "same second: second"))
		got := h.bodiesOf(customer, len(want)+3)
		require.Equal(t, []string{"same second: first", "same second: second"}, got[len(want)+1:])
	})
	require.Len(t, h.zd.Tickets(), 1)
	// The helpdesk has the last comment a moment before the job records it.
	h.eventually(func() bool { return h.count(`SELECT count(*) FROM messages WHERE state <> 'done'`) == 0 },
		"every message recorded as posted")
	require.Empty(t, h.failures())
	h.noViolations()
}

// Two replicas work the same conversations; the helpdesk fails twice (its
// first answer and the first comment added), and a replica is killed
// mid-burst and another one starts: every conversation still lands once,
// in its customer's order.
func TestInboundOrderSurvivesRetriesRestartsAndTwoReplicas(t *testing.T) {
	t.Parallel()
	h, kills := newOrderHarness(t, 2)
	h.zd.FailNext(1, connectortest.FailServerError)
	h.zd.FailMatching(http.MethodPut, "", connectortest.FailServerError)

	customers := []string{"16505550101", "16505550102", "16505550103", "16505550104"}
	first := time.Now().Add(-time.Minute).Truncate(time.Second)
	var all []*whatsapptest.Delivery
	want := map[string][]string{}
	for _, c := range customers {
		ds, texts := burst(c, first, 8)
		all, want[c] = append(all, ds...), texts
	}
	h.postConcurrently(all)

	h.eventually(func() bool { return h.count(`SELECT count(*) FROM messages WHERE state = 'done'`) > 0 }, "a first message posted")
	kills[1]()       // the replica the webhook handler enqueued through dies mid-burst
	h.startReplica() // and one comes back

	for _, c := range customers {
		require.Equal(t, want[c], h.bodiesOf(c, len(want[c])), "customer %s", c)
	}
	time.Sleep(300 * time.Millisecond) // give a duplicate the chance to appear
	for _, c := range customers {
		require.Len(t, h.publicComments(h.ticketOf(c)), len(want[c]), "customer %s: each message once", c)
	}
	require.Len(t, h.zd.Tickets(), len(customers))
	h.eventually(func() bool { return h.count(`SELECT count(*) FROM messages WHERE state <> 'done'`) == 0 }, "every message recorded as done: %s", h.failures())
	h.noViolations()
}
