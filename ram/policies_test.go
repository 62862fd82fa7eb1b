package ram

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"

	"ramconsole/policy"
	"ramconsole/store"
)

// unusedSystemPolicy is a system policy the attachment tests attach
// nowhere (the limits fill principals with the others), so that a refused
// attachment of it can be seen to leave none.
const unusedSystemPolicy = "AliyunLogReadOnlyAccess"

// readUsers allows listing users: a document for policies whose effect a
// test checks.
var readUsers = doc(allow([]string{"*"}, "ram:ListUsers"))

// The custom policies' rules, on one account (each part names its own
// policies and users; the account is filled to its limit last).
func TestPolicies(t *testing.T) {
	onOneAccount(t,
		part{"versions", testPolicyVersions},
		part{"DeletePolicy", testDeletePolicy},
		part{"CreatePolicy", testCreatePolicy},
	)
}

// CreatePolicy validates the name, description and document with RAM's
// codes and keeps names unique, system policies' included.
func testCreatePolicy(t *testing.T, e *testEnv) {
	reader := e.member(t, "reader", "AliyunRAMReadOnlyAccess")
	create := func(a Actor, name, document, description string) func() error {
		return func() error { return ignore(e.svc.CreatePolicy(e.ctx, a, name, document, description)) }
	}
	long := doc(allow([]string{strings.Repeat("x", policy.MaxDocumentLength)}, "ram:ListUsers"))
	withPrincipal := `{"Version":"1","Statement":[{"Effect":"Allow","Action":"ram:ListUsers","Resource":"*","Principal":{"RAM":["*"]}}]}`
	e.check(t, []rule{
		{"a custom policy is created with v1 and recorded", create(e.owner, "ops-read", readUsers, "Operators read"), "", []string{"CreatePolicy"}},
		{"a name taken in another case is EntityAlreadyExists.Policy", create(e.owner, "OPS-READ", readUsers, ""),
			"EntityAlreadyExists.Policy", []string{"CreatePolicy/EntityAlreadyExists.Policy"}},
		{"a system policy's name is taken", create(e.owner, "AdministratorAccess", readUsers, ""),
			"EntityAlreadyExists.Policy", []string{"CreatePolicy/EntityAlreadyExists.Policy"}},
		{"an underscore in the name is InvalidChars", create(e.owner, "ops_read", readUsers, ""),
			"InvalidParameter.PolicyName.InvalidChars", []string{"CreatePolicy/InvalidParameter.PolicyName.InvalidChars"}},
		{"a 129-character name is too long", create(e.owner, strings.Repeat("p", 129), readUsers, ""),
			"InvalidParameter.PolicyName.Length", []string{"CreatePolicy/InvalidParameter.PolicyName.Length"}},
		{"a document of another version is malformed", create(e.owner, "v2-doc", strings.Replace(readUsers, `"1"`, `"2"`, 1), ""),
			"MalformedPolicyDocument", []string{"CreatePolicy/MalformedPolicyDocument"}},
		{"a Principal belongs in trust policies only", create(e.owner, "with-principal", withPrincipal, ""),
			"MalformedPolicyDocument", []string{"CreatePolicy/MalformedPolicyDocument"}},
		{"a document over 6144 characters is refused", create(e.owner, "long", long, ""),
			"InvalidParameter.PolicyDocument.Length", []string{"CreatePolicy/InvalidParameter.PolicyDocument.Length"}},
		{"a description over 1024 characters is refused", create(e.owner, "wordy", readUsers, strings.Repeat("d", 1025)),
			"InvalidParameter.Description.Length", []string{"CreatePolicy/InvalidParameter.Description.Length"}},
		{"a read-only user may not create policies", create(reader, "mine", readUsers, ""), "NoPermission", []string{"CreatePolicy/NoPermission"}},
	})
	p, v, err := e.svc.GetPolicy(e.ctx, reader, PolicyTypeCustom, "Ops-Read")
	if err != nil || p.PolicyName != "ops-read" || p.DefaultVersion != "v1" || !v.IsDefaultVersion || v.PolicyDocument != readUsers {
		t.Errorf("GetPolicy(Ops-Read) = %+v, %+v, %v", p, v, err)
	}
	describe := func(name, description string) func() error {
		return func() error { return ignore(e.svc.UpdatePolicyDescription(e.ctx, e.owner, name, description)) }
	}
	e.expect(t, describe("ops-read", "Operators read users"), "", "UpdatePolicyDescription")
	e.expect(t, describe("ops-read", strings.Repeat("d", 1025)), "InvalidParameter.NewDescription.Length",
		"UpdatePolicyDescription/InvalidParameter.NewDescription.Length")
	e.expect(t, describe("none", ""), "EntityNotExist.Policy", "UpdatePolicyDescription/EntityNotExist.Policy")

	n, err := e.st.CountCustomPolicies(e.ctx)
	if err != nil {
		t.Fatal(err)
	}
	e.fillRows(t, MaxCustomPolicies-n, "policies", []string{"policy_id", "uid", "policy_name", "policy_name_lower", "default_version", "next_version", "created_at", "updated_at"},
		[]string{"100000+i", "? || i", "? || (1000+i)", "? || (1000+i)", "'v1'", "2", "?", "?"}, "uid-", "filler-", "filler-", fillTime, fillTime)
	e.fillRows(t, MaxCustomPolicies-n, "policy_versions", []string{"policy_id", "version_id", "seq", "document", "created_at"},
		[]string{"100000+i", "'v1'", "1", "?", "?"}, readUsers, fillTime)
	e.expect(t, create(e.owner, "one-too-many", readUsers, ""), "LimitExceeded.Policy", "CreatePolicy/LimitExceeded.Policy")
}

