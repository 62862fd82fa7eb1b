package store

import (
	"context"
	"errors"
	"path/filepath"
	"slices"
	"sync"
	"testing"
	"time"

	"ramconsole/store/pgtest"
)

// The user SSO setting defaults to off with SsoLoginWithDomain true, and is
// replaced as a whole; a change moves the store's generation.
func TestFederationUserSSOSettingsStore(t *testing.T) {
	ctx := context.Background()
	s, _ := openTest(t, nil)
	got, err := s.UserSSOSettings(ctx)
	must(t, err)
	if got.SsoEnabled || got.MetadataDocument != "" || !got.SsoLoginWithDomain {
		t.Fatalf("default setting: %+v", got)
	}
	gen := s.Generation()
	want := UserSSOSettings{SsoEnabled: true, MetadataDocument: "PHhtbC8+", AuxiliaryDomain: "example.com"}
	must(t, s.Update(ctx, func(tx *Tx) error { return tx.PutUserSSOSettings(ctx, &want) }))
	must(t, s.Update(ctx, func(tx *Tx) error { return tx.PutUserSSOSettings(ctx, &want) })) // replaced, not added
	got, err = s.UserSSOSettings(ctx)
	must(t, err)
	if !got.SsoEnabled || got.MetadataDocument != want.MetadataDocument || got.AuxiliaryDomain != "example.com" || got.SsoLoginWithDomain || got.UpdatedAt.IsZero() {
		t.Errorf("stored setting: %+v", got)
	}
	if s.Generation() == gen {
		t.Error("changing the setting did not move the generation")
	}
}

// SAML providers: names unique in any case, bounded in number, found by
// id or by name in any case, listed by name.
func TestFederationSAMLProvidersStore(t *testing.T) {
	ctx := context.Background()
	s, _ := openTest(t, nil)
	create := func(id, name string) error {
		return s.Update(ctx, func(tx *Tx) error {
			return tx.CreateSAMLProvider(ctx, &SAMLProvider{ProviderID: id, Name: name, Metadata: "<m/>"}, 2)
		})
	}
	must(t, create("p1", "Okta"))
	if err := create("p2", "OKTA"); !errors.Is(err, ErrConflict) {
		t.Errorf("a name taken in another case: %v, want ErrConflict", err)
	}
	must(t, create("p3", "entra"))
	if err := create("p4", "keycloak"); !errors.Is(err, ErrLimitExceeded) {
		t.Errorf("past the limit: %v, want ErrLimitExceeded", err)
	}
	p, err := s.SAMLProviderByName(ctx, "okta")
	must(t, err)
	if p.ProviderID != "p1" || p.Name != "Okta" {
		t.Errorf("by name: %+v", p)
	}
	p.Description, p.Metadata = "the IdP", "<m2/>"
	must(t, s.Update(ctx, func(tx *Tx) error { return tx.UpdateSAMLProvider(ctx, p) }))
	p, err = s.SAMLProvider(ctx, "p1")
	must(t, err)
	if p.Description != "the IdP" || p.Metadata != "<m2/>" {
		t.Errorf("updated: %+v", p)
	}
	list, err := s.SAMLProviders(ctx)
	must(t, err)
	if len(list) != 2 || list[0].Name != "entra" || list[1].Name != "Okta" {
		t.Errorf("list: %+v", list)
	}
	must(t, s.Update(ctx, func(tx *Tx) error { return tx.DeleteSAMLProvider(ctx, "p1") }))
	if _, err := s.SAMLProvider(ctx, "p1"); !errors.Is(err, ErrNotFound) {
		t.Errorf("deleted: %v", err)
	}
	if err := s.Update(ctx, func(tx *Tx) error { return tx.DeleteSAMLProvider(ctx, "p1") }); !errors.Is(err, ErrNotFound) {
		t.Errorf("deleted twice: %v", err)
	}
}

// OIDC providers keep their client ids and fingerprints in insertion order;
// the issuer URL is unique; a change of fingerprints or a deletion drops
// the provider's cached JWKS, other changes keep it.
func TestFederationOIDCProvidersStore(t *testing.T) {
	ctx := context.Background()
	s, _ := openTest(t, nil)
	p := &OIDCProvider{ProviderID: "o1", Name: "GitHub", IssuerURL: "https://token.actions.githubusercontent.com",
		ClientIDs: []string{"sts.aliyuncs.com", "b", "a"}, Fingerprints: []string{"ff", "00"}, IssuanceLimitTime: 12}
	must(t, s.Update(ctx, func(tx *Tx) error { return tx.CreateOIDCProvider(ctx, p, 100) }))
	dup := *p
	dup.ProviderID, dup.Name = "o2", "other"
	if err := s.Update(ctx, func(tx *Tx) error { return tx.CreateOIDCProvider(ctx, &dup, 100) }); !errors.Is(err, ErrConflict) {
		t.Errorf("an issuer URL registered twice: %v, want ErrConflict", err)
	}
	got, err := s.OIDCProviderByIssuer(ctx, p.IssuerURL)
	must(t, err)
	if got.Name != "GitHub" || !slices.Equal(got.ClientIDs, []string{"sts.aliyuncs.com", "b", "a"}) || !slices.Equal(got.Fingerprints, []string{"ff", "00"}) {
		t.Errorf("stored: %+v", got)
	}
	jwks := func() bool {
		_, _, ok, err := s.OIDCProviderJWKS(ctx, "o1|https://x/jwks")
		must(t, err)
		return ok
	}
	gen := s.Generation()
	must(t, s.Update(ctx, func(tx *Tx) error {
		return tx.PutOIDCProviderJWKS(ctx, "o1|https://x/jwks", "o1", []byte(`{"keys":[]}`), tx.Now())
	}))
	if s.Generation() != gen {
		t.Error("caching a JWKS moved the generation")
	}
	doc, fetched, ok, err := s.OIDCProviderJWKS(ctx, "o1|https://x/jwks")
	must(t, err)
	if !ok || string(doc) != `{"keys":[]}` || fetched.IsZero() {
		t.Errorf("cached JWKS: %q %v %v", doc, fetched, ok)
	}
	got.ClientIDs, got.IssuanceLimitTime, got.Description = []string{"z"}, 3, "d"
	must(t, s.Update(ctx, func(tx *Tx) error { return tx.UpdateOIDCProvider(ctx, got) }))
	if !jwks() {
		t.Error("a change of client ids dropped the cached JWKS")
	}
	got.Fingerprints = []string{"00"}
	must(t, s.Update(ctx, func(tx *Tx) error { return tx.UpdateOIDCProvider(ctx, got) }))
	if jwks() {
		t.Error("a change of fingerprints kept the cached JWKS")
	}
	got, err = s.OIDCProviderByName(ctx, "github")
	must(t, err)
	if !slices.Equal(got.ClientIDs, []string{"z"}) || got.IssuanceLimitTime != 3 || got.Description != "d" {
		t.Errorf("updated: %+v", got)
	}
	must(t, s.Update(ctx, func(tx *Tx) error {
		return tx.PutOIDCProviderJWKS(ctx, "o1|https://x/jwks", "o1", []byte(`{}`), tx.Now())
	}))
	must(t, s.Update(ctx, func(tx *Tx) error { return tx.DeleteOIDCProvider(ctx, "o1") }))
	if jwks() {
		t.Error("deleting the provider kept its cached JWKS")
	}
	if list, err := s.OIDCProviders(ctx); err != nil || len(list) != 0 {
		t.Errorf("after delete: %v %v", list, err)
	}
}

