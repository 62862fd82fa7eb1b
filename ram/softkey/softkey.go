// Package softkey is a software FIDO2 security key for ramconsole's Go tests.
//
// A Key answers the options a relying party sends to navigator.credentials.create() and .get() with exactly the JSON
// a browser posts back: the WebAuthn Level 3 toJSON() shape (RegistrationResponseJSON and
// AuthenticationResponseJSON), every binary member base64url without padding. It behaves as a cross-platform USB
// authenticator holding one ECDSA P-256 credential with "none" attestation, so the httptest and SDK-level tests can
// register and sign in without driving a real browser.
//
// The exported knobs on Key make it misbehave in the ways a relying party must notice: a corrupt signature, a
// missing user-presence flag, the wrong RP ID or origin, a sign counter that does not move.
package softkey

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"strings"
	"sync"
)

// ErrInvalidState is what Create returns when the key's credential is listed in excludeCredentials: a browser
// rejects navigator.credentials.create() with an InvalidStateError then, and posts nothing.
var ErrInvalidState = errors.New("softkey: InvalidStateError: the authenticator already holds a credential in excludeCredentials")

// Authenticator data flags (WebAuthn §6.1).
const (
	flagUP = 0x01 // user present
	flagBE = 0x08 // backup eligible
	flagBS = 0x10 // backed up
	flagAT = 0x40 // attested credential data included
)

// coseAlgES256 is the COSE algorithm identifier of ECDSA with SHA-256 (RFC 9053).
const coseAlgES256 = -7

// Key is one software authenticator credential source (ECDSA P-256, "none" attestation).
//
// The zero Key is not usable; make one with New. A Key must not be copied once used. Create and Get may be called
// from several goroutines, but the exported fields must not be changed while they run.
type Key struct {
	// BogusSignature corrupts the assertion signature Get returns (it is still well-formed ASN.1).
	BogusSignature bool
	// NoUserPresence clears the UP flag in the authenticator data.
	NoUserPresence bool
	// RPID, if set, is hashed into the authenticator data instead of the RP ID in the options (the RP ID a
	// browser would use).
	RPID string
	// Origin is the origin written in clientDataJSON, e.g. "http://localhost:8080". Required.
	Origin string
	// FixedCounter, if set, is the sign count written into the authenticator data instead of the key's own
	// counter, which then does not move.
	FixedCounter *uint32
	// BackupEligible and BackupState set the BE and BS flags in the authenticator data.
	BackupEligible, BackupState bool
	// AAGUID is the authenticator's AAGUID written in the attested credential data; zero unless set, as for
	// most authenticators with "none" attestation.
	AAGUID [16]byte

	priv *ecdsa.PrivateKey

	mu         sync.Mutex
	credID     []byte
	counter    uint32
	userHandle []byte // user.id of the registration; nil until Create
}

// New returns a key with a fresh P-256 key pair and a random 32-byte credential id, whose clientDataJSON carries
// origin.
func New(origin string) *Key {
	priv, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		panic("softkey: " + err.Error()) // crypto/rand does not fail
	}
	id := make([]byte, 32)
	rand.Read(id)
	return &Key{Origin: origin, priv: priv, credID: id}
}

// CredentialID returns (a copy of) the key's credential id, the rawId of what Create and Get return.
func (k *Key) CredentialID() []byte {
	k.mu.Lock()
	defer k.mu.Unlock()
	return bytes.Clone(k.credID)
}

// SetCredentialID replaces the key's credential id, e.g. to present a credential id the relying party does not
// know, or one it does with the wrong key pair. It should be at least 16 bytes and at most 1023.
func (k *Key) SetCredentialID(id []byte) {
	k.mu.Lock()
	defer k.mu.Unlock()
	k.credID = bytes.Clone(id)
}

