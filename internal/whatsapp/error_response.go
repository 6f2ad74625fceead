package whatsapp

import (
	"encoding/json"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// wireGraphError is the Graph error response body.
type wireGraphError struct {
	Error *struct {
		Message        string          `json:"message"`
		Type           string          `json:"type"`
		Code           flexInt         `json:"code"`
		ErrorSubcode   flexInt         `json:"error_subcode"`
		IsTransient    bool            `json:"is_transient"`
		ErrorUserTitle string          `json:"error_user_title"`
		ErrorUserMsg   string          `json:"error_user_msg"`
		FBTraceID      string          `json:"fbtrace_id"`
		ErrorData      json.RawMessage `json:"error_data"`
	} `json:"error"`
}

// newAPIError builds an APIError from a non-2xx response. redact removes
// secrets (the access token) from texts taken from the body.
func newAPIError(resp *http.Response, body []byte, redact func(string) string, now time.Time) *APIError {
	e := &APIError{HTTPStatus: resp.StatusCode}
	var w wireGraphError
	if json.Unmarshal(body, &w) == nil && w.Error != nil {
		ge := w.Error
		e.GraphError = true
		e.Code = int(ge.Code)
		e.Subcode = int(ge.ErrorSubcode)
		e.Type = ge.Type
		e.Message = redact(ge.Message)
		e.UserTitle = redact(ge.ErrorUserTitle)
		e.UserMessage = redact(ge.ErrorUserMsg)
		e.IsTransient = ge.IsTransient
		e.FBTraceID = ge.FBTraceID
		e.Details = redact(errorDataDetails(ge.ErrorData))
	} else {
		e.Message = redact(snippet(body))
	}
	if d, ok := parseRetryAfter(resp.Header.Get("Retry-After"), now); ok {
		e.RetryAfter = d
	} else if d, ok := parseBUCUsage(resp.Header.Get("X-Business-Use-Case-Usage")); ok {
		e.RetryAfter = d
	}
	return e
}

// errorDataDetails returns error_data.details. error_data is usually an
// object but older Graph errors send it as a JSON-encoded string.
func errorDataDetails(raw json.RawMessage) string {
	if isJSONNull(raw) {
		return ""
	}
	var obj struct {
		Details string `json:"details"`
	}
	if json.Unmarshal(raw, &obj) == nil {
		return obj.Details
	}
	var s string
	if json.Unmarshal(raw, &s) == nil {
		if json.Unmarshal([]byte(s), &obj) == nil {
			return obj.Details
		}
		return s
	}
	return ""
}

// snippet returns the start of a non-JSON error body, on one line.
func snippet(body []byte) string {
	const max = 200
	s := strings.TrimSpace(string(body))
	if len(s) > max {
		s = s[:max] + "…"
	}
	return strings.Join(strings.Fields(s), " ")
}

// parseRetryAfter parses a Retry-After value: delay-seconds or an HTTP date.
func parseRetryAfter(v string, now time.Time) (time.Duration, bool) {
	v = strings.TrimSpace(v)
	if v == "" {
		return 0, false
	}
	if secs, err := strconv.Atoi(v); err == nil {
		if secs <= 0 {
			return 0, false
		}
		return time.Duration(secs) * time.Second, true
	}
	if t, err := http.ParseTime(v); err == nil {
		if d := t.Sub(now); d > 0 {
			return d, true
		}
	}
	return 0, false
}

// parseBUCUsage reads the largest estimated_time_to_regain_access (minutes)
// from an x-business-use-case-usage header:
// {"<business id>":[{"type":"whatsapp","call_count":..,"estimated_time_to_regain_access":N}]}.
func parseBUCUsage(v string) (time.Duration, bool) {
	if v == "" {
		return 0, false
	}
	var usage map[string][]struct {
		EstimatedTimeToRegainAccess flexInt `json:"estimated_time_to_regain_access"`
	}
	if json.Unmarshal([]byte(v), &usage) != nil {
		return 0, false
	}
	var maxMin int64
	for _, entries := range usage {
		for _, e := range entries {
			maxMin = max(maxMin, int64(e.EstimatedTimeToRegainAccess))
		}
	}
	if maxMin <= 0 {
		return 0, false
	}
	return time.Duration(maxMin) * time.Minute, true
}
