package whatsapp_test

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/relaydesk/relaydesk/internal/whatsapp"
	"github.com/relaydesk/relaydesk/internal/whatsapp/whatsapptest"
)

type clientBundle struct {
	fake   *whatsapptest.Server
	client *whatsapp.Client
}

func setupClient(t *testing.T) *clientBundle {
	t.Helper()
	fake := whatsapptest.Start(t, whatsapptest.Options{})
	fake.AddInbound(whatsapptest.FixturePhoneNumberID, "16505551234", "wamid.IN1", "wamid.IN2", "wamid.IN3") // what the tests quote and react to
	return &clientBundle{fake: fake, client: fake.NewClient(t, "")}
}

func TestNewClient(t *testing.T) {
	t.Parallel()

	tests := []struct {
		name string
		opts whatsapp.ClientOpts
		ok   bool
	}{
		{"minimal", whatsapp.ClientOpts{AccessToken: "t", PhoneNumberID: "1"}, true},
		{"token source", whatsapp.ClientOpts{TokenSource: func(context.Context) (string, error) { return "t", nil }, PhoneNumberID: "1"}, true},
		{"no phone number", whatsapp.ClientOpts{AccessToken: "t"}, false},
		{"no token", whatsapp.ClientOpts{PhoneNumberID: "1"}, false},
		{"relative base URL", whatsapp.ClientOpts{AccessToken: "t", PhoneNumberID: "1", BaseURL: "graph.facebook.com"}, false},
		{"ftp base URL", whatsapp.ClientOpts{AccessToken: "t", PhoneNumberID: "1", BaseURL: "ftp://graph.facebook.com"}, false},
		{"version with slash", whatsapp.ClientOpts{AccessToken: "t", PhoneNumberID: "1", Version: "v1/x"}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			c, err := whatsapp.NewClient(tt.opts)
			if tt.ok {
				require.NoError(t, err)
				require.Equal(t, tt.opts.PhoneNumberID, c.PhoneNumberID())
				return
			}
			require.ErrorIs(t, err, whatsapp.ErrInvalidArgument)
		})
	}
}

