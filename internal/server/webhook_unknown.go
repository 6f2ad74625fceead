package server

import (
	"context"
	"sync"
	"time"

	"github.com/relaydesk/relaydesk/internal/bridge"
	"github.com/relaydesk/relaydesk/internal/store"
	"github.com/relaydesk/relaydesk/internal/whatsapp"
)

// Deliveries for phone number ids relaydesk has no number for (Meta's
// dashboard "Test" sample is one: phone_number_id 123456123) are answered
// 200 and stored nowhere, but the Webhooks page lists the latest among its
// recent deliveries as "unknown number", so an admin sees that Meta's
// webhook reaches relaydesk. Anyone can post such a delivery, so what is
// kept is bounded: the last unknownKept, in this process's memory, and
// the signature is checked against the numbers' app secrets at most once
// per unknownCheckEvery.

const (
	unknownKept       = 20
	unknownCheckEvery = time.Second
)

// unknownDelivery is one delivery for unknown numbers.
type unknownDelivery struct {
	At       time.Time
	IDs      []string // the first few phone number ids (bridge.IntakeResult.Unknown)
	Count    int
	Size     int
	SignedBy string // the number whose app secret signed it; "" none; "?" not checked
}

type unknownLog struct {
	mu    sync.Mutex
	buf   []unknownDelivery // newest last
	check logLimit
}

func newUnknownLog() *unknownLog {
	return &unknownLog{check: logLimit{interval: unknownCheckEvery}}
}

func (l *unknownLog) add(d unknownDelivery) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if len(l.buf) == unknownKept {
		l.buf = append(l.buf[:0], l.buf[1:]...)
	}
	l.buf = append(l.buf, d)
}

func (l *unknownLog) recent() []unknownDelivery {
	l.mu.Lock()
	defer l.mu.Unlock()
	out := make([]unknownDelivery, len(l.buf))
	for i, d := range l.buf {
		out[len(l.buf)-1-i] = d
	}
	return out
}

// noteUnknown records a delivery that named only unknown numbers.
func (s *Server) noteUnknown(ctx context.Context, res bridge.IntakeResult, body []byte, signature string) {
	d := unknownDelivery{At: time.Now(), IDs: res.Unknown, Count: res.UnknownCount, Size: len(body), SignedBy: "?"}
	if _, ok := s.unknownDeliveries.check.allow(d.At); ok {
		d.SignedBy = s.signedByNumber(ctx, body, signature)
	}
	s.unknownDeliveries.add(d)
}

// signedByNumber names the number whose app secret signed body, or "".
func (s *Server) signedByNumber(ctx context.Context, body []byte, signature string) string {
	accounts, err := s.store.Accounts(ctx)
	if err != nil {
		return "?"
	}
	secrets := make([][]byte, 0, len(accounts))
	names := make([]string, 0, len(accounts))
	for _, a := range accounts {
		sec, err := s.store.Secrets(a)
		if err != nil || sec.AppSecret == "" {
			continue
		}
		secrets, names = append(secrets, []byte(sec.AppSecret)), append(names, a.Name)
	}
	if i, err := whatsapp.VerifySignatureAny(secrets, body, signature); err == nil {
		return names[i]
	}
	return ""
}

// unknownRows are the kept unknown-number deliveries as rows of the recent
// deliveries table (ID 0: not stored).
func (s *Server) unknownRows(source, outcome string) []store.WebhookEventRow {
	if (source != "" && source != "whatsapp") || (outcome != "" && outcome != bridge.OutcomeUnknownNumber) {
		return nil
	}
	var rows []store.WebhookEventRow
	for _, d := range s.unknownDeliveries.recent() {
		sig := "not signed with the app secret of any number here"
		switch d.SignedBy {
		case "?":
			sig = "not checked (many arrived at once)"
		case "":
		default:
			sig = "signed with the app secret of " + d.SignedBy
		}
		rows = append(rows, store.WebhookEventRow{ReceivedAt: d.At, Source: "whatsapp", Outcome: bridge.OutcomeUnknownNumber,
			Size: d.Size, Summary: map[string]any{"phone_number_ids": anySlice(d.IDs), "signature": sig}})
	}
	return rows
}

func anySlice(ss []string) []any {
	out := make([]any, len(ss))
	for i, s := range ss {
		out[i] = s
	}
	return out
}