// A policy keeps at most 5 versions (a sixth rotates the oldest
// non-default one out only when asked); the default version is the one in
// force, and cannot be deleted.
func testPolicyVersions(t *testing.T, e *testEnv) {
	if _, err := e.svc.CreatePolicy(e.ctx, e.owner, "rotating", readUsers, ""); err != nil {
		t.Fatal(err)
	}
	ops := e.member(t, "ops")
	e.attach(t, kindUser, PolicyTypeCustom, "rotating", "ops")
	readGroups := doc(allow([]string{"*"}, "ram:ListGroups"))
	version := func(document string, setAsDefault bool, rotate string) func() error {
		return func() error {
			return ignore(e.svc.CreatePolicyVersion(e.ctx, e.owner, "rotating", document, setAsDefault, rotate))
		}
	}
	for i := 2; i <= MaxPolicyVersions; i++ {
		e.expect(t, version(readUsers, false, ""), "", "CreatePolicyVersion")
	}
	e.check(t, []rule{
		{"a sixth version is LimitExceeded.Policy.Version", version(readGroups, true, "None"),
			"LimitExceeded.Policy.Version", []string{"CreatePolicyVersion/LimitExceeded.Policy.Version"}},
		{"an unknown rotate strategy is refused", version(readGroups, true, "Sometimes"),
			"InvalidParameter.RotateStrategy", []string{"CreatePolicyVersion/InvalidParameter.RotateStrategy"}},
		{"a malformed document is refused", version(`{"Version":"1"`, true, rotateOldestNonDefault),
			"MalformedPolicyDocument", []string{"CreatePolicyVersion/MalformedPolicyDocument"}},
		{"a version of an unknown policy is EntityNotExist.Policy", func() error {
			return ignore(e.svc.CreatePolicyVersion(e.ctx, e.owner, "none", readUsers, false, ""))
		}, "EntityNotExist.Policy", []string{"CreatePolicyVersion/EntityNotExist.Policy"}},
		{"rotating drops the oldest non-default version", version(readGroups, true, rotateOldestNonDefault), "", []string{"CreatePolicyVersion"}},
		{"the default version cannot be deleted", func() error { return e.svc.DeletePolicyVersion(e.ctx, e.owner, "rotating", "v6") },
			"DeleteConflict.Policy.Version.Default", []string{"DeletePolicyVersion/DeleteConflict.Policy.Version.Default"}},
		{"a version rotated out is gone", func() error { return e.svc.DeletePolicyVersion(e.ctx, e.owner, "rotating", "v2") },
			"EntityNotExist.Policy.Version", []string{"DeletePolicyVersion/EntityNotExist.Policy.Version"}},
		{"a version id is v and a number", func() error { return e.svc.DeletePolicyVersion(e.ctx, e.owner, "rotating", "2") },
			"InvalidParameter.VersionId.Format", []string{"DeletePolicyVersion/InvalidParameter.VersionId.Format"}},
		{"an unknown version cannot be the default", func() error { return e.svc.SetDefaultPolicyVersion(e.ctx, e.owner, "rotating", "v9") },
			"EntityNotExist.Policy.Version", []string{"SetDefaultPolicyVersion/EntityNotExist.Policy.Version"}},
	})
	vs, err := e.svc.ListPolicyVersions(e.ctx, e.owner, PolicyTypeCustom, "rotating")
	var ids []string
	for _, v := range vs {
		ids = append(ids, fmt.Sprintf("%s:%t", v.VersionID, v.IsDefaultVersion))
	}
	if err != nil || strings.Join(ids, " ") != "v6:true v5:false v4:false v3:false v1:false" {
		t.Errorf("ListPolicyVersions after the rotation = %v, %v", ids, err)
	}
	// The default version is what the evaluator enforces, at once.
	inForce := func(want bool) {
		t.Helper()
		if got := e.svc.Allowed(e.ctx, ops, "ram:ListUsers", AllUsersRef()); got != want {
			t.Errorf("ops may list users: %t, want %t", got, want)
		}
	}
	inForce(false)
	e.expect(t, func() error { return e.svc.SetDefaultPolicyVersion(e.ctx, e.owner, "rotating", "v1") }, "", "SetDefaultPolicyVersion")
	inForce(true)
	e.expect(t, func() error { return e.svc.DeletePolicyVersion(e.ctx, e.owner, "rotating", "v6") }, "", "DeletePolicyVersion")
	if v, err := e.svc.GetPolicyVersion(e.ctx, ops, PolicyTypeSystem, "AliyunECSReadOnlyAccess", "v1"); errCode(err) != "NoPermission" {
		t.Errorf("GetPolicyVersion by a user without ram:GetPolicyVersion: %+v, %v", v, err)
	}
}

