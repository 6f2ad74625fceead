// Package rttest runs connector tests against a real Request Tracker: the
// throwaway server scripts/rt-test-server installs and starts.
//
// [New] finds the server (RELAYDESK_RT_URL and friends in the environment,
// or the .data/rt/env file the script writes), gives each test its own
// queue, and puts a small reverse proxy in front of RT that can inject the
// failures a real server cannot be made to produce on demand (429 with
// Retry-After, 500, a hung request, 401). The returned [Fake] implements
// [connectortest.Fake] by reading and changing RT through REST2 as root
// (users, tickets, history) and as a second privileged user "agent"
// (replies, comments, status changes), so the conformance suite checks the
// connector against RT itself.
//
// RT pushes nothing, so the fake's deliveries are signed notices that
// [connectortest.PollDelivery] answers by polling the connector.
package rttest

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"

	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/relaydesk/relaydesk/connectors/connectortest"
)

// Environment variables naming the test server (scripts/rt-test-server
// prints them and writes them to .data/rt/env).
const (
	EnvURL           = "RELAYDESK_RT_URL"
	EnvToken         = "RELAYDESK_RT_TOKEN"
	EnvRootPassword  = "RELAYDESK_RT_ROOT_PASSWORD"
	EnvAgentUser     = "RELAYDESK_RT_AGENT_USER"
	EnvAgentPassword = "RELAYDESK_RT_AGENT_PASSWORD"
)

// Custom fields the test server has (global ticket custom fields).
const (
	ExternalIDField = "WhatsApp ID"
	TagsField       = "WhatsApp Tags"
)

// Server is a running test RT and its credentials.
type Server struct {
	// URL is RT's web address.
	URL string
	// Token is the API user's ("relaydesk") auth token.
	Token string
	// RootPassword is root's password (the harness's admin).
	RootPassword string
	// AgentUser and AgentPassword are a privileged user's credentials.
	AgentUser, AgentPassword string
	// From says where the values came from.
	From string
}

// Lookup finds the test server: the environment first, then the file
// scripts/rt-test-server writes (.data/rt/env at the module root). It does
// not check that the server answers.
func Lookup() (Server, error) {
	get := os.Getenv
	from := "environment"
	if os.Getenv(EnvURL) == "" {
		path, err := envFile()
		if err != nil {
			return Server{}, err
		}
		vals, err := readEnvFile(path)
		if err != nil {
			return Server{}, err
		}
		get = func(k string) string { return vals[k] }
		from = path
	}
	s := Server{URL: get(EnvURL), Token: get(EnvToken), RootPassword: get(EnvRootPassword), AgentUser: get(EnvAgentUser), AgentPassword: get(EnvAgentPassword), From: from}
	if s.URL == "" || s.Token == "" || s.RootPassword == "" || s.AgentUser == "" || s.AgentPassword == "" {
		return Server{}, fmt.Errorf("incomplete RT test server settings in %s (need %s, %s, %s, %s, %s)", from, EnvURL, EnvToken, EnvRootPassword, EnvAgentUser, EnvAgentPassword)
	}
	return s, nil
}

// envFile finds .data/rt/env above the working directory (at the module
// root).
func envFile() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			p := filepath.Join(dir, ".data", "rt", "env")
			if _, err := os.Stat(p); err != nil {
				return "", fmt.Errorf("%s not set and no %s", EnvURL, p)
			}
			return p, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", fmt.Errorf("%s not set and no module root found", EnvURL)
		}
		dir = parent
	}
}

// readEnvFile reads KEY='value' lines.
func readEnvFile(path string) (map[string]string, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	vals := map[string]string{}
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		k, v, ok := strings.Cut(strings.TrimSpace(sc.Text()), "=")
		if !ok || strings.HasPrefix(k, "#") {
			continue
		}
		vals[k] = strings.Trim(v, `'"`)
	}
	return vals, sc.Err()
}

var (
	skipNotice sync.Once
	lookupOnce sync.Once
	lookupSrv  Server
	lookupErr  error
)

