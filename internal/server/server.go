// Package server is relaydesk's HTTP side: the Echo instance, its middleware,
// the route table (routes.go) and the handlers. Handlers stay thin: read and
// check the request, call the domain, answer.
package server

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/labstack/echo/v4"
	"github.com/labstack/echo/v4/middleware"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/riverqueue/river"

	"github.com/relaydesk/relaydesk/internal/bridge"
	"github.com/relaydesk/relaydesk/internal/store"
)

// Opts is what a Server needs.
type Opts struct {
	Logger          *slog.Logger
	Store           *store.Store
	Bridge          *bridge.Bridge
	Registry        *prometheus.Registry // metrics are registered here and served at /metrics
	WebhookMaxBytes int64
	TrustedProxies  []netip.Prefix
	TLS             bool // the service is reached over HTTPS (directly or through a proxy)
	// Ready reports whether the service can take traffic; nil means ready.
	Ready func(ctx context.Context) error
	// BaseURL is RELAYDESK_BASE_URL: the admin page builds webhook and OAuth
	// callback URLs from it (nil: from the request).
	BaseURL *url.URL
	// River is the River client the admin page's jobs view (River UI) reads;
	// nil leaves /admin/jobs unavailable.
	River *river.Client[pgx.Tx]
	// Connectors builds helpdesk connectors for the admin page (test
	// connection, webhook install, OAuth2); nil uses the registry.
	Connectors bridge.ConnectorFactory
	// APINumberRateLimit is each WhatsApp number's share of public API
	// requests per minute, across applications (default 1200).
	APINumberRateLimit int
	// AllowPrivateURLs is RELAYDESK_ALLOW_PRIVATE_URLS: the admin page
	// accepts Graph and helpdesk URLs on loopback or link-local addresses
	// (for tests and demos whose fakes listen on 127.0.0.1).
	AllowPrivateURLs bool
}

// Server is the HTTP service.
type Server struct {
	echo           *echo.Echo
	log            *slog.Logger
	store          *store.Store
	bridge         *bridge.Bridge
	opts           Opts
	metrics        *httpMetrics
	webhookMetrics *webhookMetrics
	rejections     *rejectionLog
	unknownLog     *logLimit // unknown-number deliveries: one log line a minute
	// unknownDeliveries are the last unknown-number deliveries (Webhooks page).
	unknownDeliveries *unknownLog
	admin             *adminState
}

// New builds the Echo instance with middleware and every route.
func New(opts Opts) *Server {
	e := echo.New()
	e.HideBanner = true
	e.HidePort = true
	e.IPExtractor = ipExtractor(opts.TrustedProxies)

	if opts.WebhookMaxBytes <= 0 {
		opts.WebhookMaxBytes = 4 << 20
	}
	s := &Server{echo: e, log: opts.Logger, store: opts.Store, bridge: opts.Bridge, opts: opts,
		metrics: newHTTPMetrics(opts.Registry), webhookMetrics: newWebhookMetrics(opts.Registry),
		rejections: newRejectionLog(200), unknownLog: &logLimit{interval: time.Minute},
		unknownDeliveries: newUnknownLog()}
	e.HTTPErrorHandler = s.errorHandler
	s.initAdmin()
	s.initAPIPages()

	e.Use(middleware.RequestIDWithConfig(middleware.RequestIDConfig{TargetHeader: echo.HeaderXRequestID}))
	e.Use(s.logRequests)
	e.Use(middleware.RecoverWithConfig(middleware.RecoverConfig{
		LogErrorFunc: func(c echo.Context, err error, stack []byte) error {
			s.log.Error("panic in handler", "err", err, "path", c.Path(), "request_id", requestID(c), "stack", string(stack))
			return err
		},
	}))
	hsts := 0
	if opts.TLS {
		hsts = 31536000
	}
	e.Use(middleware.SecureWithConfig(middleware.SecureConfig{
		ContentTypeNosniff:    "nosniff",
		XFrameOptions:         "DENY",
		HSTSMaxAge:            hsts,
		ReferrerPolicy:        "same-origin",
		ContentSecurityPolicy: "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; frame-ancestors 'none'; form-action 'self'",
	}))
	s.routes()
	return s
}

// Handler returns the root handler (for tests and for embedding).
func (s *Server) Handler() http.Handler { return s.echo }

// HTTPServer wraps the handler with relaydesk's server timeouts.
func (s *Server) HTTPServer(addr string) *http.Server {
	return &http.Server{
		Addr:              addr,
		Handler:           s.echo,
		ReadHeaderTimeout: 5 * time.Second,
		ReadTimeout:       30 * time.Second,
		WriteTimeout:      2 * time.Minute, // media downloads through the public API stream for a while
		IdleTimeout:       2 * time.Minute,
		MaxHeaderBytes:    64 << 10,
		ErrorLog:          slog.NewLogLogger(s.log.Handler(), slog.LevelWarn),
		TLSConfig:         &tls.Config{MinVersion: tls.VersionTLS12},
	}
}

