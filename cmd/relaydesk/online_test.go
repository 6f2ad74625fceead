package main

import (
	"bytes"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/relaydesk/relaydesk/connectors/zendesk/zendesktest"
	"github.com/relaydesk/relaydesk/internal/secret"
	"github.com/relaydesk/relaydesk/internal/testdb"
	"github.com/relaydesk/relaydesk/internal/whatsapp/whatsapptest"
)

// onlineFile is the README's shape, with every address from the environment.
const onlineFile = `whatsapp:
  - name: support-us
    phone_number_id: "` + whatsapptest.FixturePhoneNumberID + `"
    waba_id: "` + whatsapptest.FixtureWABAID + `"
    access_token: ${WA_TOKEN}
    app_secret: app-secret
    verify_token: verify-me
    graph_url: ${GRAPH_URL}
helpdesks:
  - name: zendesk-main
    kind: zendesk
    base_url: ${ZD_URL}
    credentials: {email: ` + zendesktest.Email + `, api_token: ${ZD_TOKEN}}
routes:
  - {whatsapp: support-us, helpdesk: zendesk-main}
`

// graphWithSubscriptions serves GET /{version}/{waba}/subscribed_apps with
// apps and passes every other request to the fake Graph.
func graphWithSubscriptions(t *testing.T, fake *whatsapptest.Server, apps []map[string]any) string {
	t.Helper()
	target, err := url.Parse(fake.URL())
	require.NoError(t, err)
	proxy := httputil.NewSingleHostReverseProxy(target)
	path := "/" + fake.Version() + "/" + whatsapptest.FixtureWABAID + "/subscribed_apps"
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != path {
			proxy.ServeHTTP(w, r)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		if r.Method != http.MethodGet || r.Header.Get("Authorization") != "Bearer "+fake.AccessToken() {
			w.WriteHeader(http.StatusUnauthorized)
			_, _ = w.Write([]byte(`{"error":{"message":"Invalid OAuth access token","type":"OAuthException","code":190}}`))
			return
		}
		require.NoError(t, json.NewEncoder(w).Encode(map[string]any{"data": apps}))
	}))
	t.Cleanup(srv.Close)
	return srv.URL
}

func TestCheckConfigOnline(t *testing.T) {
	t.Parallel()
	graph := whatsapptest.Start(t, whatsapptest.Options{})
	zd := zendesktest.New(t)
	app := map[string]any{"whatsapp_business_api_data": map[string]any{"id": "1234567890123456", "name": "Relaydesk App"}}
	dir := t.TempDir()
	path := filepath.Join(dir, "relaydesk.yaml")
	require.NoError(t, os.WriteFile(path, []byte(onlineFile), 0o600))
	env := map[string]string{
		"DATABASE_URL":         testdb.URLFor(testdb.Name(testdb.New(t))),
		"RELAYDESK_BASE_URL":   "https://relaydesk.example.com",
		"RELAYDESK_SECRET_KEY": secret.GenerateKey(),
		"RELAYDESK_CONFIG":     path,
		"WA_TOKEN":             graph.AccessToken(),
		"GRAPH_URL":            graphWithSubscriptions(t, graph, []map[string]any{app}),
		"ZD_URL":               zd.URL,
		"ZD_TOKEN":             zendesktest.APIToken,
	}
	check := func(t *testing.T, change map[string]string, args ...string) (int, string, string) {
		t.Helper()
		e := map[string]string{}
		for k, v := range env {
			e[k] = v
		}
		for k, v := range change {
			e[k] = v
		}
		var out, errb bytes.Buffer
		code := exitCode(checkConfig(t.Context(), func(k string) string { return e[k] }, args, &out, &errb), &errb)
		return code, out.String(), errb.String()
	}

	t.Run("everything works", func(t *testing.T) {
		code, out, stderr := check(t, nil, "--online")
		require.Equal(t, 0, code, stderr)
		lines := strings.Split(strings.TrimSpace(out), "\n")
		require.Len(t, lines, 3, out)
		require.Contains(t, lines[0], "configuration is valid")
		require.Contains(t, lines[1], "ok   whatsapp support-us: token valid, phone number "+whatsapptest.FixturePhoneNumberID)
		require.Contains(t, lines[1], "webhooks go to app Relaydesk App")
		require.Contains(t, lines[1], "https://relaydesk.example.com/webhooks/whatsapp")
		require.Contains(t, lines[2], "ok   helpdesk zendesk-main (zendesk): credentials accepted")
		require.Contains(t, lines[2], "webhook: not installed yet; relaydesk installs it after `relaydesk serve` applies the file")
		require.NotContains(t, out, graph.AccessToken())
		require.NotContains(t, out, zendesktest.APIToken)
	})
	t.Run("without --online nothing is contacted", func(t *testing.T) {
		code, out, _ := check(t, map[string]string{"ZD_URL": "http://127.0.0.1:1", "GRAPH_URL": "http://127.0.0.1:1"})
		require.Equal(t, 0, code)
		require.Equal(t, 1, strings.Count(out, "\n"), out)
	})
	t.Run("each failure is a line saying what to do, and the exit code is 1", func(t *testing.T) {
		code, out, stderr := check(t, map[string]string{
			"WA_TOKEN": "EAA-revoked", "ZD_TOKEN": "wrong-token", "DATABASE_URL": "postgres://postgres@127.0.0.1:1/none",
		}, "--online")
		require.Equal(t, 1, code)
		require.Contains(t, stderr, "online check: 2 of 2 failed")
		lines := strings.Split(strings.TrimSpace(out), "\n")
		require.Len(t, lines, 3, out)
		require.Contains(t, lines[1], "FAIL whatsapp support-us: Graph rejected access_token (expired or revoked): create a new system user token")
		require.Contains(t, lines[2], "FAIL helpdesk zendesk-main (zendesk): the helpdesk refused the credentials")
		require.NotContains(t, out, "EAA-revoked")
		require.NotContains(t, out, "wrong-token")
	})
	t.Run("no app subscribed and an unreachable helpdesk", func(t *testing.T) {
		code, out, _ := check(t, map[string]string{
			"GRAPH_URL": graphWithSubscriptions(t, graph, nil), "ZD_URL": "http://127.0.0.1:1",
		}, "--online")
		require.Equal(t, 1, code)
		require.Contains(t, out, "FAIL whatsapp support-us: token valid")
		require.Contains(t, out, "no app receives WABA "+whatsapptest.FixtureWABAID+"'s webhooks")
		require.Contains(t, out, "FAIL helpdesk zendesk-main (zendesk): the helpdesk could not be reached or is busy")
	})
}
