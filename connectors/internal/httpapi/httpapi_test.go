package httpapi_test

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/relaydesk/relaydesk/connectors"
	"github.com/relaydesk/relaydesk/connectors/internal/httpapi"
)

func TestParseBaseURL(t *testing.T) {
	t.Parallel()
	base, ok := httpapi.ParseBaseURL("https://help.example.com/desk//")
	require.True(t, ok)
	require.Equal(t, "https://help.example.com/desk", base.String())
	for _, raw := range []string{"help.example.com", "ftp://help.example.com", "https://u:p@help.example.com", "https://help.example.com/?a=1", "https://"} {
		_, ok := httpapi.ParseBaseURL(raw)
		require.False(t, ok, raw)
	}
}

// recorder answers 200 and remembers the Authorization header of each
// request by path.
type recorder map[string]string

func (rec recorder) RoundTrip(req *http.Request) (*http.Response, error) {
	rec[req.URL.Scheme+"://"+req.URL.Host+req.URL.Path] = req.Header.Get("Authorization")
	return &http.Response{StatusCode: http.StatusOK, Header: http.Header{}, Body: io.NopCloser(strings.NewReader("{}")), Request: req}, nil
}

func TestNewHTTPClientScopesCredentials(t *testing.T) {
	t.Parallel()
	rec := recorder{}
	given := &http.Client{Transport: rec, Timeout: time.Second}
	base, _ := httpapi.ParseBaseURL("https://rt.example.com/rt")
	hc := httpapi.NewHTTPClient(given, time.Minute, base, base.Path+"/REST/2.0/", func(next http.RoundTripper) http.RoundTripper {
		return httpapi.SetHeader(next, "Authorization", "token secret")
	})
	require.IsType(t, recorder{}, given.Transport, "the given client is not mutated")
	require.Equal(t, time.Second, hc.Timeout)
	for _, u := range []string{
		"https://rt.example.com/rt/REST/2.0/ticket/1",
		"https://rt.example.com/rt/REST/1.0/NoAuth/mail-gateway",
		"http://rt.example.com/rt/REST/2.0/ticket/1",
		"https://files.example.com/rt/REST/2.0/ticket/1",
	} {
		resp, err := hc.Get(u)
		require.NoError(t, err)
		resp.Body.Close()
	}
	require.Equal(t, recorder{
		"https://rt.example.com/rt/REST/2.0/ticket/1":            "token secret",
		"https://rt.example.com/rt/REST/1.0/NoAuth/mail-gateway": "",
		"http://rt.example.com/rt/REST/2.0/ticket/1":             "",
		"https://files.example.com/rt/REST/2.0/ticket/1":         "",
	}, rec)

	require.Equal(t, 30*time.Second, httpapi.NewHTTPClient(nil, 30*time.Second, base, "", func(next http.RoundTripper) http.RoundTripper {
		return httpapi.BasicAuth(next, "u", "p")
	}).Timeout)
}

func TestDoClassifiesAnswers(t *testing.T) {
	t.Parallel()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/ok":
			require.Equal(t, "application/json", r.Header.Get("Content-Type"))
			require.Equal(t, "v", r.URL.Query().Get("q"))
			_, _ = io.WriteString(w, `{"id": 7}`)
		case "/garbage":
			_, _ = io.WriteString(w, `{"id":`)
		default:
			w.Header().Set("Retry-After", "3")
			w.WriteHeader(http.StatusTooManyRequests)
			_, _ = io.WriteString(w, strings.Repeat("x", 500))
		}
	}))
	t.Cleanup(srv.Close)
	c := httpapi.Client{Name: "acme", HTTP: srv.Client(), Error: func(resp *http.Response, body []byte) error {
		return httpapi.StatusError(resp, string(body))
	}}
	ctx := context.Background()

	var out struct{ ID int }
	h, err := c.Do(ctx, httpapi.Request{Method: http.MethodPost, URL: srv.URL + "/ok", Path: "ok", Query: map[string][]string{"q": {"v"}}, JSON: map[string]int{"a": 1}, Out: &out})
	require.NoError(t, err)
	require.NotNil(t, h)
	require.Equal(t, 7, out.ID)

	_, err = c.Do(ctx, httpapi.Request{Method: http.MethodGet, URL: srv.URL + "/garbage", Path: "garbage", Out: &out})
	require.True(t, connectors.IsRetryable(err))
	require.Contains(t, err.Error(), "acme: GET garbage: ")

	_, err = c.Do(ctx, httpapi.Request{Method: http.MethodGet, URL: srv.URL + "/limited", Path: "limited"})
	wait, ok := connectors.IsRateLimited(err)
	require.True(t, ok)
	require.Equal(t, 3*time.Second, wait)
	var ce *connectors.Error
	require.ErrorAs(t, err, &ce)
	require.Len(t, ce.Message, 403, "the helpdesk's text is cut to 400 bytes")

	h, err = c.Do(ctx, httpapi.Request{Method: http.MethodGet, URL: "http://127.0.0.1:1/closed", Path: "closed", Query: map[string][]string{"token": {"s3cret"}}})
	require.Nil(t, h, "no response")
	require.True(t, connectors.IsRetryable(err))
	require.NotContains(t, err.Error(), "s3cret", "the URL is not repeated")
}

// failingReader fails after its content.
type failingReader struct{ r io.Reader }

func (f failingReader) Read(p []byte) (int, error) {
	n, err := f.r.Read(p)
	if errors.Is(err, io.EOF) {
		return n, errors.New("disk on fire")
	}
	return n, err
}

func TestStreamReportsItsFilesFailures(t *testing.T) {
	t.Parallel()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body)
	}))
	t.Cleanup(srv.Close)
	c := httpapi.Client{Name: "acme", HTTP: srv.Client(), Error: func(resp *http.Response, _ []byte) error { return httpapi.StatusError(resp, "") }}
	ctx := context.Background()

	open := func(content io.Reader, size int64) []httpapi.File {
		files, err := httpapi.OpenFiles(ctx, "acme", []connectors.Attachment{{
			Filename: "voice", ContentType: "audio/ogg; codecs=opus", Size: size,
			Open: func(context.Context) (io.ReadCloser, error) { return io.NopCloser(content), nil },
		}})
		require.NoError(t, err)
		require.Equal(t, "voice.ogg", files[0].Name)
		require.Equal(t, "audio/ogg; codecs=opus", files[0].ContentType)
		require.Equal(t, "audio/ogg", files[0].MediaType())
		return files
	}
	send := func(files []httpapi.File) error {
		s := httpapi.NewStream("application/octet-stream", -1, files, func(s *httpapi.Stream, w io.Writer) error {
			_, err := s.Copy(w, files[0])
			return err
		})
		_, err := c.Do(ctx, httpapi.Request{Method: http.MethodPost, URL: srv.URL, Path: "upload", Stream: s})
		return err
	}

	require.NoError(t, send(open(strings.NewReader("hello"), 5)))

	err := send(open(strings.NewReader("hello"), 9))
	require.True(t, connectors.IsPermanent(err))
	require.Contains(t, err.Error(), `acme: attachment "voice.ogg" has not the 9 bytes announced`)

	err = send(open(failingReader{strings.NewReader("hello")}, -1))
	require.True(t, connectors.IsRetryable(err))
	require.Contains(t, err.Error(), "acme: read attachment: ")
	require.Contains(t, err.Error(), "disk on fire")

	_, err = httpapi.OpenFiles(ctx, "acme", []connectors.Attachment{{Filename: "a.txt"}})
	require.True(t, connectors.IsPermanent(err))
}
