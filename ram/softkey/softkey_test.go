package softkey_test

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/x509"
	"encoding/base64"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/go-webauthn/webauthn/protocol"
	"github.com/go-webauthn/webauthn/protocol/webauthncbor"
	"github.com/go-webauthn/webauthn/webauthn"

	"ramconsole/ram/softkey"
)

const origin = "http://localhost:8080"

func newRP(t *testing.T) *webauthn.WebAuthn {
	t.Helper()
	w, err := webauthn.New(&webauthn.Config{
		RPID:                  "localhost",
		RPDisplayName:         "ramconsole",
		RPOrigins:             []string{origin},
		AttestationPreference: protocol.PreferNoAttestation,
		AuthenticatorSelection: protocol.AuthenticatorSelection{
			ResidentKey:      protocol.ResidentKeyRequirementDiscouraged,
			UserVerification: protocol.VerificationDiscouraged,
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	return w
}

type user struct {
	id    []byte
	name  string
	creds []webauthn.Credential
}

func (u *user) WebAuthnID() []byte                         { return u.id }
func (u *user) WebAuthnName() string                       { return u.name }
func (u *user) WebAuthnDisplayName() string                { return strings.ToUpper(u.name) }
func (u *user) WebAuthnCredentials() []webauthn.Credential { return u.creds }

func newUser(name string) *user {
	return &user{id: []byte("user-id-of-" + name + "-0123456789"), name: name}
}

// store replaces the user's record of cred (matched by id) or adds it, as a relying party does after a ceremony.
func (u *user) store(cred *webauthn.Credential) {
	for i := range u.creds {
		if bytes.Equal(u.creds[i].ID, cred.ID) {
			u.creds[i] = *cred
			return
		}
	}
	u.creds = append(u.creds, *cred)
}

// createOptions begins a registration and returns the options JSON a browser receives.
func createOptions(t *testing.T, w *webauthn.WebAuthn, u *user, opts ...webauthn.RegistrationOption) ([]byte, *webauthn.SessionData) {
	t.Helper()
	creation, session, err := w.BeginRegistration(u, opts...)
	if err != nil {
		t.Fatal(err)
	}
	options, err := json.Marshal(creation)
	if err != nil {
		t.Fatal(err)
	}
	return options, session
}

// tryRegister runs a registration of k for u through go-webauthn and returns what CreateCredential returns.
func tryRegister(t *testing.T, w *webauthn.WebAuthn, u *user, k *softkey.Key) (*webauthn.Credential, error) {
	t.Helper()
	options, session := createOptions(t, w, u)
	posted, err := k.Create(options)
	if err != nil {
		t.Fatalf("Create: %v", err)
	}
	parsed, err := protocol.ParseCredentialCreationResponseBytes(posted)
	if err != nil {
		t.Fatalf("ParseCredentialCreationResponseBytes: %v\n%s", err, posted)
	}
	return w.CreateCredential(u, *session, parsed)
}

// register registers k for u and stores the credential.
func register(t *testing.T, w *webauthn.WebAuthn, u *user, k *softkey.Key) *webauthn.Credential {
	t.Helper()
	cred, err := tryRegister(t, w, u, k)
	if err != nil {
		t.Fatalf("CreateCredential: %v", describe(err))
	}
	u.store(cred)
	return cred
}

// tryLogin runs a sign-in of u with k through go-webauthn and returns what ValidateLogin returns.
func tryLogin(t *testing.T, w *webauthn.WebAuthn, u *user, k *softkey.Key) (*webauthn.Credential, error) {
	t.Helper()
	assertion, session, err := w.BeginLogin(u)
	if err != nil {
		t.Fatal(err)
	}
	options, err := json.Marshal(assertion)
	if err != nil {
		t.Fatal(err)
	}
	posted, err := k.Get(options)
	if err != nil {
		t.Fatalf("Get: %v", err)
	}
	parsed, err := protocol.ParseCredentialRequestResponseBytes(posted)
	if err != nil {
		t.Fatalf("ParseCredentialRequestResponseBytes: %v\n%s", err, posted)
	}
	return w.ValidateLogin(u, *session, parsed)
}

// login signs u in with k and stores the updated credential.
func login(t *testing.T, w *webauthn.WebAuthn, u *user, k *softkey.Key) *webauthn.Credential {
	t.Helper()
	cred, err := tryLogin(t, w, u, k)
	if err != nil {
		t.Fatalf("ValidateLogin: %v", describe(err))
	}
	u.store(cred)
	return cred
}

// describe spells out a go-webauthn error with the details and developer info that say why it failed.
func describe(err error) string {
	var perr *protocol.Error
	if errors.As(err, &perr) {
		return fmt.Sprintf("%s: %s: %s", perr.Type, perr.Details, perr.DevInfo)
	}
	return err.Error()
}

func TestRegisterAndSignIn(t *testing.T) {
	w := newRP(t)
	u := newUser("alice")
	k := softkey.New(origin)

	cred := register(t, w, u, k)
	if !bytes.Equal(cred.ID, k.CredentialID()) {
		t.Errorf("credential id %x, want the key's %x", cred.ID, k.CredentialID())
	}
	if len(k.CredentialID()) != 32 {
		t.Errorf("credential id is %d bytes, want 32", len(k.CredentialID()))
	}
	if cred.AttestationFormat != "none" || cred.AttestationType != "none" {
		t.Errorf("attestation %q/%q, want none/none", cred.AttestationFormat, cred.AttestationType)
	}
	if !slices.Equal(cred.Transport, []protocol.AuthenticatorTransport{protocol.USB}) {
		t.Errorf("transports %v, want [usb]", cred.Transport)
	}
	if cred.Authenticator.Attachment != protocol.CrossPlatform {
		t.Errorf("attachment %q, want cross-platform", cred.Authenticator.Attachment)
	}
	if cred.Authenticator.SignCount != 0 || !bytes.Equal(cred.Authenticator.AAGUID, make([]byte, 16)) {
		t.Errorf("sign count %d, AAGUID %x; want 0 and zero", cred.Authenticator.SignCount, cred.Authenticator.AAGUID)
	}
	if !cred.Flags.UserPresent || cred.Flags.UserVerified || cred.Flags.BackupEligible || cred.Flags.BackupState {
		t.Errorf("flags %+v, want only UP", cred.Flags)
	}

	for want := uint32(1); want <= 3; want++ {
		got := login(t, w, u, k)
		if got.Authenticator.SignCount != want || got.Authenticator.CloneWarning {
			t.Fatalf("sign-in %d: sign count %d, clone warning %v; want %d, false",
				want, got.Authenticator.SignCount, got.Authenticator.CloneWarning, want)
		}
	}
}

func TestAAGUIDAndCredentialID(t *testing.T) {
	w := newRP(t)
	u := newUser("bob")
	k := softkey.New(origin)
	k.AAGUID = [16]byte{0xcb, 0x69, 0x48, 0x1e, 0x8f, 0xf7, 0x40, 0x39, 0x93, 0xec, 0x0a, 0x27, 0x29, 0xa1, 0x54, 0xa8}
	id := bytes.Repeat([]byte{0xab}, 20)
	k.SetCredentialID(id)
	id[0] = 0 // the key keeps its own copy

	cred := register(t, w, u, k)
	if !bytes.Equal(cred.Authenticator.AAGUID, k.AAGUID[:]) {
		t.Errorf("AAGUID %x, want %x", cred.Authenticator.AAGUID, k.AAGUID)
	}
	if want := bytes.Repeat([]byte{0xab}, 20); !bytes.Equal(cred.ID, want) || !bytes.Equal(k.CredentialID(), want) {
		t.Errorf("credential id %x (key says %x), want %x", cred.ID, k.CredentialID(), want)
	}
	login(t, w, u, k)
}

// TestShape checks the posted JSON member by member against the Level 3 toJSON() shape, and the client data
// byte for byte.
func TestShape(t *testing.T) {
	w := newRP(t)
	u := newUser("carol")
	k := softkey.New(origin)

	options, _ := createOptions(t, w, u)
	var opts struct {
		PublicKey struct {
			Challenge string `json:"challenge"`
		} `json:"publicKey"`
	}
	if err := json.Unmarshal(options, &opts); err != nil {
		t.Fatal(err)
	}
	posted, err := k.Create(options)
	if err != nil {
		t.Fatal(err)
	}
	reg := decodeObject(t, posted)
	wantKeys(t, "registration", reg, "id", "rawId", "response", "authenticatorAttachment", "clientExtensionResults", "type")
	id := base64.RawURLEncoding.EncodeToString(k.CredentialID())
	if reg["id"] != id || reg["rawId"] != id || reg["type"] != "public-key" || reg["authenticatorAttachment"] != "cross-platform" {
		t.Errorf("registration %v", reg)
	}
	if ext, ok := reg["clientExtensionResults"].(map[string]any); !ok || len(ext) != 0 {
		t.Errorf("clientExtensionResults %#v, want {}", reg["clientExtensionResults"])
	}
	resp := reg["response"].(map[string]any)
	wantKeys(t, "registration response", resp,
		"clientDataJSON", "authenticatorData", "transports", "publicKey", "publicKeyAlgorithm", "attestationObject")
	if tr, _ := json.Marshal(resp["transports"]); string(tr) != `["usb"]` || resp["publicKeyAlgorithm"] != float64(-7) {
		t.Errorf("transports %s, publicKeyAlgorithm %v", tr, resp["publicKeyAlgorithm"])
	}
	want := `{"type":"webauthn.create","challenge":"` + opts.PublicKey.Challenge + `","origin":"http://localhost:8080","crossOrigin":false}`
	if got := b64(t, resp["clientDataJSON"]); string(got) != want {
		t.Errorf("clientDataJSON\n%s\nwant\n%s", got, want)
	}

	// The attestation object: CTAP2 canonical CBOR, {"fmt":"none","attStmt":{},"authData":...}.
	attObj := b64(t, resp["attestationObject"])
	canonical(t, "attestationObject", attObj)
	var att struct {
		Fmt      string         `cbor:"fmt"`
		AttStmt  map[string]any `cbor:"attStmt"`
		AuthData []byte         `cbor:"authData"`
	}
	if err := webauthncbor.Unmarshal(attObj, &att); err != nil {
		t.Fatal(err)
	}
	if att.Fmt != "none" || att.AttStmt == nil || len(att.AttStmt) != 0 {
		t.Errorf("fmt %q, attStmt %#v", att.Fmt, att.AttStmt)
	}
	if !bytes.Equal(att.AuthData, b64(t, resp["authenticatorData"])) {
		t.Error("authenticatorData is not the attestation object's authData")
	}

	// The authenticator data: rpIdHash, flags UP|AT, counter 0, AAGUID, id length, id, COSE key.
	ad := att.AuthData
	var parsed protocol.AuthenticatorData
	if err := parsed.Unmarshal(ad); err != nil {
		t.Fatal(err)
	}
	if ad[32] != 0x41 || binary.BigEndian.Uint32(ad[33:37]) != 0 {
		t.Errorf("flags %#x, counter %d; want 0x41, 0", ad[32], binary.BigEndian.Uint32(ad[33:37]))
	}
	if int(binary.BigEndian.Uint16(ad[53:55])) != 32 || !bytes.Equal(ad[55:87], k.CredentialID()) {
		t.Errorf("attested credential id %x", ad[53:87])
	}
	cose := ad[87:]
	canonical(t, "COSE key", cose)
	var key map[int]any
	if err := webauthncbor.Unmarshal(cose, &key); err != nil {
		t.Fatal(err)
	}
	if len(key) != 5 || fmt.Sprint(key[1]) != "2" || fmt.Sprint(key[3]) != "-7" || fmt.Sprint(key[-1]) != "1" {
		t.Errorf("COSE key %v", key)
	}
	x, _ := key[-2].([]byte)
	y, _ := key[-3].([]byte)
	if len(x) != 32 || len(y) != 32 {
		t.Fatalf("COSE key x %x, y %x", x, y)
	}
	// The publicKey member is the same key as SPKI.
	pub, err := x509.ParsePKIXPublicKey(b64(t, resp["publicKey"]))
	if err != nil {
		t.Fatal(err)
	}
	point, err := pub.(*ecdsa.PublicKey).Bytes()
	if err != nil || !bytes.Equal(point, slices.Concat([]byte{4}, x, y)) {
		t.Errorf("publicKey %x is not the COSE key's point 04|%x|%x", point, x, y)
	}

	// The assertion.
	register(t, w, u, softkey.New(origin)) // BeginLogin needs a registered credential; k's was never stored
	assertion, _, err := w.BeginLogin(u)
	if err != nil {
		t.Fatal(err)
	}
	options, _ = json.Marshal(assertion)
	posted, err = k.Get(options)
	if err != nil {
		t.Fatal(err)
	}
	as := decodeObject(t, posted)
	wantKeys(t, "assertion", as, "id", "rawId", "response", "authenticatorAttachment", "clientExtensionResults", "type")
	if as["id"] != id || as["rawId"] != id || as["type"] != "public-key" {
		t.Errorf("assertion %v", as)
	}
	resp = as["response"].(map[string]any)
	wantKeys(t, "assertion response", resp, "clientDataJSON", "authenticatorData", "signature", "userHandle")
	if got := b64(t, resp["userHandle"]); !bytes.Equal(got, u.id) {
		t.Errorf("userHandle %q, want %q", got, u.id)
	}
	want = `{"type":"webauthn.get","challenge":"` + assertion.Response.Challenge.String() + `","origin":"http://localhost:8080","crossOrigin":false}`
	if got := b64(t, resp["clientDataJSON"]); string(got) != want {
		t.Errorf("clientDataJSON\n%s\nwant\n%s", got, want)
	}
	if ad := b64(t, resp["authenticatorData"]); len(ad) != 37 || ad[32] != 0x01 || binary.BigEndian.Uint32(ad[33:]) != 1 {
		t.Errorf("authenticatorData %x, want 37 bytes, flags UP, counter 1", ad)
	}

	// A key that never registered has no user handle, and leaves the member out as a browser does with null.
	posted, err = softkey.New(origin).Get(options)
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := decodeObject(t, posted)["response"].(map[string]any)["userHandle"]; ok {
		t.Errorf("unregistered key posts a userHandle: %s", posted)
	}
}

func decodeObject(t *testing.T, data []byte) map[string]any {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal(data, &m); err != nil {
		t.Fatalf("%v: %s", err, data)
	}
	return m
}

func wantKeys(t *testing.T, what string, m map[string]any, keys ...string) {
	t.Helper()
	var got []string
	for k := range m {
		got = append(got, k)
	}
	slices.Sort(got)
	slices.Sort(keys)
	if !slices.Equal(got, keys) {
		t.Errorf("%s has members %v, want %v", what, got, keys)
	}
}

// b64 decodes a member that must be unpadded base64url.
func b64(t *testing.T, v any) []byte {
	t.Helper()
	s, ok := v.(string)
	if !ok {
		t.Fatalf("%#v is not a string", v)
	}
	b, err := base64.RawURLEncoding.Strict().DecodeString(s)
	if err != nil {
		t.Fatalf("%q is not unpadded base64url: %v", s, err)
	}
	return b
}

// canonical checks data is one CBOR item in CTAP2 canonical form: go-webauthn's CTAP2 canonical encoder gives
// back the same bytes.
func canonical(t *testing.T, what string, data []byte) {
	t.Helper()
	var v any
	if err := webauthncbor.Unmarshal(data, &v); err != nil {
		t.Fatalf("%s: %v", what, err)
	}
	again, err := webauthncbor.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(again, data) {
		t.Errorf("%s is not canonical CBOR:\n%x\ncanonical:\n%x", what, data, again)
	}
}

// TestRefused has the relying party refuse what a misbehaving key posts, for the reason it misbehaves.
func TestRefused(t *testing.T) {
	counter := uint32(7)
	for _, tc := range []struct {
		name     string
		knob     func(*softkey.Key)
		register bool   // whether registration is refused too (none-attestation registrations carry no signature)
		reason   string // in the refusal
	}{
		{"bogus signature", func(k *softkey.Key) { k.BogusSignature = true }, false, "signature"},
		{"no user presence", func(k *softkey.Key) { k.NoUserPresence = true }, true, "User presence required"},
		{"other RP ID", func(k *softkey.Key) { k.RPID = "example.com" }, true, "RP Hash mismatch"},
		{"wrong origin", func(k *softkey.Key) { k.Origin = "http://localhost:8081" }, true, "Error validating origin"},
		{"backup state without eligibility", func(k *softkey.Key) { k.BackupState = true }, true, "Backup State"},
		{"fixed counter is not a refusal", func(k *softkey.Key) { k.FixedCounter = &counter }, false, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			w := newRP(t)

			// Signing in.
			u := newUser("dave")
			k := softkey.New(origin)
			register(t, w, u, k)
			login(t, w, u, k)
			tc.knob(k)
			_, err := tryLogin(t, w, u, k)
			if tc.reason == "" {
				if err != nil {
					t.Fatalf("sign-in refused: %s", describe(err))
				}
				return
			}
			if err == nil {
				t.Fatal("sign-in accepted")
			} else if !strings.Contains(describe(err), tc.reason) {
				t.Errorf("sign-in refused with %q, want %q in it", describe(err), tc.reason)
			}

			// Registering.
			u = newUser("erin")
			k = softkey.New(origin)
			tc.knob(k)
			_, err = tryRegister(t, w, u, k)
			switch {
			case tc.register && err == nil:
				t.Error("registration accepted")
			case tc.register && !strings.Contains(describe(err), tc.reason):
				t.Errorf("registration refused with %q, want %q in it", describe(err), tc.reason)
			case !tc.register && err != nil:
				t.Errorf("registration refused: %s", describe(err))
			}
		})
	}
}

// TestFixedCounter: a key that presents the sign count the relying party already has looks cloned.
func TestFixedCounter(t *testing.T) {
	w := newRP(t)
	u := newUser("frank")
	k := softkey.New(origin)
	register(t, w, u, k)
	login(t, w, u, k)
	login(t, w, u, k)
	stored := u.creds[0].Authenticator.SignCount
	if stored != 2 {
		t.Fatalf("stored sign count %d, want 2", stored)
	}

	k.FixedCounter = &stored
	for range 2 {
		cred, err := tryLogin(t, w, u, k)
		if err != nil {
			t.Fatalf("ValidateLogin: %s", describe(err))
		}
		if !cred.Authenticator.CloneWarning || cred.Authenticator.SignCount != stored {
			t.Errorf("sign count %d, clone warning %v; want %d, true", cred.Authenticator.SignCount, cred.Authenticator.CloneWarning, stored)
		}
	}

	// The key's own counter did not move meanwhile: it goes on from 2.
	k.FixedCounter = nil
	if cred := login(t, w, u, k); cred.Authenticator.SignCount != 3 || cred.Authenticator.CloneWarning {
		t.Errorf("sign count %d, clone warning %v; want 3, false", cred.Authenticator.SignCount, cred.Authenticator.CloneWarning)
	}
}

// TestExcluded: the key refuses to register again where it is already registered, as a browser would.
func TestExcluded(t *testing.T) {
	w := newRP(t)
	u := newUser("grace")
	k := softkey.New(origin)
	register(t, w, u, k)

	exclude := webauthn.WithExclusions(webauthn.Credentials(u.creds).CredentialDescriptors())
	options, _ := createOptions(t, w, u, exclude)
	if posted, err := k.Create(options); !errors.Is(err, softkey.ErrInvalidState) {
		t.Fatalf("Create with its own credential excluded: %v, %s; want ErrInvalidState", err, posted)
	}

	// Another key is not excluded.
	options, session := createOptions(t, w, u, exclude)
	posted, err := softkey.New(origin).Create(options)
	if err != nil {
		t.Fatal(err)
	}
	parsed, err := protocol.ParseCredentialCreationResponseBytes(posted)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := w.CreateCredential(u, *session, parsed); err != nil {
		t.Fatalf("CreateCredential: %s", describe(err))
	}
}

// TestForeignKey: Get answers even when its credential is not allowed, and the relying party refuses it.
func TestForeignKey(t *testing.T) {
	w := newRP(t)
	u := newUser("heidi")
	register(t, w, u, softkey.New(origin))

	mallory := newUser("mallory")
	foreign := softkey.New(origin)
	register(t, w, mallory, foreign)

	cred, err := tryLogin(t, w, u, foreign)
	if err == nil {
		t.Fatalf("a foreign key signed in: %+v", cred)
	}
}

// TestBackupEligible: a backup-eligible, backed-up key registers and signs in with the same flags, and the
// relying party notices when the key stops claiming eligibility.
func TestBackupEligible(t *testing.T) {
	w := newRP(t)
	u := newUser("ivan")
	k := softkey.New(origin)
	k.BackupEligible, k.BackupState = true, true

	cred := register(t, w, u, k)
	if !cred.Flags.BackupEligible || !cred.Flags.BackupState {
		t.Errorf("registered flags %+v, want BE and BS", cred.Flags)
	}
	cred = login(t, w, u, k)
	if !cred.Flags.BackupEligible || !cred.Flags.BackupState || cred.Authenticator.SignCount != 1 {
		t.Errorf("signed-in flags %+v, count %d; want BE and BS, 1", cred.Flags, cred.Authenticator.SignCount)
	}

	// Backup state may change; eligibility may not.
	k.BackupState = false
	if cred = login(t, w, u, k); !cred.Flags.BackupEligible || cred.Flags.BackupState {
		t.Errorf("signed-in flags %+v, want BE only", cred.Flags)
	}
	k.BackupEligible = false
	if _, err := tryLogin(t, w, u, k); err == nil || !strings.Contains(describe(err), "Backup Eligible flag inconsistency") {
		t.Errorf("sign-in without BE: %v, want the BE inconsistency refused", err)
	}
}

// TestConcurrentGets: assertions made at once each get their own sign count.
func TestConcurrentGets(t *testing.T) {
	w := newRP(t)
	u := newUser("judy")
	k := softkey.New(origin)
	register(t, w, u, k)
	assertion, _, err := w.BeginLogin(u)
	if err != nil {
		t.Fatal(err)
	}
	options, _ := json.Marshal(assertion)

	const n = 8
	counts := make([]uint32, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			posted, err := k.Get(options)
			if err != nil {
				t.Error(err)
				return
			}
			parsed, err := protocol.ParseCredentialRequestResponseBytes(posted)
			if err != nil {
				t.Error(err)
				return
			}
			counts[i] = parsed.Response.AuthenticatorData.Counter
		})
	}
	wg.Wait()
	slices.Sort(counts)
	for i, c := range counts {
		if c != uint32(i+1) {
			t.Fatalf("sign counts %v, want 1 to %d", counts, n)
		}
	}
}

