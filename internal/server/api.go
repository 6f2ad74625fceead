package server

import (
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/relaydesk/relaydesk/internal/apiauth"
	"github.com/relaydesk/relaydesk/internal/store"
)

// Public API defaults.
const (
	// defaultNumberRateLimit is each WhatsApp number's share of API
	// requests per minute, across applications (Opts.APINumberRateLimit).
	defaultNumberRateLimit = 1200
	// apiMaxBody bounds a JSON request body.
	apiMaxBody = 64 << 10
	// pageDefault and pageMax bound list pages.
	pageDefault, pageMax = 50, 200
)

// Context key of the API's authenticated access.
const ctxAPIAccess = "api.access"

// apiAccess returns the request's access (set by apiAuth).
func apiAccess(c echo.Context) store.APIAccess {
	a, _ := c.Get(ctxAPIAccess).(store.APIAccess)
	return a
}

// problem is an RFC 9457 problem document with relaydesk's extension
// members.
type problem struct {
	Type     string   `json:"type"`
	Title    string   `json:"title"`
	Status   int      `json:"status"`
	Detail   string   `json:"detail,omitempty"`
	Instance string   `json:"instance,omitempty"`
	Errors   []string `json:"errors,omitempty"`
	// Scope is the scope the request lacked (insufficient-scope).
	Scope string `json:"scope,omitempty"`
}

// apiProblem answers a problem whose type names a section of the API
// reference (/api/v1/docs#problem-<name>).
func (s *Server) apiProblem(c echo.Context, status int, name, title, detail string) error {
	return s.writeProblem(c, problem{Type: s.publicBase(c) + "/api/v1/docs#problem-" + name, Title: title, Status: status,
		Detail: detail, Instance: c.Request().URL.Path})
}

func (s *Server) writeProblem(c echo.Context, p problem) error {
	b, err := json.Marshal(p)
	if err != nil {
		return err
	}
	return c.Blob(p.Status, "application/problem+json", b)
}

// apiAuth authenticates a bearer token (RFC 6750) and requires scope: a
// missing token is 401 without an error code, a bad, expired or revoked one
// 401 invalid_token, a token without the scope 403 insufficient_scope. It
// then takes a token from the application's rate-limit bucket and sets the
// RateLimit headers on the response.
func (s *Server) apiAuth(scope string) echo.MiddlewareFunc {
	return func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(c echo.Context) error {
			c.Response().Header().Set("Cache-Control", "no-store")
			h := c.Request().Header.Get("Authorization")
			scheme, tok, _ := strings.Cut(h, " ")
			if h == "" || !strings.EqualFold(scheme, "Bearer") || strings.TrimSpace(tok) == "" {
				c.Response().Header().Set("WWW-Authenticate", `Bearer realm="relaydesk"`)
				return s.apiProblem(c, http.StatusUnauthorized, "unauthorized", "Authentication required",
					"Send an access token from "+apiauth.PathToken+" as Authorization: Bearer <token>.")
			}
			a, err := s.store.AccessByToken(c.Request().Context(), strings.TrimSpace(tok))
			if errors.Is(err, store.ErrNotFound) {
				c.Response().Header().Set("WWW-Authenticate",
					`Bearer realm="relaydesk", error="invalid_token", error_description="the access token is invalid, expired or revoked"`)
				return s.apiProblem(c, http.StatusUnauthorized, "invalid-token", "Invalid access token",
					"The access token is invalid, expired or revoked; get a new one.")
			}
			if err != nil {
				return err
			}
			if !slices.Contains(a.Scopes, scope) {
				c.Response().Header().Set("WWW-Authenticate",
					fmt.Sprintf(`Bearer realm="relaydesk", error="insufficient_scope", scope=%q`, scope))
				return s.writeProblem(c, problem{Type: s.publicBase(c) + "/api/v1/docs#problem-insufficient-scope",
					Title: "Insufficient scope", Status: http.StatusForbidden, Scope: scope, Instance: c.Request().URL.Path,
					Detail: "This request needs the scope " + scope + ", which the access token does not have."})
			}
			c.Set(ctxAPIAccess, a)
			limit := float64(a.Client.RateLimit)
			if ok, err := s.takeAPIToken(c, fmt.Sprintf("api:app:%d", a.Client.ID), limit); err != nil || !ok {
				return err
			}
			return next(c)
		}
	}
}

