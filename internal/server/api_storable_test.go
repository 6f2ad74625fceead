package server

import (
	"encoding/json"
	"testing"

	"github.com/relaydesk/relaydesk/internal/store"
)

// FuzzUnstorableField checks that a storable send body is never refused
// (no field named) and that reading any body never panics.
func FuzzUnstorableField(f *testing.F) {
	for _, s := range []string{`{"type":"text","text":"hi"}`, `{"type":"text","text":"a\u0000b"}`,
		`{"type":"template","template":{"name":"t","components":[{"parameters":[{"text":"\ud83d"}]}]}}`,
		"{\"type\":\"text\",\"text\":\"\xff\"}", `{"media":{"caption":"\\u0000"}}`, `[1,"\u0000"]`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		field := unstorableField(body)
		var r sendRequest
		_ = json.Unmarshal(body, &r)
		if !json.Valid(body) {
			return
		}
		if store.IsStorableJSON(body) && field != "" {
			t.Fatalf("%q: storable, yet %q is refused", body, field)
		}
	})
}
