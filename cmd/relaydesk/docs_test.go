package main

import (
	"bufio"
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/relaydesk/relaydesk/internal/secret"
	"github.com/relaydesk/relaydesk/internal/testdb"
)

// docBlock is one fenced code block of a Markdown file.
type docBlock struct {
	file string
	line int    // of the opening fence
	lang string // the fence's info string: "yaml", "sh", ""
	text string
}

// docBlocks extracts every fenced block of README.md and docs/, so that a
// block added or edited later is tested too.
func docBlocks(t *testing.T) []docBlock {
	t.Helper()
	files := []string{"../../README.md"}
	for _, pattern := range []string{"../../docs/*.md", "../../docs/connectors/*.md"} {
		m, err := filepath.Glob(pattern)
		require.NoError(t, err)
		files = append(files, m...)
	}
	var blocks []docBlock
	for _, f := range files {
		data, err := os.ReadFile(f)
		require.NoError(t, err)
		var cur *docBlock
		var body strings.Builder
		sc := bufio.NewScanner(bytes.NewReader(data))
		for n := 1; sc.Scan(); n++ {
			line := sc.Text()
			switch {
			case cur == nil && strings.HasPrefix(line, "```"):
				cur = &docBlock{file: strings.TrimPrefix(f, "../../"), line: n, lang: strings.TrimSpace(strings.TrimPrefix(line, "```"))}
				body.Reset()
			case cur != nil && strings.TrimSpace(line) == "```":
				cur.text = body.String()
				blocks = append(blocks, *cur)
				cur = nil
			case cur != nil:
				body.WriteString(line + "\n")
			}
		}
		require.Nil(t, cur, "%s: a code block is not closed", f)
	}
	return blocks
}

// docVars are the values of the ${VAR}s the documentation's YAML uses, as a
// user would export them.
var docVars = map[string]string{
	"WA_TOKEN": "EAAG-example", "WA_APP_SECRET": "app-secret", "WA_VERIFY_TOKEN": "verify-me",
	"ZD_TOKEN": "zd-token", "ZD_WEBHOOK_SECRET": "zd-webhook-secret", "CW_TOKEN": "cw-token",
	"ZAMMAD_TOKEN": "zammad-token", "FD_API_KEY": "fd-key", "RT_TOKEN": "rt-token",
}

// TestDocsYAMLPassesCheckConfig runs every YAML block of README.md and docs/
// through `relaydesk check-config`, exactly as printed.
func TestDocsYAMLPassesCheckConfig(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	count := 0
	for _, b := range docBlocks(t) {
		if b.lang != "yaml" {
			continue
		}
		count++
		path := filepath.Join(dir, strings.NewReplacer("/", "_", ".md", "").Replace(b.file)+"_"+strconv.Itoa(b.line)+".yaml")
		require.NoError(t, os.WriteFile(path, []byte(b.text), 0o600))
		env := map[string]string{
			"DATABASE_URL": "postgres://relaydesk@db.example:5432/relaydesk", "RELAYDESK_BASE_URL": "https://relaydesk.example.com",
			"RELAYDESK_SECRET_KEY": secret.GenerateKey(), "RELAYDESK_CONFIG": path,
		}
		for k, v := range docVars {
			env[k] = v
		}
		var out, errb bytes.Buffer
		code := exitCode(checkConfig(t.Context(), func(k string) string { return env[k] }, nil, &out, &errb), &errb)
		require.Equal(t, 0, code, "%s:%d: the YAML block fails check-config:\n%s", b.file, b.line, errb.String())
		require.Contains(t, out.String(), "configuration is valid")
	}
	require.GreaterOrEqual(t, count, 6, "the README's example and one per connector page")
}

