package whatsapp

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"
)

// The wire format documents most numbers as strings (timestamps, file sizes)
// but Meta has changed such details between Graph versions before. The types
// below accept a JSON number or a JSON string holding a number, so a
// representation change never fails a whole webhook delivery.

// unixTime is a unix-seconds timestamp sent as "1749416383" or 1749416383.
type unixTime time.Time

func (t *unixTime) UnmarshalJSON(data []byte) error {
	s, err := numberText(data)
	if err != nil {
		return fmt.Errorf("timestamp: %w", err)
	}
	if s == "" {
		*t = unixTime{}
		return nil
	}
	secs, ok := parseInteger(s)
	if !ok {
		return fmt.Errorf("timestamp %q: not a unix time", s)
	}
	v := time.Unix(secs, 0).UTC()
	if v.Year() < 0 || v.Year() > 9999 {
		// Outside what RFC 3339 (and so a stored Message) can express.
		return fmt.Errorf("timestamp %q: out of range", s)
	}
	*t = unixTime(v)
	return nil
}

func (t unixTime) Time() time.Time { return time.Time(t) }

// flexInt is an integer sent as a number or a numeric string.
type flexInt int64

func (n *flexInt) UnmarshalJSON(data []byte) error {
	s, err := numberText(data)
	if err != nil {
		return err
	}
	v, ok := int64(0), true
	if s != "" {
		v, ok = parseInteger(s)
	}
	if !ok {
		return fmt.Errorf("%q is not an integer", s)
	}
	*n = flexInt(v)
	return nil
}

// parseInteger parses a decimal integer, tolerating a fractional
// representation ("1749416383.0"), which is truncated.
func parseInteger(s string) (int64, bool) {
	if v, err := strconv.ParseInt(s, 10, 64); err == nil {
		return v, true
	}
	f, err := strconv.ParseFloat(s, 64)
	if err != nil || math.IsNaN(f) || math.IsInf(f, 0) {
		return 0, false
	}
	return int64(f), true
}

// flexFloat is a decimal number sent as a number or a numeric string.
type flexFloat float64

func (f *flexFloat) UnmarshalJSON(data []byte) error {
	s, err := numberText(data)
	if err != nil {
		return err
	}
	if s == "" {
		*f = 0
		return nil
	}
	v, err := strconv.ParseFloat(s, 64)
	if err != nil || math.IsNaN(v) || math.IsInf(v, 0) {
		// JSON has no NaN or infinity, so a stored Message could not hold one.
		return fmt.Errorf("%q is not a number", s)
	}
	*f = flexFloat(v)
	return nil
}

// flexBool is a boolean sent as true/false or "true"/"false".
type flexBool bool

func (b *flexBool) UnmarshalJSON(data []byte) error {
	data = bytes.TrimSpace(data)
	if len(data) > 0 && data[0] == '"' {
		var s string
		if err := json.Unmarshal(data, &s); err != nil {
			return err
		}
		v, err := strconv.ParseBool(strings.TrimSpace(s))
		if err != nil {
			return fmt.Errorf("%q is not a boolean", s)
		}
		*b = flexBool(v)
		return nil
	}
	if string(data) == "null" {
		*b = false
		return nil
	}
	var v bool
	if err := json.Unmarshal(data, &v); err != nil {
		return err
	}
	*b = flexBool(v)
	return nil
}

// numberText returns the text of a JSON number or of a JSON string, trimmed.
// null yields "".
func numberText(data []byte) (string, error) {
	data = bytes.TrimSpace(data)
	switch {
	case len(data) == 0 || string(data) == "null":
		return "", nil
	case data[0] == '"':
		var s string
		if err := json.Unmarshal(data, &s); err != nil {
			return "", err
		}
		return strings.TrimSpace(s), nil
	case data[0] == '-' || (data[0] >= '0' && data[0] <= '9'):
		var num json.Number
		if err := json.Unmarshal(data, &num); err != nil {
			return "", err
		}
		return num.String(), nil
	default:
		return "", fmt.Errorf("expected a number or a string, got %.20s", data)
	}
}

// isJSONNull reports whether raw is absent or the JSON literal null.
func isJSONNull(raw json.RawMessage) bool {
	t := bytes.TrimSpace(raw)
	return len(t) == 0 || string(t) == "null"
}
