package server

import (
	"github.com/labstack/echo/v4/middleware"

	"github.com/relaydesk/relaydesk/internal/apiauth"
)

// apiRoutes is the public API's route table: the OAuth 2.0 authorization
// server, /api/v1 and the admin pages that register applications. Each
// route shows its guard.
func (s *Server) apiRoutes() {
	e := s.echo
	small := middleware.BodyLimit("16K")
	s.initAPIPages()

	// Public, unauthenticated: the RFC 8414 metadata, the API description
	// and its reference page.
	e.GET(apiauth.PathMetadata, s.oauthMetadata)
	e.GET("/api/v1/openapi.json", s.openapiJSON)
	e.GET("/api/v1/docs", s.apiDocs)
	e.GET("/api/v1/docs.css", s.apiDocsCSS)

	// Authorization endpoint: checks the request, then sends the browser to
	// the consent page, where a logged-in admin approves or denies.
	e.GET(apiauth.PathAuthorize, s.authorize)

	// Client-authenticated (HTTP Basic or client_secret_post): token,
	// revocation (own tokens only) and introspection (any token for an
	// application allowed to introspect, else its own).
	e.POST(apiauth.PathToken, s.token, small)
	e.POST(apiauth.PathRevoke, s.revoke, small)
	e.POST(apiauth.PathIntrospect, s.introspect, small)

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
	v1.GET("/contacts/:wa_id", s.getContact, scope(apiauth.ScopeContactsRead))
	v1.GET("/subscriptions", s.listSubscriptions, scope(apiauth.ScopeWebhooksManage))
	v1.POST("/subscriptions", s.createSubscription, scope(apiauth.ScopeWebhooksManage))
	v1.GET("/subscriptions/:id", s.getSubscription, scope(apiauth.ScopeWebhooksManage))
	v1.DELETE("/subscriptions/:id", s.deleteSubscription, scope(apiauth.ScopeWebhooksManage))

	// Admin: applications, their grants and subscriptions, and the consent
	// page. Same guards as every admin page: a live session, same origin,
	// and the session's CSRF token on every POST.
	form := middleware.BodyLimit("64K")
	adm := e.Group("/admin", s.loadSession, s.requireAdmin, s.sameOrigin(false), form, s.requireCSRF)
	adm.GET("/apps", s.appsList)
	adm.GET("/apps/new", s.appNew)
	adm.POST("/apps", s.appCreate)
	adm.GET("/apps/consent", s.consentPage)
	adm.POST("/apps/consent", s.consentSubmit)
	adm.GET("/apps/:id", s.appView)
	adm.POST("/apps/:id/enabled", s.appEnabled)
	adm.POST("/apps/:id/secret", s.appRotateSecret)
	adm.POST("/apps/:id/revoke", s.appRevokeAll)
	adm.POST("/apps/:id/grants/:grant/revoke", s.appRevokeGrant)
	adm.POST("/apps/:id/subscriptions/:sub/enabled", s.appSubscriptionEnabled)
	adm.POST("/apps/:id/delete", s.appDelete)
}
