package apiauth

import (
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"strings"
	"time"
)

// Credential prefixes: they make a leaked value recognisable (secret
// scanners, logs) and say what it is.
const (
	PrefixClientID     = "rdc_"
	PrefixClientSecret = "rdcs_"
	PrefixCode         = "rdac_"
	PrefixAccessToken  = "rdat_"
	PrefixRefreshToken = "rdrt_"
	PrefixEventSecret  = "whsec_"
)

// Lifetimes.
const (
	// CodeLifetime bounds an authorization code (RFC 6749 §4.1.2 recommends
	// at most 10 minutes).
	CodeLifetime = 5 * time.Minute
	// AccessTokenLifetime is short: a revoked grant stops at once anyway,
	// but a leaked token must not live long.
	AccessTokenLifetime = time.Hour
	// RefreshTokenLifetime is how long an unused refresh token stays valid;
	// each use rotates it.
	RefreshTokenLifetime = 30 * 24 * time.Hour
)

// NewSecret returns a fresh credential: prefix + base64url of 32 random
// bytes, and the SHA-256 to store.
func NewSecret(prefix string) (plain string, hash []byte) {
	b := make([]byte, 32)
	_, _ = rand.Read(b)
	plain = prefix + base64.RawURLEncoding.EncodeToString(b)
	return plain, Hash(plain)
}

// NewClientID returns a random public client identifier.
func NewClientID() string {
	b := make([]byte, 12)
	_, _ = rand.Read(b)
	return PrefixClientID + base64.RawURLEncoding.EncodeToString(b)
}

// Hash is the stored form of a credential.
func Hash(plain string) []byte {
	sum := sha256.Sum256([]byte(plain))
	return sum[:]
}

// SecretMatches compares a presented credential with a stored hash in
// constant time.
func SecretMatches(plain string, hash []byte) bool {
	return subtle.ConstantTimeCompare(Hash(plain), hash) == 1 && len(hash) == sha256.Size
}

// TokenKind guesses a token's kind from its prefix ("access_token",
// "refresh_token" or "").
func TokenKind(token string) string {
	switch {
	case strings.HasPrefix(token, PrefixAccessToken):
		return "access_token"
	case strings.HasPrefix(token, PrefixRefreshToken):
		return "refresh_token"
	}
	return ""
}