// TestSendWireFormat checks the exact JSON each helper sends; the fake has
// also validated each body against the Graph OpenAPI description (Start
// fails the test otherwise).
func TestSendWireFormat(t *testing.T) {
	t.Parallel()

	const to = "16505551234"
	type sendFunc = func(ctx context.Context, c *whatsapp.Client) (string, error)
	sendMedia := func(kind string, ref whatsapp.MediaRef, replyTo string) sendFunc {
		return func(ctx context.Context, c *whatsapp.Client) (string, error) {
			return c.SendMedia(ctx, to, kind, ref, replyTo)
		}
	}
	tests := []struct {
		name string
		send sendFunc
		want string
	}{
		{
			name: "text",
			send: func(ctx context.Context, c *whatsapp.Client) (string, error) {
				return c.SendText(ctx, to, "Hello 👋", false, "")
			},
			want: `{"messaging_product":"whatsapp","recipient_type":"individual","to":"16505551234","type":"text","text":{"body":"Hello 👋","preview_url":false}}`,
		},
		{
			name: "text reply with preview",
			send: func(ctx context.Context, c *whatsapp.Client) (string, error) {
				return c.SendText(ctx, to, "see https://example.com", true, "wamid.IN1")
			},
			want: `{"messaging_product":"whatsapp","recipient_type":"individual","to":"16505551234","type":"text","context":{"message_id":"wamid.IN1"},"text":{"body":"see https://example.com","preview_url":true}}`,
		},
		{
			name: "image by id with caption",
			send: sendMedia(whatsapp.TypeImage, whatsapp.MediaRef{ID: "1234", Caption: "receipt"}, ""),
			want: `{"messaging_product":"whatsapp","recipient_type":"individual","to":"16505551234","type":"image","image":{"id":"1234","caption":"receipt"}}`,
		},
		{
			name: "document by link with filename, as a reply",
			send: sendMedia(whatsapp.TypeDocument, whatsapp.MediaRef{Link: "https://example.com/a.pdf", Filename: "a.pdf", Caption: "invoice"}, "wamid.IN2"),
			want: `{"messaging_product":"whatsapp","recipient_type":"individual","to":"16505551234","type":"document","context":{"message_id":"wamid.IN2"},"document":{"link":"https://example.com/a.pdf","caption":"invoice","filename":"a.pdf"}}`,
		},
		{
			name: "audio",
			send: sendMedia(whatsapp.TypeAudio, whatsapp.MediaRef{ID: "55"}, ""),
			want: `{"messaging_product":"whatsapp","recipient_type":"individual","to":"16505551234","type":"audio","audio":{"id":"55"}}`,
		},
		{
			name: "video",
			send: sendMedia(whatsapp.TypeVideo, whatsapp.MediaRef{ID: "56", Caption: "clip"}, ""),
			want: `{"messaging_product":"whatsapp","recipient_type":"individual","to":"16505551234","type":"video","video":{"id":"56","caption":"clip"}}`,
		},
		{
			name: "sticker",
			send: sendMedia(whatsapp.TypeSticker, whatsapp.MediaRef{ID: "57"}, ""),
			want: `{"messaging_product":"whatsapp","recipient_type":"individual","to":"16505551234","type":"sticker","sticker":{"id":"57"}}`,
		},
		{
			name: "template with media header, text/currency/date body and buttons",
			send: func(ctx context.Context, c *whatsapp.Client) (string, error) {
				return c.SendTemplate(ctx, to, whatsapp.Template{
					Name: "order_update", Language: "en_US",
					Components: []whatsapp.TemplateComponent{
						{Type: whatsapp.ComponentHeader, Parameters: []whatsapp.TemplateParameter{
							{Type: whatsapp.ParamImage, Image: &whatsapp.MediaRef{ID: "777"}},
						}},
						{Type: whatsapp.ComponentBody, Parameters: []whatsapp.TemplateParameter{
							{Type: whatsapp.ParamText, Text: "Kerry"},
							{Type: whatsapp.ParamCurrency, Currency: &whatsapp.Currency{FallbackValue: "$100.99", Code: "USD", Amount1000: 100990}},
							{Type: whatsapp.ParamDateTime, DateTime: &whatsapp.DateTime{FallbackValue: "February 25, 1977"}},
						}},
						{Type: whatsapp.ComponentButton, SubType: whatsapp.ButtonQuickReply, Index: 0, Parameters: []whatsapp.TemplateParameter{
							{Type: whatsapp.ParamPayload, Payload: "STOP"},
						}},
						{Type: whatsapp.ComponentButton, SubType: whatsapp.ButtonURL, Index: 1, Parameters: []whatsapp.TemplateParameter{
							{Type: whatsapp.ParamText, Text: "order/123"},
						}},
					},
				})
			},
			want: `{"messaging_product":"whatsapp","recipient_type":"individual","to":"16505551234","type":"template","template":{
			  "name":"order_update","language":{"policy":"deterministic","code":"en_US"},
			  "components":[
			    {"type":"header","parameters":[{"type":"image","image":{"id":"777"}}]},
			    {"type":"body","parameters":[{"type":"text","text":"Kerry"},
			      {"type":"currency","currency":{"fallback_value":"$100.99","code":"USD","amount_1000":100990}},
			      {"type":"date_time","date_time":{"fallback_value":"February 25, 1977"}}]},
			    {"type":"button","sub_type":"quick_reply","index":"0","parameters":[{"type":"payload","payload":"STOP"}]},
			    {"type":"button","sub_type":"url","index":"1","parameters":[{"type":"text","text":"order/123"}]}]}}`,
		},
		{
			name: "template without components",
			send: func(ctx context.Context, c *whatsapp.Client) (string, error) {
				return c.SendTemplate(ctx, to, whatsapp.Template{Name: "hello_world", Language: "en_US"})
			},
			want: `{"messaging_product":"whatsapp","recipient_type":"individual","to":"16505551234","type":"template","template":{"name":"hello_world","language":{"policy":"deterministic","code":"en_US"}}}`,
		},
		{
			name: "reaction",
			send: func(ctx context.Context, c *whatsapp.Client) (string, error) {
				return c.SendReaction(ctx, to, "wamid.IN3", "👍")
			},
			want: `{"messaging_product":"whatsapp","recipient_type":"individual","to":"16505551234","type":"reaction","reaction":{"message_id":"wamid.IN3","emoji":"👍"}}`,
		},
		{
			name: "reaction removal",
			send: func(ctx context.Context, c *whatsapp.Client) (string, error) {
				return c.SendReaction(ctx, to, "wamid.IN3", "")
			},
			want: `{"messaging_product":"whatsapp","recipient_type":"individual","to":"16505551234","type":"reaction","reaction":{"message_id":"wamid.IN3","emoji":""}}`,
		},
		{
			name: "location through Send",
			send: func(ctx context.Context, c *whatsapp.Client) (string, error) {
				r, err := c.Send(ctx, whatsapp.OutgoingMessage{To: to, Type: whatsapp.TypeLocation, Location: &whatsapp.OutgoingLocation{Lat: 37.4847, Lng: -122.1486, Name: "Meta HQ", Address: "1 Hacker Way"}})
				return r.MessageID, err
			},
			want: `{"messaging_product":"whatsapp","recipient_type":"individual","to":"16505551234","type":"location","location":{"latitude":"37.4847","longitude":"-122.1486","name":"Meta HQ","address":"1 Hacker Way"}}`,
		},
		{
			name: "text to a business-scoped user id goes in recipient, without to",
			send: func(ctx context.Context, c *whatsapp.Client) (string, error) {
				return c.SendText(ctx, "US.13491208655302741918", "Hello", false, "wamid.IN1")
			},
			want: `{"messaging_product":"whatsapp","recipient_type":"individual","recipient":"US.13491208655302741918","type":"text","context":{"message_id":"wamid.IN1"},"text":{"body":"Hello","preview_url":false}}`,
		},
		{
			name: "template to a parent business-scoped user id",
			send: func(ctx context.Context, c *whatsapp.Client) (string, error) {
				return c.SendTemplate(ctx, "US.ENT.11815799212886844830", whatsapp.Template{Name: "hello_world", Language: "en_US"})
			},
			want: `{"messaging_product":"whatsapp","recipient_type":"individual","recipient":"US.ENT.11815799212886844830","type":"template","template":{"name":"hello_world","language":{"policy":"deterministic","code":"en_US"}}}`,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			b := setupClient(t)
			wamid, err := tt.send(context.Background(), b.client)
			require.NoError(t, err)

			sent := b.fake.Sent()
			require.Len(t, sent, 1)
			require.Equal(t, sent[0].ID, wamid, "the wamid comes from messages[0].id")
			require.True(t, strings.HasPrefix(wamid, "wamid."))
			require.Equal(t, whatsapptest.FixturePhoneNumberID, sent[0].PhoneNumberID)
			require.JSONEq(t, tt.want, string(sent[0].Body))
		})
	}
}