// DeletePolicy refuses, through the API, while the policy is attached
// (users, then groups, then roles) or has other versions; the console's
// cascade detaches it and removes them, each step authorised.
func testDeletePolicy(t *testing.T, e *testEnv) {
	holder := e.member(t, "holder")
	if _, err := e.svc.CreateGroup(e.ctx, e.owner, "team", ""); err != nil {
		t.Fatal(err)
	}
	e.createRole(t, "runner")
	for _, name := range []string{"shared", "wide"} {
		if _, err := e.svc.CreatePolicy(e.ctx, e.owner, name, readUsers, ""); err != nil {
			t.Fatal(err)
		}
		if _, err := e.svc.CreatePolicyVersion(e.ctx, e.owner, name, readUsers, false, ""); err != nil {
			t.Fatal(err)
		}
		e.attach(t, kindUser, PolicyTypeCustom, name, "holder")
		e.attach(t, kindGroup, PolicyTypeCustom, name, "team")
		e.attach(t, kindRole, PolicyTypeCustom, name, "runner")
	}
	del := func(a Actor, name string, cascade bool) func() error {
		return func() error { return e.svc.DeletePolicy(e.ctx, a, name, cascade) }
	}
	for _, tc := range []struct {
		conflict string
		clear    func() error
	}{
		{"DeleteConflict.Policy.User", func() error { return e.svc.DetachPolicyFromUser(e.ctx, e.owner, PolicyTypeCustom, "shared", "holder") }},
		{"DeleteConflict.Policy.Group", func() error { return e.svc.DetachPolicyFromGroup(e.ctx, e.owner, PolicyTypeCustom, "shared", "team") }},
		{"DeleteConflict.Policy.Role", func() error { return e.svc.DetachPolicyFromRole(e.ctx, e.owner, PolicyTypeCustom, "shared", "runner") }},
		{"DeleteConflict.Policy.Version", func() error { return e.svc.DeletePolicyVersion(e.ctx, e.owner, "shared", "v2") }},
	} {
		t.Run(tc.conflict, func(t *testing.T) {
			e.expect(t, del(e.owner, "shared", false), tc.conflict, "DeletePolicy/"+tc.conflict)
			if err := tc.clear(); err != nil {
				t.Fatal(err)
			}
		})
	}
	e.expect(t, del(e.owner, "SHARED", false), "", "DeletePolicy")

	cleanup := e.granted(t, "cleanup", doc(allow([]string{"*"}, "ram:DeletePolicy", "ram:DeletePolicyVersion",
		"ram:DetachPolicyFromUser", "ram:DetachPolicyFromGroup")))
	e.expect(t, del(cleanup, "wide", true), "NoPermission", "DetachPolicyFromRole/NoPermission")
	evs := e.expect(t, del(e.owner, "wide", true), "", "DeletePolicy")
	if got := fmt.Sprint(only(t, evs).AdditionalEventData); got != "map[detached:3 removedVersions:1]" {
		t.Errorf("the cascade's event says %s", got)
	}
	if e.svc.Allowed(e.ctx, holder, "ram:ListUsers", AllUsersRef()) {
		t.Error("holder may still list users with the policy that allowed it deleted")
	}
	e.expect(t, del(e.owner, "wide", true), "EntityNotExist.Policy", "DeletePolicy/EntityNotExist.Policy")
}

