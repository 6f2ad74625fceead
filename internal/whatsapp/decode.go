package whatsapp

import (
	"encoding/json"
	"maps"
	"slices"
	"strings"
	"time"
)

// DecodeMessage decodes one stored message JSON (Message.Raw) back into the
// model, exactly as ParseDelivery does for each messages[] item.
func DecodeMessage(raw json.RawMessage) Message {
	return decodeMessage(raw)
}

// fieldDecoder decodes the members of one JSON object one by one and
// collects problems, so one badly shaped member only loses that member.
type fieldDecoder struct {
	fields   map[string]json.RawMessage
	problems []string
}

// newFieldDecoder splits raw (a JSON object) into its members. When raw is
// not an object, that is the decoder's one problem and it has no members.
func newFieldDecoder(raw json.RawMessage) *fieldDecoder {
	d := &fieldDecoder{}
	if err := json.Unmarshal(raw, &d.fields); err != nil {
		d.fields, d.problems = nil, []string{err.Error()}
	}
	return d
}

// decode unmarshals the member key into dst. It reports whether the member
// was present (non-null) and decoded without error.
func (d *fieldDecoder) decode(key string, dst any) bool {
	raw, ok := d.fields[key]
	if !ok || isJSONNull(raw) {
		return false
	}
	if err := json.Unmarshal(raw, dst); err != nil {
		d.problems = append(d.problems, key+": "+err.Error())
		return false
	}
	return true
}

// strings decodes string members, the map's keys, into its values; in key
// order, so that DecodeError reads the same every time.
func (d *fieldDecoder) strings(dsts map[string]*string) {
	for _, key := range slices.Sorted(maps.Keys(dsts)) {
		d.decode(key, dsts[key])
	}
}

// time decodes the unix timestamp member key into dst (UTC).
func (d *fieldDecoder) time(key string, dst *time.Time) {
	var ts unixTime
	if d.decode(key, &ts) {
		*dst = ts.Time()
	}
}

// problem joins the problems met so far ("" when none).
func (d *fieldDecoder) problem() string {
	return strings.Join(d.problems, "; ")
}
