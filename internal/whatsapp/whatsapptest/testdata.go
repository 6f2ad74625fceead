package whatsapptest

import (
	"os"
	"path/filepath"
	"runtime"
	"testing"
)

// Testdata reads a payload of this package's testdata directory (e.g.
// "2026/identity-bsuid-only.json"): webhook shapes newer than the example
// payloads in shared/specs, each with its source in that directory's
// README.md. It works from any package's tests.
func Testdata(tb testing.TB, name string) []byte {
	tb.Helper()
	_, file, _, ok := runtime.Caller(0)
	if !ok {
		tb.Fatal("whatsapptest: cannot locate the testdata directory")
	}
	data, err := os.ReadFile(filepath.Join(filepath.Dir(file), "testdata", filepath.FromSlash(filepath.Clean(name))))
	if err != nil {
		tb.Fatalf("whatsapptest: read testdata %s: %v", name, err)
	}
	return data
}
