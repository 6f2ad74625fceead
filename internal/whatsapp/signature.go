package whatsapp

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
)

// SignatureHeader is the HTTP header carrying the webhook body signature.
const SignatureHeader = "X-Hub-Signature-256"

const signaturePrefix = "sha256="

// Signature verification errors. They are distinct so the HTTP layer can
// count rejections per reason; compare with errors.Is.
var (
	// ErrSignatureMissing: the request has no (or an empty) signature header.
	ErrSignatureMissing = errors.New("whatsapp: webhook signature missing")
	// ErrSignatureMalformed: the header is not "sha256=" + 64 hex digits.
	ErrSignatureMalformed = errors.New("whatsapp: webhook signature malformed")
	// ErrSignatureMismatch: the signature does not match the body under any
	// of the given app secrets.
	ErrSignatureMismatch = errors.New("whatsapp: webhook signature mismatch")
	// ErrAppSecretMissing: no usable app secret was configured; an empty
	// secret is refused rather than accepted as a key.
	ErrAppSecretMissing = errors.New("whatsapp: app secret not configured")
)

// Sign returns the X-Hub-Signature-256 value for body under appSecret:
// "sha256=" followed by the lowercase hex HMAC-SHA256. It is meant for tests
// and the load tool.
func Sign(appSecret, body []byte) string {
	return signaturePrefix + hex.EncodeToString(computeMAC(appSecret, body))
}

// VerifySignature checks header (the X-Hub-Signature-256 value) against the
// raw request body bytes, exactly as received, keyed with the Meta app
// secret. The comparison is constant-time. It returns nil or one of
// ErrAppSecretMissing, ErrSignatureMissing, ErrSignatureMalformed,
// ErrSignatureMismatch.
func VerifySignature(appSecret, body []byte, header string) error {
	_, err := VerifySignatureAny([][]byte{appSecret}, body, header)
	return err
}

// VerifySignatureAny is VerifySignature for a delivery that may have been
// signed by one of several app secrets (e.g. the phone numbers in a delivery
// are configured with different apps). It returns the index of the first
// secret that matches. Empty secrets are skipped; with no usable secret it
// returns ErrAppSecretMissing.
func VerifySignatureAny(appSecrets [][]byte, body []byte, header string) (int, error) {
	usable := false
	for _, s := range appSecrets {
		if len(s) > 0 {
			usable = true
			break
		}
	}
	if !usable {
		return -1, ErrAppSecretMissing
	}
	got, err := parseSignature(header)
	if err != nil {
		return -1, err
	}
	for i, s := range appSecrets {
		if len(s) == 0 {
			continue
		}
		if hmac.Equal(computeMAC(s, body), got) {
			return i, nil
		}
	}
	return -1, ErrSignatureMismatch
}

func parseSignature(header string) ([]byte, error) {
	header = strings.TrimSpace(header)
	if header == "" {
		return nil, ErrSignatureMissing
	}
	if len(header) < len(signaturePrefix) || !strings.EqualFold(header[:len(signaturePrefix)], signaturePrefix) {
		return nil, fmt.Errorf("%w: want %q prefix", ErrSignatureMalformed, signaturePrefix)
	}
	digest := header[len(signaturePrefix):]
	if len(digest) != hex.EncodedLen(sha256.Size) {
		return nil, fmt.Errorf("%w: want %d hex digits, got %d", ErrSignatureMalformed, hex.EncodedLen(sha256.Size), len(digest))
	}
	got, err := hex.DecodeString(digest)
	if err != nil {
		return nil, fmt.Errorf("%w: not hex", ErrSignatureMalformed)
	}
	return got, nil
}

func computeMAC(key, body []byte) []byte {
	mac := hmac.New(sha256.New, key)
	mac.Write(body)
	return mac.Sum(nil)
}

// Accounts lists the accounts a webhook delivery names, as returned by
// PeekAccounts.
type Accounts struct {
	// PhoneNumberIDs are the distinct value.metadata.phone_number_id values,
	// in order of first appearance.
	PhoneNumberIDs []string
	// WABAIDs are the distinct entry[].id values (WhatsApp Business Account
	// ids), in order of first appearance. Account-level events (template
	// status, quality) name only the WABA.
	WABAIDs []string
}

// PeekAccounts is a cheap pre-parse of an unverified webhook body: it
// returns the phone number ids and WABA ids it names, so the HTTP layer can
// find the app secret(s) to verify the signature with before trusting and
// fully parsing the body. Several accounts may share one app secret. It
// returns ErrMalformedDelivery when the body is not JSON of the envelope's
// shape. Nothing it returns is authenticated.
func PeekAccounts(body []byte) (Accounts, error) {
	var env struct {
		Entry []struct {
			ID      string `json:"id"`
			Changes []struct {
				Value json.RawMessage `json:"value"`
			} `json:"changes"`
		} `json:"entry"`
	}
	if err := json.Unmarshal(body, &env); err != nil {
		return Accounts{}, fmt.Errorf("%w: %v", ErrMalformedDelivery, err)
	}
	var phones, wabas idList
	for _, e := range env.Entry {
		wabas.add(e.ID)
		for _, c := range e.Changes {
			phones.add(peekPhoneNumberID(c.Value))
		}
	}
	return Accounts{PhoneNumberIDs: phones.ids, WABAIDs: wabas.ids}, nil
}
