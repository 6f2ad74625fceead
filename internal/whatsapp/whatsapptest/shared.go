// Package whatsapptest provides test helpers for code that talks to the
// WhatsApp Cloud API: a fake Graph API server that validates every request
// against Meta's OpenAPI description (Server), webhook delivery builders
// (Delivery), request signing, and access to the example payloads in
// shared/specs/whatsapp/webhooks.
package whatsapptest

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
)

// SharedDirEnv overrides where the shared/ directory is looked up.
const SharedDirEnv = "RELAYDESK_SHARED_DIR"

// FixturePhoneNumberID, FixtureWABAID, FixtureDisplayPhoneNumber and
// FixtureWaID are the fake ids used throughout the example webhook payloads.
const (
	FixturePhoneNumberID      = "106540352242922"
	FixtureWABAID             = "102290129340398"
	FixtureDisplayPhoneNumber = "15550783881"
	FixtureWaID               = "16505551234"
)

// specRelPath is the Graph OpenAPI description inside shared/.
const specRelPath = "specs/whatsapp/business-messaging-api_v23.0.yaml"

// webhooksRelPath holds the example webhook payloads inside shared/.
const webhooksRelPath = "specs/whatsapp/webhooks"

// FindSharedDir locates the shared/ directory: $RELAYDESK_SHARED_DIR if set,
// else <repo root>/../shared, where the repo root is the nearest directory
// at or above the working directory holding go.mod. It is the non-test form
// of SharedDir, for tools such as the load generator.
func FindSharedDir() (string, error) {
	if dir := os.Getenv(SharedDirEnv); dir != "" {
		if err := checkSharedDir(dir); err != nil {
			return "", fmt.Errorf("%s=%s: %w", SharedDirEnv, dir, err)
		}
		return filepath.Abs(dir)
	}
	wd, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for dir := wd; ; {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			shared := filepath.Join(filepath.Dir(dir), "shared")
			if err := checkSharedDir(shared); err != nil {
				return "", fmt.Errorf("repo root %s: %w (set %s to override)", dir, err, SharedDirEnv)
			}
			return shared, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", fmt.Errorf("no go.mod at or above %s (set %s)", wd, SharedDirEnv)
		}
		dir = parent
	}
}

func checkSharedDir(dir string) error {
	st, err := os.Stat(filepath.Join(dir, "specs", "whatsapp"))
	if err != nil {
		return fmt.Errorf("shared directory %s has no specs/whatsapp: %w", dir, err)
	}
	if !st.IsDir() {
		return errors.New("specs/whatsapp is not a directory")
	}
	return nil
}

// SharedDir returns the shared/ directory (see FindSharedDir) or fails the
// test with a clear message. CI always checks shared/ out beside the repo.
func SharedDir(tb testing.TB) string {
	tb.Helper()
	dir, err := FindSharedDir()
	if err != nil {
		tb.Fatalf("whatsapptest: cannot find the shared/ directory (expected beside the repository, or set %s): %v", SharedDirEnv, err)
	}
	return dir
}

// SpecPath returns the path of the Graph OpenAPI description in shared/.
func SpecPath(tb testing.TB) string {
	tb.Helper()
	return filepath.Join(SharedDir(tb), specRelPath)
}

// FixtureNames returns the file names of the example webhook payloads
// (*.json in shared/specs/whatsapp/webhooks), sorted.
func FixtureNames(tb testing.TB) []string {
	tb.Helper()
	matches, err := filepath.Glob(filepath.Join(SharedDir(tb), webhooksRelPath, "*.json"))
	if err != nil {
		tb.Fatalf("whatsapptest: list fixtures: %v", err)
	}
	if len(matches) == 0 {
		tb.Fatalf("whatsapptest: no webhook fixtures in %s", filepath.Join(SharedDir(tb), webhooksRelPath))
	}
	names := make([]string, len(matches))
	for i, m := range matches {
		names[i] = filepath.Base(m)
	}
	sort.Strings(names)
	return names
}

// Fixture returns the bytes of an example webhook payload by file name
// (e.g. "text.json"), exactly as stored.
func Fixture(tb testing.TB, name string) []byte {
	tb.Helper()
	data, err := os.ReadFile(filepath.Join(SharedDir(tb), webhooksRelPath, filepath.Base(name)))
	if err != nil {
		tb.Fatalf("whatsapptest: read fixture %s: %v", name, err)
	}
	return data
}

// FixtureFor returns an example webhook payload with its phone_number_id
// (FixturePhoneNumberID) replaced by phoneNumberID, so it routes to the
// account under test.
func FixtureFor(tb testing.TB, name, phoneNumberID string) []byte {
	tb.Helper()
	data := Fixture(tb, name)
	return []byte(strings.ReplaceAll(string(data), `"`+FixturePhoneNumberID+`"`, `"`+phoneNumberID+`"`))
}
