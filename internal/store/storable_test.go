package store

import (
	"bytes"
	"encoding/json"
	"testing"

	"github.com/stretchr/testify/require"
)

func TestStorableText(t *testing.T) {
	t.Parallel()
	tests := []struct{ in, want string }{
		{"plain", "plain"},
		{"a\x00b", "ab"},
		{"bad \xff\xfe bytes", "bad \uFFFD bytes"},
		{"cut \xf0\x9f emoji", "cut \uFFFD emoji"},
		{"emoji 😀 kept", "emoji 😀 kept"},
	}
	for _, tt := range tests {
		require.Equal(t, tt.want, StorableText(tt.in), "%q", tt.in)
		require.Equal(t, tt.in == tt.want, IsStorableText(tt.in))
	}
}

func TestStorableJSON(t *testing.T) {
	t.Parallel()
	tests := []struct{ name, in, want string }{
		{"plain", `{"a":"b"}`, `{"a":"b"}`},
		{"nul escape", `{"a":"x\u0000y"}`, `{"a":"xy"}`},
		{"escaped backslash before u0000 is text", `{"a":"\\u0000"}`, `{"a":"\\u0000"}`},
		{"lone high surrogate", `{"a":"\ud83d!"}`, `{"a":"\ufffd!"}`},
		{"lone low surrogate", `{"a":"\ude00"}`, `{"a":"\ufffd"}`},
		{"surrogate pair kept", `{"a":"\ud83d\ude00"}`, `{"a":"\ud83d\ude00"}`},
		{"other escapes kept", `{"a":"\u00e9\n\""}`, `{"a":"\u00e9\n\""}`},
		{"invalid utf-8", "{\"a\":\"\xff\"}", `{"a":"` + "\uFFFD" + `"}`},
		{"nul byte", "{\"a\":\"\x00\"}", `{"a":""}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			require.Equal(t, tt.want, string(storableJSON([]byte(tt.in))))
		})
	}
}

// FuzzStorable checks the sanitising helpers' promises on any input: the
// result is storable, valid JSON stays valid JSON, and cleaning twice
// changes nothing more.
func FuzzStorable(f *testing.F) {
	for _, s := range []string{`{"a":"x\u0000y"}`, `{"a":"\ud83d!"}`, `["\\u0000", "\ud83d\ude00"]`, "{\"a\":\"\xff\"}", "a\x00b", `"\u"`, `\`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		out := storableJSON(b)
		if !IsStorableJSON(out) {
			t.Fatalf("storableJSON(%q) = %q is not storable", b, out)
		}
		if json.Valid(b) && !json.Valid(out) {
			t.Fatalf("storableJSON(%q) = %q is no longer JSON", b, out)
		}
		if again := storableJSON(out); !bytes.Equal(again, out) {
			t.Fatalf("not idempotent: %q then %q", out, again)
		}
		s := StorableText(string(b))
		if !IsStorableText(s) || StorableText(s) != s {
			t.Fatalf("StorableText(%q) = %q", b, s)
		}
	})
}