// attachKind is what a table of attachment rules needs of a principal kind.
type attachKind struct {
	kind           principalKind
	attach, detach func(context.Context, Actor, string, string, string) error
	create         func(t *testing.T, name string)
	// replace, run between an attachment's lookup and its write, renames
	// the principal (a role, which cannot be renamed, is deleted and
	// created again); code is how the attachment is then refused.
	replace  func(t *testing.T, name string)
	replaced []string // the events of replace
	code     string
}

func (e *testEnv) attachKinds() []attachKind {
	createRole := func(t *testing.T, name string) { e.createRole(t, name) }
	return []attachKind{
		{kindUser, e.svc.AttachPolicyToUser, e.svc.DetachPolicyFromUser,
			func(t *testing.T, name string) { e.newUser(t, name) },
			func(t *testing.T, name string) {
				if _, err := e.svc.UpdateUser(e.ctx, e.owner, name, UserUpdate{NewUserName: ptr(name + "-2")}); err != nil {
					t.Fatal(err)
				}
			}, []string{"UpdateUser"}, "Conflict.User.Renamed"},
		{kindGroup, e.svc.AttachPolicyToGroup, e.svc.DetachPolicyFromGroup,
			func(t *testing.T, name string) {
				if _, err := e.svc.CreateGroup(e.ctx, e.owner, name, ""); err != nil {
					t.Fatal(err)
				}
			},
			func(t *testing.T, name string) {
				if _, err := e.svc.UpdateGroup(e.ctx, e.owner, name, ptr(name+"-2"), nil); err != nil {
					t.Fatal(err)
				}
			}, []string{"UpdateGroup"}, "Conflict.Group.Renamed"},
		{kindRole, e.svc.AttachPolicyToRole, e.svc.DetachPolicyFromRole, createRole,
			func(t *testing.T, name string) {
				if err := e.svc.DeleteRole(e.ctx, e.owner, name, true); err != nil {
					t.Fatal(err)
				}
				createRole(t, name)
			}, []string{"DeleteRole", "CreateRole"}, "EntityNotExist.Role"},
	}
}

// The attachment rules for users, groups and roles, on one account (each
// part names its own principals and policies).
func TestAttachPolicy(t *testing.T) {
	onOneAccount(t,
		part{"attach and detach", testAttachPolicy},
		part{"limits", testAttachPolicyLimits},
		part{"principal changed meanwhile", testAttachPolicyPrincipalChangedMeanwhile},
	)
}

