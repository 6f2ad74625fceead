package acceptance

import (
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"
)

// TestAcceptance deploys relaydesk once per helpdesk kind, in parallel, and
// walks through what a user sees: a customer's text opens a ticket, an
// agent's reply reaches WhatsApp once, a private note stays private, a reply
// outside the 24-hour window leaves a note, kill -9 in the middle of a burst
// loses and duplicates nothing, and restarts leave one webhook.
func TestAcceptance(t *testing.T) {
	if testing.Short() {
		t.Skip("the acceptance suite runs relaydesk processes for minutes")
	}
	for _, k := range deskKinds {
		t.Run(k.kind, func(t *testing.T) {
			t.Parallel()
			e := setup(t, k.new(t))
			e.walkThrough(t)
		})
	}
}

// walkThrough runs the cases of one kind in order on one deployment.
func (e *env) walkThrough(t *testing.T) {
	first, late := newCustomer(), newCustomer()
	t.Run("a customer text lands in a new ticket as the customer's comment", func(t *testing.T) {
		e.says(t, first, "Hello, my order 1234 has not arrived.", time.Now())
		// Dated 25 hours ago: the window of this conversation has closed.
		e.says(t, late, "Are you still there?", time.Now().Add(-25*time.Hour))
		for _, c := range []string{first, late} {
			waitFor(t, "customer "+c+"'s ticket with their text as their comment", 2*time.Minute, func() error { return e.holds(c) })
		}
	})
	t.Run("kill -9 in the middle of a burst and a restart lose and duplicate nothing", func(t *testing.T) {
		e.burstThroughKill(t)
	})
	ok := t.Run("agents write in the helpdesk", func(t *testing.T) {
		e.agents(t, first, late)
	})
	if !ok {
		return
	}
	t.Run("three restarts leave exactly one webhook and the reply path working", func(t *testing.T) {
		e.threeRestarts(t, first, late)
	})
}

// agents replies, notes and replies late as the helpdesk's agents do, all
// at once (a polled helpdesk sees them in one poll), then checks each
// outcome.
func (e *env) agents(t *testing.T, first, late string) {
	e.awaitAgentSide(t)
	tk, err := e.desk.ticketOf(first)
	if err != nil {
		t.Fatal(err)
	}
	lateTk, err := e.desk.ticketOf(late)
	if err != nil {
		t.Fatal(err)
	}
	e.desk.reply(t, tk.ID, "Your parcel left our warehouse today.", true, true)
	e.desk.reply(t, tk.ID, "internal: courier says Tuesday", false, false)
	e.desk.reply(t, tk.ID, "It should arrive on Tuesday.", true, false)
	e.desk.reply(t, lateTk.ID, "Sorry for the delay, we are here.", true, false)

	t.Run("an agent's public reply reaches WhatsApp exactly once and a private note is not sent", func(t *testing.T) {
		want := []string{"Your parcel left our warehouse today.", "It should arrive on Tuesday."}
		// Replies are sent in order: once the second is out, the note
		// written between them would have been too.
		waitFor(t, "both replies reach WhatsApp", 3*time.Minute, func() error {
			if got := e.sentTo(first); !slices.Contains(got, want[1]) {
				return fmt.Errorf("sent so far: %q", got)
			}
			return nil
		})
		if got := e.sentTo(first); !slices.Equal(got, want) {
			t.Fatalf("relaydesk sent %q to the customer, want %q (each reply once, no note)", got, want)
		}
	})
	t.Run("a reply outside the 24-hour window leaves an internal note and sends nothing", func(t *testing.T) {
		waitFor(t, "relaydesk notes in the ticket why the reply was not sent", 3*time.Minute, func() error {
			for _, c := range e.desk.fake.Comments(lateTk.ID) {
				if !c.Public && strings.Contains(c.Body, "NOT sent") && strings.Contains(c.Body, "24 hours") {
					return nil
				}
			}
			return fmt.Errorf("no internal note about the window in ticket %s", lateTk.ID)
		})
		// The note is written after the reply was marked as not sent.
		if got := e.sentTo(late); len(got) != 0 {
			t.Fatalf("relaydesk sent %q to a customer outside the window", got)
		}
	})
}

// threeRestarts restarts relaydesk three times, checks that an agent's
// reply still reaches WhatsApp exactly once, that every ticket still holds
// what its customer wrote once, and that the helpdesk then holds exactly one
// webhook (and one of each trigger) for relaydesk. A polled helpdesk's agent
// replies while relaydesk restarts: a later poll finds it.
func (e *env) threeRestarts(t *testing.T, first, late string) {
	tk, err := e.desk.ticketOf(first)
	if err != nil {
		t.Fatal(err)
	}
	const reply = "Delivered? Let us know."
	if e.desk.polled() {
		e.desk.reply(t, tk.ID, reply, true, false)
	}
	for range 3 {
		e.proc.restart(t)
	}
	if !e.desk.polled() {
		e.desk.reply(t, tk.ID, reply, true, false)
	}
	want := []string{"Your parcel left our warehouse today.", "It should arrive on Tuesday.", reply}
	waitFor(t, "the reply after the restarts reaches WhatsApp", 3*time.Minute, func() error {
		if got := e.sentTo(first); !slices.Contains(got, reply) {
			return fmt.Errorf("sent so far: %q", got)
		}
		return nil
	})
	if got := e.sentTo(first); !slices.Equal(got, want) {
		t.Errorf("relaydesk sent %q to the customer, want %q", got, want)
	}
	if got := e.sentTo(late); len(got) != 0 {
		t.Errorf("relaydesk sent %q to a customer outside the window", got)
	}
	for c := range e.wrote {
		if err := e.holds(c); err != nil {
			t.Errorf("after the restarts, customer %s: %v", c, err)
		}
	}
	if e.desk.polled() {
		return
	}
	waitFor(t, "webhook provisioning after the restarts", 2*time.Minute, e.provisioningSettled)
	got := e.desk.installedFor(e.proc.baseURL)
	if got.webhooks != 1 {
		t.Errorf("%d webhooks in %s point at relaydesk after three restarts, want 1", got.webhooks, e.desk.kind)
	}
	for name, n := range got.triggers {
		if n != 1 {
			t.Errorf("trigger %q exists %d times, want once", name, n)
		}
	}
	if e.desk.kind == "zammad" && len(got.triggers) == 0 {
		t.Errorf("no trigger runs relaydesk's webhook in zammad")
	}
}
