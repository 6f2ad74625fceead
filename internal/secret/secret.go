// Package secret seals tokens and secrets for storage with AES-256-GCM.
//
// A sealed value is: version byte (1) | key id (4 bytes) | nonce (12) |
// ciphertext+tag. The key id is the first four bytes of SHA-256 over the key,
// so a Keyring holding the current key and an optional old key can open
// values sealed under either while always sealing under the current one. That
// is what makes key rotation possible: set the new key, keep the previous one
// as the old key, run `relaydesk secrets reseal`, then drop the old key.
//
// Every value is sealed with associated data naming what it is (for example
// "whatsapp_accounts.access_token"), so a ciphertext copied into another
// column does not open.
package secret

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"strings"
)

// KeySize is the length of a key in bytes.
const KeySize = 32

const (
	version   = 1
	keyIDSize = 4
	header    = 1 + keyIDSize
)

var (
	// ErrUnknownKey is returned when a value was sealed under a key the
	// keyring does not hold.
	ErrUnknownKey = errors.New("secret: sealed under a key that is not configured (RELAYDESK_SECRET_KEY / RELAYDESK_SECRET_KEY_OLD)")
	// ErrCorrupt is returned for values that are not sealed values or fail
	// authentication.
	ErrCorrupt = errors.New("secret: sealed value is corrupt or was sealed for another purpose")
)

type key struct {
	id   [keyIDSize]byte
	aead cipher.AEAD
}

// Keyring seals with its current key and opens with the current or old key.
type Keyring struct {
	current key
	old     *key
}

// ParseKey decodes a base64 (standard or URL alphabet, padded or not) key and
// checks that it is KeySize bytes long.
func ParseKey(s string) ([]byte, error) {
	s = strings.TrimSpace(s)
	for _, enc := range []*base64.Encoding{base64.StdEncoding, base64.RawStdEncoding, base64.URLEncoding, base64.RawURLEncoding} {
		b, err := enc.DecodeString(s)
		if err != nil {
			continue
		}
		if len(b) != KeySize {
			return nil, fmt.Errorf("decodes to %d bytes, want %d", len(b), KeySize)
		}
		return b, nil
	}
	return nil, errors.New("is not valid base64")
}

// GenerateKey returns a new random key encoded in standard base64.
func GenerateKey() string {
	b := make([]byte, KeySize)
	if _, err := rand.Read(b); err != nil {
		panic(err) // crypto/rand never fails on supported platforms
	}
	return base64.StdEncoding.EncodeToString(b)
}

// NewKeyring builds a keyring from the current key and an optional old key
// (nil when there is none).
func NewKeyring(current, old []byte) (*Keyring, error) {
	cur, err := newKey(current)
	if err != nil {
		return nil, err
	}
	kr := &Keyring{current: cur}
	if old != nil {
		o, err := newKey(old)
		if err != nil {
			return nil, err
		}
		kr.old = &o
	}
	return kr, nil
}

func newKey(raw []byte) (key, error) {
	if len(raw) != KeySize {
		return key{}, fmt.Errorf("secret: key is %d bytes, want %d", len(raw), KeySize)
	}
	block, err := aes.NewCipher(raw)
	if err != nil {
		return key{}, err
	}
	aead, err := cipher.NewGCM(block)
	if err != nil {
		return key{}, err
	}
	sum := sha256.Sum256(raw)
	var k key
	copy(k.id[:], sum[:keyIDSize])
	k.aead = aead
	return k, nil
}

// Seal encrypts plaintext under the current key. purpose is bound to the
// ciphertext as associated data and must be given again to Open.
func (kr *Keyring) Seal(plaintext []byte, purpose string) []byte {
	k := kr.current
	out := make([]byte, header, header+k.aead.NonceSize()+len(plaintext)+k.aead.Overhead())
	out[0] = version
	copy(out[1:header], k.id[:])
	nonce := make([]byte, k.aead.NonceSize())
	if _, err := rand.Read(nonce); err != nil {
		panic(err)
	}
	out = append(out, nonce...)
	return k.aead.Seal(out, nonce, plaintext, []byte(purpose))
}

// SealString is Seal for strings.
func (kr *Keyring) SealString(plaintext, purpose string) []byte {
	return kr.Seal([]byte(plaintext), purpose)
}

// Open decrypts a value produced by Seal with the same purpose.
func (kr *Keyring) Open(sealed []byte, purpose string) ([]byte, error) {
	k, err := kr.keyFor(sealed)
	if err != nil {
		return nil, err
	}
	ns := k.aead.NonceSize()
	if len(sealed) < header+ns+k.aead.Overhead() {
		return nil, ErrCorrupt
	}
	nonce := sealed[header : header+ns]
	pt, err := k.aead.Open(nil, nonce, sealed[header+ns:], []byte(purpose))
	if err != nil {
		return nil, ErrCorrupt
	}
	return pt, nil
}

// OpenString is Open for strings.
func (kr *Keyring) OpenString(sealed []byte, purpose string) (string, error) {
	b, err := kr.Open(sealed, purpose)
	return string(b), err
}

// NeedsReseal reports whether sealed was sealed under a key other than the
// current one.
func (kr *Keyring) NeedsReseal(sealed []byte) bool {
	if len(sealed) < header {
		return false
	}
	return string(sealed[1:header]) != string(kr.current.id[:])
}

func (kr *Keyring) keyFor(sealed []byte) (key, error) {
	if len(sealed) < header || sealed[0] != version {
		return key{}, ErrCorrupt
	}
	id := sealed[1:header]
	switch {
	case string(id) == string(kr.current.id[:]):
		return kr.current, nil
	case kr.old != nil && string(id) == string(kr.old.id[:]):
		return *kr.old, nil
	}
	return key{}, ErrUnknownKey
}
