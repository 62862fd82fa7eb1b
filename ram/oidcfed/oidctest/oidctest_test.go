package oidctest

import (
	"crypto/sha1"
	"crypto/tls"
	"encoding/hex"
	"encoding/json"
	"net/http"
	"testing"

	"github.com/go-jose/go-jose/v4"
)

func TestIssuerServesDiscoveryAndVerifiableTokens(t *testing.T) {
	iss := NewIssuer(t)
	var last []byte
	client := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{
		InsecureSkipVerify: true,
		VerifyConnection: func(cs tls.ConnectionState) error {
			last = cs.PeerCertificates[len(cs.PeerCertificates)-1].Raw
			return nil
		},
	}}}
	res, err := client.Get(iss.URL() + DiscoveryPath)
	if err != nil {
		t.Fatal(err)
	}
	var doc map[string]any
	if err := json.NewDecoder(res.Body).Decode(&doc); err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if sum := sha1.Sum(last); hex.EncodeToString(sum[:]) != iss.Fingerprint() {
		t.Errorf("last certificate's SHA-1 = %x, want %s", sum, iss.Fingerprint())
	}
	if doc["issuer"] != iss.URL() || doc["jwks_uri"] != iss.URL()+JWKSPath {
		t.Errorf("discovery = %v, want issuer %s", doc, iss.URL())
	}
	res, err = client.Get(doc["jwks_uri"].(string))
	if err != nil {
		t.Fatal(err)
	}
	var set jose.JSONWebKeySet
	if err := json.NewDecoder(res.Body).Decode(&set); err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if iss.JWKSRequests() != 1 {
		t.Errorf("JWKSRequests() = %d, want 1", iss.JWKSRequests())
	}
	tok := iss.Token(Claims{Subject: "repo:acme/app:ref:refs/heads/main", Audience: []string{"sts.aliyuncs.com"}})
	jws, err := jose.ParseSigned(tok, []jose.SignatureAlgorithm{jose.RS256})
	if err != nil {
		t.Fatal(err)
	}
	keys := set.Key(jws.Signatures[0].Header.KeyID)
	if len(keys) != 1 {
		t.Fatalf("kid %q not in JWKS", jws.Signatures[0].Header.KeyID)
	}
	if _, err := jws.Verify(keys[0]); err != nil {
		t.Errorf("Verify: %v", err)
	}
	iss.RotateKey()
	if iss.KeyID() == keys[0].KeyID {
		t.Errorf("RotateKey kept kid %q", iss.KeyID())
	}
}