func TestSendResult(t *testing.T) {
	t.Parallel()
	b := setupClient(t)

	r, err := b.client.Send(context.Background(), whatsapp.OutgoingMessage{
		To: "+1 650-555-1234", Type: whatsapp.TypeTemplate,
		Template: &whatsapp.Template{Name: "hello_world", Language: "en_US"},
	})
	require.NoError(t, err)
	require.Equal(t, whatsapp.SendResult{
		MessageID: b.fake.Sent()[0].ID, WaID: "16505551234", Input: "+1 650-555-1234", MessageStatus: "accepted",
	}, r)
}

// A send to a BSUID is answered with the recipient's user_id and no wa_id.
func TestSendResultForABSUID(t *testing.T) {
	t.Parallel()
	b := setupClient(t)
	r, err := b.client.Send(context.Background(), whatsapp.OutgoingMessage{
		To: "US.13491208655302741918", Type: whatsapp.TypeText, Text: &whatsapp.OutgoingText{Body: "hi"}})
	require.NoError(t, err)
	require.Equal(t, whatsapp.SendResult{MessageID: b.fake.Sent()[0].ID, UserID: "US.13491208655302741918",
		Input: "US.13491208655302741918"}, r)
	require.Equal(t, "US.13491208655302741918", b.fake.Sent()[0].Recipient)
	require.Empty(t, b.fake.Sent()[0].To)
}

func TestMarkRead(t *testing.T) {
	t.Parallel()
	b := setupClient(t)

	require.NoError(t, b.client.MarkRead(context.Background(), "wamid.IN9"))
	require.Equal(t, []whatsapptest.RecordedRead{{PhoneNumberID: whatsapptest.FixturePhoneNumberID, MessageID: "wamid.IN9"}}, b.fake.Reads())
	require.Empty(t, b.fake.Sent(), "a read receipt is not a message")
	require.ErrorIs(t, b.client.MarkRead(context.Background(), ""), whatsapp.ErrInvalidArgument)
}

func TestMarkReadTyping(t *testing.T) {
	t.Parallel()
	b := setupClient(t)

	require.NoError(t, b.client.MarkReadTyping(context.Background(), "wamid.IN9"))
	require.Equal(t, []whatsapptest.RecordedRead{{PhoneNumberID: whatsapptest.FixturePhoneNumberID, MessageID: "wamid.IN9", Typing: true}}, b.fake.Reads())
	require.Empty(t, b.fake.Sent(), "a typing indicator is not a message")
	require.Empty(t, b.fake.ValidationErrors())
	require.ErrorIs(t, b.client.MarkReadTyping(context.Background(), ""), whatsapp.ErrInvalidArgument)
}