// An SP-initiated sign-in's state is taken once, and not after it expired;
// writing it does not move the generation.
func TestFederationSAMLRequestsStore(t *testing.T) {
	ctx := context.Background()
	now := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
	s, _ := openTest(t, func() time.Time { return now })
	gen := s.Generation()
	must(t, s.Update(ctx, func(tx *Tx) error { return tx.PutSAMLRequest(ctx, "h1", "id-1", "/users", now.Add(10*time.Minute)) }))
	must(t, s.Update(ctx, func(tx *Tx) error { return tx.PutSAMLRequest(ctx, "h2", "id-2", "", now.Add(10*time.Minute)) }))
	if s.Generation() != gen {
		t.Error("keeping a sign-in's state moved the generation")
	}
	take := func(h string) (id, next string, err error) {
		err = s.Update(ctx, func(tx *Tx) (err error) { id, next, err = tx.TakeSAMLRequest(ctx, h); return err })
		return
	}
	id, next, err := take("h1")
	if err != nil || id != "id-1" || next != "/users" {
		t.Errorf("take: %q %q %v", id, next, err)
	}
	if _, _, err := take("h1"); !errors.Is(err, ErrNotFound) {
		t.Errorf("taken twice: %v, want ErrNotFound", err)
	}
	now = now.Add(10 * time.Minute)
	if _, _, err := take("h2"); !errors.Is(err, ErrNotFound) {
		t.Errorf("taken when expired: %v, want ErrNotFound", err)
	}
}

// An assertion is accepted exactly once across nodes, even when both
// present it at the same moment; expired ones are forgotten.
func TestFederationConsumeSAMLAssertionAcrossNodes(t *testing.T) {
	ctx := context.Background()
	database := pgtest.Database(t)
	now := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
	a, dir := openTestOn(t, func() time.Time { return now }, database)
	clock := func() time.Time { return now }
	bdir := dir
	if database != "" {
		bdir = filepath.Join(t.TempDir(), "node-b")
	}
	b, err := Open(ctx, bdir, clock, WithDatabase(database))
	must(t, err)
	t.Cleanup(func() { b.Close() })
	consume := func(s *Store, issuer, id string, expires time.Time) bool {
		var first bool
		must(t, s.Update(ctx, func(tx *Tx) (err error) { first, err = tx.ConsumeSAMLAssertion(ctx, issuer, id, expires); return err }))
		return first
	}
	gen := a.Generation()
	if !consume(a, "https://idp", "_a1", now.Add(5*time.Minute)) {
		t.Fatal("a new assertion was not first")
	}
	if a.Generation() != gen {
		t.Error("consuming an assertion moved the generation")
	}
	if consume(b, "https://idp", "_a1", now.Add(5*time.Minute)) {
		t.Error("an assertion replayed on another node was first")
	}
	if !consume(b, "https://other-idp", "_a1", now.Add(5*time.Minute)) {
		t.Error("another issuer's assertion of the same id was not first")
	}
	var wg sync.WaitGroup
	firsts := make(chan bool, 8)
	for i := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			s := a
			if i%2 == 1 {
				s = b
			}
			firsts <- consume(s, "https://idp", "_race", now.Add(time.Minute))
		}()
	}
	wg.Wait()
	close(firsts)
	n := 0
	for f := range firsts {
		if f {
			n++
		}
	}
	if n != 1 {
		t.Errorf("%d of 8 concurrent consumptions were first, want 1", n)
	}
	var rows int
	must(t, a.read.QueryRowContext(ctx, "SELECT count(*) FROM saml_assertions").Scan(&rows))
	now = now.Add(10 * time.Minute)
	consume(a, "https://idp", "_later", now.Add(time.Minute))
	var after int
	must(t, a.read.QueryRowContext(ctx, "SELECT count(*) FROM saml_assertions").Scan(&after))
	if rows != 3 || after != 1 {
		t.Errorf("assertions kept: %d before the sweep, %d after, want 3 and 1", rows, after)
	}
}
