package config_test

import (
	"errors"
	"os"
	"testing"

	"github.com/relaydesk/relaydesk/internal/config"
)

// FuzzParseFile feeds the declarative file parser arbitrary YAML, seeded
// with the example file: it must never panic, and every refusal is an
// *config.FileErrors listing what is wrong, with the file's name.
func FuzzParseFile(f *testing.F) {
	example, err := os.ReadFile("testdata/relaydesk.yaml")
	if err != nil {
		f.Fatal(err)
	}
	f.Add(example)
	f.Add([]byte("whatsapp: []\n"))
	f.Add([]byte("routes:\n  - whatsapp: a\n    helpdesk: b\n    reopen_window: 3d\n"))
	f.Add([]byte("whatsapp:\n  - name: x\n    access_token: ${WA_TOKEN}\n"))
	getenv := func(k string) string { return fileEnv[k] }
	f.Fuzz(func(t *testing.T, data []byte) {
		file, err := config.ParseFile("fuzz.yaml", data, getenv, onlyZendesk)
		if err == nil {
			if file == nil {
				t.Fatal("no file and no error")
			}
			return
		}
		var list *config.FileErrors
		if !errors.As(err, &list) {
			t.Fatalf("refusal is not a *config.FileErrors: %T %v", err, err)
		}
	})
}
