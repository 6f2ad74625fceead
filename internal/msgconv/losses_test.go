package msgconv_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	. "github.com/relaydesk/relaydesk/internal/msgconv"
)

func TestLossLines(t *testing.T) {
	t.Parallel()
	expires := time.Date(2026, 12, 8, 14, 2, 59, 0, time.FixedZone("CET", 3600))
	for _, tc := range []struct{ name, got, want string }{
		{"first words: short", FirstWords("  Hello   there ", 8), "Hello there"},
		{"first words: long", FirstWords("one two three four five six seven eight nine", 8), "one two three four five six seven eight …"},
		{"first words: empty", FirstWords("", 8), ""},
		{"reaction", Reaction("👍", false, "Hello there"), `Reacted 👍 to the message "Hello there"`},
		{"reaction to an unknown message", Reaction("❤️", false, ""), "Reacted ❤️ to a message"},
		{"removed reaction", Reaction("", true, "Hello there"), `Removed their reaction to the message "Hello there"`},
		{"append to text", AppendLine("Here it is", "[line]"), "Here it is\n\n[line]"},
		{"append to nothing", AppendLine(" ", "[line]"), "[line]"},
		{"file with link", FileNotAttached("a.pdf", "it is too large", "https://r.example/media/t", expires),
			"[The file a.pdf could not be attached: it is too large. Open it here until 2026-12-08 13:02 UTC: https://r.example/media/t]"},
		{"file without link", FileNotAttached("a.pdf", "it is too large", "", expires), "[The file a.pdf could not be attached: it is too large.]"},
		{"file not sent", FileNotSent("x.gif", "WhatsApp does not take files of this type"),
			"The file x.gif of this reply was NOT sent to the customer (the rest of the reply was): WhatsApp does not take files of this type."},
	} {
		require.Equal(t, tc.want, tc.got, tc.name)
	}
}
