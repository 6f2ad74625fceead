package config_test

import (
	"log/slog"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/relaydesk/relaydesk/internal/config"
)

const goodKey = "q83vEjRWeJq83vEjRWeJq83vEjRWeJq83vEjRWeJq80=" // 32 bytes

func env(m map[string]string) config.Getenv {
	return func(k string) string { return m[k] }
}

func validEnv() map[string]string {
	return map[string]string{
		"DATABASE_URL":         "postgres://postgres@127.0.0.1:5432/relaydesk",
		"RELAYDESK_BASE_URL":   "https://relaydesk.example.com/",
		"RELAYDESK_SECRET_KEY": goodKey,
	}
}

func TestLoadDefaults(t *testing.T) {
	t.Parallel()

	c, err := config.Load(env(validEnv()))
	require.NoError(t, err)
	require.Equal(t, "127.0.0.1:8080", c.Listen)
	require.Equal(t, "https://relaydesk.example.com", c.BaseURL.String())
	require.Len(t, c.SecretKey, 32)
	require.Nil(t, c.SecretKeyOld)
	require.Equal(t, slog.LevelInfo, c.LogLevel)
	require.Equal(t, "json", c.LogFormat)
	require.False(t, c.AutoMigrate)
	require.Equal(t, 168*time.Hour, c.WebhookRetention)
	require.Equal(t, int64(4<<20), c.WebhookMaxBytes)
	require.Equal(t, 30*time.Second, c.ShutdownTimeout)
	require.Empty(t, c.TrustedProxies)
	require.Empty(t, c.PprofListen, "profiling is off unless asked for")
	require.Equal(t, time.Second, c.InboundSettle)
}

