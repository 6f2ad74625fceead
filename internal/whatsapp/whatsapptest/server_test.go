package whatsapptest_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/relaydesk/relaydesk/internal/whatsapp"
	"github.com/relaydesk/relaydesk/internal/whatsapp/whatsapptest"
)

// graphResponse is a decoded response of the fake.
type graphResponse struct {
	status int
	body   map[string]any
	header http.Header
}

func (r graphResponse) code() int {
	e, _ := r.body["error"].(map[string]any)
	c, _ := e["code"].(float64)
	return int(c)
}

// post sends a raw JSON body with valid headers to path on the fake.
func post(t *testing.T, fake *whatsapptest.Server, path, body string, header map[string]string) graphResponse {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, fake.URL()+path, strings.NewReader(body))
	require.NoError(t, err)
	req.Header.Set("Authorization", "Bearer "+fake.AccessToken())
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", "relaydesk-test/1.0.0")
	for k, v := range header {
		if v == "" {
			req.Header.Del(k)
		} else {
			req.Header.Set(k, v)
		}
	}
	return do(t, fake, req)
}

func do(t *testing.T, fake *whatsapptest.Server, req *http.Request) graphResponse {
	t.Helper()
	resp, err := fake.HTTPClient().Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	r := graphResponse{status: resp.StatusCode, header: resp.Header}
	_ = json.Unmarshal(data, &r.body)
	return r
}

var messagesPath = "/" + whatsapp.DefaultVersion + "/" + whatsapptest.FixturePhoneNumberID + "/messages"

func TestFakeRejectsMisspelledFields(t *testing.T) {
	t.Parallel()

	const base = `"messaging_product":"whatsapp","recipient_type":"individual","to":"16505551234"`
	tests := []struct {
		name  string
		body  string
		field string // expected in the validation error
	}{
		{"text.bdy", `{` + base + `,"type":"text","text":{"bdy":"hi"}}`, "bdy"},
		{"txt instead of text", `{` + base + `,"type":"text","txt":{"body":"hi"}}`, "txt"},
		{"recipient typo", `{"messaging_product":"whatsapp","recipient_typ":"individual","to":"1","type":"text","text":{"body":"hi"}}`, "recipient_typ"},
		{"image.idd", `{` + base + `,"type":"image","image":{"idd":"1"}}`, "id"},
		{"image.captoin", `{` + base + `,"type":"image","image":{"id":"1","captoin":"x"}}`, "image.captoin"},
		{"document.file_name", `{` + base + `,"type":"document","document":{"id":"1","file_name":"a.pdf"}}`, "document.file_name"},
		{"context.message_idd", `{` + base + `,"type":"text","text":{"body":"hi"},"context":{"message_idd":"x"}}`, "context.message_idd"},
		{"reaction.emoij", `{` + base + `,"type":"reaction","reaction":{"message_id":"x","emoij":"a"}}`, "emoij"},
		{"template.langauge", `{` + base + `,"type":"template","template":{"name":"x","langauge":{"code":"en"}}}`, "language"},
		{"template parameter txt", `{` + base + `,"type":"template","template":{"name":"x","language":{"policy":"deterministic","code":"en"},"components":[{"type":"body","parameters":[{"type":"text","txt":"a"}]}]}}`, "parameters[0].txt"},
		{"button parameter paylod", `{` + base + `,"type":"template","template":{"name":"x","language":{"policy":"deterministic","code":"en"},"components":[{"type":"button","sub_type":"quick_reply","index":"0","parameters":[{"type":"payload","paylod":"a"}]}]}}`, "paylod"},
		{"mark read message_idd", `{"messaging_product":"whatsapp","status":"read","message_idd":"x"}`, ""},
		{"unknown message type", `{` + base + `,"type":"carousel","carousel":{}}`, ""},
		{"recipient_type value", `{"messaging_product":"whatsapp","recipient_type":"person","to":"1","type":"text","text":{"body":"hi"}}`, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			fake := whatsapptest.Start(t, whatsapptest.Options{AllowInvalidRequests: true})
			r := post(t, fake, messagesPath, tt.body, nil)
			require.Equal(t, http.StatusBadRequest, r.status)
			require.Equal(t, 100, r.code())
			require.Empty(t, fake.Sent())
			errs := fake.ValidationErrors()
			require.Len(t, errs, 1)
			require.Contains(t, errs[0].Error(), tt.field)
			require.NotContains(t, errs[0].Error(), "\n", "validation errors are one line")
		})
	}

	t.Run("the same bodies spelled right pass", func(t *testing.T) {
		t.Parallel()
		fake := whatsapptest.Start(t, whatsapptest.Options{})
		fake.AddInbound(whatsapptest.FixturePhoneNumberID, "16505551234", "x") // the quoted message
		for _, body := range []string{
			`{` + base + `,"type":"text","text":{"body":"hi"}}`,
			`{` + base + `,"type":"image","image":{"id":"1","caption":"x"}}`,
			`{` + base + `,"type":"document","document":{"id":"1","filename":"a.pdf"}}`,
			`{` + base + `,"type":"text","text":{"body":"hi"},"context":{"message_id":"x"}}`,
			`{` + base + `,"type":"template","template":{"name":"x","language":{"policy":"deterministic","code":"en"},"components":[{"type":"button","sub_type":"quick_reply","index":"0","parameters":[{"type":"payload","payload":"a"}]}]}}`,
			`{"messaging_product":"whatsapp","status":"read","message_id":"x"}`,
		} {
			r := post(t, fake, messagesPath, body, nil)
			require.Equal(t, http.StatusOK, r.status, body)
		}
		require.Len(t, fake.Sent(), 5)
		require.Len(t, fake.Reads(), 1)
	})
}