func TestSendRejectsBadInputLocally(t *testing.T) {
	t.Parallel()
	b := setupClient(t)
	ctx := context.Background()
	c := b.client

	tests := []struct {
		name string
		call func() error
	}{
		{"empty recipient", func() error { _, err := c.SendText(ctx, "", "hi", false, ""); return err }},
		{"empty text", func() error { _, err := c.SendText(ctx, "1", "  ", false, ""); return err }},
		{"text too long", func() error {
			_, err := c.SendText(ctx, "1", strings.Repeat("é", whatsapp.MaxTextLength+1), false, "")
			return err
		}},
		{"media kind not media", func() error {
			_, err := c.SendMedia(ctx, "1", whatsapp.TypeText, whatsapp.MediaRef{ID: "1"}, "")
			return err
		}},
		{"media without id or link", func() error { _, err := c.SendMedia(ctx, "1", whatsapp.TypeImage, whatsapp.MediaRef{}, ""); return err }},
		{"media with id and link", func() error {
			_, err := c.SendMedia(ctx, "1", whatsapp.TypeImage, whatsapp.MediaRef{ID: "1", Link: "https://x"}, "")
			return err
		}},
		{"caption on audio", func() error {
			_, err := c.SendMedia(ctx, "1", whatsapp.TypeAudio, whatsapp.MediaRef{ID: "1", Caption: "c"}, "")
			return err
		}},
		{"caption too long", func() error {
			_, err := c.SendMedia(ctx, "1", whatsapp.TypeImage, whatsapp.MediaRef{ID: "1", Caption: strings.Repeat("c", whatsapp.MaxCaptionLength+1)}, "")
			return err
		}},
		{"filename on image", func() error {
			_, err := c.SendMedia(ctx, "1", whatsapp.TypeImage, whatsapp.MediaRef{ID: "1", Filename: "a.jpg"}, "")
			return err
		}},
		{"template without language", func() error { _, err := c.SendTemplate(ctx, "1", whatsapp.Template{Name: "x"}); return err }},
		{"button without sub type", func() error {
			_, err := c.SendTemplate(ctx, "1", whatsapp.Template{Name: "x", Language: "en", Components: []whatsapp.TemplateComponent{{Type: whatsapp.ComponentButton}}})
			return err
		}},
		{"reaction without message", func() error { _, err := c.SendReaction(ctx, "1", "", "👍"); return err }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.call()
			require.ErrorIs(t, err, whatsapp.ErrInvalidArgument)
			class, _ := whatsapp.Classify(err)
			require.Equal(t, whatsapp.ClassFinal, class)
		})
	}
	require.Empty(t, b.fake.Requests(), "nothing invalid may reach the API")
}

