package server

import (
	"bytes"
	"encoding/json"
	"fmt"
	"sort"

	"github.com/relaydesk/relaydesk/internal/store"
)

// unstorableField names the first member of a JSON body whose string holds
// what PostgreSQL cannot store as sent (a NUL, a lone surrogate such as a
// cut emoji, or bytes that are not UTF-8), e.g. "text" or
// "template.components[0].parameters[1].text"; "" when there is none. Go's
// decoder would silently replace such sequences, so the raw JSON is read.
func unstorableField(body []byte) string {
	return unstorableIn(json.RawMessage(bytes.TrimSpace(body)), "")
}

func unstorableIn(raw json.RawMessage, path string) string {
	if len(raw) == 0 {
		return ""
	}
	switch raw[0] {
	case '{':
		var obj map[string]json.RawMessage
		if json.Unmarshal(raw, &obj) != nil {
			return ""
		}
		keys := make([]string, 0, len(obj))
		for k := range obj {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			p := k
			if path != "" {
				p = path + "." + k
			}
			if f := unstorableIn(bytes.TrimSpace(obj[k]), p); f != "" {
				return f
			}
		}
	case '[':
		var arr []json.RawMessage
		if json.Unmarshal(raw, &arr) != nil {
			return ""
		}
		for i, v := range arr {
			if f := unstorableIn(bytes.TrimSpace(v), fmt.Sprintf("%s[%d]", path, i)); f != "" {
				return f
			}
		}
	case '"':
		if !store.IsStorableJSON(raw) {
			return path
		}
	}
	return ""
}
