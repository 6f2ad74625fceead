package acceptance

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/relaydesk/relaydesk/connectors"
	"github.com/relaydesk/relaydesk/connectors/chatwoot/chatwoottest"
	"github.com/relaydesk/relaydesk/connectors/connectortest"
	"github.com/relaydesk/relaydesk/connectors/freshdesk/freshdesktest"
	"github.com/relaydesk/relaydesk/connectors/rt/rttest"
	"github.com/relaydesk/relaydesk/connectors/zammad/zammadtest"
	"github.com/relaydesk/relaydesk/connectors/zendesk/zendesktest"
)

// pusher is a helpdesk fake that posts its webhook deliveries to the
// webhooks installed through its API, as the helpdesk does.
type pusher interface {
	Deliver(ctx context.Context, hc *http.Client, d connectortest.Delivery) error
}

// hook is a webhook in a helpdesk: its id and where it posts.
type hook struct{ id, endpoint string }

// trigger is a helpdesk rule that runs a webhook.
type trigger struct{ name, webhookID string }

// installed is what relaydesk installed in a helpdesk for one relaydesk
// address: its webhooks, and the triggers that run them by name.
type installed struct {
	webhooks int
	triggers map[string]int
}

// desk is one helpdesk kind under test: its fake, the connection's
// settings as the file declares them, and how agent activity reaches
// relaydesk.
type desk struct {
	kind string
	fake connectortest.Fake
	cfg  connectors.Config
	// push delivers webhooks; nil for a helpdesk relaydesk polls.
	push pusher
	// hooks lists the helpdesk's webhooks and triggers lists its triggers
	// (nil for a helpdesk without them).
	hooks    func() []hook
	triggers func() []trigger
	// pollSeconds is the poll_interval_seconds setting; 0 leaves it unset
	// (the default, 60 seconds).
	pollSeconds int
	// allDefaults marks the case that sets no optional environment
	// variable at all.
	allDefaults bool
}

// installedFor counts the webhooks that post to relaydesk at baseURL and
// the triggers that run them.
func (d *desk) installedFor(baseURL string) installed {
	ours := map[string]bool{}
	for _, h := range d.hooks() {
		if strings.HasPrefix(h.endpoint, baseURL+"/") {
			ours[h.id] = true
		}
	}
	got := installed{webhooks: len(ours), triggers: map[string]int{}}
	if d.triggers != nil {
		for _, tr := range d.triggers() {
			if ours[tr.webhookID] {
				got.triggers[tr.name]++
			}
		}
	}
	return got
}

// polled reports whether relaydesk learns of agent activity by polling.
func (d *desk) polled() bool { return d.push == nil }

// deskKinds builds each kind's desk for a test.
var deskKinds = []struct {
	kind string
	new  func(t *testing.T) *desk
}{
	{"zendesk", newZendesk},
	{"chatwoot", newChatwoot},
	{"zammad", newZammad},
	{"freshdesk", newFreshdesk},
	{"rt", newRT},
}

func newZendesk(t *testing.T) *desk {
	f := zendesktest.New(t)
	hooks := func() []hook {
		return connectortest.Map(f.Webhooks(), func(w zendesktest.Webhook) hook { return hook{w.ID, w.Endpoint} })
	}
	return &desk{kind: "zendesk", fake: f, cfg: f.Config(), push: f, hooks: hooks}
}

func newChatwoot(t *testing.T) *desk {
	f := chatwoottest.New(t)
	hooks := func() []hook {
		return connectortest.Map(f.Webhooks(), func(w chatwoottest.Webhook) hook { return hook{w.ID, w.URL} })
	}
	return &desk{kind: "chatwoot", fake: f, cfg: f.Config(), push: f, hooks: hooks}
}

func newZammad(t *testing.T) *desk {
	f := zammadtest.New(t)
	return &desk{kind: "zammad", fake: f, cfg: f.Config(), push: f,
		hooks: func() []hook {
			return connectortest.Map(f.Webhooks(), func(w zammadtest.Webhook) hook { return hook{w.ID, w.Endpoint} })
		},
		triggers: func() []trigger {
			return connectortest.Map(f.Triggers(), func(tr zammadtest.Trigger) trigger { return trigger{tr.Name, tr.WebhookID} })
		},
	}
}

// newFreshdesk leaves the poll interval at its default: the case that runs
// with every default.
func newFreshdesk(t *testing.T) *desk {
	f := freshdesktest.New(t)
	return &desk{kind: "freshdesk", fake: f, cfg: f.Config(), allDefaults: true}
}

// newRT uses the real Request Tracker .ci/run starts (scripts/rt-test-server);
// rttest skips the test, loudly, when there is none.
func newRT(t *testing.T) *desk {
	if s, err := rttest.Lookup(); err != nil {
		t.Logf("no Request Tracker test server (%v): rttest skips this kind", err)
	} else {
		t.Logf("using the real Request Tracker at %s (from %s)", s.URL, s.From)
	}
	f := rttest.New(t)
	return &desk{kind: "rt", fake: f, cfg: f.Config(), pollSeconds: 15}
}

// ticketOf returns the one ticket whose requester has this WhatsApp id.
func (d *desk) ticketOf(waID string) (connectortest.Ticket, error) {
	users := map[string]string{}
	for _, u := range d.fake.Users() {
		users[u.ID] = connectors.Digits(u.Phone)
	}
	var found []connectortest.Ticket
	for _, tk := range d.fake.Tickets() {
		if users[tk.RequesterID] == waID {
			found = append(found, tk)
		}
	}
	if len(found) != 1 {
		return connectortest.Ticket{}, fmt.Errorf("%d tickets for customer %s, want 1", len(found), waID)
	}
	return found[0], nil
}

// customerComments returns the bodies of a ticket's public comments written
// as its requester.
func (d *desk) customerComments(tk connectortest.Ticket) []string {
	var bodies []string
	for _, c := range d.fake.Comments(tk.ID) {
		if c.Public && c.AuthorID == tk.RequesterID {
			bodies = append(bodies, strings.TrimSpace(c.Body))
		}
	}
	return bodies
}

// reply adds an agent's public reply (or, with public false, an internal
// note) and, for a webhook-driven helpdesk, delivers its webhook: twice
// when redeliver is set, as a helpdesk retrying a delivery does.
func (d *desk) reply(t *testing.T, ticketID, body string, public, redeliver bool) {
	t.Helper()
	var id string
	if public {
		id = d.fake.AgentReply(ticketID, body)
	} else {
		id = d.fake.AgentNote(ticketID, body)
	}
	if d.polled() {
		return
	}
	dl := d.fake.CommentDelivery(ticketID, id)
	deliveries := []connectortest.Delivery{dl}
	if redeliver {
		deliveries = append(deliveries, d.fake.Redeliver(dl))
	}
	for _, dl := range deliveries {
		if err := d.push.Deliver(context.Background(), client, dl); err != nil {
			t.Fatalf("%s delivers the webhook of comment %s: %v", d.kind, id, err)
		}
	}
}