func TestLoadValidation(t *testing.T) {
	t.Parallel()

	tests := []struct {
		name  string
		set   map[string]string
		unset []string
		want  []string // fragments the error must contain
		n     int      // number of problems, when not len(want)
		check func(t *testing.T, c *config.Config)
	}{
		{name: "nothing set", unset: []string{"DATABASE_URL", "RELAYDESK_BASE_URL", "RELAYDESK_SECRET_KEY"},
			want: []string{"DATABASE_URL is not set", "RELAYDESK_BASE_URL is not set", "RELAYDESK_SECRET_KEY is not set"}},
		{name: "short secret key", set: map[string]string{"RELAYDESK_SECRET_KEY": "c2hvcnQ="},
			want: []string{"RELAYDESK_SECRET_KEY = (hidden): want 32 random bytes in base64 (the value decodes to 5 bytes, want 32)"}},
		{name: "secret key not base64", set: map[string]string{"RELAYDESK_SECRET_KEY": "!!!"},
			want: []string{"RELAYDESK_SECRET_KEY = (hidden)", "is not valid base64"}, n: 1},
		{name: "bad old key", set: map[string]string{"RELAYDESK_SECRET_KEY_OLD": "abc"}, want: []string{"RELAYDESK_SECRET_KEY_OLD"}},
		{name: "old key", set: map[string]string{"RELAYDESK_SECRET_KEY_OLD": goodKey},
			check: func(t *testing.T, c *config.Config) { require.Len(t, c.SecretKeyOld, 32) }},
		{name: "http base url off localhost", set: map[string]string{"RELAYDESK_BASE_URL": "http://relaydesk.example.com"},
			want: []string{`RELAYDESK_BASE_URL = "http://relaydesk.example.com": want the public https URL`}},
		{name: "http base url on localhost", set: map[string]string{"RELAYDESK_BASE_URL": "http://localhost:8080"},
			check: func(t *testing.T, c *config.Config) { require.Equal(t, "http://localhost:8080", c.BaseURL.String()) }},
		{name: "http base url on loopback ip", set: map[string]string{"RELAYDESK_BASE_URL": "http://127.0.0.1:8080/relay/"},
			check: func(t *testing.T, c *config.Config) { require.Equal(t, "/relay", c.BaseURL.Path) }},
		{name: "base url without host", set: map[string]string{"RELAYDESK_BASE_URL": "https://"}, want: []string{"RELAYDESK_BASE_URL"}},
		{name: "database url scheme", set: map[string]string{"DATABASE_URL": "mysql://x"}, want: []string{"DATABASE_URL = (hidden): want a postgres://"}},
		{name: "settle window off", set: map[string]string{"RELAYDESK_INBOUND_SETTLE": "0"},
			check: func(t *testing.T, c *config.Config) { require.Zero(t, c.InboundSettle) }},
		{name: "settle window negative", set: map[string]string{"RELAYDESK_INBOUND_SETTLE": "-1s"}, want: []string{"RELAYDESK_INBOUND_SETTLE"}},
		{name: "settle window too long", set: map[string]string{"RELAYDESK_INBOUND_SETTLE": "20s"}, want: []string{"RELAYDESK_INBOUND_SETTLE"}},
		{name: "settle window not a duration", set: map[string]string{"RELAYDESK_INBOUND_SETTLE": "x"}, want: []string{"RELAYDESK_INBOUND_SETTLE"}},
		{name: "call timeout", set: map[string]string{"RELAYDESK_CALL_TIMEOUT": "5s"},
			check: func(t *testing.T, c *config.Config) { require.Equal(t, 5*time.Second, c.CallTimeout) }},
		{name: "call timeout too short", set: map[string]string{"RELAYDESK_CALL_TIMEOUT": "10ms"}, want: []string{"RELAYDESK_CALL_TIMEOUT"}},
		{name: "call timeout too long", set: map[string]string{"RELAYDESK_CALL_TIMEOUT": "1h"}, want: []string{"RELAYDESK_CALL_TIMEOUT"}},
		{name: "River fetch defaults", check: func(t *testing.T, c *config.Config) {
			require.Equal(t, 20*time.Millisecond, c.FetchCooldown)
			require.Equal(t, time.Second, c.FetchPollInterval)
		}},
		{name: "River fetch settings", set: map[string]string{"RELAYDESK_FETCH_COOLDOWN": "5ms", "RELAYDESK_FETCH_POLL_INTERVAL": "200ms"},
			check: func(t *testing.T, c *config.Config) {
				require.Equal(t, 5*time.Millisecond, c.FetchCooldown)
				require.Equal(t, 200*time.Millisecond, c.FetchPollInterval)
			}},
		{name: "fetch cooldown too long", set: map[string]string{"RELAYDESK_FETCH_COOLDOWN": "2s"}, want: []string{"RELAYDESK_FETCH_COOLDOWN"}},
		{name: "fetch cooldown zero", set: map[string]string{"RELAYDESK_FETCH_COOLDOWN": "0"}, want: []string{"RELAYDESK_FETCH_COOLDOWN"}},
		{name: "poll interval under the cooldown", set: map[string]string{"RELAYDESK_FETCH_COOLDOWN": "500ms", "RELAYDESK_FETCH_POLL_INTERVAL": "100ms"},
			want: []string{"RELAYDESK_FETCH_POLL_INTERVAL"}},
		{name: "retention off by default", check: func(t *testing.T, c *config.Config) { require.Zero(t, c.MessageRetention) }},
		{name: "retention", set: map[string]string{"RELAYDESK_MESSAGE_RETENTION": "2160h"},
			check: func(t *testing.T, c *config.Config) { require.Equal(t, 90*24*time.Hour, c.MessageRetention) }},
		{name: "retention too short", set: map[string]string{"RELAYDESK_MESSAGE_RETENTION": "1h"}, want: []string{"RELAYDESK_MESSAGE_RETENTION"}},
		{name: "listen", set: map[string]string{"RELAYDESK_LISTEN": "8080"}, want: []string{`RELAYDESK_LISTEN = "8080": want host:port`}},
		{name: "log level and format", set: map[string]string{"RELAYDESK_LOG_LEVEL": "loud", "RELAYDESK_LOG_FORMAT": "xml"},
			want: []string{"RELAYDESK_LOG_LEVEL", "RELAYDESK_LOG_FORMAT"}},
		{name: "debug text logs", set: map[string]string{"RELAYDESK_LOG_LEVEL": "debug", "RELAYDESK_LOG_FORMAT": "TEXT"},
			check: func(t *testing.T, c *config.Config) {
				require.Equal(t, slog.LevelDebug, c.LogLevel)
				require.Equal(t, "text", c.LogFormat)
			}},
		{name: "tls cert without key", set: map[string]string{"RELAYDESK_TLS_CERT": "/etc/hostname"}, want: []string{"RELAYDESK_TLS_CERT"}},
		{name: "tls files missing", set: map[string]string{"RELAYDESK_TLS_CERT": "/nonexistent/c.pem", "RELAYDESK_TLS_KEY": "/nonexistent/k.pem"},
			want: []string{"RELAYDESK_TLS_CERT", "RELAYDESK_TLS_KEY"}},
		{name: "trusted proxies", set: map[string]string{"RELAYDESK_TRUSTED_PROXIES": "10.0.0.0/8, 192.168.1.5"},
			check: func(t *testing.T, c *config.Config) {
				require.Len(t, c.TrustedProxies, 2)
				require.Equal(t, "192.168.1.5/32", c.TrustedProxies[1].String())
			}},
		{name: "bad trusted proxy", set: map[string]string{"RELAYDESK_TRUSTED_PROXIES": "10.0.0.0/8,nope"}, want: []string{`bad entry "nope"`}},
		{name: "auto migrate", set: map[string]string{"RELAYDESK_AUTO_MIGRATE": "yes"}, want: []string{"RELAYDESK_AUTO_MIGRATE"}},
		{name: "retention", set: map[string]string{"RELAYDESK_WEBHOOK_RETENTION": "5m"}, want: []string{"RELAYDESK_WEBHOOK_RETENTION"}},
		{name: "config file missing", set: map[string]string{"RELAYDESK_CONFIG": "/nonexistent.yaml"}, want: []string{"RELAYDESK_CONFIG"}},
		{name: "workers", set: map[string]string{"RELAYDESK_WORKERS": "0", "RELAYDESK_DB_MAX_CONNS": "x"}, want: []string{"RELAYDESK_WORKERS", "RELAYDESK_DB_MAX_CONNS"}},
		{name: "reply lane defaults", check: func(t *testing.T, c *config.Config) {
			require.Equal(t, int32(4), c.ReplyDBConns)
			require.Equal(t, 50, c.ReplyWorkers)
		}},
		{name: "replies share the pool", set: map[string]string{"RELAYDESK_REPLY_DB_CONNS": "0"},
			check: func(t *testing.T, c *config.Config) { require.Zero(t, c.ReplyDBConns) }},
		{name: "a small pool keeps a fifth for replies", set: map[string]string{"RELAYDESK_DB_MAX_CONNS": "5"},
			check: func(t *testing.T, c *config.Config) { require.Equal(t, int32(1), c.ReplyDBConns) }},
		{name: "reply pool leaves too little", set: map[string]string{"RELAYDESK_DB_MAX_CONNS": "5", "RELAYDESK_REPLY_DB_CONNS": "4"},
			want: []string{"RELAYDESK_REPLY_DB_CONNS"}},
		{name: "reply workers", set: map[string]string{"RELAYDESK_REPLY_WORKERS": "0"}, want: []string{"RELAYDESK_REPLY_WORKERS"}},
		{name: "pprof on loopback", set: map[string]string{"RELAYDESK_PPROF_LISTEN": "127.0.0.1:6060"},
			check: func(t *testing.T, c *config.Config) { require.Equal(t, "127.0.0.1:6060", c.PprofListen) }},
		{name: "pprof never on a public interface", set: map[string]string{"RELAYDESK_PPROF_LISTEN": "0.0.0.0:6060"}, want: []string{"RELAYDESK_PPROF_LISTEN"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			m := validEnv()
			for k, v := range tt.set {
				m[k] = v
			}
			for _, k := range tt.unset {
				delete(m, k)
			}
			c, err := config.Load(env(m))
			if len(tt.want) == 0 {
				require.NoError(t, err)
				tt.check(t, c)
				return
			}
			require.Error(t, err)
			require.True(t, config.IsConfigError(err))
			for _, w := range tt.want {
				require.Contains(t, err.Error(), w)
			}
			var problems config.Errors
			require.ErrorAs(t, err, &problems)
			n := tt.n
			if n == 0 {
				n = len(tt.want)
			}
			require.Len(t, problems, n, "one problem per bad setting:\n%s", err)
			require.NotContains(t, err.Error(), "q83vEjRW", "a secret value must never be echoed")
		})
	}
}
