// Package bridge is relaydesk's domain: WhatsApp deliveries in, helpdesk
// tickets and comments out, agent replies back to WhatsApp, with order kept
// and nothing lost or duplicated. It is called by the HTTP handlers
// (internal/server) and by thin River workers (internal/jobs).
//
// Files by concern: the three intakes (intake_whatsapp.go,
// intake_helpdesk.go, intake_api.go), the per-conversation queue (queue.go),
// posting to the helpdesk (deliver.go), sending to WhatsApp (send.go), the
// 24-hour window (window.go), failure handling (failures.go), public-API
// events (events.go) and the River job arguments (args.go).
package bridge

import (
	"cmp"
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/riverqueue/river"
	"github.com/riverqueue/river/rivertype"

	"github.com/relaydesk/relaydesk/connectors"
	"github.com/relaydesk/relaydesk/internal/mediaconv"
	"github.com/relaydesk/relaydesk/internal/store"
	"github.com/relaydesk/relaydesk/internal/whatsapp"
)

// JobInserter enqueues River jobs inside a caller's transaction; the River
// client satisfies it.
type JobInserter interface {
	InsertManyTx(ctx context.Context, tx pgx.Tx, params []river.InsertManyParams) ([]*rivertype.JobInsertResult, error)
}

// ConnectorFactory builds the connector of a helpdesk connection from its
// row and opened credentials (the app wires it to the connector registry).
type ConnectorFactory func(c store.Connection, credentials map[string]string, hc *http.Client) (connectors.Connector, error)

// GraphFactory builds the Graph client of one WhatsApp number.
type GraphFactory func(opts whatsapp.ClientOpts) (Graph, error)

// Opts is what a Bridge needs.
type Opts struct {
	// Media converts agents' files WhatsApp will not take; nil uses
	// mediaconv.New (ffmpeg from PATH when installed).
	Media *mediaconv.Converter
	Store *store.Store
	// ReplyStore, when set, is the store agents' replies are sent with: a
	// pool of their own, so that a backlog of customer messages, whose
	// jobs keep Store's connections busy, does not make replies wait for
	// a connection (RELAYDESK_REPLY_DB_CONNS).
	ReplyStore *store.Store
	Logger     *slog.Logger
	Connectors ConnectorFactory
	// Graph builds a number's Graph client (default: whatsapp.NewClient).
	Graph GraphFactory
	// HTTPClient is used for Graph and helpdesk calls. It must not set a
	// client-wide Timeout (media streams take long); calls carry deadlines.
	HTTPClient *http.Client
	// Now is the clock (tests move it to check the 24-hour window).
	Now func() time.Time
	// CallTimeout bounds one JSON call to a helpdesk or Graph (default 30s,
	// RELAYDESK_CALL_TIMEOUT).
	CallTimeout time.Duration
	// APIBaseURL is the service's base URL, for links in the public API's
	// events (media downloads).
	APIBaseURL string
	// InboundSettle is how long a customer message may wait for webhooks of
	// its burst that WhatsApp delivers late, before anything of the burst is
	// posted (RELAYDESK_INBOUND_SETTLE). Nil means DefaultInboundSettle; a
	// zero duration turns the wait off.
	InboundSettle *time.Duration
	// ObserveCall, when set, is told of every HTTP call to Graph and to a
	// helpdesk: its target (CallGraph or CallHelpdesk), the number's or
	// connection's name, the outcome class (see CallOutcome) and how long
	// the answer's headers took.
	ObserveCall func(target, name, outcome string, took time.Duration)
	// IntakeWindow is how long a WhatsApp delivery may wait for others to
	// share its transaction when the group transactions are all busy
	// (RELAYDESK_INTAKE_WINDOW). Nil means DefaultIntakeWindow; zero turns
	// group commit off (one transaction per delivery).
	IntakeWindow *time.Duration
	// IntakeBatch is the most deliveries one group transaction stores
	// (RELAYDESK_INTAKE_BATCH, default DefaultIntakeBatch).
	IntakeBatch int
	// IntakeDeadline bounds how long a delivery may take to be stored
	// before it is answered with a retriable 5xx (RELAYDESK_INTAKE_DEADLINE,
	// default DefaultIntakeDeadline).
	IntakeDeadline time.Duration
}

// DefaultInboundSettle is the settle window of Opts.InboundSettle when none
// is given.
const DefaultInboundSettle = time.Second

