package acceptance

import (
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
)

// binary is the relaydesk executable TestMain builds for the whole run.
var binary string

func TestMain(m *testing.M) {
	flag.Parse()
	if testing.Short() {
		os.Exit(m.Run()) // TestAcceptance skips itself: nothing to build
	}
	dir, err := os.MkdirTemp("", "relaydesk-acceptance-")
	if err != nil {
		fmt.Fprintln(os.Stderr, "acceptance:", err)
		os.Exit(1)
	}
	binary, err = buildBinary(dir)
	if err != nil {
		fmt.Fprintln(os.Stderr, "acceptance:", err)
		os.RemoveAll(dir)
		os.Exit(1)
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// buildBinary runs `go build ./cmd/relaydesk` at the module root, as a user
// builds it, into dir.
func buildBinary(dir string) (string, error) {
	root, err := filepath.Abs("../..")
	if err != nil {
		return "", err
	}
	if _, err := os.Stat(filepath.Join(root, "go.mod")); err != nil {
		return "", fmt.Errorf("module root not found at %s: %w", root, err)
	}
	out := filepath.Join(dir, "relaydesk")
	build := exec.Command("go", "build", "-o", out, "./cmd/relaydesk")
	build.Dir = root
	if msg, err := build.CombinedOutput(); err != nil {
		return "", fmt.Errorf("go build ./cmd/relaydesk: %w\n%s", err, msg)
	}
	return out, nil
}
