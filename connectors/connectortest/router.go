package connectortest

import (
	"fmt"
	"net/http"
	"slices"
	"sync"
)

// Check inspects a request as it arrives, before its route's handler runs.
// It returns "" when the request keeps the helpdesk's rules, or the rule it
// breaks: the fake records the violation and refuses the request with 400.
// A check that reads the body must use [PeekBody].
type Check func(r *http.Request) string

// Route is one endpoint of a fake: the request it accepts and the handler
// that answers it.
type Route struct {
	// Pattern is an http.ServeMux pattern: "GET /api/v2/users/{id}".
	Pattern string
	// Query are the documented query parameters; any other is refused.
	Query []string
	// Checks are the route's other rules (headers, body fields), checked
	// in order as the request arrives.
	Checks []Check
	// Handle answers a request that passed the checks.
	Handle http.HandlerFunc
}

// Router serves a fake's routes and checks each request against its route
// as it arrives. It is safe for concurrent use.
type Router struct {
	mux *http.ServeMux

	mu     sync.Mutex
	routes map[string]*routeState
}

type routeState struct {
	query  []string
	checks []Check
	hits   int
}

// NewRouter returns a router of routes.
func NewRouter(routes []Route) *Router {
	rt := &Router{mux: http.NewServeMux(), routes: map[string]*routeState{}}
	for _, r := range routes {
		rt.mux.HandleFunc(r.Pattern, r.Handle)
		rt.routes[r.Pattern] = &routeState{query: r.Query, checks: slices.Clone(r.Checks)}
	}
	return rt
}

// Expect adds a check to the route with this pattern, for the requests
// that follow. It panics when there is no such route.
func (rt *Router) Expect(pattern string, c Check) {
	rt.mu.Lock()
	defer rt.mu.Unlock()
	st := rt.routes[pattern]
	if st == nil {
		panic("connectortest: no route " + pattern)
	}
	st.checks = append(st.checks, c)
}

// Hits returns how many requests the route with this pattern accepted
// (those that passed its checks).
func (rt *Router) Hits(pattern string) int {
	rt.mu.Lock()
	defer rt.mu.Unlock()
	if st := rt.routes[pattern]; st != nil {
		return st.hits
	}
	return 0
}

// Check reports whether r is for a documented endpoint with documented
// query parameters and passes the route's checks. Otherwise it records the
// violation in vs and returns the status the fake answers with a message
// for its error body: http.StatusNotFound for an unknown endpoint,
// http.StatusBadRequest for an undocumented query parameter or a failed
// check.
func (rt *Router) Check(r *http.Request, vs *Violations, helpdesk string) (status int, msg string) {
	_, pattern := rt.mux.Handler(r)
	if pattern == "" {
		vs.Addf("%s %s: no such %s endpoint", r.Method, r.URL.Path, helpdesk)
		return http.StatusNotFound, "no such endpoint"
	}
	rt.mu.Lock()
	st := rt.routes[pattern]
	checks := slices.Clone(st.checks)
	rt.mu.Unlock()
	for key := range r.URL.Query() {
		if !slices.Contains(st.query, key) {
			vs.Addf("%s %s: undocumented query parameter %q", r.Method, r.URL.Path, key)
			return http.StatusBadRequest, "unknown parameter " + key
		}
	}
	for _, c := range checks {
		if problem := c(r); problem != "" {
			vs.Addf("%s %s: %s", r.Method, r.URL.Path, problem)
			return http.StatusBadRequest, problem
		}
	}
	rt.mu.Lock()
	st.hits++
	rt.mu.Unlock()
	return 0, ""
}

// ServeHTTP serves r with its route's handler.
func (rt *Router) ServeHTTP(w http.ResponseWriter, r *http.Request) { rt.mux.ServeHTTP(w, r) }

// HeaderContains is a check that header name contains want (Accept:
// application/json).
func HeaderContains(name, want string) Check {
	return func(r *http.Request) string {
		if got := r.Header.Get(name); !containsFold(got, want) {
			return fmt.Sprintf("%s must be %s, got %q", name, want, got)
		}
		return ""
	}
}

// JSONHandler is a route handler that decodes the request's JSON body into
// a Req with decode, which answers a refused body itself, then runs handle
// with mu held.
func JSONHandler[Req any](mu *sync.Mutex, decode func(http.ResponseWriter, *http.Request, any) bool, handle func(http.ResponseWriter, *http.Request, *Req)) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		var req Req
		if !decode(w, r, &req) {
			return
		}
		mu.Lock()
		defer mu.Unlock()
		handle(w, r, &req)
	}
}

// Locking is a route handler that runs h with mu held.
func Locking(mu *sync.Mutex, h http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		defer mu.Unlock()
		h(w, r)
	}
}