// Bridge holds the domain's dependencies.
type Bridge struct {
	store      *store.Store
	log        *slog.Logger
	jobs       JobInserter
	connectors ConnectorFactory
	newGraph   GraphFactory
	http       *http.Client
	now        func() time.Time
	timeout    time.Duration
	apiBase    string
	settle     time.Duration
	observe    func(target, name, outcome string, took time.Duration)
	media      *mediaconv.Converter
	// gather and gatherHelpdesk group the intakes' transactions (nil:
	// one transaction per delivery).
	gather         *gatherer[*intakeRequest, IntakeResult]
	gatherHelpdesk *gatherer[*helpdeskRequest, HelpdeskResult]
	// intakeDeadline bounds the storing of one delivery.
	intakeDeadline time.Duration

	// built holds the connectors built per connection (see connection),
	// shared with the reply lane.
	built *builtConnectors
	// replies is the bridge that sends agents' replies: the same bridge
	// with a store on a pool of its own (Opts.ReplyStore), or b itself.
	replies *Bridge
}

// builtConnectors are the connectors kept per connection.
type builtConnectors struct {
	mu sync.Mutex
	m  map[store.ConnectionID]builtConnector
}

// New returns a Bridge. SetJobs must be called before it handles deliveries:
// the River client is built after the bridge because its workers call it.
func New(opts Opts) *Bridge {
	b := &Bridge{store: opts.Store, log: opts.Logger, connectors: opts.Connectors, newGraph: opts.Graph,
		http: opts.HTTPClient, now: opts.Now, timeout: opts.CallTimeout, apiBase: opts.APIBaseURL,
		observe: opts.ObserveCall, media: opts.Media, built: &builtConnectors{}}
	if b.media == nil {
		b.media = mediaconv.New() // with the ffmpeg on PATH, if any
	}
	if b.timeout <= 0 {
		b.timeout = 30 * time.Second
	}
	if b.http == nil {
		b.http = DefaultHTTPClient()
	}
	if b.now == nil {
		b.now = time.Now
	}
	if b.newGraph == nil {
		b.newGraph = newWhatsAppClient
	}
	b.settle = DefaultInboundSettle
	if opts.InboundSettle != nil {
		b.settle = max(*opts.InboundSettle, 0)
	}
	b.intakeDeadline = cmp.Or(opts.IntakeDeadline, DefaultIntakeDeadline)
	window := DefaultIntakeWindow
	if opts.IntakeWindow != nil {
		window = *opts.IntakeWindow
	}
	// The reply lane: agents' replies, from the helpdesk's webhook to
	// WhatsApp, are stored and sent with ReplyStore.
	b.replies = b
	if opts.ReplyStore != nil && opts.ReplyStore != opts.Store {
		r := *b
		r.store = opts.ReplyStore
		r.replies = &r
		b.replies = &r
	}
	if window > 0 {
		size := cmp.Or(opts.IntakeBatch, DefaultIntakeBatch)
		b.gather = newGatherer(window, max(size, 1), b.intakeDeadline, b.storeGroup)
		b.gatherHelpdesk = newGatherer(window, max(size, 1), b.intakeDeadline, b.replies.storeHelpdeskGroup)
		b.replies.gather, b.replies.gatherHelpdesk = b.gather, b.gatherHelpdesk
	}
	return b
}

// DefaultHTTPClient has connection-level timeouts and no client-wide one:
// each call sets its own deadline, and media streams may run for minutes.
func DefaultHTTPClient() *http.Client {
	t := http.DefaultTransport.(*http.Transport).Clone()
	t.ResponseHeaderTimeout = time.Minute
	t.MaxIdleConnsPerHost = 32
	return &http.Client{Transport: t}
}

// SetJobs sets the job inserter (the River client).
func (b *Bridge) SetJobs(j JobInserter) {
	b.jobs = j
	if b.replies != b {
		b.replies.jobs = j
	}
}

// enqueue inserts jobs in tx; nothing happens when there are none.
func (b *Bridge) enqueue(ctx context.Context, tx *store.Tx, jobs []river.InsertManyParams) error {
	if len(jobs) == 0 {
		return nil
	}
	if _, err := b.jobs.InsertManyTx(ctx, tx.PgxTx(), jobs); err != nil {
		return fmt.Errorf("enqueue: %w", err)
	}
	return nil
}

// enqueueAlone inserts jobs in a transaction of their own.
func (b *Bridge) enqueueAlone(ctx context.Context, jobs []river.InsertManyParams) error {
	if len(jobs) == 0 {
		return nil
	}
	return b.store.InTx(ctx, func(tx *store.Tx) error { return b.enqueue(ctx, tx, jobs) })
}