func TestFakeValidatesHeadersAndPath(t *testing.T) {
	t.Parallel()

	const ok = `{"messaging_product":"whatsapp","recipient_type":"individual","to":"1","type":"text","text":{"body":"hi"}}`
	tests := []struct {
		name    string
		path    string
		header  map[string]string
		status  int
		code    int
		invalid bool
	}{
		{"valid", messagesPath, nil, 200, 0, false},
		{"Go default user agent", messagesPath, map[string]string{"User-Agent": "Go-http-client/1.1"}, 400, 100, true},
		{"missing content type", messagesPath, map[string]string{"Content-Type": ""}, 400, 100, true},
		{"form content type", messagesPath, map[string]string{"Content-Type": "application/x-www-form-urlencoded"}, 400, 100, true},
		{"other version", "/v21.0/" + whatsapptest.FixturePhoneNumberID + "/messages", nil, 400, 2500, false},
		{"unknown path", "/" + whatsapp.DefaultVersion + "/" + whatsapptest.FixturePhoneNumberID + "/mesages", nil, 400, 2500, false},
		{"unknown phone number", "/" + whatsapp.DefaultVersion + "/42/messages", nil, 400, 100, false},
		{"missing token", messagesPath, map[string]string{"Authorization": ""}, 401, 190, false},
		{"wrong token", messagesPath, map[string]string{"Authorization": "Bearer EAAother"}, 401, 190, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			fake := whatsapptest.Start(t, whatsapptest.Options{AllowInvalidRequests: true})
			r := post(t, fake, tt.path, ok, tt.header)
			require.Equal(t, tt.status, r.status)
			require.Equal(t, tt.code, r.code())
			require.Equal(t, tt.invalid, len(fake.ValidationErrors()) > 0, "%v", fake.ValidationErrors())
		})
	}
}

func TestFakeSkipValidation(t *testing.T) {
	t.Parallel()
	fake := whatsapptest.Start(t, whatsapptest.Options{SkipValidation: true})
	r := post(t, fake, messagesPath, `{"messaging_product":"whatsapp","to":"1","type":"text","text":{"bdy":"hi"}}`, nil)
	require.Equal(t, http.StatusOK, r.status)
	require.Len(t, fake.Sent(), 1)
}