// Require returns the test server, or skips the test with a loud message
// saying how to get one when there is none or it does not answer.
func Require(t testing.TB) Server {
	t.Helper()
	lookupOnce.Do(func() {
		lookupSrv, lookupErr = Lookup()
		if lookupErr != nil {
			return
		}
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, lookupSrv.URL+"/REST/2.0/queues/all", nil)
		req.Header.Set("Authorization", "token "+lookupSrv.Token)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			lookupErr = fmt.Errorf("RT at %s (from %s) does not answer: %v", lookupSrv.URL, lookupSrv.From, err)
			return
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			lookupErr = fmt.Errorf("RT at %s (from %s) answers %s to the stored token", lookupSrv.URL, lookupSrv.From, resp.Status)
		}
	})
	if lookupErr != nil {
		skipNotice.Do(func() {
			// Also straight to stderr: go test hides skip messages unless -v.
			fmt.Fprintf(os.Stderr, "rttest: SKIPPING the Request Tracker tests: no RT test server (%v); start one with scripts/rt-test-server\n", lookupErr)
		})
		t.Skipf("\n\n"+
			"##################################################################\n"+
			"### SKIPPED: NO REQUEST TRACKER TEST SERVER.                    ###\n"+
			"### The RT connector is NOT tested against a real RT in this run. ###\n"+
			"### Start one with:  sudo scripts/rt-test-server               ###\n"+
			"##################################################################\n"+
			"reason: %v\n", lookupErr)
	}
	return lookupSrv
}

// proxy forwards to RT and injects failures.
type proxy struct {
	srv      *httptest.Server
	rp       *httputil.ReverseProxy
	failures connectortest.Failures
}

func newProxy(target *url.URL) *proxy {
	p := &proxy{rp: httputil.NewSingleHostReverseProxy(target)}
	p.srv = httptest.NewServer(http.HandlerFunc(p.serve))
	return p
}

func (p *proxy) close() {
	p.failures.Close()
	p.srv.Close()
}

func (p *proxy) serve(w http.ResponseWriter, r *http.Request) {
	if !p.failures.Inject(w, r, failWith) {
		p.rp.ServeHTTP(w, r)
	}
}

// failWith answers an injected failure as RT's REST2 does.
func failWith(w http.ResponseWriter, kind connectortest.Failure) {
	fail := func(status int, msg string) {
		w.Header().Set("Content-Type", "application/json; charset=utf-8")
		w.WriteHeader(status)
		fmt.Fprintf(w, `{"message":%q}`, msg)
	}
	switch kind {
	case connectortest.FailRateLimited:
		fail(http.StatusTooManyRequests, "Too Many Requests")
	case connectortest.FailServerError:
		fail(http.StatusInternalServerError, "Internal Server Error")
	case connectortest.FailUnauthorized:
		fail(http.StatusUnauthorized, "Unauthorized")
	}
}

// restClient is a REST2 client with fixed credentials, for the harness.
type restClient struct {
	base string
	auth func(*http.Request)
	hc   *http.Client
}

// do runs one request and decodes the JSON answer into out.
func (c restClient) do(ctx context.Context, method, path string, query url.Values, in, out any) error {
	u := c.base + "/REST/2.0/" + path
	if len(query) > 0 {
		u += "?" + query.Encode()
	}
	var body io.Reader
	if in != nil {
		b, err := json.Marshal(in)
		if err != nil {
			return err
		}
		body = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, u, body)
	if err != nil {
		return err
	}
	c.auth(req)
	if in != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := c.hc.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	if err != nil {
		return err
	}
	if resp.StatusCode/100 != 2 {
		return fmt.Errorf("rttest: %s %s: %s: %.300s", method, path, resp.Status, data)
	}
	if out != nil {
		if err := json.Unmarshal(data, out); err != nil {
			return fmt.Errorf("rttest: %s %s: %w", method, path, err)
		}
	}
	return nil
}
