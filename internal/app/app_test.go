package app_test

import (
	"context"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/relaydesk/relaydesk/internal/app"
	"github.com/relaydesk/relaydesk/internal/config"
	"github.com/relaydesk/relaydesk/internal/migrate"
	"github.com/relaydesk/relaydesk/internal/secret"
	"github.com/relaydesk/relaydesk/internal/testdb"
)

func testConfig(t *testing.T, dbName string, auto bool) *config.Config {
	t.Helper()
	key, err := secret.ParseKey(secret.GenerateKey())
	require.NoError(t, err)
	base, _ := url.Parse("http://localhost:8080")
	return &config.Config{
		DatabaseURL: testdb.URLFor(dbName), Listen: "127.0.0.1:0", BaseURL: base, SecretKey: key,
		LogFormat: "text", AutoMigrate: auto, WebhookRetention: time.Hour, WebhookMaxBytes: 1 << 20,
		ShutdownTimeout: 5 * time.Second, Workers: 5, DBMaxConns: 5, ReplyDBConns: 2,
	}
}

func get(t *testing.T, u string) (int, string) {
	t.Helper()
	resp, err := http.Get(u)
	require.NoError(t, err)
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	return resp.StatusCode, string(b)
}

// start runs Serve on a loopback listener and returns its base URL and a
// function that stops it and returns Serve's result.
func start(t *testing.T, cfg *config.Config) (string, func() error) {
	t.Helper()
	return startWith(t, cfg, nil)
}

// startWith is start with a declarative configuration file.
func startWith(t *testing.T, cfg *config.Config, file *config.File) (string, func() error) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- app.Serve(ctx, cfg, file, slog.New(slog.DiscardHandler), ln) }()
	base := "http://" + ln.Addr().String()
	require.Eventually(t, func() bool {
		resp, err := http.Get(base + "/healthz")
		if err == nil {
			resp.Body.Close()
		}
		return err == nil
	}, 20*time.Second, 20*time.Millisecond)
	return base, func() error { cancel(); return <-done }
}

func TestServeRefusesOldSchema(t *testing.T) {
	t.Parallel()
	pool := testdb.Empty(t)
	cfg := testConfig(t, testdb.Name(pool), false)

	err := app.Serve(context.Background(), cfg, nil, slog.New(slog.DiscardHandler), nil)
	require.ErrorIs(t, err, migrate.ErrPending)
	require.Contains(t, err.Error(), "relaydesk migrate up")
	st, err := migrate.Get(context.Background(), pool)
	require.NoError(t, err)
	require.Zero(t, st.AppVersion, "refusing to start touches nothing")
}

func TestServeMigratesAndAnswers(t *testing.T) {
	t.Parallel()
	pool := testdb.Empty(t)
	cfg := testConfig(t, testdb.Name(pool), true)
	base, stop := start(t, cfg)

	code, body := get(t, base+"/healthz")
	require.Equal(t, http.StatusOK, code)
	require.Equal(t, "ok\n", body)

	code, body = get(t, base+"/readyz")
	require.Equal(t, http.StatusOK, code, body)

	code, body = get(t, base+"/metrics")
	require.Equal(t, http.StatusOK, code)
	for _, m := range []string{"relaydesk_http_request_duration_seconds_bucket", "relaydesk_db_pool_connections",
		`relaydesk_river_jobs{state="available"}`, "go_goroutines",
		// ReplyDBConns's 2 of DBMaxConns's 5 are the replies' own pool
		`relaydesk_db_pool_max_connections{pool="main"} 3`, `relaydesk_db_pool_max_connections{pool="replies"} 2`} {
		require.Contains(t, body, m)
	}

	t.Run("worked jobs are measured", func(t *testing.T) {
		// The retention cleanup runs at start on the leader.
		require.Eventually(t, func() bool {
			_, body := get(t, base+"/metrics")
			return strings.Contains(body, `relaydesk_river_job_duration_seconds_count{kind="cleanup_webhook_events",outcome="ok"} 1`)
		}, 30*time.Second, 100*time.Millisecond)
	})

	t.Run("readyz reports a schema that is not current", func(t *testing.T) {
		ctx := context.Background()
		require.NoError(t, migrate.Down(ctx, pool, slog.New(slog.DiscardHandler), 0))
		code, body := get(t, base+"/readyz")
		require.Equal(t, http.StatusServiceUnavailable, code)
		require.Contains(t, body, "relaydesk migrate up")
		require.NoError(t, migrate.Up(ctx, pool, slog.New(slog.DiscardHandler)))
		code, _ = get(t, base+"/readyz")
		require.Equal(t, http.StatusOK, code)
	})

	t.Run("responses carry security headers and a request id", func(t *testing.T) {
		resp, err := http.Get(base + "/no-such-page")
		require.NoError(t, err)
		resp.Body.Close()
		require.Equal(t, http.StatusNotFound, resp.StatusCode)
		require.Equal(t, "application/problem+json", resp.Header.Get("Content-Type"))
		require.Equal(t, "nosniff", resp.Header.Get("X-Content-Type-Options"))
		require.Equal(t, "DENY", resp.Header.Get("X-Frame-Options"))
		require.NotEmpty(t, resp.Header.Get("X-Request-Id"))
	})

	require.NoError(t, stop(), "graceful shutdown returns no error")
	_, err := http.Get(base + "/healthz")
	require.Error(t, err, "the listener is closed after shutdown")
}