func TestFakeFaults(t *testing.T) {
	t.Parallel()

	t.Run("times", func(t *testing.T) {
		t.Parallel()
		fake := whatsapptest.Start(t, whatsapptest.Options{})
		c := fake.NewClient(t, "")
		fake.Fail(whatsapptest.Fault{Op: whatsapptest.OpSendMessage, Times: 2, Code: 131000, HTTPStatus: 500})
		for i := range 2 {
			_, err := c.SendText(context.Background(), "1", fmt.Sprint(i), false, "")
			require.Error(t, err)
		}
		_, err := c.SendText(context.Background(), "1", "third", false, "")
		require.NoError(t, err)

		reqs := fake.Requests()
		require.Len(t, reqs, 3)
		require.True(t, reqs[0].Fault)
		require.Equal(t, 500, reqs[1].Status)
		require.False(t, reqs[2].Fault)
		require.Equal(t, whatsapptest.OpSendMessage, reqs[2].Op)
	})

	t.Run("forever until cleared", func(t *testing.T) {
		t.Parallel()
		fake := whatsapptest.Start(t, whatsapptest.Options{})
		c := fake.NewClient(t, "")
		fake.Fail(whatsapptest.ErrorFault(131056))
		for range 3 {
			_, err := c.SendText(context.Background(), "1", "x", false, "")
			class, _ := whatsapp.Classify(err)
			require.Equal(t, whatsapp.ClassWait, class)
		}
		fake.ClearFaults()
		_, err := c.SendText(context.Background(), "1", "x", false, "")
		require.NoError(t, err)
	})

	t.Run("predicate and op filter", func(t *testing.T) {
		t.Parallel()
		fake := whatsapptest.Start(t, whatsapptest.Options{})
		c := fake.NewClient(t, "")
		blocked := whatsapptest.ErrorFault(131026)
		blocked.Match = func(_ *http.Request, body []byte) bool { return strings.Contains(string(body), `"to":"999"`) }
		fake.Fail(blocked)
		fake.Fail(whatsapptest.Fault{Op: whatsapptest.OpUploadMedia, Code: 131053})

		_, err := c.SendText(context.Background(), "999", "x", false, "")
		var apiErr *whatsapp.APIError
		require.ErrorAs(t, err, &apiErr)
		require.Equal(t, 131026, apiErr.Code)

		_, err = c.SendText(context.Background(), "111", "x", false, "")
		require.NoError(t, err, "other recipients and operations are unaffected")
		require.NoError(t, c.MarkRead(context.Background(), "wamid.A"))

		_, err = c.UploadMedia(context.Background(), "a.jpg", "image/jpeg", 1, strings.NewReader("x"))
		require.ErrorAs(t, err, &apiErr)
		require.Equal(t, 131053, apiErr.Code)
	})

	t.Run("mark read fault does not hit sends", func(t *testing.T) {
		t.Parallel()
		fake := whatsapptest.Start(t, whatsapptest.Options{})
		c := fake.NewClient(t, "")
		fake.Fail(whatsapptest.Fault{Op: whatsapptest.OpMarkRead, Code: 131000, HTTPStatus: 500})
		require.Error(t, c.MarkRead(context.Background(), "wamid.A"))
		_, err := c.SendText(context.Background(), "1", "x", false, "")
		require.NoError(t, err)
	})

	t.Run("delay only serves the request", func(t *testing.T) {
		t.Parallel()
		fake := whatsapptest.Start(t, whatsapptest.Options{})
		c := fake.NewClient(t, "")
		fake.Fail(whatsapptest.Fault{Op: whatsapptest.OpPhoneNumber, Times: 1, Delay: 10 * time.Millisecond})
		_, err := c.PhoneNumber(context.Background())
		require.NoError(t, err)
		require.False(t, fake.Requests()[0].Fault)
	})

	t.Run("retry after header", func(t *testing.T) {
		t.Parallel()
		fake := whatsapptest.Start(t, whatsapptest.Options{})
		fake.Fail(whatsapptest.Fault{Code: 130429, RetryAfter: 1500 * time.Millisecond})
		r := post(t, fake, messagesPath, `{"messaging_product":"whatsapp","recipient_type":"individual","to":"1","type":"text","text":{"body":"hi"}}`, nil)
		require.Equal(t, http.StatusBadRequest, r.status)
		require.Equal(t, "2", r.header.Get("Retry-After"), "rounded up to whole seconds")
		e := r.body["error"].(map[string]any)
		require.Equal(t, "OAuthException", e["type"])
		require.NotEmpty(t, e["fbtrace_id"])
	})
}

