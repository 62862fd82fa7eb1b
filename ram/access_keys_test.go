package ram

import (
	"fmt"
	"regexp"
	"strings"
	"testing"
	"time"
)

var (
	accessKeyIDRE     = regexp.MustCompile(`^LTAI[A-Za-z0-9]{20}$`)
	accessKeySecretRE = regexp.MustCompile(`^[A-Za-z0-9]{30}$`)
)

// The AccessKeys' rules, on one account (each part names its own users).
func TestAccessKeys(t *testing.T) {
	onOneAccount(t,
		part{"create, update and delete", testAccessKeys},
		part{"role sessions end with their key", testAccessKeyEndsRoleSessions},
		part{"self-service", testOwnAccessKeys},
		part{"CSV download", testKeyDownload},
	)
}

// A user has at most 2 AccessKeys, each Active or Inactive; the API
// deletes either, the console only an Inactive one. A secret is never
// recorded.
func testAccessKeys(t *testing.T, e *testEnv) {
	e.newUser(t, "ops")
	_, other := e.keyedUser(t, "other")
	reader := e.member(t, "reader", "AliyunRAMReadOnlyAccess")
	var keys []*NewAccessKey
	create := func(a Actor) func() error {
		return func() error {
			k, err := e.svc.CreateAccessKey(e.ctx, a, "OPS")
			if k != nil {
				keys = append(keys, k)
			}
			return err
		}
	}
	for i := range MaxAccessKeys {
		evs := e.expect(t, create(e.owner), "", "CreateAccessKey")
		k := keys[i]
		if !accessKeyIDRE.MatchString(k.AccessKeyID) || !accessKeySecretRE.MatchString(k.AccessKeySecret) || k.Status != "Active" || k.UserName != "ops" {
			t.Errorf("key %d: %+v", i, k)
		}
		if ev := only(t, evs); strings.Contains(ev.Body, k.AccessKeySecret) || ev.AdditionalEventData["AccessKeyId"] != k.AccessKeyID {
			t.Errorf("the creation's event: %s", ev.Body)
		}
	}
	update := func(keyID, status string) func() error {
		return func() error { return e.svc.UpdateAccessKey(e.ctx, e.owner, "ops", keyID, status) }
	}
	e.check(t, []rule{
		{"a third key is LimitExceeded.User.AccessKey", create(e.owner), "LimitExceeded.User.AccessKey", []string{"CreateAccessKey/LimitExceeded.User.AccessKey"}},
		{"a read-only user may not create keys", create(reader), "NoPermission", []string{"CreateAccessKey/NoPermission"}},
		{"a key is deactivated", update(keys[0].AccessKeyID, "Inactive"), "", []string{"UpdateAccessKey"}},
		{"a status is Active or Inactive", update(keys[0].AccessKeyID, "Disabled"), "InvalidParameter.Status", []string{"UpdateAccessKey/InvalidParameter.Status"}},
		{"another user's key is not found", update(other.AccessKeyID, "Inactive"),
			"EntityNotExist.User.AccessKey", []string{"UpdateAccessKey/EntityNotExist.User.AccessKey"}},
		{"the console does not delete an Active key", func() error { return e.svc.DeleteDisabledAccessKey(e.ctx, e.owner, "ops", keys[1].AccessKeyID) },
			"DeleteConflict.AccessKey.Active", []string{"DeleteAccessKey/DeleteConflict.AccessKey.Active"}},
		{"the console deletes an Inactive key", func() error { return e.svc.DeleteDisabledAccessKey(e.ctx, e.owner, "ops", keys[0].AccessKeyID) },
			"", []string{"DeleteAccessKey"}},
		{"the API deletes an Active key", func() error { return e.svc.DeleteAccessKey(e.ctx, e.owner, "ops", keys[1].AccessKeyID) },
			"", []string{"DeleteAccessKey"}},
		{"a deleted key is not found", func() error { return e.svc.DeleteAccessKey(e.ctx, e.owner, "ops", keys[1].AccessKeyID) },
			"EntityNotExist.User.AccessKey", []string{"DeleteAccessKey/EntityNotExist.User.AccessKey"}},
		{"with one key gone another fits", create(e.owner), "", []string{"CreateAccessKey"}},
	})
	listed, err := e.svc.ListAccessKeys(e.ctx, reader, "ops")
	if err != nil || len(listed) != 1 || listed[0].AccessKeyID != keys[2].AccessKeyID || listed[0].Status != "Active" {
		t.Errorf("ListAccessKeys(ops) = %+v, %v", listed, err)
	}
}