// Serve answers on ln until ctx ends, then shuts down gracefully: it stops
// accepting, waits up to grace for in-flight requests, and returns.
func (s *Server) Serve(ctx context.Context, ln net.Listener, certFile, keyFile string, grace time.Duration) error {
	srv := s.HTTPServer(ln.Addr().String())
	errc := make(chan error, 1)
	go func() {
		var err error
		if certFile != "" {
			err = srv.ServeTLS(ln, certFile, keyFile)
		} else {
			err = srv.Serve(ln)
		}
		errc <- err
	}()
	select {
	case err := <-errc:
		return fmt.Errorf("http server: %w", err)
	case <-ctx.Done():
	}
	sctx, cancel := context.WithTimeout(context.Background(), grace)
	defer cancel()
	if err := srv.Shutdown(sctx); err != nil {
		return fmt.Errorf("http shutdown: %w", err)
	}
	if err := <-errc; err != nil && !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}

// ipExtractor believes X-Forwarded-For only from the trusted proxies.
func ipExtractor(trusted []netip.Prefix) echo.IPExtractor {
	if len(trusted) == 0 {
		return echo.ExtractIPDirect()
	}
	opts := []echo.TrustOption{echo.TrustLoopback(false), echo.TrustLinkLocal(false), echo.TrustPrivateNet(false)}
	for _, p := range trusted {
		_, n, err := net.ParseCIDR(p.String())
		if err == nil {
			opts = append(opts, echo.TrustIPRange(n))
		}
	}
	return echo.ExtractIPFromXFFHeader(opts...)
}

func requestID(c echo.Context) string {
	return c.Response().Header().Get(echo.HeaderXRequestID)
}

// logRequests writes one structured line per request. It logs the route
// pattern and never the query string, which may carry tokens (hub.verify_token).
func (s *Server) logRequests(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		start := time.Now()
		err := next(c)
		if err != nil {
			c.Error(err)
		}
		status := c.Response().Status
		route := c.Path()
		if route == "" {
			route = "unmatched"
		}
		elapsed := time.Since(start)
		s.metrics.observe(c.Request().Method, route, status, elapsed)
		level := slog.LevelInfo
		switch {
		case status >= 500:
			level = slog.LevelError
		case route == "/healthz" || route == "/readyz" || route == "/metrics":
			level = slog.LevelDebug
		}
		s.log.LogAttrs(c.Request().Context(), level, "http request",
			slog.String("method", c.Request().Method),
			slog.String("route", route),
			slog.Int("status", status),
			slog.Duration("duration", elapsed),
			slog.Int64("bytes_in", c.Request().ContentLength),
			slog.Int64("bytes_out", c.Response().Size),
			slog.String("remote_ip", c.RealIP()),
			slog.String("request_id", requestID(c)),
			conversationAttr(c),
		)
		return nil
	}
}

// ctxConversation is the echo.Context key of the conversation a request
// worked on, for its log line.
const ctxConversation = "relaydesk.conversation_id"

// noteConversation records the conversation a request works on; its log
// line carries it.
func noteConversation(c echo.Context, id store.ConversationID) {
	if id != 0 {
		c.Set(ctxConversation, id)
	}
}

func conversationAttr(c echo.Context) slog.Attr {
	if id, ok := c.Get(ctxConversation).(store.ConversationID); ok {
		return slog.Int64("conversation_id", int64(id))
	}
	return slog.Attr{}
}

// Problem is an RFC 9457 problem document.
type Problem struct {
	Type   string `json:"type,omitempty"`
	Title  string `json:"title"`
	Status int    `json:"status"`
	Detail string `json:"detail,omitempty"`
}

// errorHandler maps errors to responses in one place.
func (s *Server) errorHandler(err error, c echo.Context) {
	if c.Response().Committed {
		return
	}
	if isAdminHTML(c) {
		s.adminError(err, c)
		return
	}
	code := http.StatusInternalServerError
	detail := ""
	var he *echo.HTTPError
	if errors.As(err, &he) {
		code = he.Code
		if m, ok := he.Message.(string); ok {
			detail = m
		}
	} else {
		s.log.Error("request failed", "err", err, "route", c.Path(), "request_id", requestID(c))
	}
	p := Problem{Title: http.StatusText(code), Status: code, Detail: detail}
	if c.Request().Method == http.MethodHead {
		_ = c.NoContent(code)
		return
	}
	c.Response().Header().Set(echo.HeaderContentType, "application/problem+json")
	_ = c.JSON(code, p)
}