// Attaching and detaching is one code path for users, groups and roles:
// the same codes, limits and events, and no escalation — the action must
// be allowed on both the principal's and the policy's ARN.
func testAttachPolicy(t *testing.T, e *testEnv) {
	for _, k := range e.attachKinds() {
		K := k.kind.entity()
		t.Run(k.kind.String(), func(t *testing.T) {
			target, custom := "target-"+k.kind.String(), "custom-"+k.kind.String()
			k.create(t, target)
			if _, err := e.svc.CreatePolicy(e.ctx, e.owner, custom, readUsers, ""); err != nil {
				t.Fatal(err)
			}
			action := "ram:AttachPolicyTo" + K
			principalARN, policyARN := e.arn(k.kind.String(), target), systemPolicyARN("AliyunECSReadOnlyAccess")
			onPrincipal := e.granted(t, "principal-only-"+k.kind.String(), doc(allow([]string{principalARN}, action)))
			onPolicy := e.granted(t, "policy-only-"+k.kind.String(), doc(allow([]string{policyARN}, action)))
			onBoth := e.granted(t, "both-"+k.kind.String(), doc(allow([]string{principalARN, policyARN}, action)))
			attach := func(a Actor, policyType, policyName, principal string) func() error {
				return func() error { return k.attach(e.ctx, a, policyType, policyName, principal) }
			}
			detach := func(policyType, policyName string) func() error {
				return func() error { return k.detach(e.ctx, e.owner, policyType, policyName, target) }
			}
			attached, detached := "AttachPolicyTo"+K, "DetachPolicyFrom"+K
			e.check(t, []rule{
				{"allowed on the principal alone is not enough", attach(onPrincipal, PolicyTypeSystem, "AliyunECSReadOnlyAccess", target),
					"NoPermission", []string{attached + "/NoPermission"}},
				{"allowed on the policy alone is not enough", attach(onPolicy, PolicyTypeSystem, "AliyunECSReadOnlyAccess", target),
					"NoPermission", []string{attached + "/NoPermission"}},
				{"allowed on both, the attachment is made", attach(onBoth, PolicyTypeSystem, "AliyunECSReadOnlyAccess", target), "", []string{attached}},
				{"attaching again is EntityAlreadyExists." + K + ".Policy", attach(e.owner, PolicyTypeSystem, "AliyunECSReadOnlyAccess", strings.ToUpper(target)),
					"EntityAlreadyExists." + K + ".Policy", []string{attached + "/EntityAlreadyExists." + K + ".Policy"}},
				{"a custom policy is attached by its name in any case", attach(e.owner, PolicyTypeCustom, strings.ToUpper(custom), target), "", []string{attached}},
				{"an unknown principal is EntityNotExist." + K, attach(e.owner, PolicyTypeSystem, "AliyunECSReadOnlyAccess", "ghost"),
					"EntityNotExist." + K, []string{attached + "/EntityNotExist." + K}},
				{"an unknown system policy is EntityNotExist.Policy", attach(e.owner, PolicyTypeSystem, "AliyunNothingAccess", target),
					"EntityNotExist.Policy", []string{attached + "/EntityNotExist.Policy"}},
				{"a system policy named as custom is EntityNotExist.Policy", attach(e.owner, PolicyTypeCustom, "AliyunECSReadOnlyAccess", target),
					"EntityNotExist.Policy", []string{attached + "/EntityNotExist.Policy"}},
				{"the owner detaches", detach(PolicyTypeSystem, "AliyunECSReadOnlyAccess"), "", []string{detached}},
				{"detaching again is EntityNotExist." + K + ".Policy", detach(PolicyTypeSystem, "AliyunECSReadOnlyAccess"),
					"EntityNotExist." + K + ".Policy", []string{detached + "/EntityNotExist." + K + ".Policy"}},
			})
			err := k.attach(e.ctx, onPrincipal, PolicyTypeSystem, "AliyunECSReadOnlyAccess", target)
			if d, ok := DenialOf(err); !ok ||
				!slices.Equal(d.Resources, []string{principalARN, policyARN}) || d.Action != action {
				t.Errorf("the denial: %+v, %v; want %s on both %s and %s", d, err, action, principalARN, policyARN)
			}
			listed, err := e.svc.listAttached(e.ctx, e.owner, k.kind, target)
			if err != nil || len(listed) != 1 || listed[0].PolicyName != custom || listed[0].PolicyType != PolicyTypeCustom {
				t.Errorf("the policies attached to %s: %+v, %v; want %s only", target, listed, err, custom)
			}
		})
	}
	users, groups, roles, err := e.svc.ListEntitiesForPolicy(e.ctx, e.owner, PolicyTypeCustom, "custom-role")
	if err != nil || len(users) != 0 || len(groups) != 0 || len(roles) != 1 || roles[0].RoleName != "target-role" {
		t.Errorf("ListEntitiesForPolicy(custom-role) = %v %v %v, %v", users, groups, roles, err)
	}
}

