package server

import (
	"github.com/labstack/echo/v4"
	"github.com/labstack/echo/v4/middleware"

	"github.com/relaydesk/relaydesk/internal/apiauth"
)

// routes is the whole route table, grouped by who may call it; the guard
// and the body limit of each route stand next to it.
func (s *Server) routes() {
	e := s.echo
	limit16K := middleware.BodyLimit("16K")
	limit64K := middleware.BodyLimit("64K")
	limit256K := middleware.BodyLimit("256K")

	// Public, unauthenticated: probes and metrics (bind RELAYDESK_LISTEN to a
	// private interface or filter /metrics at the proxy when exposing it).
	e.GET("/healthz", s.healthz)
	e.GET("/readyz", s.readyz)
	e.GET("/metrics", s.metricsHandler(), limit64K)

	// Static CSS and JS of the admin page: public, no session.
	e.GET("/admin/static/*", s.serveStatic)

	// Webhooks: authenticated by their signatures, not by a session. The
	// handlers read the body themselves with their own size limit.
	e.GET("/webhooks/whatsapp", s.whatsappVerify, limit64K)
	e.POST("/webhooks/whatsapp", s.whatsappDeliver)
	e.POST("/webhooks/helpdesk/:connection", s.helpdeskDeliver)

	// A customer's media file the helpdesk would not take, by the signed,
	// expiring link in the ticket comment (the token is the credential).
	e.GET("/media/:token", s.mediaLink)

	// The admin page. Every /admin route loads the session from its cookie
	// (loadSession) and answers with Cache-Control: no-store; state-changing
	// requests from another site are refused by Sec-Fetch-Site/Origin
	// (sameOrigin) before anything else.
	adm := e.Group("/admin", s.loadSession)

	// Login and one-time setup (guard login): same origin + a double-submit
	// token (cookie + form field), since there is no session yet; logins are
	// rate limited per IP and per account in PostgreSQL; setup needs the
	// token printed in the log (constant-time compare) and closes for good
	// once an admin exists.
	login := []echo.MiddlewareFunc{s.sameOrigin(false), limit256K}
	adm.GET("/login", s.loginPage, login...)
	adm.POST("/login", s.loginSubmit, login...)
	adm.GET("/setup", s.setupPage, login...)
	adm.POST("/setup", s.setupSubmit, login...)

	// Admin pages (guard page): a live session (idle 2h, absolute 12h) +
	// same origin + the session's CSRF token on every POST. The API-app
	// pages (guard appPage) are the same with a smaller body limit.
	page := s.adminGuard(limit256K)
	appPage := s.adminGuard(limit64K)
	adm.GET("", s.adminHome, page...)
	adm.GET("/", s.adminHome, page...)
	adm.POST("/logout", s.logout, page...)
	adm.GET("/resume", s.resumePage, page...)                 // a form posted after the session expired (admin_resume.go)
	adm.RouteNotFound("/*", echo.NotFoundHandler, appPage...) // logged-out visitors go to the login page first

	adm.GET("/numbers", s.numbersList, page...)
	adm.GET("/numbers/new", s.numberNew, page...)
	adm.POST("/numbers", s.numberCreate, page...)
	adm.GET("/numbers/:id", s.numberEdit, page...)
	adm.POST("/numbers/:id", s.numberUpdate, page...)                             // refused for file-managed numbers
	adm.POST("/numbers/:id/enabled", s.numberEnabled, page...)                    // refused for file-managed numbers
	adm.POST("/numbers/:id/test", s.numberTest, page...)                          // reads only; records health
	adm.POST("/numbers/:id/templates/refresh", s.numberTemplatesRefresh, page...) // reads the catalogue from Graph
	adm.POST("/numbers/:id/test-event", s.numberEvent, page...)                   // signed sample through the real intake
	adm.GET("/numbers/:id/delete", s.numberDeleteConfirm, page...)                // says what goes with it; refused for file-managed
	adm.POST("/numbers/:id/delete", s.numberDelete, page...)                      // refused for file-managed numbers

	adm.GET("/helpdesks", s.helpdesksList, page...)
	adm.GET("/helpdesks/new", s.helpdeskNew, page...)
	adm.POST("/helpdesks", s.helpdeskCreate, page...)
	adm.GET("/helpdesks/:id", s.helpdeskEdit, page...)
	adm.POST("/helpdesks/:id", s.helpdeskUpdate, page...)              // refused for file-managed connections
	adm.POST("/helpdesks/:id/enabled", s.helpdeskEnabled, page...)     // refused for file-managed connections
	adm.POST("/helpdesks/:id/test", s.helpdeskTest, page...)           // reads only; records health
	adm.POST("/helpdesks/:id/webhook", s.helpdeskWebhook, page...)     // install or rotate; refused for file-managed
	adm.POST("/helpdesks/:id/connect", s.helpdeskConnect, page...)     // starts OAuth2 (state + PKCE kept server-side)
	adm.GET("/helpdesks/:id/delete", s.helpdeskDeleteConfirm, page...) // says what goes with it; refused for file-managed
	adm.POST("/helpdesks/:id/delete", s.helpdeskDelete, page...)       // refused for file-managed connections
	adm.GET("/oauth/callback", s.oauthCallback, page...)               // the state must belong to this session

	// Routing rules (WhatsApp number -> helpdesk) live under /admin/routes.
	adm.GET("/routes", s.routingRuleList, page...)
	adm.GET("/routes/new", s.routingRuleNew, page...)
	adm.POST("/routes", s.routingRuleCreate, page...)
	adm.GET("/routes/:id", s.routingRuleEdit, page...)
	adm.POST("/routes/:id", s.routingRuleUpdate, page...)        // refused for file-managed rules
	adm.POST("/routes/:id/delete", s.routingRuleDelete, page...) // refused for file-managed rules

	adm.GET("/webhooks", s.webhooksPage, page...)

	adm.GET("/conversations", s.conversationsList, page...)
	adm.GET("/conversations/:id", s.conversationView, page...)
	adm.POST("/conversations/:id/erase", s.conversationErase, page...) // the customer's data, for an erasure request
	adm.POST("/messages/:id/retry", s.messageRetry, page...)
	adm.GET("/messages/:id/media", s.adminMessageMedia, page...)

	// Customer messages no route matched, held per number; the button routes
	// them again with the number's current routes.
	s.initUnrouted()
	adm.GET("/unrouted", s.unroutedList, page...)
	adm.POST("/unrouted/:id/route", s.unroutedRoute, page...)

	adm.GET("/audit", s.auditPage, page...)

	// API applications, their grants and subscriptions, and the OAuth 2.0
	// consent page, where a logged-in admin approves or denies.
	adm.GET("/apps", s.appsList, appPage...)
	adm.GET("/apps/new", s.appNew, appPage...)
	adm.POST("/apps", s.appCreate, appPage...)
	adm.GET("/apps/consent", s.consentPage, appPage...)
	adm.POST("/apps/consent", s.consentSubmit, appPage...)
	adm.GET("/apps/:id", s.appView, appPage...)
	adm.POST("/apps/:id/enabled", s.appEnabled, appPage...)
	adm.POST("/apps/:id/secret", s.appRotateSecret, appPage...)
	adm.POST("/apps/:id/revoke", s.appRevokeAll, appPage...)
	adm.POST("/apps/:id/grants/:grant/revoke", s.appRevokeGrant, appPage...)
	adm.POST("/apps/:id/subscriptions/:sub/enabled", s.appSubscriptionEnabled, appPage...)
	adm.POST("/apps/:id/delete", s.appDelete, appPage...)

	// River UI (guard jobs): a live session; its API's mutating calls
	// (cancel, retry, delete jobs; pause queues) have no form token, so they
	// must prove they come from this origin (Sec-Fetch-Site: same-origin or
	// a matching Origin). Not exposed anywhere else.
	jobs := []echo.MiddlewareFunc{s.requireAdmin, s.sameOrigin(true), s.jobsCSP}
	adm.Any("/jobs", s.jobsHandler, jobs...)
	adm.Any("/jobs/*", s.jobsHandler, jobs...)
	adm.RouteNotFound("/jobs", echo.NotFoundHandler, jobs...)
	adm.RouteNotFound("/jobs/*", echo.NotFoundHandler, jobs...)

	// The public API's OAuth 2.0 server. Public: the RFC 8414 metadata and
	// the authorization endpoint, which checks the request and sends the
	// browser to the consent page.
	e.GET(apiauth.PathMetadata, s.oauthMetadata)
	e.GET(apiauth.PathAuthorize, s.authorize)
	// Client-authenticated (HTTP Basic or client_secret_post): token,
	// revocation (own tokens only) and introspection (any token for an
	// application allowed to introspect, else its own).
	e.POST(apiauth.PathToken, s.token, limit16K)
	e.POST(apiauth.PathRevoke, s.revoke, limit16K)
	e.POST(apiauth.PathIntrospect, s.introspect, limit16K)

	// The API: a bearer access token with the scope named next to each
	// route, then the application's rate limit; chat and message routes also
	// take from the number's rate limit, and answer 404 for numbers outside
	// the application's reach.
	v1 := e.Group("/api/v1")
	scope := s.apiAuth
	v1.GET("/chats", s.listChats, scope(apiauth.ScopeChatsRead))
	v1.GET("/chats/:id", s.getChat, scope(apiauth.ScopeChatsRead))
	v1.GET("/chats/:id/messages", s.listMessages, scope(apiauth.ScopeMessagesRead))
	v1.POST("/chats/:id/messages", s.sendToChat, scope(apiauth.ScopeMessagesSend))
	v1.POST("/messages", s.sendToNumber, scope(apiauth.ScopeMessagesSend))
	v1.GET("/messages/:id", s.getMessage, scope(apiauth.ScopeMessagesRead))
	v1.GET("/messages/:id/media", s.messageMedia, scope(apiauth.ScopeMessagesRead))
	v1.GET("/numbers/:number/pricing", s.numberPricing, scope(apiauth.ScopeMessagesRead))
	v1.GET("/contacts/:id", s.getContact, scope(apiauth.ScopeContactsRead))
	v1.DELETE("/contacts/:id", s.eraseContact, scope(apiauth.ScopeContactsErase))
	v1.GET("/subscriptions", s.listSubscriptions, scope(apiauth.ScopeWebhooksManage))
	v1.POST("/subscriptions", s.createSubscription, scope(apiauth.ScopeWebhooksManage))
	v1.GET("/subscriptions/:id", s.getSubscription, scope(apiauth.ScopeWebhooksManage))
	v1.DELETE("/subscriptions/:id", s.deleteSubscription, scope(apiauth.ScopeWebhooksManage))

	// API docs: public, unauthenticated: the API description and its
	// reference page.
	v1.GET("/openapi.json", s.openapiJSON)
	v1.GET("/docs", s.apiDocs)
	v1.GET("/docs.css", s.apiDocsCSS)
}

// adminGuard is the guard of a logged-in admin's page: a live session, same
// origin, the body limit, then the session's CSRF token on every POST (read
// from the form, so after the limit).
func (s *Server) adminGuard(limit echo.MiddlewareFunc) []echo.MiddlewareFunc {
	return []echo.MiddlewareFunc{s.requireAdmin, s.sameOrigin(false), limit, s.requireCSRF}
}