func TestFakeHandsOutUniqueIDs(t *testing.T) {
	t.Parallel()
	fake := whatsapptest.Start(t, whatsapptest.Options{})
	c := fake.NewClient(t, "")

	const workers, each = 8, 10
	var mu sync.Mutex
	seen := map[string]bool{}
	var wg sync.WaitGroup
	for w := range workers {
		wg.Go(func() {
			for i := range each {
				id, err := c.SendText(context.Background(), "1", fmt.Sprintf("%d-%d", w, i), false, "")
				if err != nil {
					t.Error(err)
					return
				}
				mu.Lock()
				seen[id] = true
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	require.Len(t, seen, workers*each)
	require.Equal(t, workers*each, fake.SentCount())
	require.Len(t, fake.Sent(), workers*each)
}

func TestFakeMediaURLs(t *testing.T) {
	t.Parallel()

	var mu sync.Mutex
	now := time.Date(2026, 11, 10, 12, 0, 0, 0, time.UTC)
	clock := func() time.Time { mu.Lock(); defer mu.Unlock(); return now }
	fake := whatsapptest.Start(t, whatsapptest.Options{Now: clock})
	c := fake.NewClient(t, "")
	id := fake.AddMedia(whatsapptest.Media{MimeType: "audio/ogg", Data: []byte("OggS...")})

	info, err := c.MediaInfo(context.Background(), id)
	require.NoError(t, err)
	require.True(t, strings.HasPrefix(info.URL, fake.URL()+"/whatsapp_business/attachments/?"))

	get := func(url string, withToken bool) int {
		req, err := http.NewRequest(http.MethodGet, url, nil)
		require.NoError(t, err)
		if withToken {
			req.Header.Set("Authorization", "Bearer "+fake.AccessToken())
		}
		resp, err := fake.HTTPClient().Do(req)
		require.NoError(t, err)
		resp.Body.Close()
		return resp.StatusCode
	}
	require.Equal(t, http.StatusOK, get(info.URL, true))
	require.Equal(t, http.StatusUnauthorized, get(info.URL, false), "the URL alone is not enough")
	require.Equal(t, http.StatusNotFound, get(strings.Replace(info.URL, "mid="+id, "mid=1"+id, 1), true), "ids cannot be swapped")

	mu.Lock()
	now = now.Add(6 * time.Minute)
	mu.Unlock()
	require.Equal(t, http.StatusNotFound, get(info.URL, true), "URLs expire after 5 minutes")

	// A fresh info call gives a working URL again.
	rc, _, err := c.DownloadMedia(context.Background(), id)
	require.NoError(t, err)
	data, err := io.ReadAll(rc)
	require.NoError(t, err)
	require.NoError(t, rc.Close())
	require.Equal(t, "OggS...", string(data))
}

func TestFakeDisableRecording(t *testing.T) {
	t.Parallel()
	fake := whatsapptest.Start(t, whatsapptest.Options{DisableRecording: true, SkipValidation: true})
	c := fake.NewClient(t, "")
	for range 3 {
		_, err := c.SendText(context.Background(), "1", "x", false, "")
		require.NoError(t, err)
	}
	require.Equal(t, 3, fake.SentCount())
	require.Empty(t, fake.Sent())
	require.Empty(t, fake.Requests())
}

// A send names its customer by exactly one of to (phone number) and
// recipient (business-scoped user id).
func TestFakeChecksExactlyOneRecipient(t *testing.T) {
	t.Parallel()
	const text = `"messaging_product":"whatsapp","recipient_type":"individual","type":"text","text":{"body":"hi"}`
	tests := []struct {
		name   string
		body   string
		status int
	}{
		{"phone in to", `{` + text + `,"to":"16505551234"}`, http.StatusOK},
		{"BSUID in recipient", `{` + text + `,"recipient":"US.13491208655302741918"}`, http.StatusOK},
		{"both", `{` + text + `,"to":"16505551234","recipient":"US.13491208655302741918"}`, http.StatusBadRequest},
		{"neither", `{` + text + `}`, http.StatusBadRequest},
		{"BSUID in to", `{` + text + `,"to":"US.13491208655302741918"}`, http.StatusBadRequest},
		{"phone in recipient", `{` + text + `,"recipient":"16505551234"}`, http.StatusBadRequest},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			fake := whatsapptest.Start(t, whatsapptest.Options{})
			r := post(t, fake, messagesPath, tt.body, nil)
			require.Equal(t, tt.status, r.status, r.body)
			if tt.status != http.StatusOK {
				require.Equal(t, 100, r.code())
				require.Empty(t, fake.Sent())
			}
		})
	}
}
