package whatsapp_test

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/relaydesk/relaydesk/internal/whatsapp"
	"github.com/relaydesk/relaydesk/internal/whatsapp/whatsapptest"
)

func TestSign(t *testing.T) {
	t.Parallel()

	// HMAC-SHA256("key", "The quick brown fox jumps over the lazy dog"), a
	// well-known test vector.
	got := whatsapp.Sign([]byte("key"), []byte("The quick brown fox jumps over the lazy dog"))
	require.Equal(t, "sha256=f7bc83f430538424b13298e6aa6fb143ef4d59a14946175997479dbc2d1a3cd8", got)
}

func TestVerifySignature(t *testing.T) {
	t.Parallel()

	secret := []byte("app-secret")
	body := whatsapptest.Fixture(t, "text.json")
	good := whatsapp.Sign(secret, body)
	hexPart := strings.TrimPrefix(good, "sha256=")

	tests := []struct {
		name   string
		secret []byte
		body   []byte
		header string
		want   error
	}{
		{"valid", secret, body, good, nil},
		{"uppercase hex and prefix", secret, body, "SHA256=" + strings.ToUpper(hexPart), nil},
		{"surrounding spaces", secret, body, "  " + good + " ", nil},
		{"missing", secret, body, "", whatsapp.ErrSignatureMissing},
		{"blank", secret, body, "   ", whatsapp.ErrSignatureMissing},
		{"sha1 header value", secret, body, "sha1=" + hexPart[:40], whatsapp.ErrSignatureMalformed},
		{"no prefix", secret, body, hexPart, whatsapp.ErrSignatureMalformed},
		{"short digest", secret, body, good[:len(good)-2], whatsapp.ErrSignatureMalformed},
		{"long digest", secret, body, good + "00", whatsapp.ErrSignatureMalformed},
		{"not hex", secret, body, "sha256=" + strings.Repeat("zz", 32), whatsapp.ErrSignatureMalformed},
		{"wrong secret", []byte("other"), body, good, whatsapp.ErrSignatureMismatch},
		{"body changed by one byte", secret, append([]byte{' '}, body...), good, whatsapp.ErrSignatureMismatch},
		{"re-serialized body", secret, []byte(strings.ReplaceAll(string(body), "\n", "")), good, whatsapp.ErrSignatureMismatch},
		{"empty secret refused", nil, body, whatsapp.Sign(nil, body), whatsapp.ErrAppSecretMissing},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			err := whatsapp.VerifySignature(tt.secret, tt.body, tt.header)
			if tt.want == nil {
				require.NoError(t, err)
				return
			}
			require.ErrorIs(t, err, tt.want)
		})
	}
}

func TestVerifySignatureAny(t *testing.T) {
	t.Parallel()

	body := []byte(`{"object":"whatsapp_business_account","entry":[]}`)
	a, b := []byte("secret-a"), []byte("secret-b")

	i, err := whatsapp.VerifySignatureAny([][]byte{a, nil, b}, body, whatsapp.Sign(b, body))
	require.NoError(t, err)
	require.Equal(t, 2, i)

	_, err = whatsapp.VerifySignatureAny([][]byte{a, b}, body, whatsapp.Sign([]byte("c"), body))
	require.ErrorIs(t, err, whatsapp.ErrSignatureMismatch)

	_, err = whatsapp.VerifySignatureAny([][]byte{nil, {}}, body, whatsapp.Sign(a, body))
	require.ErrorIs(t, err, whatsapp.ErrAppSecretMissing)

	_, err = whatsapp.VerifySignatureAny(nil, body, "")
	require.ErrorIs(t, err, whatsapp.ErrAppSecretMissing)
}

func TestSignedRequest(t *testing.T) {
	t.Parallel()

	secret := []byte("s3cret")
	d := whatsapptest.NewDelivery(whatsapptest.FixturePhoneNumberID).Text(kerry, "hi")
	req := d.Request(t, "http://relaydesk.test/webhooks/whatsapp", secret)
	require.Equal(t, "application/json", req.Header.Get("Content-Type"))
	require.NoError(t, whatsapp.VerifySignature(secret, d.Bytes(), req.Header.Get(whatsapp.SignatureHeader)))
}
