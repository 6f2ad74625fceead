package main

import (
	"bytes"
	"errors"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/relaydesk/relaydesk/internal/secret"
	"github.com/relaydesk/relaydesk/internal/testdb"
)

func TestRunUsage(t *testing.T) {
	t.Parallel()

	tests := []struct {
		name string
		args []string
		code int
		err  string
	}{
		{"no command", nil, 2, "usage: relaydesk"},
		{"unknown command", []string{"frobnicate"}, 2, `unknown command "frobnicate"`},
		{"unknown flag", []string{"serve", "-verbose"}, 2, "flag provided but not defined: -verbose"},
		{"migrate without subcommand", []string{"migrate"}, 2, "want up, down or status"},
		{"migrate bad subcommand", []string{"migrate", "sideways"}, 2, "want up, down [-to N] or status"},
		{"version extra argument", []string{"version", "now"}, 2, `unexpected argument "now"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var out, errb bytes.Buffer
			require.Equal(t, tt.code, run(tt.args, &out, &errb))
			require.Contains(t, errb.String(), tt.err)
			require.Empty(t, out.String(), "usage errors go to stderr")
		})
	}

	t.Run("version", func(t *testing.T) {
		var out, errb bytes.Buffer
		require.Equal(t, 0, run([]string{"version"}, &out, &errb))
		require.True(t, strings.HasPrefix(out.String(), "relaydesk "))
	})
}

// buildBinary compiles relaydesk once for the process tests.
func buildBinary(t *testing.T) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "relaydesk")
	cmd := exec.Command("go", "build", "-o", bin, ".")
	cmd.Stderr = os.Stderr
	require.NoError(t, cmd.Run())
	return bin
}

func freePort(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	defer ln.Close()
	return ln.Addr().String()
}

func TestProcess(t *testing.T) {
	t.Parallel()
	bin := buildBinary(t)
	pool := testdb.Empty(t)
	baseEnv := []string{
		"PATH=" + os.Getenv("PATH"),
		"DATABASE_URL=" + testdb.URLFor(testdb.Name(pool)),
		"RELAYDESK_BASE_URL=http://localhost:8080",
		"RELAYDESK_LOG_FORMAT=text",
	}

	t.Run("a bad secret key stops it before the database is touched", func(t *testing.T) {
		cmd := exec.Command(bin, "serve")
		cmd.Env = append(baseEnv, "RELAYDESK_SECRET_KEY=dG9vLXNob3J0", "RELAYDESK_AUTO_MIGRATE=true")
		out, err := cmd.CombinedOutput()
		var exit *exec.ExitError
		require.ErrorAs(t, err, &exit)
		require.Equal(t, 1, exit.ExitCode())
		require.Contains(t, string(out), "RELAYDESK_SECRET_KEY")
		require.NotContains(t, string(out), "dG9vLXNob3J0", "the bad value is not echoed")
		var tables int
		require.NoError(t, pool.QueryRow(t.Context(), "SELECT count(*) FROM pg_tables WHERE schemaname = 'public'").Scan(&tables))
		require.Zero(t, tables)
	})

	t.Run("serve migrates, answers and ends cleanly on SIGTERM", func(t *testing.T) {
		addr := freePort(t)
		var logs bytes.Buffer
		cmd := exec.Command(bin, "serve")
		cmd.Env = append(baseEnv, "RELAYDESK_SECRET_KEY="+secret.GenerateKey(), "RELAYDESK_AUTO_MIGRATE=true", "RELAYDESK_LISTEN="+addr)
		cmd.Stdout, cmd.Stderr = &logs, &logs
		require.NoError(t, cmd.Start())
		defer cmd.Process.Kill() //nolint:errcheck

		for _, path := range []string{"/healthz", "/readyz", "/metrics"} {
			require.Eventually(t, func() bool {
				resp, err := http.Get("http://" + addr + path)
				if err != nil {
					return false
				}
				resp.Body.Close()
				return resp.StatusCode == http.StatusOK
			}, 30*time.Second, 50*time.Millisecond, "%s never answered 200; logs:\n%s", path, &logs)
		}

		require.NoError(t, cmd.Process.Signal(syscall.SIGTERM))
		err := cmd.Wait()
		var exit *exec.ExitError
		if errors.As(err, &exit) {
			t.Fatalf("exit code %d after SIGTERM; logs:\n%s", exit.ExitCode(), &logs)
		}
		require.NoError(t, err)
		require.Contains(t, logs.String(), "shutdown complete")
	})

	t.Run("migrate status, down and up", func(t *testing.T) {
		for _, step := range []struct {
			args []string
			want string
		}{
			{[]string{"migrate", "status"}, "(current)"},
			{[]string{"migrate", "down", "-to", "0"}, "app schema 0/"},
			{[]string{"migrate", "up"}, "(current)"},
		} {
			cmd := exec.Command(bin, step.args...)
			cmd.Env = baseEnv
			out, err := cmd.CombinedOutput()
			require.NoError(t, err, string(out))
			require.Contains(t, string(out), step.want)
		}
	})
}

func TestSecretsReseal(t *testing.T) {
	t.Parallel()
	pool := testdb.New(t)
	oldKey, newKey := secret.GenerateKey(), secret.GenerateKey()
	env := map[string]string{
		"DATABASE_URL":         testdb.URLFor(testdb.Name(pool)),
		"RELAYDESK_BASE_URL":   "http://localhost:8080",
		"RELAYDESK_SECRET_KEY": oldKey,
	}
	getenv := func(k string) string { return env[k] }

	var out, errb bytes.Buffer
	require.ErrorIs(t, runSecrets(t.Context(), getenv, []string{"rotate"}, &out, &errb), errUsage)
	require.Contains(t, errb.String(), "want reseal")

	// A secret sealed under the old key, then the rotation.
	raw, err := secret.ParseKey(oldKey)
	require.NoError(t, err)
	kr, err := secret.NewKeyring(raw, nil)
	require.NoError(t, err)
	_, err = pool.Exec(t.Context(), `INSERT INTO whatsapp_accounts (name, phone_number_id, waba_id, access_token, app_secret, verify_token)
		VALUES ('a', '1', '2', $1, $2, $3)`, kr.SealString("tok", "whatsapp_accounts.access_token"),
		kr.SealString("app", "whatsapp_accounts.app_secret"), kr.SealString("ver", "whatsapp_accounts.verify_token"))
	require.NoError(t, err)
	env["RELAYDESK_SECRET_KEY"], env["RELAYDESK_SECRET_KEY_OLD"] = newKey, oldKey

	out.Reset()
	require.NoError(t, runSecrets(t.Context(), getenv, []string{"reseal"}, &out, &errb))
	require.Contains(t, out.String(), "re-sealed 3 secrets")
	require.Contains(t, out.String(), "RELAYDESK_SECRET_KEY_OLD can now be removed")

	var sealed []byte
	require.NoError(t, pool.QueryRow(t.Context(), `SELECT access_token FROM whatsapp_accounts`).Scan(&sealed))
	rawNew, err := secret.ParseKey(newKey)
	require.NoError(t, err)
	only, err := secret.NewKeyring(rawNew, nil)
	require.NoError(t, err)
	got, err := only.OpenString(sealed, "whatsapp_accounts.access_token")
	require.NoError(t, err)
	require.Equal(t, "tok", got)
}