// A principal has at most 20 system and 10 custom policies.
func testAttachPolicyLimits(t *testing.T, e *testEnv) {
	acct := e.svc.AccountID(e.ctx)
	system := slices.DeleteFunc(policy.SystemPolicies(), func(sp policy.SystemPolicy) bool { return sp.Name == unusedSystemPolicy })
	for _, k := range e.attachKinds() {
		K := k.kind.entity()
		t.Run(k.kind.String(), func(t *testing.T) {
			name := "full-" + k.kind.String()
			k.create(t, name)
			extra := "extra-" + k.kind.String()
			if _, err := e.svc.CreatePolicy(e.ctx, e.owner, extra, readUsers, ""); err != nil {
				t.Fatal(err)
			}
			p, err := e.svc.lookupPrincipal(e.ctx, e.st, acct, k.kind, name)
			if err != nil {
				t.Fatal(err)
			}
			err = e.st.Update(e.ctx, func(tx *store.Tx) error {
				for _, sp := range system[:MaxSystemPerPrincipal] {
					if err := tx.Attach(e.ctx, p.attachment(PolicyTypeSystem, sp.Name)); err != nil {
						return err
					}
				}
				for i := range MaxCustomPerPrincipal {
					cp := &store.CustomPolicy{PolicyName: fmt.Sprintf("fill-%s-%d", k.kind, i)}
					if err := tx.CreateCustomPolicy(e.ctx, cp, readUsers); err != nil {
						return err
					}
					if err := tx.Attach(e.ctx, p.attachment(PolicyTypeCustom, cp.PolicyName)); err != nil {
						return err
					}
				}
				return nil
			})
			if err != nil {
				t.Fatal(err)
			}
			attach := func(policyType, policyName string) func() error {
				return func() error { return k.attach(e.ctx, e.owner, policyType, policyName, name) }
			}
			code := "LimitExceeded." + K + ".Policy"
			e.expect(t, attach(PolicyTypeSystem, system[MaxSystemPerPrincipal].Name), code, "AttachPolicyTo"+K+"/"+code)
			e.expect(t, attach(PolicyTypeCustom, extra), code, "AttachPolicyTo"+K+"/"+code)
			// With one custom policy detached, another fits.
			if err := k.detach(e.ctx, e.owner, PolicyTypeCustom, "fill-"+k.kind.String()+"-0", name); err != nil {
				t.Fatal(err)
			}
			e.expect(t, attach(PolicyTypeCustom, extra), "", "AttachPolicyTo"+K)
		})
	}
}

// What an attachment acts on is what was authorised: a principal renamed
// (or a role replaced) between the lookup and the write is refused, and
// nothing is attached.
func testAttachPolicyPrincipalChangedMeanwhile(t *testing.T, e *testEnv) {
	for _, k := range e.attachKinds() {
		t.Run(k.kind.String(), func(t *testing.T) {
			name := "moving-" + k.kind.String()
			k.create(t, name)
			e.refusedMeanwhile(t, func() { k.replace(t, name) }, k.replaced, func() error {
				return k.attach(e.ctx, e.owner, PolicyTypeSystem, unusedSystemPolicy, name)
			}, k.code, "AttachPolicyTo"+k.kind.entity())
			if atts, err := e.st.PolicyAttachments(e.ctx, PolicyTypeSystem, unusedSystemPolicy); err != nil || len(atts) != 0 {
				t.Errorf("attachments: %+v, %v; want none", atts, err)
			}
		})
	}
}

// refusedMeanwhile runs op with change made between its lookup and its
// write: op must fail with code, recorded as eventName after change's
// events.
func (e *testEnv) refusedMeanwhile(t *testing.T, change func(), changeEvents []string, op func() error, code, eventName string) {
	t.Helper()
	seq := e.lastSeq(t)
	e.meanwhile(t, change)
	if err := op(); errCode(err) != code {
		t.Errorf("with a change meanwhile: %v, want %s", err, code)
	}
	want := append(slices.Clone(changeEvents), eventName+"/"+code)
	if evs := eventNames(e.eventsSince(t, seq)); !slices.Equal(evs, want) {
		t.Errorf("events %q, want %q", evs, want)
	}
}