// The options as go-webauthn marshals them: {"publicKey": PublicKeyCredentialCreationOptionsJSON}, or the
// PublicKeyCredentialCreationOptionsJSON alone. Only the members an authenticator and browser act on are read.
type descriptorJSON struct {
	Type string `json:"type"`
	ID   string `json:"id"`
}

type creationOptionsJSON struct {
	Challenge string `json:"challenge"`
	RP        struct {
		ID   string `json:"id"`
		Name string `json:"name"`
	} `json:"rp"`
	User struct {
		ID          string `json:"id"`
		Name        string `json:"name"`
		DisplayName string `json:"displayName"`
	} `json:"user"`
	PubKeyCredParams []struct {
		Type string `json:"type"`
		Alg  int    `json:"alg"`
	} `json:"pubKeyCredParams"`
	ExcludeCredentials []descriptorJSON `json:"excludeCredentials"`
}

type requestOptionsJSON struct {
	Challenge        string           `json:"challenge"`
	RPID             string           `json:"rpId"`
	AllowCredentials []descriptorJSON `json:"allowCredentials"`
}

// clientData is CollectedClientData in the member order §5.8.1.1 serializes it.
type clientData struct {
	Type        string `json:"type"`
	Challenge   string `json:"challenge"`
	Origin      string `json:"origin"`
	CrossOrigin bool   `json:"crossOrigin"`
}

// registrationResponseJSON is RegistrationResponseJSON (WebAuthn Level 3 §5.1), the member order Chrome's toJSON()
// gives it.
type registrationResponseJSON struct {
	ID       string `json:"id"`
	RawID    string `json:"rawId"`
	Response struct {
		ClientDataJSON     string   `json:"clientDataJSON"`
		AuthenticatorData  string   `json:"authenticatorData"`
		Transports         []string `json:"transports"`
		PublicKey          string   `json:"publicKey"`
		PublicKeyAlgorithm int      `json:"publicKeyAlgorithm"`
		AttestationObject  string   `json:"attestationObject"`
	} `json:"response"`
	AuthenticatorAttachment string   `json:"authenticatorAttachment"`
	ClientExtensionResults  struct{} `json:"clientExtensionResults"`
	Type                    string   `json:"type"`
}

// authenticationResponseJSON is AuthenticationResponseJSON (WebAuthn Level 3 §5.1).
type authenticationResponseJSON struct {
	ID       string `json:"id"`
	RawID    string `json:"rawId"`
	Response struct {
		ClientDataJSON    string `json:"clientDataJSON"`
		AuthenticatorData string `json:"authenticatorData"`
		Signature         string `json:"signature"`
		UserHandle        string `json:"userHandle,omitempty"`
	} `json:"response"`
	AuthenticatorAttachment string   `json:"authenticatorAttachment"`
	ClientExtensionResults  struct{} `json:"clientExtensionResults"`
	Type                    string   `json:"type"`
}

var b64 = base64.RawURLEncoding

// decodeB64 decodes a base64url member as PublicKeyCredential.parse…OptionsFromJSON() does, tolerating padding.
func decodeB64(s string) ([]byte, error) {
	return b64.DecodeString(strings.TrimRight(s, "="))
}

// publicKeyMember returns the "publicKey" member of options, or options itself when it has none.
func publicKeyMember(options []byte) ([]byte, error) {
	var wrapped struct {
		PublicKey json.RawMessage `json:"publicKey"`
	}
	if err := json.Unmarshal(options, &wrapped); err != nil {
		return nil, fmt.Errorf("softkey: options: %w", err)
	}
	if len(wrapped.PublicKey) == 0 || string(wrapped.PublicKey) == "null" {
		return options, nil
	}
	return wrapped.PublicKey, nil
}

