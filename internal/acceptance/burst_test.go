package acceptance

import (
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// burst sizes: customers writing at once, messages each, and how many
// relaydesk has acknowledged when it is killed.
const (
	burstCustomers = 4
	burstMessages  = 5
	killAfterAcks  = 6
)

// burstThroughKill has several customers write at once, kills relaydesk
// with SIGKILL once some messages are acknowledged, restarts it, redelivers
// what it had not acknowledged (as Meta does), and checks that each
// customer's ticket holds each message once, in order.
func (e *env) burstThroughKill(t *testing.T) {
	type customer struct {
		waID   string
		bodies [][]byte
		acked  int // messages acknowledged before the kill, in order
	}
	cs := make([]*customer, burstCustomers)
	for i := range cs {
		c := &customer{waID: newCustomer()}
		for j := range burstMessages {
			text := fmt.Sprintf("burst %d: message %d of %d", i+1, j+1, burstMessages)
			e.wrote[c.waID] = append(e.wrote[c.waID], text)
			c.bodies = append(c.bodies, message(c.waID, text, time.Now()))
		}
		cs[i] = c
	}

	var acks atomic.Int64
	var killed atomic.Bool
	var wg sync.WaitGroup
	for _, c := range cs {
		wg.Go(func() {
			for _, body := range c.bodies {
				if e.post(body) != nil {
					return // relaydesk is gone: the rest waits for redelivery
				}
				c.acked++
				if acks.Add(1) == killAfterAcks {
					killed.Store(e.proc.kill9())
				}
			}
		})
	}
	wg.Wait()
	if !killed.Load() {
		t.Fatal("relaydesk survived SIGKILL")
	}
	total := 0
	for _, c := range cs {
		total += c.acked
	}
	if total >= burstCustomers*burstMessages {
		t.Fatalf("all %d messages were acknowledged before the kill landed", total)
	}
	t.Logf("killed relaydesk with %d of %d messages acknowledged", total, burstCustomers*burstMessages)

	e.proc.start(t)
	redelivery := make([]error, len(cs))
	for i, c := range cs {
		wg.Go(func() {
			for _, body := range c.bodies[c.acked:] {
				if redelivery[i] = retry(time.Minute, func() error { return e.post(body) }); redelivery[i] != nil {
					return
				}
			}
		})
	}
	wg.Wait()
	for i, err := range redelivery {
		if err != nil {
			t.Fatalf("relaydesk refuses customer %s's redelivered messages: %v", cs[i].waID, err)
		}
	}

	for _, c := range cs {
		waitFor(t, "customer "+c.waID+"'s messages, each once and in order", 3*time.Minute, func() error { return e.holds(c.waID) })
	}
}
