package ram

import (
	"context"
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/go-jose/go-jose/v4"

	"ramconsole/store"
)

// The OpenID provider's ID-token signing keys (SPEC §17.2): RS256 with
// RSA 2048, kid = the RFC 7638 thumbprint, the private half sealed with the
// master key (the kid is the additional data). A key replaced by a newer
// one stays published for keyOverlap, so tokens it signed still verify.

const (
	rsaKeyBits = 2048
	// keyOverlap is how long a replaced key stays in the JWKS: at least a
	// day and at least the longest access-token lifetime.
	keyOverlap = 24 * time.Hour
)

// signingKey is a usable key: its private half opened.
type signingKey struct {
	kid       string
	priv      *rsa.PrivateKey
	public    jose.JSONWebKey
	created   time.Time
	retiredAt time.Time
}

// oidcKeys caches the opened keys as of a store generation.
type oidcKeys struct {
	mu   sync.Mutex
	gen  uint64
	keys []signingKey // newest first; keys[0] signs
}

func oidcKeyAD(kid string) string { return "oidc_keys/" + kid + "/private" }

// newSigningKey makes a fresh RSA key and its stored form.
func (s *Service) newSigningKey() (store.OIDCKey, error) {
	priv, err := rsa.GenerateKey(rand.Reader, rsaKeyBits)
	if err != nil {
		return store.OIDCKey{}, err
	}
	pub := jose.JSONWebKey{Key: &priv.PublicKey, Algorithm: string(jose.RS256), Use: "sig"}
	tp, err := pub.Thumbprint(crypto.SHA256)
	if err != nil {
		return store.OIDCKey{}, err
	}
	pub.KeyID = base64.RawURLEncoding.EncodeToString(tp)
	pubJSON, err := pub.MarshalJSON()
	if err != nil {
		return store.OIDCKey{}, err
	}
	der, err := x509.MarshalPKCS8PrivateKey(priv)
	if err != nil {
		return store.OIDCKey{}, err
	}
	return store.OIDCKey{KID: pub.KeyID, PrivateEnc: s.sealer.Seal(oidcKeyAD(pub.KeyID), der), PublicJWK: string(pubJSON)}, nil
}

// signingKeys returns the published keys, newest (the signing one) first,
// creating the first key when there is none.
func (s *Service) signingKeys(ctx context.Context) ([]signingKey, error) {
	s.oidcKeys.mu.Lock()
	defer s.oidcKeys.mu.Unlock()
	gen := s.st.Generation()
	if s.oidcKeys.keys != nil && s.oidcKeys.gen == gen {
		return s.oidcKeys.keys, nil
	}
	stored, err := s.st.OIDCKeys(ctx)
	if err != nil {
		return nil, err
	}
	if len(stored) == 0 {
		k, err := s.newSigningKey()
		if err != nil {
			return nil, err
		}
		if err := s.st.Update(ctx, func(tx *store.Tx) error {
			// Another node may have made the first key meanwhile.
			if have, err := tx.OIDCKeys(ctx); err != nil || len(have) > 0 {
				return err
			}
			return tx.AddOIDCKey(ctx, k)
		}); err != nil {
			return nil, err
		}
		gen = s.st.Generation()
		if stored, err = s.st.OIDCKeys(ctx); err != nil {
			return nil, err
		}
	}
	keys := make([]signingKey, 0, len(stored))
	for _, k := range stored {
		if !k.RetiredAt.IsZero() && s.Now().Sub(k.RetiredAt) > keyOverlap {
			continue
		}
		der, err := s.sealer.Open(oidcKeyAD(k.KID), k.PrivateEnc)
		if err != nil {
			return nil, fmt.Errorf("ram: open signing key %s: %w", k.KID, err)
		}
		parsed, err := x509.ParsePKCS8PrivateKey(der)
		if err != nil {
			return nil, err
		}
		priv, ok := parsed.(*rsa.PrivateKey)
		if !ok {
			return nil, errors.New("ram: a signing key is not RSA")
		}
		var pub jose.JSONWebKey
		if err := pub.UnmarshalJSON([]byte(k.PublicJWK)); err != nil {
			return nil, err
		}
		keys = append(keys, signingKey{kid: k.KID, priv: priv, public: pub, created: k.CreatedAt, retiredAt: k.RetiredAt})
	}
	s.oidcKeys.keys, s.oidcKeys.gen = keys, gen
	return keys, nil
}

// JWKS is the public key set (SPEC §17.2): public halves only.
func (s *Service) JWKS(ctx context.Context) ([]byte, error) {
	keys, err := s.signingKeys(ctx)
	if err != nil {
		return nil, err
	}
	set := jose.JSONWebKeySet{}
	for _, k := range keys {
		set.Keys = append(set.Keys, k.public)
	}
	return json.Marshal(set)
}