// Create answers a registration: options is the JSON go-webauthn's BeginRegistration produces
// ({"publicKey":{challenge, rp{id,name}, user{id,name,displayName}, pubKeyCredParams, excludeCredentials, ...}}).
// It returns the RegistrationResponseJSON a browser posts: id, rawId, type "public-key", response{clientDataJSON,
// authenticatorData, transports ["usb"], publicKey, publicKeyAlgorithm -7, attestationObject},
// authenticatorAttachment "cross-platform", clientExtensionResults {}; binary members base64url without padding.
//
// It returns ErrInvalidState if the key's credential id is in excludeCredentials, and an error if the options do
// not parse, carry no challenge, have a user.id that is not base64url, or offer no ES256 among pubKeyCredParams.
// It remembers user.id for the userHandle of later assertions and resets nothing else: the sign count goes on.
func (k *Key) Create(options []byte) ([]byte, error) {
	if k.Origin == "" {
		return nil, errors.New("softkey: Key.Origin is not set")
	}
	raw, err := publicKeyMember(options)
	if err != nil {
		return nil, err
	}
	var opts creationOptionsJSON
	if err := json.Unmarshal(raw, &opts); err != nil {
		return nil, fmt.Errorf("softkey: creation options: %w", err)
	}
	if _, err := decodeB64(opts.Challenge); err != nil || opts.Challenge == "" {
		return nil, fmt.Errorf("softkey: creation options: challenge %q is not base64url", opts.Challenge)
	}
	userID, err := decodeB64(opts.User.ID)
	if err != nil || len(userID) == 0 || len(userID) > 64 {
		return nil, fmt.Errorf("softkey: creation options: user.id %q is not 1 to 64 base64url-encoded bytes", opts.User.ID)
	}
	if !offersES256(opts) {
		return nil, errors.New("softkey: NotSupportedError: pubKeyCredParams offer no ES256 (-7) public-key credential")
	}
	rpID := opts.RP.ID
	if rpID == "" {
		if rpID, err = effectiveDomain(k.Origin); err != nil {
			return nil, err
		}
	}

	k.mu.Lock()
	defer k.mu.Unlock()
	for _, d := range opts.ExcludeCredentials {
		if id, err := decodeB64(d.ID); err == nil && (d.Type == "" || d.Type == "public-key") && bytes.Equal(id, k.credID) {
			return nil, ErrInvalidState
		}
	}

	cdj, err := k.clientDataJSON("webauthn.create", opts.Challenge)
	if err != nil {
		return nil, err
	}
	authData := k.authData(rpID, flagAT, k.signCount())
	authData = append(authData, k.AAGUID[:]...)
	authData = binary.BigEndian.AppendUint16(authData, uint16(len(k.credID)))
	authData = append(authData, k.credID...)
	authData = append(authData, k.coseKey()...)

	spki, err := x509.MarshalPKIXPublicKey(&k.priv.PublicKey)
	if err != nil {
		return nil, fmt.Errorf("softkey: %w", err)
	}

	var out registrationResponseJSON
	out.ID = b64.EncodeToString(k.credID)
	out.RawID = out.ID
	out.Response.ClientDataJSON = b64.EncodeToString(cdj)
	out.Response.AuthenticatorData = b64.EncodeToString(authData)
	out.Response.Transports = []string{"usb"}
	out.Response.PublicKey = b64.EncodeToString(spki)
	out.Response.PublicKeyAlgorithm = coseAlgES256
	out.Response.AttestationObject = b64.EncodeToString(attestationObject(authData))
	out.AuthenticatorAttachment = "cross-platform"
	out.Type = "public-key"

	k.userHandle = userID
	return json.Marshal(out)
}