// An attachment refused for its input is recorded like every other
// refusal (SPEC §7: validation failures too, from the console as from the
// API), for users, groups and roles alike.
func TestAttachPolicyRefusalsRecorded(t *testing.T) {
	t.Parallel()
	e := newTestEnv(t)
	for _, k := range e.attachKinds() {
		K := k.kind.entity()
		t.Run(k.kind.String(), func(t *testing.T) {
			target := "target-" + k.kind.String()
			k.create(t, target)
			for _, tc := range []struct {
				name, policyType, principal, code string
			}{
				{"an unknown policy type", "Managed", target, "InvalidParameter.PolicyType"},
				{"a bad principal name", PolicyTypeSystem, "bad/name", "InvalidParameter." + K + "Name.InvalidChars"},
			} {
				t.Run(tc.name, func(t *testing.T) {
					for _, op := range []struct {
						verb string
						f    func(context.Context, Actor, string, string, string) error
					}{{"AttachPolicyTo", k.attach}, {"DetachPolicyFrom", k.detach}} {
						e.expect(t, func() error { return op.f(e.ctx, e.owner, tc.policyType, "AliyunECSReadOnlyAccess", tc.principal) },
							tc.code, op.verb+K+"/"+tc.code)
					}
				})
			}
		})
	}
}

// A custom policy deleted and created again under another spelling between
// an operation's lookup and its write is not the policy that was
// authorised (resources match case-sensitively): the operation is refused
// and the new policy is left alone.
func TestPolicyReplacedMeanwhile(t *testing.T) {
	t.Parallel()
	e := newTestEnv(t)
	replace := func(t *testing.T, name string) func() {
		return func() {
			if err := e.svc.DeletePolicy(e.ctx, e.owner, name, true); err != nil {
				t.Fatal(err)
			}
			if _, err := e.svc.CreatePolicy(e.ctx, e.owner, strings.ToUpper(name), doc(allow([]string{"*"}, "*")), ""); err != nil {
				t.Fatal(err)
			}
		}
	}
	replaced := []string{"DeletePolicy", "CreatePolicy"}
	for _, k := range e.attachKinds() {
		t.Run("attach to a "+k.kind.String(), func(t *testing.T) {
			target, swap := "target-"+k.kind.String(), "swap-"+k.kind.String()
			k.create(t, target)
			if _, err := e.svc.CreatePolicy(e.ctx, e.owner, swap, readUsers, ""); err != nil {
				t.Fatal(err)
			}
			e.refusedMeanwhile(t, replace(t, swap), replaced, func() error {
				return k.attach(e.ctx, e.owner, PolicyTypeCustom, swap, target)
			}, "EntityNotExist.Policy", "AttachPolicyTo"+k.kind.entity())
			if atts, err := e.st.PolicyAttachments(e.ctx, PolicyTypeCustom, swap); err != nil || len(atts) != 0 {
				t.Errorf("attachments of %s: %+v, %v; want none", strings.ToUpper(swap), atts, err)
			}
		})
	}
	t.Run("delete", func(t *testing.T) {
		if _, err := e.svc.CreatePolicy(e.ctx, e.owner, "old-rules", readUsers, ""); err != nil {
			t.Fatal(err)
		}
		cleaner := e.granted(t, "cleaner", doc(allow([]string{e.arn("policy", "old-rules")}, "ram:DeletePolicy")))
		e.refusedMeanwhile(t, replace(t, "old-rules"), replaced, func() error {
			return e.svc.DeletePolicy(e.ctx, cleaner, "old-rules", false)
		}, "EntityNotExist.Policy", "DeletePolicy")
		if p, _, err := e.svc.GetPolicy(e.ctx, e.owner, PolicyTypeCustom, "OLD-RULES"); err != nil {
			t.Errorf("the new OLD-RULES, which cleaner may not delete: %+v, %v", p, err)
		}
	})
}