// Deleting or deactivating the AccessKey that assumed a role ends its
// sessions, and those chained from them, for good.
func testAccessKeyEndsRoleSessions(t *testing.T, e *testEnv) {
	u, k := e.keyedUser(t, "assumer", "AliyunSTSAssumeRoleAccess")
	e.createRole(t, "runner")
	e.attach(t, kindRole, PolicyTypeSystem, "AliyunSTSAssumeRoleAccess", "runner")
	e.createRole(t, "deployer")
	for _, end := range []struct {
		name, event string
		op          func(keyID string) error
	}{
		{"deactivating", "UpdateAccessKey", func(id string) error { return e.svc.UpdateAccessKey(e.ctx, e.owner, "assumer", id, "Inactive") }},
		{"deleting", "DeleteAccessKey", func(id string) error { return e.svc.DeleteAccessKey(e.ctx, e.owner, "assumer", id) }},
	} {
		t.Run(end.name, func(t *testing.T) {
			first := e.assume(t, u, k, "runner")
			// The role session assumes another role: a chained session.
			req := e.signedV1(first.AccessKeyID, first.AccessKeySecret, map[string]string{"Action": "AssumeRole"})
			req.Token = first.SecurityToken
			call := e.svc.Authenticate(e.ctx, Actor{RequestID: NewRequestID()}, req)
			if call.Err() != nil {
				t.Fatal(call.Err())
			}
			chained, err := e.svc.AssumeRole(e.ctx, call.Actor, AssumeRoleInput{RoleArn: RoleARN(e.svc.AccountID(e.ctx), "deployer"), RoleSessionName: "chained"})
			if err != nil {
				t.Fatal(err)
			}
			evs := e.expect(t, func() error { return end.op(k.AccessKeyID) }, "", end.event)
			if n := fmt.Sprint(only(t, evs).AdditionalEventData["endedSessions"]); n != "2" {
				t.Errorf("the event counts %s ended sessions, want 2", n)
			}
			for _, c := range []*AssumedRole{first, chained} {
				if e.sessionLive(t, c) {
					t.Errorf("session %s lives on", c.AccessKeyID)
				}
			}
		})
		if end.name == "deactivating" {
			if err := e.svc.UpdateAccessKey(e.ctx, e.owner, "assumer", k.AccessKeyID, "Active"); err != nil {
				t.Fatal(err)
			}
		}
	}
}

// A RAM user manages its own AccessKeys when the security preference lets
// it, and only its own; the console deletes only an Inactive one.
func testOwnAccessKeys(t *testing.T, e *testEnv) {
	self := e.member(t, "self")
	_, stranger := e.keyedUser(t, "stranger")
	if _, err := e.svc.SetSecurityPreference(e.ctx, e.owner, SecurityPreference{LoginSessionDuration: 6, AllowUserToManageAccessKeys: true}); err != nil {
		t.Fatal(err)
	}
	var own *NewAccessKey
	for _, tc := range []struct {
		name   string
		op     func() error
		code   string
		events []string
	}{
		{"a user creates its own key", func() error {
			var err error
			own, err = e.svc.CreateOwnAccessKey(e.ctx, self)
			return err
		}, "", []string{"CreateAccessKey"}},
		{"an Active key is not deleted", func() error { return e.svc.DeleteOwnAccessKey(e.ctx, self, own.AccessKeyID) },
			"DeleteConflict.AccessKey.Active", []string{"DeleteAccessKey/DeleteConflict.AccessKey.Active"}},
		{"another user's key is not its own", func() error { return e.svc.UpdateOwnAccessKey(e.ctx, self, stranger.AccessKeyID, "Inactive") },
			"EntityNotExist.User.AccessKey", []string{"UpdateAccessKey/EntityNotExist.User.AccessKey"}},
		{"a user deactivates its own key", func() error { return e.svc.UpdateOwnAccessKey(e.ctx, self, own.AccessKeyID, "Inactive") },
			"", []string{"UpdateAccessKey"}},
		{"a user deletes its own Inactive key", func() error { return e.svc.DeleteOwnAccessKey(e.ctx, self, own.AccessKeyID) },
			"", []string{"DeleteAccessKey"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			evs := e.expect(t, tc.op, tc.code, tc.events...)
			if len(evs) == 1 && (evs[0].UserIdentity.Type != "ram-user" || evs[0].UserIdentity.UserName != "self") {
				t.Errorf("the event's identity: %+v", evs[0].UserIdentity)
			}
		})
	}
	if _, err := e.svc.CreateOwnAccessKey(e.ctx, e.owner); errCode(err) != "NotSupport.Account" {
		t.Errorf("the owner's own key: %v, want NotSupport.Account", err)
	}
}