// Get answers a sign-in: options is the JSON of go-webauthn's BeginLogin ({"publicKey":{challenge, rpId,
// allowCredentials, ...}}). It returns the AuthenticationResponseJSON a browser posts: id, rawId, type
// "public-key", response{clientDataJSON, authenticatorData, signature, userHandle}, authenticatorAttachment
// "cross-platform", clientExtensionResults {}. userHandle is the user.id of the last Create, and is left out (as a
// browser leaves out a null one) if the key has not registered.
//
// Unlike a browser, Get does not refuse when the key's credential is not in allowCredentials, so that a test can
// present a foreign key. Each Get advances the sign count by one, unless FixedCounter is set.
func (k *Key) Get(options []byte) ([]byte, error) {
	if k.Origin == "" {
		return nil, errors.New("softkey: Key.Origin is not set")
	}
	raw, err := publicKeyMember(options)
	if err != nil {
		return nil, err
	}
	var opts requestOptionsJSON
	if err := json.Unmarshal(raw, &opts); err != nil {
		return nil, fmt.Errorf("softkey: request options: %w", err)
	}
	if _, err := decodeB64(opts.Challenge); err != nil || opts.Challenge == "" {
		return nil, fmt.Errorf("softkey: request options: challenge %q is not base64url", opts.Challenge)
	}
	rpID := opts.RPID
	if rpID == "" {
		if rpID, err = effectiveDomain(k.Origin); err != nil {
			return nil, err
		}
	}

	k.mu.Lock()
	defer k.mu.Unlock()
	cdj, err := k.clientDataJSON("webauthn.get", opts.Challenge)
	if err != nil {
		return nil, err
	}
	if k.FixedCounter == nil {
		k.counter++
	}
	authData := k.authData(rpID, 0, k.signCount())

	cdHash := sha256.Sum256(cdj)
	digest := sha256.Sum256(append(bytes.Clone(authData), cdHash[:]...))
	sig, err := ecdsa.SignASN1(rand.Reader, k.priv, digest[:])
	if err != nil {
		return nil, fmt.Errorf("softkey: %w", err)
	}
	if k.BogusSignature {
		// Flip a bit of s, the last byte of the DER: still a well-formed signature, just not a valid one.
		sig[len(sig)-1] ^= 0x01
	}

	var out authenticationResponseJSON
	out.ID = b64.EncodeToString(k.credID)
	out.RawID = out.ID
	out.Response.ClientDataJSON = b64.EncodeToString(cdj)
	out.Response.AuthenticatorData = b64.EncodeToString(authData)
	out.Response.Signature = b64.EncodeToString(sig)
	out.Response.UserHandle = b64.EncodeToString(k.userHandle)
	out.AuthenticatorAttachment = "cross-platform"
	out.Type = "public-key"
	return json.Marshal(out)
}

// offersES256 tells whether the creation options let the key make its ES256 credential. An empty
// pubKeyCredParams means ES256 and RS256 (WebAuthn §5.1.3 step 10).
func offersES256(opts creationOptionsJSON) bool {
	if len(opts.PubKeyCredParams) == 0 {
		return true
	}
	for _, p := range opts.PubKeyCredParams {
		if p.Type == "public-key" && p.Alg == coseAlgES256 {
			return true
		}
	}
	return false
}

// effectiveDomain is the RP ID a browser uses when the options name none: the origin's host.
func effectiveDomain(origin string) (string, error) {
	u, err := url.Parse(origin)
	if err != nil || u.Hostname() == "" {
		return "", fmt.Errorf("softkey: origin %q has no host to take the RP ID from", origin)
	}
	return u.Hostname(), nil
}

// clientDataJSON serializes the client data as a browser does: no HTML escaping, no trailing newline, and the
// challenge exactly as the options gave it.
func (k *Key) clientDataJSON(typ, challenge string) ([]byte, error) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(clientData{Type: typ, Challenge: challenge, Origin: k.Origin, CrossOrigin: false}); err != nil {
		return nil, fmt.Errorf("softkey: %w", err)
	}
	return bytes.TrimSuffix(buf.Bytes(), []byte("\n")), nil
}

// signCount is the sign count to write: FixedCounter if set, else the key's counter. k.mu is held.
func (k *Key) signCount() uint32 {
	if k.FixedCounter != nil {
		return *k.FixedCounter
	}
	return k.counter
}

