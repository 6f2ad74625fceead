package whatsapp

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

func TestParseRetryAfter(t *testing.T) {
	t.Parallel()

	now := time.Date(2026, 11, 10, 12, 0, 0, 0, time.UTC)
	tests := []struct {
		in   string
		want time.Duration
		ok   bool
	}{
		{"", 0, false},
		{"7", 7 * time.Second, true},
		{" 120 ", 2 * time.Minute, true},
		{"0", 0, false},
		{"-5", 0, false},
		{"soon", 0, false},
		{now.Add(90 * time.Second).Format(http.TimeFormat), 90 * time.Second, true},
		{now.Add(-time.Minute).Format(http.TimeFormat), 0, false},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			t.Parallel()
			got, ok := parseRetryAfter(tt.in, now)
			require.Equal(t, tt.ok, ok)
			require.Equal(t, tt.want, got)
		})
	}
}

func TestParseBUCUsage(t *testing.T) {
	t.Parallel()

	got, ok := parseBUCUsage(`{"102290129340398":[{"type":"whatsapp","call_count":100,"total_cputime":5,"total_time":8,"estimated_time_to_regain_access":3},{"type":"whatsapp","estimated_time_to_regain_access":"12"}]}`)
	require.True(t, ok)
	require.Equal(t, 12*time.Minute, got)

	_, ok = parseBUCUsage(`{"1":[{"type":"whatsapp","call_count":10,"estimated_time_to_regain_access":0}]}`)
	require.False(t, ok)
	_, ok = parseBUCUsage(`not json`)
	require.False(t, ok)
}

func TestNewAPIError(t *testing.T) {
	t.Parallel()

	const token = "EAAGsecretTOKEN123"
	resp := &http.Response{StatusCode: 400, Header: http.Header{}}
	resp.Header.Set("X-Business-Use-Case-Usage", `{"1":[{"estimated_time_to_regain_access":2}]}`)
	body := `{"error":{"message":"Malformed access token ` + token + `","type":"OAuthException","code":"190",
	  "error_subcode":463,"is_transient":false,"error_data":"{\"details\":\"token ` + token + ` is bad\"}","fbtrace_id":"Atrace"}}`
	e := newAPIError(resp, []byte(body), redactor(token), time.Now())
	require.True(t, e.GraphError)
	require.Equal(t, 190, e.Code)
	require.Equal(t, 463, e.Subcode)
	require.Equal(t, "Atrace", e.FBTraceID)
	require.Equal(t, 2*time.Minute, e.RetryAfter)
	require.Equal(t, "token [REDACTED] is bad", e.Details)
	require.NotContains(t, e.Error(), token)
	require.Equal(t, ClassAuth, e.Class())

	// A non-JSON body is kept as a one-line snippet.
	resp = &http.Response{StatusCode: 502, Header: http.Header{"Retry-After": {"3"}}}
	e = newAPIError(resp, []byte("<html>\n  <body>Bad   Gateway</body>\n</html>"), redactor(token), time.Now())
	require.False(t, e.GraphError)
	require.Equal(t, "<html> <body>Bad Gateway</body> </html>", e.Message)
	require.Equal(t, 3*time.Second, e.RetryAfter)
	require.Equal(t, ClassRetry, e.Class())

	// A JSON body without an error object is not a Graph error.
	e = newAPIError(&http.Response{StatusCode: 500, Header: http.Header{}}, []byte(`{"ok":false}`), redactor(token), time.Now())
	require.False(t, e.GraphError)
	require.Equal(t, ClassRetry, e.Class())

	long := strings.Repeat("x", 500)
	e = newAPIError(&http.Response{StatusCode: 500, Header: http.Header{}}, []byte(long), redactor(token), time.Now())
	require.Less(t, len(e.Message), 250)
}

func TestFlexibleNumbers(t *testing.T) {
	t.Parallel()

	var v struct {
		T unixTime  `json:"t"`
		I flexInt   `json:"i"`
		F flexFloat `json:"f"`
		B flexBool  `json:"b"`
	}
	require.NoError(t, json.Unmarshal([]byte(`{"t":"1700000000","i":"12","f":"1.5","b":"true"}`), &v))
	require.Equal(t, time.Unix(1700000000, 0).UTC(), v.T.Time())
	require.EqualValues(t, 12, v.I)
	require.EqualValues(t, 1.5, v.F)
	require.True(t, bool(v.B))

	require.NoError(t, json.Unmarshal([]byte(`{"t":1700000000,"i":12.0,"f":-3,"b":false}`), &v))
	require.Equal(t, time.Unix(1700000000, 0).UTC(), v.T.Time())
	require.EqualValues(t, 12, v.I)
	require.EqualValues(t, -3, v.F)
	require.False(t, bool(v.B))

	require.NoError(t, json.Unmarshal([]byte(`{"t":null,"i":"","f":null,"b":null}`), &v))
	require.True(t, v.T.Time().IsZero())

	require.Error(t, json.Unmarshal([]byte(`{"t":"yesterday"}`), &v))
	require.Error(t, json.Unmarshal([]byte(`{"i":{}}`), &v))
	require.Error(t, json.Unmarshal([]byte(`{"b":"maybe"}`), &v))
}
