package server

import "github.com/labstack/echo/v4/middleware"

// routes is the whole route table, grouped by who may call it.
func (s *Server) routes() {
	e := s.echo
	small := middleware.BodyLimit("64K")

	// Public, unauthenticated: probes and metrics (bind RELAYDESK_LISTEN to a
	// private interface or filter /metrics at the proxy when exposing it).
	e.GET("/healthz", s.healthz)
	e.GET("/readyz", s.readyz)
	e.GET("/metrics", s.metricsHandler(), small)

	// Webhooks: authenticated by their signatures, not by a session. The
	// handlers read the body themselves with their own size limit.
	e.GET("/webhooks/whatsapp", s.whatsappVerify, small)
	e.POST("/webhooks/whatsapp", s.whatsappDeliver)
	e.POST("/webhooks/helpdesk/:connection", s.helpdeskDeliver)

	// The admin page, its login and River UI: see adminRoutes for each guard.
	s.adminRoutes()

	// The public API, its OAuth 2.0 server and its admin pages: see apiRoutes.
	s.apiRoutes()
}