func TestSendErrorsAreClassified(t *testing.T) {
	t.Parallel()

	tests := []struct {
		name     string
		fault    whatsapptest.Fault
		class    whatsapp.Class
		wait     time.Duration
		code     int
		httpCode int
	}{
		{"re-engagement", whatsapptest.ErrorFault(131047), whatsapp.ClassFinal, 0, 131047, 400},
		{"undeliverable", whatsapptest.ErrorFault(131026), whatsapp.ClassFinal, 0, 131026, 400},
		{"BSUID recipient not allowed", whatsapptest.ErrorFault(131062), whatsapp.ClassFinal, 0, 131062, 400},
		{"template missing", whatsapptest.ErrorFault(132001), whatsapp.ClassFinal, 0, 132001, 404},
		{"policy block", whatsapptest.ErrorFault(368), whatsapp.ClassFinal, 0, 368, 403},
		{"permission as 500", whatsapptest.ErrorFault(3), whatsapp.ClassFinal, 0, 3, 500},
		{"token expired", whatsapptest.ErrorFault(190), whatsapp.ClassAuth, 0, 190, 401},
		{"throughput, default wait", whatsapptest.ErrorFault(130429), whatsapp.ClassWait, 5 * time.Second, 130429, 400},
		{"throughput with Retry-After", withRetryAfter(whatsapptest.ErrorFault(130429), 7*time.Second), whatsapp.ClassWait, 7 * time.Second, 130429, 400},
		{"pair rate", whatsapptest.ErrorFault(131056), whatsapp.ClassWait, 15 * time.Second, 131056, 400},
		{"WABA rate", whatsapptest.ErrorFault(80007), whatsapp.ClassWait, 5 * time.Minute, 80007, 400},
		{"app rate as 429", whatsapptest.Fault{Code: 4, HTTPStatus: 429, RetryAfter: time.Minute}, whatsapp.ClassWait, time.Minute, 4, 429},
		{"something went wrong", whatsapptest.ErrorFault(131000), whatsapp.ClassRetry, 0, 131000, 500},
		{"service unavailable", whatsapptest.ErrorFault(131016), whatsapp.ClassRetry, 0, 131016, 503},
		{"proxy 502 page", whatsapptest.Fault{Body: "<html><h1>502 Bad Gateway</h1></html>"}, whatsapp.ClassRetry, 0, 0, 502},
		{"proxy 429 page", whatsapptest.Fault{Body: "slow down", HTTPStatus: 429, RetryAfter: 3 * time.Second}, whatsapp.ClassWait, 3 * time.Second, 0, 429},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			b := setupClient(t)
			f := tt.fault
			f.Op, f.Times = whatsapptest.OpSendMessage, 1
			b.fake.Fail(f)

			_, err := b.client.SendText(context.Background(), "16505551234", "hi", false, "")
			var apiErr *whatsapp.APIError
			require.ErrorAs(t, err, &apiErr)
			require.Equal(t, tt.httpCode, apiErr.HTTPStatus)
			require.Equal(t, tt.code, apiErr.Code)
			class, wait := whatsapp.Classify(err)
			require.Equal(t, tt.class, class)
			require.Equal(t, tt.wait, wait)
			if apiErr.GraphError {
				require.NotEmpty(t, apiErr.FBTraceID)
			}
			require.Empty(t, b.fake.Sent())

			// The fault was for one call only: the retry goes through.
			_, err = b.client.SendText(context.Background(), "16505551234", "hi", false, "")
			require.NoError(t, err)
			require.Len(t, b.fake.Sent(), 1)
		})
	}
}

func withRetryAfter(f whatsapptest.Fault, d time.Duration) whatsapptest.Fault {
	f.RetryAfter = d
	return f
}

func TestSendTransportFailures(t *testing.T) {
	t.Parallel()

	t.Run("dropped connection is retryable", func(t *testing.T) {
		t.Parallel()
		b := setupClient(t)
		b.fake.Fail(whatsapptest.Fault{Op: whatsapptest.OpSendMessage, Times: 1, DropConnection: true})
		_, err := b.client.SendText(context.Background(), "1", "hi", false, "")
		require.Error(t, err)
		var apiErr *whatsapp.APIError
		require.False(t, errors.As(err, &apiErr))
		class, _ := whatsapp.Classify(err)
		require.Equal(t, whatsapp.ClassRetry, class)
	})

	t.Run("slow response hits the per-call deadline", func(t *testing.T) {
		t.Parallel()
		fake := whatsapptest.Start(t, whatsapptest.Options{})
		opts := fake.ClientOpts("")
		opts.Timeout = 50 * time.Millisecond
		c, err := whatsapp.NewClient(opts)
		require.NoError(t, err)
		fake.Fail(whatsapptest.Fault{Op: whatsapptest.OpSendMessage, Times: 1, Delay: time.Minute})

		_, err = c.SendText(context.Background(), "1", "hi", false, "")
		require.ErrorIs(t, err, context.DeadlineExceeded)
		class, _ := whatsapp.Classify(err)
		require.Equal(t, whatsapp.ClassRetry, class)
	})

	t.Run("caller's context is honoured", func(t *testing.T) {
		t.Parallel()
		b := setupClient(t)
		ctx, cancel := context.WithCancel(context.Background())
		cancel()
		_, err := b.client.SendText(ctx, "1", "hi", false, "")
		require.ErrorIs(t, err, context.Canceled)
	})

	t.Run("connection refused is retryable", func(t *testing.T) {
		t.Parallel()
		srv := httptest.NewServer(http.NotFoundHandler())
		url := srv.URL
		srv.Close()
		c, err := whatsapp.NewClient(whatsapp.ClientOpts{BaseURL: url, AccessToken: "secret-token-xyz", PhoneNumberID: "1"})
		require.NoError(t, err)
		_, err = c.SendText(context.Background(), "1", "hi", false, "")
		require.Error(t, err)
		require.NotContains(t, err.Error(), "secret-token-xyz")
		class, _ := whatsapp.Classify(err)
		require.Equal(t, whatsapp.ClassRetry, class)
	})
}

