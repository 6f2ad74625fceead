package connectors

import (
	"fmt"
	"strings"
)

// E164 checks that phone is an E.164 number ("+" and 7 to 15 digits, the
// first not 0) and returns it trimmed. Anything else is a Permanent error:
// retrying cannot fix a malformed number.
func E164(phone string) (string, error) {
	p := strings.TrimSpace(phone)
	if len(p) < 8 || len(p) > 16 || p[0] != '+' || p[1] == '0' || Digits(p) != p[1:] {
		return "", PermanentError(fmt.Sprintf("phone %q is not E.164", phone), nil)
	}
	return p, nil
}

// Digits keeps only the ASCII digits of s, for comparing phone numbers
// helpdesks store with spaces, dashes or a leading "+".
func Digits(s string) string {
	return strings.Map(func(r rune) rune {
		if r >= '0' && r <= '9' {
			return r
		}
		return -1
	}, s)
}