// shellNotRun lists the shell examples a test cannot run, by their command,
// with the reason and where the behaviour is tested instead.
var shellNotRun = map[string]string{
	"make run":                    "serves until stopped, on the developer's PostgreSQL; TestProcess runs `relaydesk serve` the same way",
	"make test":                   "is the whole test suite, this test included",
	"make demo":                   "runs until Ctrl-C; cmd/relaydesk-load's tests run the demo's fakes",
	"make bench":                  "takes about 4 minutes; docs/performance.md reports its numbers",
	"go build -o /tmp/relaydesk-": "builds two commits' binaries for a before/after bench (docs/performance.md); make build and the tests build the same package",
	"make soak":                   "takes about 6 minutes; TestShortSoak runs a short soak in make test",
	"make outage":                 "takes about 6 minutes; docs/performance.md reports its numbers, internal/e2e's recovery tests check the breaker",
	"go run ./cmd/relaydesk-load": "the load tool's long runs (bench, soak, outage), as make bench/soak/outage",
	"go test":                     "is a test run itself (make test runs it)",
	"BASE=":                       "the public API example: TestDocsPublicAPIExample runs it against the real binary",
	"TOKEN=":                      "part of the public API example (TestDocsPublicAPIExample)",
	"curl":                        "part of the public API example (TestDocsPublicAPIExample)",
	"RELAYDESK_UPD":               "refreshes the screenshots with TestAdminInABrowser, which make test runs",
}

// TestDocsShellExamples runs the shell examples of README.md and docs/ that
// can run here, with the built binary on PATH against a real PostgreSQL, and
// requires every other one to be listed in shellNotRun.
func TestDocsShellExamples(t *testing.T) {
	t.Parallel()
	var run []string
	for _, b := range docBlocks(t) {
		if b.lang != "sh" {
			continue
		}
		for _, cmd := range shellCommands(b.text) {
			if reason := notRunReason(cmd); reason != "" {
				continue
			}
			require.True(t, strings.HasPrefix(cmd, "relaydesk ") || strings.Contains(cmd, "| relaydesk "),
				"%s:%d: add %q to shellNotRun with the reason, or make it runnable here", b.file, b.line, cmd)
			run = append(run, cmd)
		}
	}
	require.NotEmpty(t, run)
	bin := buildBinary(t)
	for _, cmd := range run {
		t.Run(cmd, func(t *testing.T) {
			pool := testdb.New(t)
			sh := exec.Command("bash", "-euo", "pipefail", "-c", cmd)
			sh.Env = []string{"PATH=" + filepath.Dir(bin) + ":" + os.Getenv("PATH"), "PASSWORD=a long enough password",
				"DATABASE_URL=" + testdb.URLFor(testdb.Name(pool)), "RELAYDESK_LOG_LEVEL=error"}
			if strings.Contains(cmd, "admin password") {
				// Setting a password needs the admin the block's first line creates.
				pre := exec.Command(bin, "admin", "create", "--email", "you@example.com")
				pre.Env = sh.Env
				out, err := pre.CombinedOutput()
				require.NoError(t, err, string(out))
			}
			if strings.Contains(cmd, "contacts erase") {
				// Erasing needs the key of the stored secrets and the
				// customer the example names.
				sh.Env = append(sh.Env, "RELAYDESK_SECRET_KEY="+secret.GenerateKey(), "RELAYDESK_BASE_URL=https://relaydesk.example.com")
				_, err := pool.Exec(context.Background(), `INSERT INTO contacts (waba_id, wa_id) VALUES ('', '4915123456789')`)
				require.NoError(t, err)
			}
			out, err := sh.CombinedOutput()
			require.NoError(t, err, "%s\n%s", cmd, out)
		})
	}
}

// shellCommands splits a shell block into commands: comments dropped,
// continuation lines joined.
func shellCommands(text string) []string {
	var cmds []string
	var cur string
	for _, line := range strings.Split(text, "\n") {
		if i := strings.Index(line, " #"); i >= 0 && !strings.Contains(line[:i], "'") {
			line = line[:i]
		}
		line = strings.TrimSpace(line)
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		if strings.HasSuffix(line, "\\") {
			cur += strings.TrimSuffix(line, "\\")
			continue
		}
		cmds = append(cmds, strings.TrimSpace(cur+line))
		cur = ""
	}
	return cmds
}

func notRunReason(cmd string) string {
	for prefix, reason := range shellNotRun {
		if strings.HasPrefix(cmd, prefix) {
			return reason
		}
	}
	return ""
}
