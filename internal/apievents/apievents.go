// Package apievents delivers the public API's events to the HTTPS endpoints
// applications subscribed: one River job per subscription and event, each
// delivery signed with the subscription's secret (apiauth.Sign), retried
// with River's backoff, and a subscription whose deliveries keep failing for
// DisableAfter is disabled with the reason shown in the admin page.
package apievents

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"strings"
	"syscall"
	"time"

	"github.com/riverqueue/river"

	"github.com/relaydesk/relaydesk/internal/apiauth"
	"github.com/relaydesk/relaydesk/internal/store"
)

// MaxAttempts bounds a delivery's attempts. With River's backoff (attempt^4
// seconds) the last one comes about a week after the event, beyond
// DefaultDisableAfter, so a dead endpoint is disabled before its deliveries
// run out.
const MaxAttempts = 20

// DefaultDisableAfter is how long a subscription may fail before it is
// disabled.
const DefaultDisableAfter = 72 * time.Hour

// DeliverArgs asks for one delivery (one event to one subscription).
type DeliverArgs struct {
	DeliveryID store.DeliveryID `json:"delivery_id"`
}

// Kind is the job kind.
func (DeliverArgs) Kind() string { return "api_event_deliver" }

// InsertOpts gives deliveries their attempt budget.
func (DeliverArgs) InsertOpts() river.InsertOpts { return river.InsertOpts{MaxAttempts: MaxAttempts} }

// ErrStop reports a delivery that must not be retried (its subscription was
// disabled); the worker cancels the job.
var ErrStop = errors.New("delivery stopped")

// Opts is what a Deliverer needs.
type Opts struct {
	Store  *store.Store
	Logger *slog.Logger
	// HTTPClient sends deliveries; default: a client with a 10-second
	// timeout that does not follow redirects and refuses private addresses.
	HTTPClient *http.Client
	// DisableAfter defaults to DefaultDisableAfter.
	DisableAfter time.Duration
	// Now is the clock for signatures.
	Now func() time.Time
}

// Deliverer sends events.
type Deliverer struct {
	store        *store.Store
	log          *slog.Logger
	http         *http.Client
	disableAfter time.Duration
	now          func() time.Time
}

// New returns a Deliverer.
func New(o Opts) *Deliverer {
	d := &Deliverer{store: o.Store, log: o.Logger, http: o.HTTPClient, disableAfter: o.DisableAfter, now: o.Now}
	if d.http == nil {
		d.http = PublicClient()
	}
	if d.disableAfter <= 0 {
		d.disableAfter = DefaultDisableAfter
	}
	if d.now == nil {
		d.now = time.Now
	}
	if d.log == nil {
		d.log = slog.New(slog.DiscardHandler)
	}
	return d
}

// PublicClient is an HTTP client for applications' endpoints: it refuses to
// connect to loopback, private, link-local and other non-public addresses
// (an application must not make relaydesk call its own network), does not
// follow redirects, and gives up after 10 seconds.
func PublicClient() *http.Client {
	dialer := &net.Dialer{Timeout: 5 * time.Second, Control: func(_, address string, _ syscall.RawConn) error {
		host, _, err := net.SplitHostPort(address)
		if err != nil {
			return err
		}
		ip, err := netip.ParseAddr(host)
		if err != nil {
			return err
		}
		if !PublicAddr(ip) {
			return fmt.Errorf("refusing to connect to non-public address %s", ip)
		}
		return nil
	}}
	t := http.DefaultTransport.(*http.Transport).Clone()
	t.DialContext = dialer.DialContext
	t.Proxy = nil
	return &http.Client{Transport: t, Timeout: 10 * time.Second, CheckRedirect: noRedirects}
}

func noRedirects(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }

// PublicAddr reports whether ip is a public unicast address.
func PublicAddr(ip netip.Addr) bool {
	ip = ip.Unmap()
	return ip.IsGlobalUnicast() && !ip.IsPrivate() && !ip.IsLoopback() && !ip.IsLinkLocalUnicast() &&
		!netip.MustParsePrefix("100.64.0.0/10").Contains(ip) && !netip.MustParsePrefix("fc00::/7").Contains(ip)
}

// CheckURL validates an endpoint an application subscribes: an absolute
// https URL without credentials or fragment.
func CheckURL(s string) error {
	u, err := url.Parse(s)
	if err != nil || u.Scheme != "https" || u.Host == "" || u.User != nil || u.Fragment != "" || len(s) > 2000 {
		return errors.New("the url must be an absolute https URL without credentials or fragment")
	}
	return nil
}

// Deliver makes one attempt at a delivery. attempt and maxAttempts are the
// job's; the last failed attempt marks the delivery failed.
func (d *Deliverer) Deliver(ctx context.Context, deliveryID store.DeliveryID, attempt, maxAttempts int) error {
	w, err := d.store.DeliveryByID(ctx, deliveryID)
	if errors.Is(err, store.ErrNotFound) {
		return nil // the subscription or the event is gone
	}
	if err != nil {
		return err
	}
	if w.Delivery.State != "pending" {
		return nil
	}
	if !w.Subscription.Enabled {
		if err := d.store.CancelDelivery(ctx, deliveryID, "the subscription is disabled"); err != nil {
			return err
		}
		return ErrStop
	}
	secret, err := d.store.SubscriptionSecret(w.Subscription)
	if err != nil {
		return err
	}
	body, err := json.Marshal(struct {
		ID        string          `json:"id"`
		Type      string          `json:"type"`
		CreatedAt time.Time       `json:"created_at"`
		Data      json.RawMessage `json:"data"`
	}{fmt.Sprintf("evt_%d", w.Delivery.EventID), w.EventType, w.EventAt.UTC(), w.Payload})
	if err != nil {
		return err
	}
	status, sendErr := d.send(ctx, w, secret, body)
	if sendErr == nil {
		return d.store.MarkDelivered(ctx, deliveryID, w.Subscription.ID, status)
	}
	final := attempt >= maxAttempts
	f, err := d.store.MarkDeliveryFailed(ctx, deliveryID, w.Subscription.ID, status, truncate(sendErr.Error(), 300), final, d.disableAfter)
	if err != nil {
		return err
	}
	if f.Disabled {
		d.log.Warn("event subscription disabled after failing too long", "subscription", w.Subscription.ID,
			"application", w.Subscription.ClientName, "url", w.Subscription.URL, "err", sendErr)
		return ErrStop
	}
	return fmt.Errorf("deliver %s to subscription %d: %w", w.EventType, w.Subscription.ID, sendErr)
}

func (d *Deliverer) send(ctx context.Context, w store.DeliveryWork, secret, body []byte) (int, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, w.Subscription.URL, bytes.NewReader(body))
	if err != nil {
		return 0, err
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", "relaydesk-events/1")
	req.Header.Set("Relaydesk-Event", w.EventType)
	req.Header.Set("Relaydesk-Delivery", fmt.Sprintf("%d", w.Delivery.ID))
	req.Header.Set(apiauth.SignatureHeader, apiauth.Sign(secret, d.now(), body))
	resp, err := d.http.Do(req)
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	snippet, _ := io.ReadAll(io.LimitReader(resp.Body, 512))
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 1<<20))
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return resp.StatusCode, fmt.Errorf("HTTP %d: %s", resp.StatusCode, strings.TrimSpace(string(snippet)))
	}
	return resp.StatusCode, nil
}

func truncate(s string, n int) string {
	r := []rune(s)
	if len(r) <= n {
		return s
	}
	return string(r[:n-1]) + "…"
}
