package apiauth

import (
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
)

// MethodS256 is the only code_challenge_method relaydesk accepts (RFC 7636
// §4.2; "plain" offers no protection once the request is seen).
const MethodS256 = "S256"

// unreservedOnly reports whether s uses only RFC 3986 unreserved characters
// [A-Z] / [a-z] / [0-9] / "-" / "." / "_" / "~".
func unreservedOnly(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c >= 'A' && c <= 'Z', c >= 'a' && c <= 'z', c >= '0' && c <= '9', c == '-', c == '.', c == '_', c == '~':
		default:
			return false
		}
	}
	return true
}

// ValidVerifier checks a code_verifier's syntax (RFC 7636 §4.1:
// 43 to 128 unreserved characters).
func ValidVerifier(v string) bool {
	return len(v) >= 43 && len(v) <= 128 && unreservedOnly(v)
}

// ValidChallenge checks an S256 code_challenge: the base64url (no padding)
// of a SHA-256, which is 43 characters.
func ValidChallenge(c string) bool {
	if len(c) != 43 || !unreservedOnly(c) {
		return false
	}
	b, err := base64.RawURLEncoding.DecodeString(c)
	return err == nil && len(b) == sha256.Size
}

// ChallengeS256 computes BASE64URL-ENCODE(SHA256(ASCII(verifier))).
func ChallengeS256(verifier string) string {
	sum := sha256.Sum256([]byte(verifier))
	return base64.RawURLEncoding.EncodeToString(sum[:])
}

// VerifyS256 checks a code_verifier against the stored challenge
// (RFC 7636 §4.6), in constant time.
func VerifyS256(verifier, challenge string) bool {
	if !ValidVerifier(verifier) {
		return false
	}
	return subtle.ConstantTimeCompare([]byte(ChallengeS256(verifier)), []byte(challenge)) == 1
}