// authData is the first 37 bytes of the authenticator data (§6.1): rpIdHash, flags, signCount.
func (k *Key) authData(rpID string, flags byte, count uint32) []byte {
	if k.RPID != "" {
		rpID = k.RPID
	}
	if !k.NoUserPresence {
		flags |= flagUP
	}
	if k.BackupEligible {
		flags |= flagBE
	}
	if k.BackupState {
		flags |= flagBS
	}
	h := sha256.Sum256([]byte(rpID))
	out := make([]byte, 0, 37+16+2+len(k.credID)+77)
	out = append(out, h[:]...)
	out = append(out, flags)
	return binary.BigEndian.AppendUint32(out, count)
}

// The CBOR here is encoded by hand rather than with github.com/fxamacker/cbor/v2: it is two fixed maps of small
// integers, text and byte strings, about forty lines, and writing the keys out in CTAP2 canonical order (RFC 8949
// §4.2.3 length-first ordering, which CTAP2 §6 requires) makes the determinism visible instead of depending on an
// encoder's mode. The package then needs nothing beyond the standard library, and the tests check the bytes
// against go-webauthn's own CTAP2 canonical re-encoding.

// cborHead appends the head of a data item of major type major with argument n, in its shortest form.
func cborHead(b []byte, major byte, n uint64) []byte {
	m := major << 5
	switch {
	case n < 24:
		return append(b, m|byte(n))
	case n <= 0xff:
		return append(b, m|24, byte(n))
	case n <= 0xffff:
		return binary.BigEndian.AppendUint16(append(b, m|25), uint16(n))
	case n <= 0xffffffff:
		return binary.BigEndian.AppendUint32(append(b, m|26), uint32(n))
	default:
		return binary.BigEndian.AppendUint64(append(b, m|27), n)
	}
}

func cborInt(b []byte, v int64) []byte {
	if v >= 0 {
		return cborHead(b, 0, uint64(v))
	}
	return cborHead(b, 1, uint64(-1-v))
}

func cborBytes(b, v []byte) []byte { return append(cborHead(b, 2, uint64(len(v))), v...) }

func cborText(b []byte, v string) []byte { return append(cborHead(b, 3, uint64(len(v))), v...) }

// coseKey is the credential public key as a COSE_Key (RFC 9053 §7.1.1, RFC 9052 §7):
// {1 (kty): 2 (EC2), 3 (alg): -7 (ES256), -1 (crv): 1 (P-256), -2 (x): 32 bytes, -3 (y): 32 bytes},
// keys in canonical order (their encodings 0x01, 0x03, 0x20, 0x21, 0x22).
func (k *Key) coseKey() []byte {
	// The uncompressed SEC 1 point is 0x04 | x | y, each coordinate 32 bytes, zero-padded.
	point, err := k.priv.PublicKey.Bytes()
	if err != nil || len(point) != 65 {
		panic("softkey: P-256 public key does not encode")
	}
	b := cborHead(nil, 5, 5)
	b = cborInt(b, 1)
	b = cborInt(b, 2)
	b = cborInt(b, 3)
	b = cborInt(b, coseAlgES256)
	b = cborInt(b, -1)
	b = cborInt(b, 1)
	b = cborInt(b, -2)
	b = cborBytes(b, point[1:33])
	b = cborInt(b, -3)
	b = cborBytes(b, point[33:65])
	return b
}

// attestationObject is {"fmt": "none", "attStmt": {}, "authData": authData} (§6.5, §8.7), keys in canonical order:
// "fmt" (4 encoded bytes), "attStmt" (8), "authData" (9).
func attestationObject(authData []byte) []byte {
	b := cborHead(nil, 5, 3)
	b = cborText(b, "fmt")
	b = cborText(b, "none")
	b = cborText(b, "attStmt")
	b = cborHead(b, 5, 0)
	b = cborText(b, "authData")
	b = cborBytes(b, authData)
	return b
}
