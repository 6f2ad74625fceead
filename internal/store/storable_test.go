package store

import (
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
