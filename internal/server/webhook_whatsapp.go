package server

import (
	"crypto/subtle"
	"errors"
	"io"
	"net/http"
	"sync"
	"time"

	"github.com/labstack/echo/v4"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/relaydesk/relaydesk/internal/bridge"
)

// whatsappVerify answers Meta's subscription handshake: the challenge is
// echoed only when the verify token matches a configured account's.
func (s *Server) whatsappVerify(c echo.Context) error {
	q := c.QueryParams()
	mode, token, challenge := q.Get("hub.mode"), q.Get("hub.verify_token"), q.Get("hub.challenge")
	if mode != "subscribe" || token == "" || challenge == "" {
		s.webhookMetrics.verify.WithLabelValues("rejected").Inc()
		return c.String(http.StatusForbidden, "forbidden\n")
	}
	accounts, err := s.store.Accounts(c.Request().Context())
	if err != nil {
		return err
	}
	matched := false
	for _, a := range accounts {
		sec, err := s.store.Secrets(a)
		if err != nil {
			return err
		}
		// Compare with every account, in constant time, before deciding.
		if subtle.ConstantTimeCompare([]byte(sec.VerifyToken), []byte(token)) == 1 {
			matched = true
			if err := s.store.MarkAccountVerified(c.Request().Context(), a.ID); err != nil {
				return err
			}
		}
	}
	if !matched {
		s.webhookMetrics.verify.WithLabelValues("rejected").Inc()
		s.rejections.add(Rejection{At: time.Now(), Source: "whatsapp", Reason: "verify_token_mismatch", RemoteIP: c.RealIP()})
		return c.String(http.StatusForbidden, "forbidden\n")
	}
	s.webhookMetrics.verify.WithLabelValues("ok").Inc()
	return c.Blob(http.StatusOK, "text/plain; charset=utf-8", []byte(challenge))
}

// whatsappDeliver takes a webhook delivery: verified, stored and enqueued in
// one transaction before the 200; refused with 4xx and nothing stored.
func (s *Server) whatsappDeliver(c echo.Context) error {
	req := c.Request()
	body, limit, err := s.readWebhookBody(c)
	if limit > 0 {
		return s.reject(c, bridge.RejectOversized, http.StatusRequestEntityTooLarge, limit)
	}
	if err != nil {
		return c.String(http.StatusBadRequest, "could not read body\n")
	}
	res, err := s.bridge.HandleWhatsAppWebhook(req.Context(), body, req.Header.Get("X-Hub-Signature-256"))
	var rej *bridge.RejectError
	if errors.As(err, &rej) {
		code := http.StatusUnauthorized
		if rej.Reason == bridge.RejectMalformed {
			code = http.StatusBadRequest
		}
		return s.reject(c, rej.Reason, code, len(body))
	}
	if errors.Is(err, bridge.ErrIntakeDeadline) {
		s.log.Warn("whatsapp delivery not stored in time; answered 503 so Meta retries", "err", err, "request_id", requestID(c))
		return c.String(http.StatusServiceUnavailable, "not stored yet, retry\n")
	}
	if err != nil {
		return err // 500: Meta retries
	}
	s.webhookMetrics.accepted.WithLabelValues(res.Outcome).Inc()
	if res.EventID != 0 && res.SignedNoteNeeded {
		// Stored, so signed: the number is verified and healthy from its
		// first delivery. The delivery is already safe; a failure here only
		// leaves the badges as they were.
		if err := s.store.NoteSignedDelivery(req.Context(), res.EventID); err != nil {
			s.log.Warn("note signed delivery", "err", err, "request_id", requestID(c))
		}
	}
	if len(res.Conversations) == 1 {
		noteConversation(c, res.Conversations[0])
	}
	for number, n := range res.NewByNumber {
		s.webhookMetrics.received.WithLabelValues(number).Add(float64(n))
	}
	if res.UnknownCount > 0 && res.Outcome == bridge.OutcomeUnknownNumber && res.EventID == 0 {
		s.noteUnknown(req.Context(), res, body, req.Header.Get("X-Hub-Signature-256"))
	}
	if res.UnknownCount > 0 {
		s.webhookMetrics.unknown.Add(float64(res.UnknownCount))
		if suppressed, ok := s.unknownLog.allow(time.Now()); ok {
			s.log.Warn("whatsapp delivery for unknown phone number ids acknowledged and dropped",
				"count", res.UnknownCount, "first_ids", res.Unknown, "request_id", requestID(c),
				"deliveries_not_logged_before", suppressed)
		}
	}
	return c.String(http.StatusOK, "ok\n")
}