func TestRevokedTokenIsAuthAndNeverLeaks(t *testing.T) {
	t.Parallel()
	b := setupClient(t)
	oldToken := b.fake.AccessToken()
	b.fake.SetAccessToken("EAAnew-token")

	_, err := b.client.SendText(context.Background(), "1", "hi", false, "")
	var apiErr *whatsapp.APIError
	require.ErrorAs(t, err, &apiErr)
	require.Equal(t, http.StatusUnauthorized, apiErr.HTTPStatus)
	require.Equal(t, 190, apiErr.Code)
	class, _ := whatsapp.Classify(err)
	require.Equal(t, whatsapp.ClassAuth, class)
	require.NotContains(t, err.Error(), oldToken)

	// Graph sometimes echoes the token it could not parse.
	b.fake.SetAccessToken(oldToken)
	b.fake.Fail(whatsapptest.Fault{Op: whatsapptest.OpSendMessage, Times: 1, Code: 190, HTTPStatus: 401,
		Message: "Malformed access token " + oldToken, Details: "token " + oldToken + " rejected"})
	_, err = b.client.SendText(context.Background(), "1", "hi", false, "")
	require.ErrorAs(t, err, &apiErr)
	require.NotContains(t, err.Error(), oldToken)
	require.NotContains(t, apiErr.Message, oldToken)
	require.NotContains(t, apiErr.Details, oldToken)
	require.Contains(t, apiErr.Message, "[REDACTED]")
}

func TestTokenSource(t *testing.T) {
	t.Parallel()
	fake := whatsapptest.Start(t, whatsapptest.Options{})
	opts := fake.ClientOpts("")
	opts.AccessToken = ""
	calls := 0
	opts.TokenSource = func(context.Context) (string, error) {
		calls++
		return fake.AccessToken(), nil
	}
	c, err := whatsapp.NewClient(opts)
	require.NoError(t, err)
	_, err = c.SendText(context.Background(), "1", "hi", false, "")
	require.NoError(t, err)
	require.Equal(t, 1, calls)

	opts.TokenSource = func(context.Context) (string, error) { return "", errors.New("vault sealed") }
	c, err = whatsapp.NewClient(opts)
	require.NoError(t, err)
	_, err = c.SendText(context.Background(), "1", "hi", false, "")
	require.ErrorContains(t, err, "vault sealed")
}

func TestUnknownPhoneNumberAndVersion(t *testing.T) {
	t.Parallel()
	fake := whatsapptest.Start(t, whatsapptest.Options{})

	c := fake.NewClient(t, "999999999")
	_, err := c.SendText(context.Background(), "1", "hi", false, "")
	var apiErr *whatsapp.APIError
	require.ErrorAs(t, err, &apiErr)
	require.Equal(t, 100, apiErr.Code)
	require.Equal(t, 33, apiErr.Subcode)
	class, _ := whatsapp.Classify(err)
	require.Equal(t, whatsapp.ClassFinal, class)

	opts := fake.ClientOpts("")
	opts.Version = "v99.0"
	c, err = whatsapp.NewClient(opts)
	require.NoError(t, err)
	_, err = c.PhoneNumber(context.Background())
	require.ErrorAs(t, err, &apiErr)
	require.Equal(t, 2500, apiErr.Code)
}

func TestPhoneNumber(t *testing.T) {
	t.Parallel()
	fake := whatsapptest.Start(t, whatsapptest.Options{PhoneNumbers: []whatsapp.PhoneNumberInfo{{
		ID: "123456789", DisplayPhoneNumber: "+1 555-555-5555", VerifiedName: "Jaspers Market",
		QualityRating: whatsapp.QualityYellow, CodeVerificationStatus: "VERIFIED", NameStatus: "APPROVED",
	}}})
	c := fake.NewClient(t, "")

	info, err := c.PhoneNumber(context.Background())
	require.NoError(t, err)
	require.Equal(t, whatsapp.PhoneNumberInfo{
		ID: "123456789", DisplayPhoneNumber: "+1 555-555-5555", VerifiedName: "Jaspers Market",
		QualityRating: whatsapp.QualityYellow, CodeVerificationStatus: "VERIFIED", NameStatus: "APPROVED",
	}, info)

	fake.Fail(whatsapptest.ErrorFault(190))
	_, err = c.PhoneNumber(context.Background())
	class, _ := whatsapp.Classify(err)
	require.Equal(t, whatsapp.ClassAuth, class)
}
