package connectortest

// Ids, statuses and values as every helpdesk fake writes them.

import (
	"crypto/rand"
	"maps"
	"strconv"

	"github.com/relaydesk/relaydesk/connectors"
)

// RawStatus returns the helpdesk's name for s in names, for a fake's
// SetStatus. It panics, naming the fake by prefix, when names has none.
func RawStatus[V comparable](prefix string, names map[connectors.Status]V, s connectors.Status) V {
	raw, ok := names[s]
	var zero V
	if !ok || raw == zero {
		panic(prefix + ": unknown status " + string(s))
	}
	return raw
}

// FormatID writes a numeric id.
func FormatID(id int64) string { return strconv.FormatInt(id, 10) }

// ParseID reads a numeric id: 0 when s is not a positive whole number.
func ParseID(s string) int64 {
	id, err := strconv.ParseInt(s, 10, 64)
	if err != nil || id <= 0 {
		return 0
	}
	return id
}

// Deref returns *p, or the zero value when p is nil.
func Deref[T any](p *T) T {
	if p == nil {
		var zero T
		return zero
	}
	return *p
}

// CloneObject returns a shallow copy of a JSON object: empty, not nil,
// when m is nil, so that it renders as {}.
func CloneObject(m map[string]any) map[string]any {
	out := make(map[string]any, len(m))
	maps.Copy(out, m)
	return out
}

// RandomBytes returns n random bytes, for the fakes' secrets, tokens and
// ids.
func RandomBytes(n int) []byte {
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		panic(err)
	}
	return b
}

// Opt returns a pointer to s, or nil when s is empty: an optional string
// field of an answer, null when unset.
func Opt(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}