// SigningKeyInfo describes a published key for the settings page.
type SigningKeyInfo struct {
	KID              string
	Created, Retired time.Time
	Current          bool
}

// SigningKeys lists the published keys, the current one first.
func (s *Service) SigningKeys(ctx context.Context) ([]SigningKeyInfo, error) {
	keys, err := s.signingKeys(ctx)
	if err != nil {
		return nil, err
	}
	out := make([]SigningKeyInfo, len(keys))
	for i, k := range keys {
		out[i] = SigningKeyInfo{KID: k.kid, Created: k.created, Retired: k.retiredAt, Current: i == 0}
	}
	return out, nil
}

// RotateSigningKey makes a new key the signing one; the previous stays
// published for the overlap. Only the owner (or the host) rotates keys.
func (s *Service) RotateSigningKey(ctx context.Context, a Actor) (string, error) {
	acct := s.accountID(ctx)
	if a.Principal != PrincipalRoot && a.Principal != "" {
		return "", &Error{Kind: EFORBIDDEN, Code: "NoPermission", Message: "Only the account owner rotates the OpenID signing key."}
	}
	if _, err := s.signingKeys(ctx); err != nil {
		return "", err
	}
	k, err := s.newSigningKey()
	if err != nil {
		return "", err
	}
	err = s.st.Update(ctx, func(tx *store.Tx) error {
		if err := tx.AddOIDCKey(ctx, k); err != nil {
			return err
		}
		if _, err := tx.DropOIDCKeysRetiredBefore(ctx, tx.Now().Add(-keyOverlap)); err != nil {
			return err
		}
		ev := s.oidcEvent(ctx, a, acct, EventConsoleOperation, "RotateSigningKey", "")
		if a.Principal == "" {
			ev = s.hostEvent(ctx, a, acct, "RotateSigningKey")
			ev.EventSource = "oidc"
		}
		ev.AdditionalEventData = map[string]any{"kid": k.KID}
		return tx.AppendEvent(ctx, ev)
	})
	if err != nil {
		return "", err
	}
	return k.KID, nil
}

// RevokeSigningKey stops publishing a replaced key at once (a compromised
// key): tokens it signed no longer verify. The current key cannot be
// revoked; rotate first.
func (s *Service) RevokeSigningKey(ctx context.Context, a Actor, kid string) error {
	acct := s.accountID(ctx)
	if a.Principal != PrincipalRoot {
		return &Error{Kind: EFORBIDDEN, Code: "NoPermission", Message: "Only the account owner revokes OpenID signing keys."}
	}
	kid = strings.TrimSpace(kid)
	return s.st.Update(ctx, func(tx *store.Tx) error {
		if err := tx.DropOIDCKey(ctx, kid); errors.Is(err, store.ErrNotFound) {
			return &Error{Kind: EINVALID, Code: "EntityNotExist.SigningKey", Message: "No replaced signing key has this kid (the current key cannot be revoked: rotate first).",
				Fields: map[string]string{"kid": "No replaced signing key has this kid."}}
		} else if err != nil {
			return err
		}
		ev := s.oidcEvent(ctx, a, acct, EventConsoleOperation, "RevokeSigningKey", "")
		ev.AdditionalEventData = map[string]any{"kid": kid}
		return tx.AppendEvent(ctx, ev)
	})
}

// signJWT signs claims with the current key.
func (s *Service) signJWT(ctx context.Context, claims map[string]any) (string, error) {
	keys, err := s.signingKeys(ctx)
	if err != nil {
		return "", err
	}
	k := keys[0]
	signer, err := jose.NewSigner(jose.SigningKey{Algorithm: jose.RS256, Key: jose.JSONWebKey{Key: k.priv, KeyID: k.kid}},
		(&jose.SignerOptions{}).WithType("JWT"))
	if err != nil {
		return "", err
	}
	payload, err := json.Marshal(claims)
	if err != nil {
		return "", err
	}
	obj, err := signer.Sign(payload)
	if err != nil {
		return "", err
	}
	return obj.CompactSerialize()
}

// verifyJWT checks a token's signature against the published keys and
// returns its claims; expiry is the caller's business.
func (s *Service) verifyJWT(ctx context.Context, token string) (map[string]any, error) {
	obj, err := jose.ParseSigned(token, []jose.SignatureAlgorithm{jose.RS256})
	if err != nil || len(obj.Signatures) != 1 {
		return nil, errors.New("not a signed token")
	}
	keys, err := s.signingKeys(ctx)
	if err != nil {
		return nil, err
	}
	for _, k := range keys {
		if k.kid != obj.Signatures[0].Header.KeyID {
			continue
		}
		payload, err := obj.Verify(&k.priv.PublicKey)
		if err != nil {
			return nil, err
		}
		var claims map[string]any
		if err := json.Unmarshal(payload, &claims); err != nil {
			return nil, err
		}
		return claims, nil
	}
	return nil, errors.New("unknown signing key")
}
