package store

import (
	"context"
	"errors"
	"testing"
)

// Keys per identity are bounded; names are unique per identity in any
// case, credential ids across everyone; the sign count only moves forward
// (0 → 0 allowed) and a second answer with the same count loses.
func TestSecurityKeysStore(t *testing.T) {
	ctx := context.Background()
	s, _ := openTest(t, nil)
	add := func(k SecurityKey) error {
		return s.Update(ctx, func(tx *Tx) error { return tx.AddSecurityKey(ctx, k, 3) })
	}
	key := func(id, principal, name string) SecurityKey {
		return SecurityKey{ID: id, Principal: principal, Name: name, CredentialID: []byte("cred-" + id), PublicKey: []byte{1},
			AAGUID: make([]byte, 16), Transports: []string{"usb", "nfc"}, BackupEligible: true}
	}
	must(t, add(key("a", "root", "Blue")))
	if err := add(key("b", "root", "BLUE")); !errors.Is(err, ErrConflict) {
		t.Errorf("a duplicate name in another case: %v, want ErrConflict", err)
	}
	dup := key("c", "user/1", "other")
	dup.CredentialID = []byte("cred-a")
	if err := add(dup); !errors.Is(err, ErrConflict) {
		t.Errorf("a credential id registered by someone else: %v, want ErrConflict", err)
	}
	must(t, add(key("d", "user/1", "Blue"))) // another identity's names are its own
	must(t, add(key("e", "root", "two")))
	must(t, add(key("f", "root", "three")))
	if err := add(key("g", "root", "four")); !errors.Is(err, ErrLimitExceeded) {
		t.Errorf("a key past the limit: %v, want ErrLimitExceeded", err)
	}
	keys, err := s.SecurityKeysOf(ctx, "root")
	must(t, err)
	if len(keys) != 3 || len(keys[0].Transports) != 2 || !keys[0].BackupEligible {
		t.Fatalf("root's keys: %+v", keys)
	}
	if _, err := s.SecurityKey(ctx, "root", "d"); !errors.Is(err, ErrNotFound) {
		t.Errorf("another identity's key by id: %v, want ErrNotFound", err)
	}
	has, err := s.HasSecondFactor(ctx, "user/1")
	must(t, err)
	none, err := s.HasSecondFactor(ctx, "user/2")
	must(t, err)
	if !has || none {
		t.Errorf("HasSecondFactor: %v %v", has, none)
	}

	use := func(count uint32) bool {
		var ok bool
		must(t, s.Update(ctx, func(tx *Tx) (err error) { ok, err = tx.UseSecurityKey(ctx, "root", "a", count, false); return err }))
		return ok
	}
	for _, c := range []struct {
		count uint32
		want  bool
	}{{0, true}, {0, true}, {5, true}, {5, false}, {4, false}, {6, true}, {0, false}} {
		if got := use(c.count); got != c.want {
			t.Errorf("use with count %d: %v, want %v", c.count, got, c.want)
		}
	}
	k, err := s.SecurityKey(ctx, "root", "a")
	must(t, err)
	if k.SignCount != 6 || k.LastUsedAt.IsZero() {
		t.Errorf("after use: count %d, last used %v", k.SignCount, k.LastUsedAt)
	}

	var removed []SecurityKey
	must(t, s.Update(ctx, func(tx *Tx) (err error) { removed, err = tx.DeleteSecurityKeysOf(ctx, "root"); return err }))
	if len(removed) != 3 {
		t.Errorf("removed %d keys", len(removed))
	}
	if err := s.Update(ctx, func(tx *Tx) error { return tx.DeleteSecurityKey(ctx, "user/1", "nope") }); !errors.Is(err, ErrNotFound) {
		t.Errorf("deleting an unknown key: %v", err)
	}

	var h1, h2 []byte
	must(t, s.Update(ctx, func(tx *Tx) (err error) { h1, err = tx.EnsureWebAuthnHandle(ctx, "root", []byte("first")); return err }))
	must(t, s.Update(ctx, func(tx *Tx) (err error) { h2, err = tx.EnsureWebAuthnHandle(ctx, "root", []byte("second")); return err }))
	if string(h1) != "first" || string(h2) != "first" {
		t.Errorf("handles: %q %q", h1, h2)
	}
}
