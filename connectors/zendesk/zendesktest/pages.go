package zendesktest

import (
	"bytes"
	"encoding/base64"
	"errors"
	"net/http"
	"net/url"
	"strconv"

	"github.com/relaydesk/relaydesk/connectors/connectortest"
)

// writePage writes items with cursor pagination when page[size] is given,
// else the offset envelope. Callers hold f.Mu.
func writePage[T any](f *Fake, w http.ResponseWriter, r *http.Request, key string, items []T) {
	if items == nil {
		items = []T{}
	}
	q := r.URL.Query()
	if q.Get("page[size]") == "" {
		connectortest.WriteJSON(w, http.StatusOK, map[string]any{key: items, "next_page": nil, "previous_page": nil, "count": len(items)})
		return
	}
	size, err := strconv.Atoi(q.Get("page[size]"))
	if err != nil || size < 1 || size > 100 {
		f.Violate("%s %s: page[size] must be 1..100", r.Method, r.URL.Path)
		writeError(w, http.StatusBadRequest, "InvalidPaginationParameter", "page[size] must be between 1 and 100")
		return
	}
	start := 0
	if after := q.Get("page[after]"); after != "" {
		n, err := decodeCursor(after)
		if err != nil || n > len(items) {
			writeError(w, http.StatusBadRequest, "InvalidPaginationParameter", "invalid cursor")
			return
		}
		start = n
	}
	end := min(start+size, len(items))
	meta := cursorMeta{HasMore: end < len(items)}
	links := cursorLinks{}
	if end > start {
		meta.BeforeCursor, meta.AfterCursor = encodeCursor(start), encodeCursor(end)
	}
	if meta.HasMore {
		nq := url.Values{}
		for k, v := range q {
			nq[k] = v
		}
		nq.Set("page[after]", meta.AfterCursor)
		links.Next = f.URL + r.URL.Path + "?" + nq.Encode()
	}
	connectortest.WriteJSON(w, http.StatusOK, map[string]any{key: items[start:end], "meta": meta, "links": links})
}

func encodeCursor(n int) string {
	return base64.RawURLEncoding.EncodeToString([]byte("c:" + strconv.Itoa(n)))
}

func decodeCursor(s string) (int, error) {
	b, err := base64.RawURLEncoding.DecodeString(s)
	if err != nil || !bytes.HasPrefix(b, []byte("c:")) {
		return 0, errors.New("bad cursor")
	}
	return strconv.Atoi(string(b[2:]))
}
