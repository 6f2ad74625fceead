package store

import (
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"fmt"
	"strings"
	"sync"
	"unicode/utf8"

	"golang.org/x/crypto/argon2"
)

// Password rules for admin accounts.
const (
	// MinPasswordLength is the shortest admin password accepted, in characters.
	MinPasswordLength = 12
	// MaxPasswordLength bounds the input given to the hash function.
	MaxPasswordLength = 256
)

// argon2id parameters (OWASP's recommended minimum: 19 MiB, 2 passes, 1
// lane). They are written into every hash, so raising them later keeps old
// hashes verifiable.
const (
	argonMemoryKiB = 19 * 1024
	argonTime      = 2
	argonThreads   = 1
	argonKeyLen    = 32
	argonSaltLen   = 16
)

// ErrWeakPassword is returned for passwords outside the length rules.
var ErrWeakPassword = fmt.Errorf("a password needs %d to %d characters", MinPasswordLength, MaxPasswordLength)

// CheckPasswordRules reports whether a new password is acceptable.
func CheckPasswordRules(pw string) error {
	if n := utf8.RuneCountInString(pw); n < MinPasswordLength || len(pw) > MaxPasswordLength {
		return ErrWeakPassword
	}
	return nil
}

// GeneratePassword returns a random password of 24 URL-safe characters
// (144 bits).
func GeneratePassword() string {
	b := make([]byte, 18)
	_, _ = rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)
}

// hashPassword returns an argon2id PHC string for pw.
func hashPassword(pw string) string {
	salt := make([]byte, argonSaltLen)
	_, _ = rand.Read(salt)
	key := argon2.IDKey([]byte(pw), salt, argonTime, argonMemoryKiB, argonThreads, argonKeyLen)
	b64 := base64.RawStdEncoding
	return fmt.Sprintf("$argon2id$v=%d$m=%d,t=%d,p=%d$%s$%s", argon2.Version, argonMemoryKiB, argonTime, argonThreads,
		b64.EncodeToString(salt), b64.EncodeToString(key))
}

var errBadHash = errors.New("store: unrecognised password hash")

// checkPassword compares pw with a PHC string in constant time.
func checkPassword(encoded, pw string) (bool, error) {
	parts := strings.Split(encoded, "$")
	if len(parts) != 6 || parts[1] != "argon2id" {
		return false, errBadHash
	}
	var version int
	if _, err := fmt.Sscanf(parts[2], "v=%d", &version); err != nil || version != argon2.Version {
		return false, errBadHash
	}
	var mem, passes uint32
	var threads uint8
	if _, err := fmt.Sscanf(parts[3], "m=%d,t=%d,p=%d", &mem, &passes, &threads); err != nil || mem == 0 || passes == 0 || threads == 0 {
		return false, errBadHash
	}
	b64 := base64.RawStdEncoding
	salt, err := b64.DecodeString(parts[4])
	if err != nil {
		return false, errBadHash
	}
	want, err := b64.DecodeString(parts[5])
	if err != nil || len(want) == 0 {
		return false, errBadHash
	}
	got := argon2.IDKey([]byte(pw), salt, passes, mem, threads, uint32(len(want)))
	return subtle.ConstantTimeCompare(got, want) == 1, nil
}

// dummyHash is verified against when an email is unknown, so that a login
// takes as long whether or not the account exists.
// It is computed on first use.
var dummyHash = sync.OnceValue(func() string { return hashPassword(GeneratePassword()) })
