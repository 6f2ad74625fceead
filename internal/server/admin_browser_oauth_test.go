package server_test

import (
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"html/template"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"sync"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/relaydesk/relaydesk/connectors/zendesk/zendesktest"
)

// browserOAuth is a fake Zendesk OAuth provider for the browser test: its
// authorization page has an Allow link back to relaydesk's callback, its
// token endpoint checks the code, the client and the PKCE verifier, and
// every other path goes to the fake Zendesk API.
type browserOAuth struct {
	*httptest.Server
	mu        sync.Mutex
	challenge string
	redirect  string
}

var allowPage = template.Must(template.New("allow").Parse(`<!doctype html><link rel="icon" href="data:,"><title>Zendesk sign-in</title>
<h1>Allow relaydesk?</h1><a id="allow" href="{{.}}">Allow</a>`))

func newBrowserOAuth(t *testing.T, zd *zendesktest.Fake, callback string) *browserOAuth {
	t.Helper()
	target, err := url.Parse(zd.URL)
	require.NoError(t, err)
	p := &browserOAuth{}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /oauth/authorizations/new", func(w http.ResponseWriter, r *http.Request) {
		q := r.URL.Query()
		if q.Get("client_id") != "relaydesk-browser" || q.Get("redirect_uri") != callback || q.Get("code_challenge_method") != "S256" {
			http.Error(w, "bad authorization request", http.StatusBadRequest)
			return
		}
		p.mu.Lock()
		p.challenge = q.Get("code_challenge")
		p.mu.Unlock()
		back := callback + "?" + url.Values{"code": {"browser-code"}, "state": {q.Get("state")}}.Encode()
		_ = allowPage.Execute(w, template.URL(back))
	})
	mux.HandleFunc("POST /oauth/tokens", func(w http.ResponseWriter, r *http.Request) {
		_ = r.ParseForm()
		p.mu.Lock()
		challenge := p.challenge
		p.mu.Unlock()
		sum := sha256.Sum256([]byte(r.PostForm.Get("code_verifier")))
		w.Header().Set("Content-Type", "application/json")
		if r.PostForm.Get("code") != "browser-code" || r.PostForm.Get("client_secret") != "browser-secret" ||
			base64.RawURLEncoding.EncodeToString(sum[:]) != challenge {
			w.WriteHeader(http.StatusBadRequest)
			_ = json.NewEncoder(w).Encode(map[string]string{"error": "invalid_grant"})
			return
		}
		_ = json.NewEncoder(w).Encode(map[string]any{"access_token": zendesktest.OAuthToken, "token_type": "bearer",
			"refresh_token": "refresh-b", "expires_in": 3600})
	})
	mux.Handle("/", httputil.NewSingleHostReverseProxy(target))
	p.Server = httptest.NewServer(mux)
	t.Cleanup(p.Close)
	return p
}

// fakeApp is an application's redirect endpoint: it records what the
// authorization server sent back.
type fakeApp struct {
	*httptest.Server
	mu   sync.Mutex
	back url.Values
}

func newFakeApp(t *testing.T) *fakeApp {
	t.Helper()
	a := &fakeApp{}
	a.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/callback" {
			http.NotFound(w, r)
			return
		}
		a.mu.Lock()
		a.back = r.URL.Query()
		a.mu.Unlock()
		w.Header().Set("Content-Type", "text/html")
		_, _ = w.Write([]byte(`<!doctype html><link rel="icon" href="data:,"><title>CRM</title><h1>CRM got its answer</h1>`))
	}))
	t.Cleanup(a.Close)
	return a
}

func (a *fakeApp) answer() url.Values {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.back
}