// rateState is the most constraining bucket seen by a request, for the
// RateLimit headers.
type rateState struct {
	limit     float64
	remaining float64
	reset     time.Duration
}

const ctxRate = "api.rate"

// takeAPIToken takes one request from a bucket holding limit requests and
// refilling limit per minute. It sets RateLimit-Limit, RateLimit-Remaining
// and RateLimit-Reset (draft-ietf-httpapi-ratelimit-headers) for the bucket
// with the fewest requests left, and answers 429 with Retry-After when
// empty (ok is then false and the response is written).
func (s *Server) takeAPIToken(c echo.Context, key string, limit float64) (ok bool, err error) {
	rate := limit / 60
	left, wait, err := s.store.TakeTokenLeft(c.Request().Context(), key, rate, limit)
	if err != nil {
		return false, err
	}
	left = max(0, left)
	st := rateState{limit: limit, remaining: left, reset: time.Duration((limit - left) / rate * float64(time.Second))}
	if prev, have := c.Get(ctxRate).(rateState); !have || st.remaining < prev.remaining || wait > 0 {
		c.Set(ctxRate, st)
		h := c.Response().Header()
		h.Set("RateLimit-Limit", strconv.Itoa(int(limit)))
		h.Set("RateLimit-Remaining", strconv.Itoa(int(math.Floor(left))))
		h.Set("RateLimit-Reset", strconv.Itoa(int(math.Ceil(st.reset.Seconds()))))
		h.Set("RateLimit-Policy", fmt.Sprintf("%d;w=60", int(limit)))
	}
	if wait > 0 {
		secs := int(math.Ceil(wait.Seconds()))
		c.Response().Header().Set("Retry-After", strconv.Itoa(secs))
		c.Response().Header().Set("RateLimit-Remaining", "0")
		return false, s.apiProblem(c, http.StatusTooManyRequests, "rate-limited", "Too many requests",
			fmt.Sprintf("The rate limit is %d requests per minute; retry in %d s.", int(limit), secs))
	}
	return true, nil
}

// takeNumberToken applies a WhatsApp number's share of API requests.
func (s *Server) takeNumberToken(c echo.Context, accountID store.AccountID) (bool, error) {
	limit := s.opts.APINumberRateLimit
	if limit <= 0 {
		limit = defaultNumberRateLimit
	}
	return s.takeAPIToken(c, fmt.Sprintf("api:number:%d", accountID), float64(limit))
}

// apiID parses a numeric path parameter; a malformed one is a 404 like an
// unknown one.
func apiID[T ~int64](c echo.Context, name string) (T, bool) {
	id, err := pathID[T](c, name)
	return id, err == nil
}

// pageLimit reads the limit query parameter.
func pageLimit(c echo.Context) (int, error) {
	v := c.QueryParam("limit")
	if v == "" {
		return pageDefault, nil
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < 1 || n > pageMax {
		return 0, fmt.Errorf("limit must be between 1 and %d", pageMax)
	}
	return n, nil
}

// Cursors are opaque to clients: base64url JSON of where the page ended.
type cursor struct {
	UpdatedAt *time.Time           `json:"u,omitempty"`
	ID        store.ConversationID `json:"i,omitempty"`
	Seq       int64                `json:"s,omitempty"`
}

func encodeCursor(c cursor) string {
	b, _ := json.Marshal(c)
	return base64.RawURLEncoding.EncodeToString(b)
}

func decodeCursor(s string) (cursor, error) {
	var c cursor
	b, err := base64.RawURLEncoding.DecodeString(s)
	if err != nil || json.Unmarshal(b, &c) != nil {
		return c, errors.New("the cursor is not one this API returned")
	}
	return c, nil
}

// page is a list response.
type listPage[T any] struct {
	Data       []T     `json:"data"`
	NextCursor *string `json:"next_cursor"`
}

// badRequest answers a 400 problem about a query or body.
func (s *Server) badRequest(c echo.Context, detail string) error {
	return s.apiProblem(c, http.StatusBadRequest, "invalid-request", "Invalid request", detail)
}

// notFound answers a 404 problem: unknown, or out of the application's reach
// (a chat of a number the application is not allowed is not found).
func (s *Server) apiNotFound(c echo.Context, what string) error {
	return s.apiProblem(c, http.StatusNotFound, "not-found", "Not found", "There is no such "+what+".")
}
