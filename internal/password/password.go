// Package password holds the rules for admin passwords and their argon2id
// hashes (PHC strings). The store keeps the hashes; it never sees the rules.
package password

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

// Length rules for admin passwords.
const (
	// MinLength is the shortest password accepted, in characters.
	MinLength = 12
	// MaxLength bounds the input given to the hash function, in bytes.
	MaxLength = 256
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

// ErrWeak is returned for passwords outside the length rules.
var ErrWeak = fmt.Errorf("a password needs %d to %d characters", MinLength, MaxLength)

// ErrBadHash is returned for a stored hash that is not an argon2id PHC
// string this package can verify.
var ErrBadHash = errors.New("password: unrecognised password hash")

// Check reports whether a new password is acceptable.
func Check(pw string) error {
	if n := utf8.RuneCountInString(pw); n < MinLength || len(pw) > MaxLength {
		return ErrWeak
	}
	return nil
}

// Generate returns a random password of 24 URL-safe characters (144 bits).
func Generate() string {
	b := make([]byte, 18)
	_, _ = rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)
}

// Hash returns an argon2id PHC string for pw.
func Hash(pw string) string {
	salt := make([]byte, argonSaltLen)
	_, _ = rand.Read(salt)
	key := argon2.IDKey([]byte(pw), salt, argonTime, argonMemoryKiB, argonThreads, argonKeyLen)
	b64 := base64.RawStdEncoding
	return fmt.Sprintf("$argon2id$v=%d$m=%d,t=%d,p=%d$%s$%s", argon2.Version, argonMemoryKiB, argonTime, argonThreads,
		b64.EncodeToString(salt), b64.EncodeToString(key))
}

// Verify compares pw with a PHC string in constant time.
func Verify(encoded, pw string) (bool, error) {
	parts := strings.Split(encoded, "$")
	if len(parts) != 6 || parts[1] != "argon2id" {
		return false, ErrBadHash
	}
	var version int
	if _, err := fmt.Sscanf(parts[2], "v=%d", &version); err != nil || version != argon2.Version {
		return false, ErrBadHash
	}
	var mem, passes uint32
	var threads uint8
	if _, err := fmt.Sscanf(parts[3], "m=%d,t=%d,p=%d", &mem, &passes, &threads); err != nil || mem == 0 || passes == 0 || threads == 0 {
		return false, ErrBadHash
	}
	b64 := base64.RawStdEncoding
	salt, err := b64.DecodeString(parts[4])
	if err != nil {
		return false, ErrBadHash
	}
	want, err := b64.DecodeString(parts[5])
	if err != nil || len(want) == 0 {
		return false, ErrBadHash
	}
	got := argon2.IDKey([]byte(pw), salt, passes, mem, threads, uint32(len(want)))
	return subtle.ConstantTimeCompare(got, want) == 1, nil
}

// dummyHash is a hash of a random password, computed on first use.
var dummyHash = sync.OnceValue(func() string { return Hash(Generate()) })

// Waste costs as much as a Verify that fails, for an unknown account: a
// login then takes as long whether or not the account exists.
func Waste(pw string) {
	_, _ = Verify(dummyHash(), pw)
}