// readWebhookBody reads a webhook's raw body (signatures cover the exact
// bytes) up to the configured limit; limit > 0 reports an oversized body.
func (s *Server) readWebhookBody(c echo.Context) (body []byte, limit int, err error) {
	body, err = io.ReadAll(http.MaxBytesReader(c.Response(), c.Request().Body, s.opts.WebhookMaxBytes))
	var tooBig *http.MaxBytesError
	if errors.As(err, &tooBig) {
		return nil, int(tooBig.Limit), err
	}
	return body, 0, err
}

func (s *Server) reject(c echo.Context, reason string, code, size int) error {
	s.webhookMetrics.rejected.WithLabelValues(reason).Inc()
	s.rejections.add(Rejection{At: time.Now(), Source: "whatsapp", Reason: reason, Size: size, RemoteIP: c.RealIP()})
	s.log.Warn("whatsapp delivery rejected", "reason", reason, "size", size, "remote_ip", c.RealIP(), "request_id", requestID(c))
	return c.String(code, reason+"\n")
}

type webhookMetrics struct {
	accepted, rejected, verify, helpdesk, received *prometheus.CounterVec
	unknown                                        prometheus.Counter
}

func newWebhookMetrics(reg *prometheus.Registry) *webhookMetrics {
	m := &webhookMetrics{
		accepted: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "relaydesk_whatsapp_webhook_accepted_total", Help: "Accepted WhatsApp deliveries by outcome.",
		}, []string{"outcome"}),
		rejected: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "relaydesk_whatsapp_webhook_rejected_total", Help: "Rejected WhatsApp deliveries by reason (nothing stored).",
		}, []string{"reason"}),
		verify: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "relaydesk_whatsapp_webhook_verifications_total", Help: "Webhook verification handshakes by result.",
		}, []string{"result"}),
		helpdesk: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "relaydesk_helpdesk_webhook_total", Help: "Helpdesk webhooks by connector kind and result (accepted or a rejection reason).",
		}, []string{"kind", "result"}),
		received: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "relaydesk_whatsapp_messages_received_total", Help: "New customer messages stored, by number (redeliveries not counted).",
		}, []string{"number"}),
		unknown: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "relaydesk_whatsapp_webhook_unknown_numbers_total", Help: "Changes for phone number ids no account has.",
		}),
	}
	if reg != nil {
		reg.MustRegister(m.accepted, m.rejected, m.verify, m.helpdesk, m.received, m.unknown)
	}
	return m
}

// Rejection is a refused delivery as kept in memory for the admin page:
// rejected deliveries never write to the database.
type Rejection struct {
	At       time.Time
	Source   string
	Reason   string
	Size     int
	RemoteIP string
}

// rejectionLog keeps the most recent rejections.
type rejectionLog struct {
	mu   sync.Mutex
	buf  []Rejection
	next int
	full bool
}

func newRejectionLog(n int) *rejectionLog { return &rejectionLog{buf: make([]Rejection, n)} }

func (l *rejectionLog) add(r Rejection) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.buf[l.next] = r
	l.next = (l.next + 1) % len(l.buf)
	if l.next == 0 {
		l.full = true
	}
}

// recent returns the kept rejections, newest first.
func (l *rejectionLog) recent() []Rejection {
	l.mu.Lock()
	defer l.mu.Unlock()
	n := l.next
	if l.full {
		n = len(l.buf)
	}
	out := make([]Rejection, 0, n)
	for i := 1; i <= n; i++ {
		out = append(out, l.buf[(l.next-i+len(l.buf))%len(l.buf)])
	}
	return out
}
