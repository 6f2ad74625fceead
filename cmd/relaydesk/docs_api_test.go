package main

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/relaydesk/relaydesk/internal/secret"
	"github.com/relaydesk/relaydesk/internal/store"
	"github.com/relaydesk/relaydesk/internal/testdb"
)

// TestDocsPublicAPIExample runs the README's public API example (the shell
// block that starts with BASE=) against the real binary: an application
// registered as the README says, and the chat 42 the example writes to. The
// one change to the block is its first line: BASE names this test's server
// instead of relaydesk.example.com. curl is made to fail on an HTTP error
// (--fail-with-body) so that a refused call fails the test.
func TestDocsPublicAPIExample(t *testing.T) {
	t.Parallel()
	for _, tool := range []string{"curl", "jq"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Skipf("the README's example needs %s (apt-get install -y %s); .ci/run installs it", tool, tool)
		}
	}
	var block string
	for _, b := range docBlocks(t) {
		if b.file == "README.md" && b.lang == "sh" && strings.HasPrefix(b.text, "BASE=") {
			block = b.text
		}
	}
	require.Contains(t, block, "BASE=https://relaydesk.example.com\n", "README.md has no public API example starting with BASE=")

	// relaydesk, as `make run` starts it, on its own database.
	bin := buildBinary(t)
	pool := testdb.Empty(t)
	dbURL := testdb.URLFor(testdb.Name(pool))
	addr := freePort(t)
	key := secret.GenerateKey()
	cfgPath := filepath.Join(t.TempDir(), "relaydesk.yaml")
	require.NoError(t, os.WriteFile(cfgPath, []byte(`whatsapp:
  - name: support
    phone_number_id: "106540352242922"
    waba_id: "102290129340398"
    display_phone_number: "15550783881"
    access_token: token
    app_secret: app-secret
    verify_token: verify
    graph_url: http://127.0.0.1:9
    graph_version: v23.0
`), 0o600))
	var logs bytes.Buffer
	srv := exec.Command(bin, "serve")
	srv.Env = []string{"PATH=" + os.Getenv("PATH"), "DATABASE_URL=" + dbURL, "RELAYDESK_SECRET_KEY=" + key,
		"RELAYDESK_BASE_URL=http://" + addr, "RELAYDESK_LISTEN=" + addr, "RELAYDESK_AUTO_MIGRATE=true",
		"RELAYDESK_CONFIG=" + cfgPath, "RELAYDESK_LOG_LEVEL=warn"}
	srv.Stdout, srv.Stderr = &logs, &logs
	require.NoError(t, srv.Start())
	t.Cleanup(func() { _ = srv.Process.Kill(); _ = srv.Wait() })
	require.Eventually(t, func() bool {
		resp, err := http.Get("http://" + addr + "/readyz")
		if err != nil {
			return false
		}
		resp.Body.Close()
		return resp.StatusCode == http.StatusOK
	}, 60*time.Second, 50*time.Millisecond, "relaydesk never got ready:\n%s", &logs)

	// What an admin does first: register the application (the Applications
	// page calls the same store method), and a customer who wrote in the last
	// 24 hours, in chat 42.
	ctx := context.Background()
	raw, err := secret.ParseKey(key)
	require.NoError(t, err)
	keys, err := secret.NewKeyring(raw, nil)
	require.NoError(t, err)
	st := store.New(pool, keys)
	app, clientSecret, err := st.CreateAPIClient(ctx, store.NewAPIClient{Name: "OrderBot",
		Scopes: []string{"chats:read", "messages:send"}, GrantTypes: []string{"client_credentials"}, RateLimit: 600}, store.Actor{Name: "test"})
	require.NoError(t, err)
	acc, err := st.AccountByName(ctx, "support")
	require.NoError(t, err)
	_, err = pool.Exec(ctx, `SELECT setval('conversations_id_seq', 41)`)
	require.NoError(t, err)
	chat, err := st.EnsureConversation(ctx, acc.ID, "4915112345678")
	require.NoError(t, err)
	require.EqualValues(t, 42, chat)
	_, err = pool.Exec(ctx, `UPDATE conversations SET last_inbound_at = now() WHERE id = $1`, chat)
	require.NoError(t, err)

	script := "curl() { command curl --fail-with-body \"$@\"; }\n" +
		strings.Replace(block, "BASE=https://relaydesk.example.com", "BASE=http://"+addr, 1)
	sh := exec.Command("bash", "-euo", "pipefail", "-c", script)
	sh.Env = []string{"PATH=" + os.Getenv("PATH"), "CLIENT_ID=" + app.ClientID, "CLIENT_SECRET=" + clientSecret}
	out, err := sh.CombinedOutput()
	require.NoError(t, err, "the README's example failed:\n%s\nrelaydesk's log:\n%s", out, &logs)

	// Its two answers: the chat list, then the message it queued in chat 42.
	var list struct {
		Data []json.RawMessage `json:"data"`
	}
	dec := json.NewDecoder(bytes.NewReader(out))
	require.NoError(t, dec.Decode(&list), "the chat list:\n%s", out)
	var sent struct {
		ChatID int64  `json:"chat_id"`
		Text   string `json:"text"`
		State  string `json:"state"`
	}
	require.NoError(t, dec.Decode(&sent), "the send's answer:\n%s", out)
	require.Equal(t, int64(42), sent.ChatID)
	require.Equal(t, "Your order has shipped.", sent.Text)
	require.Equal(t, "pending", sent.State)
}