// A new key's CSV is handed over once, to the session that created it,
// within ten minutes; taking it is recorded without the secret.
func testKeyDownload(t *testing.T, e *testEnv) {
	_, k := e.keyedUser(t, "downloader")
	offer := func() string {
		t.Helper()
		token, err := e.svc.OfferKeyDownload(e.ctx, "session-1", k)
		if err != nil {
			t.Fatal(err)
		}
		return token
	}
	token := offer()
	if _, _, err := e.svc.TakeKeyDownload(e.ctx, e.owner, "session-2", token); errCode(err) != "EntityNotExist.Download" {
		t.Errorf("another session's take: %v, want EntityNotExist.Download", err)
	}
	var id, secret string
	evs := e.expect(t, func() error {
		var err error
		id, secret, err = e.svc.TakeKeyDownload(e.ctx, e.owner, "session-1", token)
		return err
	}, "", EventDownloadAccessKeyCSV)
	if id != k.AccessKeyID || secret != k.AccessKeySecret {
		t.Errorf("the download holds %s %s, want the new key", id, secret)
	}
	if ev := only(t, evs); ev.RequestParameters["AccessKeyId"] != k.AccessKeyID || strings.Contains(ev.Body, k.AccessKeySecret) {
		t.Errorf("the download's event: %s", ev.Body)
	}
	if _, _, err := e.svc.TakeKeyDownload(e.ctx, e.owner, "session-1", token); errCode(err) != "EntityNotExist.Download" {
		t.Errorf("a second take: %v, want EntityNotExist.Download", err)
	}
	late := offer()
	e.clock.Advance(keyDownloadTTL + time.Second)
	if _, _, err := e.svc.TakeKeyDownload(e.ctx, e.owner, "session-1", late); errCode(err) != "EntityNotExist.Download" {
		t.Errorf("a take after ten minutes: %v, want EntityNotExist.Download", err)
	}
}

// An AccessKey operation refused because its user does not exist, or a
// self-service one the security preference refuses, is recorded like
// every other refusal (SPEC §7: the console records every denied request
// and validation failure).
func TestAccessKeyRefusalsRecorded(t *testing.T) {
	t.Parallel()
	e := newTestEnv(t)
	ops := e.member(t, "ops")
	const unknownKey = "LTAI00000000000000000000"
	e.check(t, []rule{
		{"a key for an unknown user", func() error { return ignore(e.svc.CreateAccessKey(e.ctx, e.owner, "ghost")) },
			"EntityNotExist.User", []string{"CreateAccessKey/EntityNotExist.User"}},
		{"a status change for an unknown user", func() error { return e.svc.UpdateAccessKey(e.ctx, e.owner, "ghost", unknownKey, "Inactive") },
			"EntityNotExist.User", []string{"UpdateAccessKey/EntityNotExist.User"}},
		{"a delete for an unknown user", func() error { return e.svc.DeleteAccessKey(e.ctx, e.owner, "ghost", unknownKey) },
			"EntityNotExist.User", []string{"DeleteAccessKey/EntityNotExist.User"}},
		{"a user's own key while the security preference refuses it", func() error { return ignore(e.svc.CreateOwnAccessKey(e.ctx, ops)) },
			"NoPermission", []string{"CreateAccessKey/NoPermission"}},
	})
}
