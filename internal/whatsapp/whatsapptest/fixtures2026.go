package whatsapptest

import (
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
)

// PlatformFixture returns a webhook payload of the 2026 platform by file
// name, from this package's testdata/2026 (see its README.md for each
// file's source), with replacements applied in pairs (old, new), e.g. a
// wamid of the test's own message.
func PlatformFixture(tb testing.TB, name string, replace ...string) []byte {
	tb.Helper()
	_, file, _, ok := runtime.Caller(0)
	if !ok {
		tb.Fatal("whatsapptest: cannot locate testdata")
	}
	data, err := os.ReadFile(filepath.Join(filepath.Dir(file), "testdata", "2026", filepath.Base(name)))
	if err != nil {
		tb.Fatalf("whatsapptest: read 2026 fixture %s: %v", name, err)
	}
	if len(replace)%2 != 0 {
		tb.Fatal("whatsapptest: PlatformFixture takes replacements in pairs")
	}
	return []byte(strings.NewReplacer(replace...).Replace(string(data)))
}
