package server

import (
	"net/http"

	"github.com/labstack/echo/v4"
	"github.com/labstack/echo/v4/middleware"
)

// adminRoutes is the admin page's route table, grouped by guard. Every
// /admin route loads the session from its cookie (loadSession) and answers
// with Cache-Control: no-store. State-changing requests from another site
// are refused by Sec-Fetch-Site/Origin (sameOrigin) before anything else.
func (s *Server) adminRoutes() {
	e := s.echo
	form := middleware.BodyLimit("256K")

	// Static CSS and JS: public, no session.
	e.GET("/admin/static/*", s.serveStatic)

	// Public: login and one-time setup. Guard: same origin + a double-submit
	// token (cookie + form field), since there is no session yet; logins are
	// rate limited per IP and per account in PostgreSQL; setup needs the
	// token printed in the log (constant-time compare) and closes for good
	// once an admin exists.
	pub := e.Group("/admin", s.loadSession, s.sameOrigin(false), form)
	pub.GET("/login", s.loginPage)
	pub.POST("/login", s.loginSubmit)
	pub.GET("/setup", s.setupPage)
	pub.POST("/setup", s.setupSubmit)

	// Admin: a live session (idle 2h, absolute 12h) + same origin + the
	// session's CSRF token on every POST.
	adm := e.Group("/admin", s.loadSession, s.requireAdmin, s.sameOrigin(false), form, s.requireCSRF)
	adm.GET("", s.adminHome)
	adm.GET("/", s.adminHome)
	adm.POST("/logout", s.logout)

	adm.GET("/numbers", s.numbersList)
	adm.GET("/numbers/new", s.numberNew)
	adm.POST("/numbers", s.numberCreate)
	adm.GET("/numbers/:id", s.numberEdit)
	adm.POST("/numbers/:id", s.numberUpdate)           // refused for file-managed numbers
	adm.POST("/numbers/:id/enabled", s.numberEnabled)  // refused for file-managed numbers
	adm.POST("/numbers/:id/test", s.numberTest)        // reads only; records health
	adm.POST("/numbers/:id/test-event", s.numberEvent) // signed sample through the real intake

	adm.GET("/helpdesks", s.helpdesksList)
	adm.GET("/helpdesks/new", s.helpdeskNew)
	adm.POST("/helpdesks", s.helpdeskCreate)
	adm.GET("/helpdesks/:id", s.helpdeskEdit)
	adm.POST("/helpdesks/:id", s.helpdeskUpdate)          // refused for file-managed connections
	adm.POST("/helpdesks/:id/enabled", s.helpdeskEnabled) // refused for file-managed connections
	adm.POST("/helpdesks/:id/test", s.helpdeskTest)       // reads only; records health
	adm.POST("/helpdesks/:id/webhook", s.helpdeskWebhook) // install or rotate; refused for file-managed
	adm.POST("/helpdesks/:id/connect", s.helpdeskConnect) // starts OAuth2 (state + PKCE kept server-side)
	adm.GET("/oauth/callback", s.oauthCallback)           // the state must belong to this session

	adm.GET("/routes", s.routesList)
	adm.GET("/routes/new", s.routeNew)
	adm.POST("/routes", s.routeCreate)
	adm.GET("/routes/:id", s.routeEdit)
	adm.POST("/routes/:id", s.routeUpdate)        // refused for file-managed routes
	adm.POST("/routes/:id/delete", s.routeDelete) // refused for file-managed routes

	adm.GET("/webhooks", s.webhooksPage)

	adm.GET("/conversations", s.conversationsList)
	adm.GET("/conversations/:id", s.conversationView)
	adm.POST("/messages/:id/retry", s.messageRetry)

	adm.GET("/audit", s.auditPage)

	// River UI: a live session; its API's mutating calls (cancel, retry,
	// delete jobs; pause queues) have no form token, so they must prove they
	// come from this origin (Sec-Fetch-Site: same-origin or a matching
	// Origin). Not exposed anywhere else.
	jobs := e.Group("/admin/jobs", s.loadSession, s.requireAdmin, s.sameOrigin(true), s.jobsCSP)
	jobs.Any("", s.jobsHandler)
	jobs.Any("/*", s.jobsHandler)
}

// adminHome sends admins to the numbers page.
func (s *Server) adminHome(c echo.Context) error {
	return c.Redirect(http.StatusSeeOther, "/admin/numbers")
}
