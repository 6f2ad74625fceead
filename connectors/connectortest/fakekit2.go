package connectortest

// More of what the helpdesk fakes share: the server's lifecycle, signed
// deliveries and status names. As in fakekit.go, each fake keeps its
// helpdesk's own rules (the names, the signature, the headers); these
// pieces do the bookkeeping around them.

import (
	"crypto/rand"
	"encoding/json"
	"maps"
	"net/http"
	"net/http/httptest"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/relaydesk/relaydesk/connectors"
)

// Serve starts an httptest server for h. The function it returns closes
// the fake, once however often it is called: it releases the requests fs
// holds (FailTimeout) and stops the server. When tb is not nil that runs at
// the test's cleanup too.
func Serve(tb testing.TB, h http.Handler, fs *Failures) (*httptest.Server, func()) {
	srv := httptest.NewServer(h)
	stop := sync.OnceFunc(func() {
		fs.Close()
		srv.Close()
	})
	if tb != nil {
		tb.Cleanup(stop)
	}
	return srv, stop
}

// SignedDelivery returns payload, as JSON, as a delivery signed by sign at
// time at.
func SignedDelivery(payload any, at time.Time, sign func(body []byte, at time.Time) http.Header) Delivery {
	body, err := json.Marshal(payload)
	if err != nil {
		panic(err)
	}
	return Delivery{Header: sign(body, at), Body: body, At: at}
}

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