// TestBadOptions: options a browser would not accept are errors, not answers.
func TestBadOptions(t *testing.T) {
	k := softkey.New(origin)
	for _, options := range []string{
		`not json`,
		`{"publicKey":{"rp":{"id":"localhost","name":"x"},"user":{"id":"dQ","name":"u","displayName":"u"}}}`,
		`{"publicKey":{"challenge":"AAAAAAAAAAAAAAAAAAAAAA","rp":{"id":"localhost","name":"x"},"user":{"id":"not base64!","name":"u","displayName":"u"}}}`,
		`{"publicKey":{"challenge":"AAAAAAAAAAAAAAAAAAAAAA","rp":{"id":"localhost","name":"x"},"user":{"id":"dQ","name":"u","displayName":"u"},"pubKeyCredParams":[{"type":"public-key","alg":-257}]}}`,
	} {
		if posted, err := k.Create([]byte(options)); err == nil {
			t.Errorf("Create(%s) = %s, want an error", options, posted)
		}
	}
	if posted, err := k.Get([]byte(`{"publicKey":{"rpId":"localhost"}}`)); err == nil {
		t.Errorf("Get without a challenge = %s, want an error", posted)
	}
	k.Origin = ""
	if _, err := k.Get([]byte(`{"publicKey":{"challenge":"AAAAAAAAAAAAAAAAAAAAAA","rpId":"localhost"}}`)); err == nil {
		t.Error("Get without an origin succeeded")
	}
}
