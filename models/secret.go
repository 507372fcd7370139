package models

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
)

// sealVersion prefixes every ciphertext so the format (and later the key) can
// change without guessing what an old row holds.
const sealVersion byte = 1

// Cipher encrypts secrets at rest with AES-256-GCM and derives keyed
// fingerprints of configurations. It is safe for concurrent use.
type Cipher struct {
	aead  cipher.AEAD
	fpKey []byte
}

// ParseSecretKey accepts a 32-byte key written as base64 (standard or URL
// alphabet, padded or not) or as 64 hex digits.
func ParseSecretKey(s string) ([]byte, error) {
	s = strings.TrimSpace(s)
	if len(s) == 64 {
		if b, err := hex.DecodeString(s); err == nil {
			return b, nil
		}
	}
	for _, enc := range []*base64.Encoding{base64.StdEncoding, base64.RawStdEncoding, base64.URLEncoding, base64.RawURLEncoding} {
		if b, err := enc.DecodeString(s); err == nil {
			if len(b) != 32 {
				return nil, fmt.Errorf("key decodes to %d bytes, want 32", len(b))
			}
			return b, nil
		}
	}
	return nil, errors.New("want 32 bytes as base64 or 64 hex digits")
}

// NewCipher builds a Cipher from a 32-byte key.
func NewCipher(key []byte) (*Cipher, error) {
	if len(key) != 32 {
		return nil, fmt.Errorf("secret: key is %d bytes, want 32", len(key))
	}
	block, err := aes.NewCipher(key)
	if err != nil {
		return nil, fmt.Errorf("secret: %w", err)
	}
	aead, err := cipher.NewGCM(block)
	if err != nil {
		return nil, fmt.Errorf("secret: %w", err)
	}
	// The fingerprint key is derived, not the encryption key itself, so the
	// two uses can never be confused.
	mac := hmac.New(sha256.New, key)
	mac.Write([]byte("herald config fingerprint v1"))
	return &Cipher{aead: aead, fpKey: mac.Sum(nil)}, nil
}

// Seal encrypts plaintext. purpose is bound as additional data, so a
// ciphertext copied into another column does not decrypt. Empty input seals
// to nil: "no secret" is stored as NULL.
func (c *Cipher) Seal(purpose string, plaintext []byte) []byte {
	if len(plaintext) == 0 {
		return nil
	}
	out := make([]byte, 1+c.aead.NonceSize(), 1+c.aead.NonceSize()+len(plaintext)+c.aead.Overhead())
	out[0] = sealVersion
	if _, err := rand.Read(out[1:]); err != nil {
		panic("secret: no randomness: " + err.Error()) // crypto/rand never fails on Linux
	}
	return c.aead.Seal(out, out[1:1+c.aead.NonceSize()], plaintext, []byte(purpose))
}

// Open decrypts what Seal produced; nil opens to nil.
func (c *Cipher) Open(purpose string, sealed []byte) ([]byte, error) {
	if len(sealed) == 0 {
		return nil, nil
	}
	n := c.aead.NonceSize()
	if len(sealed) < 1+n || sealed[0] != sealVersion {
		return nil, errors.New("secret: unknown ciphertext format")
	}
	plain, err := c.aead.Open(nil, sealed[1:1+n], sealed[1+n:], []byte(purpose))
	if err != nil {
		return nil, fmt.Errorf("secret: cannot decrypt %s (wrong HERALD_SECRET_KEY?): %w", purpose, err)
	}
	return plain, nil
}

// Fingerprint is a keyed hash of data: equal inputs give equal fingerprints,
// but a fingerprint reveals nothing about the secrets inside.
func (c *Cipher) Fingerprint(data []byte) []byte {
	mac := hmac.New(sha256.New, c.fpKey)
	mac.Write(data)
	return mac.Sum(nil)
}
