package store

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
)

// MasterKeyFile is the master key's file inside the data directory, used
// when RAMCONSOLE_MASTER_KEY is not set.
const MasterKeyFile = "master.key"

// LoadMasterKey returns the 32-byte master key: from envValue (base64) when
// set, else from <dataDir>/master.key, creating that file (0600) the first time.
func LoadMasterKey(dataDir, envValue string) ([]byte, error) {
	if envValue != "" {
		key, err := base64.StdEncoding.DecodeString(strings.TrimSpace(envValue))
		if err != nil || len(key) != 32 {
			return nil, errors.New("store: RAMCONSOLE_MASTER_KEY must be the base64 of 32 bytes")
		}
		return key, nil
	}
	if err := os.MkdirAll(dataDir, 0o700); err != nil {
		return nil, fmt.Errorf("store: create data dir: %w", err)
	}
	path := filepath.Join(dataDir, MasterKeyFile)
	b, err := os.ReadFile(path)
	if err == nil {
		key, err := base64.StdEncoding.DecodeString(strings.TrimSpace(string(b)))
		if err != nil || len(key) != 32 {
			return nil, fmt.Errorf("store: %s is not the base64 of 32 bytes", path)
		}
		return key, nil
	}
	if !errors.Is(err, os.ErrNotExist) {
		return nil, fmt.Errorf("store: read master key: %w", err)
	}
	key := make([]byte, 32)
	if _, err := rand.Read(key); err != nil {
		return nil, err
	}
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return nil, fmt.Errorf("store: create master key: %w", err)
	}
	if _, err := f.WriteString(base64.StdEncoding.EncodeToString(key) + "\n"); err != nil {
		f.Close()
		return nil, err
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return nil, err
	}
	return key, f.Close()
}

// SecureMasterKeyFile makes <dataDir>/master.key private (0600) when group or
// others may use it, and returns the mode it had then (0 when it was private
// or does not exist). An error when it cannot be made private: the key must
// not stay readable.
func SecureMasterKeyFile(dataDir string) (os.FileMode, error) {
	path := filepath.Join(dataDir, MasterKeyFile)
	fi, err := os.Stat(path)
	if errors.Is(err, os.ErrNotExist) {
		return 0, nil
	}
	if err != nil {
		return 0, fmt.Errorf("store: master key: %w", err)
	}
	mode := fi.Mode().Perm()
	if mode&0o077 == 0 {
		return 0, nil
	}
	if err := os.Chmod(path, 0o600); err != nil {
		return mode, fmt.Errorf("store: %s has mode %04o (others may read it) and cannot be made 0600: %w", path, mode, err)
	}
	return mode, nil
}

// Sealer encrypts secrets at rest with AES-256-GCM. The additional data names
// the record a secret belongs to, so a sealed value cannot be moved to another.
type Sealer struct {
	aead   cipher.AEAD
	macKey []byte // derived from the master key, for MAC
}

// NewSealer returns a Sealer for a 32-byte key.
func NewSealer(key []byte) (*Sealer, error) {
	if len(key) != 32 {
		return nil, errors.New("store: master key must be 32 bytes")
	}
	block, err := aes.NewCipher(key)
	if err != nil {
		return nil, err
	}
	aead, err := cipher.NewGCM(block)
	if err != nil {
		return nil, err
	}
	m := hmac.New(sha256.New, key)
	m.Write([]byte("ramconsole mac key v1"))
	return &Sealer{aead: aead, macKey: m.Sum(nil)}, nil
}

// MAC is the HMAC-SHA256 of msg for purpose under a key derived from the
// master key: a value only this deployment can compute (every node of it).
func (s *Sealer) MAC(purpose string, msg []byte) []byte {
	m := hmac.New(sha256.New, s.macKey)
	m.Write([]byte(purpose))
	m.Write([]byte{0})
	m.Write(msg)
	return m.Sum(nil)
}

// Seal encrypts plaintext bound to ad; the result is nonce || ciphertext.
func (s *Sealer) Seal(ad string, plaintext []byte) []byte {
	nonce := make([]byte, s.aead.NonceSize(), s.aead.NonceSize()+len(plaintext)+s.aead.Overhead())
	if _, err := rand.Read(nonce); err != nil {
		panic("store: no randomness: " + err.Error())
	}
	return s.aead.Seal(nonce, nonce, plaintext, []byte(ad))
}

// Open decrypts a value sealed for ad.
func (s *Sealer) Open(ad string, sealed []byte) ([]byte, error) {
	n := s.aead.NonceSize()
	if len(sealed) < n+s.aead.Overhead() {
		return nil, errors.New("store: sealed value too short")
	}
	out, err := s.aead.Open(nil, sealed[:n], sealed[n:], []byte(ad))
	if err != nil {
		return nil, errors.New("store: sealed value does not open (wrong key or record)")
	}
	return out, nil
}
