package server

import (
	"errors"
	"net/http"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/relaydesk/relaydesk/internal/bridge"
)

// TokenHeader carries the "token" query parameter of a helpdesk callback URL
// to the connector, for helpdesks that cannot sign their webhooks.
const TokenHeader = "X-Relaydesk-Token"

// helpdeskDeliver takes a helpdesk webhook for one connection: authenticated
// by that connection's connector, stored with its send jobs, then 200.
func (s *Server) helpdeskDeliver(c echo.Context) error {
	req := c.Request()
	body, limit, err := s.readWebhookBody(c)
	if limit > 0 {
		return s.rejectHelpdesk(c, bridge.RejectOversized, http.StatusRequestEntityTooLarge, limit)
	}
	if err != nil {
		return c.String(http.StatusBadRequest, "could not read body\n")
	}
	h := req.Header.Clone()
	if tok := req.URL.Query().Get("token"); tok != "" {
		h.Set(TokenHeader, tok)
	}
	res, err := s.bridge.HandleHelpdeskWebhook(req.Context(), c.Param("connection"), h, body)
	var rej *bridge.RejectError
	if errors.As(err, &rej) {
		code := http.StatusUnauthorized
		switch rej.Reason {
		case bridge.RejectUnknownConnection:
			code = http.StatusNotFound
		case bridge.RejectMalformed:
			code = http.StatusBadRequest
		case bridge.RejectDisabled:
			code = http.StatusForbidden
		}
		return s.rejectHelpdesk(c, rej.Reason, code, len(body))
	}
	if errors.Is(err, bridge.ErrIntakeDeadline) {
		s.log.Warn("helpdesk webhook not stored in time; answered 503 so the helpdesk retries", "err", err, "request_id", requestID(c))
		return c.String(http.StatusServiceUnavailable, "not stored yet, retry\n")
	}
	if err != nil {
		return err
	}
	s.webhookMetrics.helpdesk.WithLabelValues(res.Kind, "accepted").Inc()
	return c.String(http.StatusOK, "ok\n")
}

func (s *Server) rejectHelpdesk(c echo.Context, reason string, code, size int) error {
	s.webhookMetrics.helpdesk.WithLabelValues("", reason).Inc()
	s.rejections.add(Rejection{At: time.Now(), Source: "helpdesk", Reason: reason, Size: size, RemoteIP: c.RealIP()})
	s.log.Warn("helpdesk webhook rejected", "reason", reason, "size", size, "remote_ip", c.RealIP(), "request_id", requestID(c))
	return c.String(code, reason+"\n")
}
