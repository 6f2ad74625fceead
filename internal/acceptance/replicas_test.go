package acceptance

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"
)

// Two replicas of the load: customers writing at once, messages each, and
// how many the two replicas have acknowledged when one is killed.
const (
	replicaCustomers = 6
	replicaMessages  = 6
	replicaKillAfter = 12
)

// TestTwoReplicas runs two `relaydesk serve` processes on one database
// behind one base URL, as a load balancer would, with every delivery going
// to either. One is killed with SIGKILL in the middle of the load, what it
// had not acknowledged is redelivered to the other (as Meta retries the
// same URL), and it is started again. Every customer message lands once
// and in order, every agent reply reaches WhatsApp once and in order, the
// periodic sweep runs once per period (one leader), and the helpdesk holds
// one webhook.
func TestTwoReplicas(t *testing.T) {
	if testing.Short() {
		t.Skip("the acceptance suite runs relaydesk processes for minutes")
	}
	t.Parallel()
	began := time.Now()
	e := setup(t, newZendesk(t))
	a := e.proc
	b := newProcess(t, slices.Clone(a.env[:len(a.env)-2]))
	b.env = append(slices.Clone(b.env[:len(b.env)-1]), "RELAYDESK_BASE_URL="+a.baseURL) // one public URL, two listeners
	b.baseURL = a.baseURL
	b.start(t)

	type customer struct {
		waID   string
		bodies [][]byte
		acked  []bool
	}
	cs := make([]*customer, replicaCustomers)
	for i := range cs {
		c := &customer{waID: newCustomer(), acked: make([]bool, replicaMessages)}
		for j := range replicaMessages {
			text := fmt.Sprintf("replicas %d: message %d of %d", i+1, j+1, replicaMessages)
			e.wrote[c.waID] = append(e.wrote[c.waID], text)
			c.bodies = append(c.bodies, message(c.waID, text, time.Now()))
		}
		cs[i] = c
	}

	// Each customer's deliveries alternate between the replicas; a
	// delivery the killed one does not acknowledge is retried, in order,
	// on the one that lives.
	var mu sync.Mutex
	acks, killed := 0, false
	var wg sync.WaitGroup
	for i, c := range cs {
		wg.Go(func() {
			for j, body := range c.bodies {
				p := a
				if (i+j)%2 == 1 {
					p = b
				}
				if e.postTo(p, body) != nil {
					if err := retry(time.Minute, func() error { return e.postTo(a, body) }); err != nil {
						t.Errorf("replica A refuses customer %s's message %d: %v", c.waID, j+1, err)
						return
					}
				}
				c.acked[j] = true
				mu.Lock()
				acks++
				if acks == replicaKillAfter && !killed {
					killed = b.kill9()
				}
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	if !killed {
		t.Fatal("replica B survived SIGKILL")
	}
	b.start(t)
	for _, c := range cs {
		waitFor(t, "customer "+c.waID+"'s messages, each once and in order", 3*time.Minute, func() error { return e.holds(c.waID) })
	}

	// Replica B is killed again, agents answer every customer twice
	// through the webhook relaydesk installed while it is down, and it
	// comes back while the replies go out. (A kill inside a Graph send,
	// after WhatsApp accepted it and before relaydesk recorded it, sends
	// that one reply again: Graph has no idempotency key; see README.)
	e.awaitAgentSide(t)
	if !b.kill9() {
		t.Fatal("replica B survived SIGKILL")
	}
	want := map[string][]string{}
	for _, c := range cs {
		tk, err := e.desk.ticketOf(c.waID)
		if err != nil {
			t.Fatal(err)
		}
		for n := range 2 {
			text := fmt.Sprintf("reply %d to %s", n+1, c.waID)
			want[c.waID] = append(want[c.waID], text)
			e.desk.reply(t, tk.ID, text, true, false)
		}
	}
	b.start(t)
	for _, c := range cs {
		waitFor(t, "the replies to "+c.waID+" reach WhatsApp", 3*time.Minute, func() error {
			if got := e.sentTo(c.waID); len(got) < len(want[c.waID]) {
				return fmt.Errorf("sent so far: %q", got)
			}
			return nil
		})
		if got := e.sentTo(c.waID); !slices.Equal(got, want[c.waID]) {
			t.Errorf("relaydesk sent %q to %s, want %q (each reply once, in order)", got, c.waID, want[c.waID])
		}
	}

	// One leader inserts the periodic sweep: never two of the same period.
	waitFor(t, "three periodic sweeps since the start", 2*time.Minute, func() error {
		var n int
		if err := e.pool.QueryRow(context.Background(), `SELECT count(*) FROM river_job WHERE kind = 'sweep_stalled' AND created_at > $1`,
			began).Scan(&n); err != nil {
			return err
		}
		if n < 3 {
			return fmt.Errorf("%d sweeps so far", n)
		}
		return nil
	})
	var gaps []float64
	rows, err := e.pool.Query(context.Background(), `SELECT extract(epoch FROM created_at - lag(created_at) OVER (ORDER BY created_at))
		FROM river_job WHERE kind = 'sweep_stalled' AND created_at > $1 ORDER BY created_at`, began)
	if err != nil {
		t.Fatal(err)
	}
	for rows.Next() {
		var gap *float64
		if err := rows.Scan(&gap); err != nil {
			t.Fatal(err)
		}
		if gap != nil {
			gaps = append(gaps, *gap)
		}
	}
	if rows.Err() != nil {
		t.Fatal(rows.Err())
	}
	if len(gaps) == 0 {
		t.Fatal("no periodic sweep ran twice during the test")
	}
	if m := slices.Min(gaps); m < 5 {
		t.Errorf("two sweeps %.1fs apart: both replicas ran the periodic job of one 15 s period", m)
	}

	waitFor(t, "webhook provisioning settles", 2*time.Minute, e.provisioningSettled)
	if n := e.desk.installedFor(a.baseURL).webhooks; n != 1 {
		t.Errorf("%d webhooks point at relaydesk with two replicas, want 1", n)
	}
}
