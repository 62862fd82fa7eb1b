package web

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	openapi "github.com/alibabacloud-go/darabonba-openapi/v2/client"
	"github.com/alibabacloud-go/tea/dara"
	"github.com/aliyun/alibaba-cloud-sdk-go/sdk/auth/credentials"
	ramsdk "github.com/aliyun/alibaba-cloud-sdk-go/services/ram"
	stssdk "github.com/aliyun/alibaba-cloud-sdk-go/services/sts"

	"ramconsole/ram"
	"ramconsole/ram/oidcfed/oidctest"
	"ramconsole/ram/samlsp/samltest"
	"ramconsole/store"
)

// Role-based SSO through STS (SPEC §18.7–§18.10): a SAML IdP and an OIDC
// issuer registered as providers, the role "sso-admin" trusting both, and
// the official SDK calling AssumeRoleWithSAML and AssumeRoleWithOIDC
// anonymously (signed with a key ramconsole does not know: it is ignored).

const (
	fedSubject  = "repo:org/repo:ref:refs/heads/main"
	fedAudience = "sts.aliyuncs.com"
)

type fedEnv struct {
	*stsEnv
	idp              *samltest.IdP
	iss              *oidctest.Issuer
	samlARN, oidcARN string
	roleARN          string
}

func newFedEnv(t *testing.T) *fedEnv {
	t.Helper()
	e := &fedEnv{stsEnv: newSTSEnv(t)}
	ctx := context.Background()
	e.idp = samltest.New(t, "https://idp.example.com")
	e.idp.SetClock(e.clock.Now)
	_, err := e.svc.CreateSAMLProvider(ctx, ownerActor(nil), ram.SAMLProviderInput{Name: "corp-idp", MetadataXML: string(e.idp.Metadata())})
	must(t, err, "create SAML provider")
	e.iss = oidctest.NewIssuer(t)
	e.iss.SetClock(e.clock.Now)
	_, err = e.svc.CreateOIDCProvider(ctx, ownerActor(nil), ram.OIDCProviderInput{Name: "ci", IssuerURL: e.iss.URL(),
		ClientIDs: []string{fedAudience}, Fingerprints: []string{e.iss.Fingerprint()}})
	must(t, err, "create OIDC provider")
	e.samlARN, e.oidcARN = ram.SAMLProviderARN(e.acct, "corp-idp"), ram.OIDCProviderARN(e.acct, "ci")
	e.createRole(t, "sso-admin", e.trust(fedSubject), "AliyunRAMReadOnlyAccess")
	e.roleARN = ram.RoleARN(e.acct, "sso-admin")
	return e
}

// trust is the trust policy of a role that both providers may assume, the
// OIDC one for tokens whose sub is like subLike.
func (e *fedEnv) trust(subLike string) string {
	return fmt.Sprintf(`{"Version":"1","Statement":[`+
		`{"Effect":"Allow","Action":"sts:AssumeRole","Principal":{"Federated":["%s"]},"Condition":{"StringEquals":{"saml:recipient":"%s"}}},`+
		`{"Effect":"Allow","Action":"sts:AssumeRole","Principal":{"Federated":["%s"]},`+
		`"Condition":{"StringEquals":{"oidc:iss":"%s","oidc:aud":"%s"},"StringLike":{"oidc:sub":"%s"}}}]}`,
		e.samlARN, e.svc.RoleSSOACSURL(), e.oidcARN, e.iss.URL(), fedAudience, subLike)
}

// anonymousSTS is the SDK's STS client with a key ramconsole has never
// issued: the federated actions must not look at it.
func (e *fedEnv) anonymousSTS(t testing.TB) *stssdk.Client {
	return e.stsClient(t, "LTAI5tBogusKeyNobodyIssued", "bogus-secret-bogus-secret")
}

func (e *fedEnv) samlOptions() samltest.Options {
	return samltest.Options{Audience: e.svc.RoleSSOEntityID(), Recipient: e.svc.RoleSSOACSURL(), NameID: "alice@corp.example",
		Attributes: map[string][]string{
			ram.SAMLRoleAttribute:            {e.roleARN + "," + e.samlARN},
			ram.SAMLRoleSessionNameAttribute: {"alice"},
		}}
}

func (e *fedEnv) assumeSAML(t testing.TB, assertion string, tweak func(*stssdk.AssumeRoleWithSAMLRequest)) (*stssdk.AssumeRoleWithSAMLResponse, error) {
	t.Helper()
	req := stssdk.CreateAssumeRoleWithSAMLRequest()
	e.at(req)
	req.SAMLProviderArn, req.RoleArn, req.SAMLAssertion = e.samlARN, e.roleARN, assertion
	if tweak != nil {
		tweak(req)
	}
	return e.anonymousSTS(t).AssumeRoleWithSAML(req)
}

func (e *fedEnv) token(sub string) string {
	return e.iss.Token(oidctest.Claims{Subject: sub, Audience: []string{fedAudience}, JTI: "jti-" + ram.NewRequestID()})
}

func (e *fedEnv) assumeOIDC(t testing.TB, token string, tweak func(*stssdk.AssumeRoleWithOIDCRequest)) (*stssdk.AssumeRoleWithOIDCResponse, error) {
	t.Helper()
	req := stssdk.CreateAssumeRoleWithOIDCRequest()
	e.at(req)
	req.OIDCProviderArn, req.RoleArn, req.OIDCToken, req.RoleSessionName = e.oidcARN, e.roleARN, token, "ci-job"
	if tweak != nil {
		tweak(req)
	}
	return e.anonymousSTS(t).AssumeRoleWithOIDC(req)
}

// expectRefused checks a refused call's status and code.
func expectRefused(t testing.TB, err error, status int, code, what string) {
	t.Helper()
	if err == nil {
		t.Errorf("%s: accepted, want %d %s", what, status, code)
		return
	}
	se := serverError(t, err, what)
	if se.HttpStatus() != status || se.ErrorCode() != code {
		t.Errorf("%s: %d %s (%s), want %d %s", what, se.HttpStatus(), se.ErrorCode(), se.Message(), status, code)
	}
}

// useSession checks that role credentials work with V1 (RAM, STS) and V3,
// as the role's read-only policy allows, and not beyond it.
func (e *fedEnv) useSession(t *testing.T, cr stssdk.Credentials, session string) {
	t.Helper()
	if !strings.HasPrefix(cr.AccessKeyId, "STS.") || cr.AccessKeySecret == "" || cr.SecurityToken == "" {
		t.Fatalf("credentials %+v", cr)
	}
	if _, err := time.Parse("2006-01-02T15:04:05Z", cr.Expiration); err != nil {
		t.Errorf("Expiration %q: %v", cr.Expiration, err)
	}
	rc := e.ramAs(t, cr)
	must(t, e.getUser(rc, "dev"), "GetUser with the federated session (V1)")
	if err := e.createUser(rc, "intruder"); err == nil {
		t.Error("a read-only role session created a user")
	}
	sc, err := stssdk.NewClientWithStsToken("cn-hangzhou", cr.AccessKeyId, cr.AccessKeySecret, cr.SecurityToken)
	must(t, err, "sts client")
	gci := stssdk.CreateGetCallerIdentityRequest()
	e.at(gci)
	me, err := sc.GetCallerIdentity(gci)
	must(t, err, "GetCallerIdentity")
	if me.IdentityType != "AssumedRoleUser" || me.Arn != "acs:ram::"+e.acct+":assumed-role/sso-admin/"+session {
		t.Errorf("identity %+v", me)
	}
	u, _ := url.Parse(e.srv.URL)
	oc, err := openapi.NewClient(&openapi.Config{AccessKeyId: dara.String(cr.AccessKeyId), AccessKeySecret: dara.String(cr.AccessKeySecret),
		SecurityToken: dara.String(cr.SecurityToken), Endpoint: dara.String(u.Host), Protocol: dara.String("HTTP")})
	must(t, err, "V3 client")
	v3 := &v3Client{t: t, c: oc}
	if body := v3.must("ListUsers", nil); body["Users"] == nil {
		t.Errorf("ListUsers (V3) answered %v", body)
	}
}

func TestSTSAssumeRoleWithSAML(t *testing.T) {
	e := newFedEnv(t)
	assertion := e.idp.Response(e.samlOptions())
	resp, err := e.assumeSAML(t, assertion, nil)
	must(t, err, "AssumeRoleWithSAML")
	if resp.AssumedRoleUser.Arn != "acs:ram::"+e.acct+":assumed-role/sso-admin/alice" || !strings.HasSuffix(resp.AssumedRoleUser.AssumedRoleId, ":alice") {
		t.Errorf("AssumedRoleUser %+v", resp.AssumedRoleUser)
	}
	info := resp.SAMLAssertionInfo
	if info.Subject != "alice@corp.example" || info.SubjectType != "emailAddress" || info.Issuer != e.idp.EntityID() || info.Recipient != e.svc.RoleSSOACSURL() {
		t.Errorf("SAMLAssertionInfo %+v", info)
	}
	if exp, _ := time.Parse("2006-01-02T15:04:05Z", resp.Credentials.Expiration); exp.Sub(e.clock.Now()) != time.Hour {
		t.Errorf("Expiration %q, want an hour from now", resp.Credentials.Expiration)
	}
	e.useSession(t, resp.Credentials, "alice")

	// The same assertion is accepted once.
	_, err = e.assumeSAML(t, assertion, nil)
	expectRefused(t, err, 401, "AuthenticationFail.SAMLAssertion.Invalid", "replayed assertion")

	// SessionDuration caps the duration; DurationSeconds is checked as §12.
	o := e.samlOptions()
	o.Attributes[ram.SAMLSessionDurationAttribute] = []string{"1200"}
	resp, err = e.assumeSAML(t, e.idp.Response(o), nil)
	must(t, err, "AssumeRoleWithSAML with SessionDuration")
	if exp, _ := time.Parse("2006-01-02T15:04:05Z", resp.Credentials.Expiration); exp.Sub(e.clock.Now()) != 20*time.Minute {
		t.Errorf("Expiration %q, want SessionDuration's 20 minutes", resp.Credentials.Expiration)
	}
	_, err = e.assumeSAML(t, e.idp.Response(e.samlOptions()), func(r *stssdk.AssumeRoleWithSAMLRequest) { r.DurationSeconds = "99999" })
	expectRefused(t, err, 400, "InvalidParameter.DurationSeconds", "DurationSeconds over the role's maximum")
	// A SessionDuration under the shortest session is refused, not raised.
	o = e.samlOptions()
	o.Attributes[ram.SAMLSessionDurationAttribute] = []string{"300"}
	_, err = e.assumeSAML(t, e.idp.Response(o), nil)
	expectRefused(t, err, 400, "InvalidParameter.DurationSeconds", "SessionDuration under 900")
	// The AuthnStatement's SessionNotOnOrAfter bounds the session, and one
	// that has passed is refused.
	o = e.samlOptions()
	o.SessionNotOnOrAfter = e.clock.Now().Add(25 * time.Minute)
	resp, err = e.assumeSAML(t, e.idp.Response(o), nil)
	must(t, err, "AssumeRoleWithSAML with SessionNotOnOrAfter")
	if exp, _ := time.Parse("2006-01-02T15:04:05Z", resp.Credentials.Expiration); !exp.Equal(o.SessionNotOnOrAfter.UTC().Truncate(time.Second)) {
		t.Errorf("Expiration %q, want SessionNotOnOrAfter %v", resp.Credentials.Expiration, o.SessionNotOnOrAfter)
	}
	o = e.samlOptions()
	o.SessionNotOnOrAfter = e.clock.Now().Add(-time.Second)
	_, err = e.assumeSAML(t, e.idp.Response(o), nil)
	expectRefused(t, err, 401, "AuthenticationFail.SAMLAssertion.Expired", "SessionNotOnOrAfter passed")

	// The role attribute pair may come in either order; an MFA class makes
	// the session's acs:MFAPresent true.
	o = e.samlOptions()
	o.Attributes[ram.SAMLRoleAttribute] = []string{"acs:ram::" + e.acct + ":role/other,x", e.samlARN + "," + e.roleARN}
	o.AuthnContextClassRef = "https://refeds.org/profile/mfa"
	resp, err = e.assumeSAML(t, e.idp.Response(o), nil)
	must(t, err, "AssumeRoleWithSAML, pair reversed")
	sessions, err := e.svc.RoleSessions(context.Background(), ownerActor(nil), "sso-admin")
	must(t, err, "RoleSessions")
	mfa := false
	for _, s := range sessions {
		if s.AccessKeyID == resp.Credentials.AccessKeyId {
			mfa = s.MFAPresent
			if s.SourcePrincipal != "saml-provider/"+mustSAMLProviderID(t, e) || s.SourceName != "alice@corp.example" {
				t.Errorf("session source %q %q", s.SourcePrincipal, s.SourceName)
			}
		}
	}
	if !mfa {
		t.Error("an assertion with an MFA AuthnContext gave a session without acs:MFAPresent")
	}

	// Deleting the provider ends its sessions.
	cr := resp.Credentials
	must(t, e.svc.DeleteSAMLProvider(context.Background(), ownerActor(nil), "corp-idp"), "DeleteSAMLProvider")
	expectRefused(t, e.getUser(e.ramAs(t, cr), "dev"), 400, "InvalidSecurityToken.Expired", "a session of a deleted provider")
	_, err = e.assumeSAML(t, e.idp.Response(e.samlOptions()), nil)
	expectRefused(t, err, 404, "EntityNotExist.SAMLProvider", "a deleted provider")
}

func mustSAMLProviderID(t *testing.T, e *fedEnv) string {
	t.Helper()
	p, err := e.st.SAMLProviderByName(context.Background(), "corp-idp")
	must(t, err, "SAML provider")
	return p.ProviderID
}

var (
	reAssertion = regexp.MustCompile(`(?s)<(\w+:)?Assertion[ >].*</(\w+:)?Assertion>`)
	reSignature = regexp.MustCompile(`(?s)<(\w+:)?Signature[ >].*?</(\w+:)?Signature>`)
	reNameID    = regexp.MustCompile(`alice@corp\.example`)
)

// rewrite changes a signed response's XML and encodes it again; f must
// change something.
func rewrite(t *testing.T, xml []byte, f func(string) string) string {
	t.Helper()
	out := f(string(xml))
	if out == string(xml) || reAssertion.FindString(string(xml)) == "" {
		t.Fatalf("rewriting changed nothing in %.300s", xml)
	}
	return base64.StdEncoding.EncodeToString([]byte(out))
}

// TestSTSAssumeRoleWithSAMLRefusals covers the AssumeRoleWithSAML column of
// SPEC §18.8.
func TestSTSAssumeRoleWithSAMLRefusals(t *testing.T) {
	e := newFedEnv(t)
	other := samltest.New(t, "https://idp.example.com")
	other.SetClock(e.clock.Now)
	const invalid, expired = "AuthenticationFail.SAMLAssertion.Invalid", "AuthenticationFail.SAMLAssertion.Expired"
	with := func(f func(*samltest.Options)) samltest.Options {
		o := e.samlOptions()
		f(&o)
		return o
	}
	signed := func() []byte { return e.idp.ResponseXML(e.samlOptions()) }
	cases := []struct {
		name      string
		assertion func(t *testing.T) string
		status    int
		code      string
	}{
		{"no signature", func(t *testing.T) string {
			return rewrite(t, signed(), func(s string) string { return reSignature.ReplaceAllString(s, "") })
		}, 401, invalid},
		{"content changed after signing", func(t *testing.T) string {
			return rewrite(t, signed(), func(s string) string { return reNameID.ReplaceAllString(s, "mallory@corp.example") })
		}, 401, invalid},
		{"another key", func(t *testing.T) string { return other.Response(e.samlOptions()) }, 401, invalid},
		{"RSA-SHA1", func(t *testing.T) string { return e.idp.Response(with(func(o *samltest.Options) { o.SHA1 = true })) }, 401, invalid},
		{"unsigned assertion before the signed one", func(t *testing.T) string {
			return rewrite(t, signed(), func(s string) string {
				a := reAssertion.FindString(s)
				evil := reNameID.ReplaceAllString(reSignature.ReplaceAllString(a, ""), "mallory@corp.example")
				return strings.Replace(s, a, evil+a, 1)
			})
		}, 401, invalid},
		{"unsigned assertion after the signed one", func(t *testing.T) string {
			return rewrite(t, signed(), func(s string) string {
				a := reAssertion.FindString(s)
				evil := reNameID.ReplaceAllString(reSignature.ReplaceAllString(a, ""), "mallory@corp.example")
				return strings.Replace(s, a, a+evil, 1)
			})
		}, 401, invalid},
		{"signed assertion moved into Extensions", func(t *testing.T) string {
			return rewrite(t, signed(), func(s string) string {
				a := reAssertion.FindString(s)
				evil := reNameID.ReplaceAllString(reSignature.ReplaceAllString(a, ""), "mallory@corp.example")
				return strings.Replace(s, a, `<samlp:Extensions xmlns:samlp="urn:oasis:names:tc:SAML:2.0:protocol">`+a+`</samlp:Extensions>`+evil, 1)
			})
		}, 401, invalid},
		{"expired", func(t *testing.T) string {
			a := e.idp.Response(e.samlOptions())
			e.clock.Advance(10 * time.Minute)
			return a
		}, 401, expired},
		{"not yet valid", func(t *testing.T) string {
			e.idp.SetClock(func() time.Time { return e.clock.Now().Add(10 * time.Minute) })
			defer e.idp.SetClock(e.clock.Now)
			return e.idp.Response(e.samlOptions())
		}, 401, expired},
		{"wrong audience", func(t *testing.T) string {
			return e.idp.Response(with(func(o *samltest.Options) { o.Audience = "https://other.example.com/saml-role/metadata.xml" }))
		}, 401, invalid},
		{"the user ACS as recipient", func(t *testing.T) string {
			return e.idp.Response(with(func(o *samltest.Options) { o.Recipient = e.svc.Issuer() + "/saml/acs" }))
		}, 401, invalid},
		{"other issuer", func(t *testing.T) string {
			return e.idp.Response(with(func(o *samltest.Options) { o.Issuer = "https://evil.example.com/metadata" }))
		}, 401, invalid},
		{"status not Success", func(t *testing.T) string {
			return rewrite(t, signed(), func(s string) string {
				return strings.Replace(s, "urn:oasis:names:tc:SAML:2.0:status:Success", "urn:oasis:names:tc:SAML:2.0:status:Requester", 1)
			})
		}, 401, invalid},
		{"EncryptedAssertion", func(t *testing.T) string {
			return rewrite(t, signed(), func(s string) string {
				a := reAssertion.FindString(s)
				return strings.Replace(s, a, a+`<saml:EncryptedAssertion xmlns:saml="urn:oasis:names:tc:SAML:2.0:assertion"/>`, 1)
			})
		}, 401, invalid},
		{"not Base64", func(t *testing.T) string { return "not base64 !!!" }, 401, invalid},
		{"not XML", func(t *testing.T) string { return base64.StdEncoding.EncodeToString([]byte("hello, world")) }, 401, invalid},
		{"DTD with entities", func(t *testing.T) string {
			return rewrite(t, signed(), func(s string) string {
				return `<!DOCTYPE r [<!ENTITY x "alice">]>` + strings.TrimPrefix(s, `<?xml version="1.0" encoding="UTF-8"?>`)
			})
		}, 401, invalid},
		{"role not in the Role attribute", func(t *testing.T) string {
			return e.idp.Response(with(func(o *samltest.Options) {
				o.Attributes = map[string][]string{ram.SAMLRoleAttribute: {"acs:ram::" + e.acct + ":role/ops," + e.samlARN},
					ram.SAMLRoleSessionNameAttribute: {"alice"}}
			}))
		}, 403, "NoPermission"},
		{"no RoleSessionName attribute", func(t *testing.T) string {
			return e.idp.Response(with(func(o *samltest.Options) {
				o.Attributes = map[string][]string{ram.SAMLRoleAttribute: {e.roleARN + "," + e.samlARN}}
			}))
		}, 400, "InvalidParameter.RoleSessionName"},
		{"RoleSessionName attribute not valid", func(t *testing.T) string {
			return e.idp.Response(with(func(o *samltest.Options) {
				o.Attributes = map[string][]string{ram.SAMLRoleAttribute: {e.roleARN + "," + e.samlARN}, ram.SAMLRoleSessionNameAttribute: {"a b"}}
			}))
		}, 400, "InvalidParameter.RoleSessionName"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := e.assumeSAML(t, c.assertion(t), nil)
			expectRefused(t, err, c.status, c.code, c.name)
		})
	}

	// The trust policy decides on saml:recipient & co.; refusals carry
	// AccessDeniedDetail with PolicyType AssumeRolePolicy.
	e.createRole(t, "sub-bound", fmt.Sprintf(`{"Version":"1","Statement":[{"Effect":"Allow","Action":"sts:AssumeRole",`+
		`"Principal":{"Federated":["%s"]},"Condition":{"StringEquals":{"saml:sub":"bob@corp.example","saml:iss":"%s","saml:aud":"%s"}}}]}`,
		e.samlARN, e.idp.EntityID(), e.svc.RoleSSOEntityID()))
	bound := ram.RoleARN(e.acct, "sub-bound")
	o := e.samlOptions()
	o.Attributes[ram.SAMLRoleAttribute] = []string{bound + "," + e.samlARN}
	_, err := e.assumeSAML(t, e.idp.Response(o), func(r *stssdk.AssumeRoleWithSAMLRequest) { r.RoleArn = bound })
	expectRefused(t, err, 403, "NoPermission", "trust policy naming another saml:sub")
	if d := serverError(t, err, "trust").AccessDeniedDetail(); d == nil || d["PolicyType"] != "AssumeRolePolicy" {
		t.Errorf("AccessDeniedDetail %v, want PolicyType AssumeRolePolicy", d)
	}
	o.NameID = "bob@corp.example"
	_, err = e.assumeSAML(t, e.idp.Response(o), func(r *stssdk.AssumeRoleWithSAMLRequest) { r.RoleArn = bound })
	must(t, err, "trust policy naming the saml:sub, saml:iss and saml:aud")

	// Parameters and providers.
	_, err = e.assumeSAML(t, e.idp.Response(e.samlOptions()), func(r *stssdk.AssumeRoleWithSAMLRequest) {
		r.SAMLProviderArn = ram.SAMLProviderARN(e.acct, "nobody")
	})
	expectRefused(t, err, 404, "EntityNotExist.SAMLProvider", "unknown provider")
	_, err = e.assumeSAML(t, "", nil)
	expectRefused(t, err, 400, "MissingParameter.SAMLAssertion", "no assertion")
	_, err = e.assumeSAML(t, e.idp.Response(e.samlOptions()), func(r *stssdk.AssumeRoleWithSAMLRequest) { r.RoleArn = "role/sso-admin" })
	expectRefused(t, err, 400, "InvalidParameter.RoleArn", "malformed RoleArn")

	// Metadata that no longer parses (stored before a rule changed).
	db := e.openDB()
	if _, err := db.Exec(`UPDATE saml_providers SET metadata = '<EntityDescriptor/>'`); err != nil {
		t.Fatal(err)
	}
	_, err = e.assumeSAML(t, e.idp.Response(e.samlOptions()), nil)
	expectRefused(t, err, 401, "AuthenticationFail.IDPMetadata.Invalid", "unusable metadata")
}

func TestSTSAssumeRoleWithOIDC(t *testing.T) {
	e := newFedEnv(t)
	tok := e.iss.Token(oidctest.Claims{Subject: fedSubject, Audience: []string{"another-app", fedAudience}, JTI: "job-42"})
	resp, err := e.assumeOIDC(t, tok, nil)
	must(t, err, "AssumeRoleWithOIDC")
	if resp.AssumedRoleUser.Arn != "acs:ram::"+e.acct+":assumed-role/sso-admin/ci-job" {
		t.Errorf("AssumedRoleUser %+v", resp.AssumedRoleUser)
	}
	info := resp.OIDCTokenInfo
	now := e.clock.Now().UTC()
	if info.Subject != fedSubject || info.Issuer != e.iss.URL() || info.ClientIds != "another-app,"+fedAudience || info.VerificationInfo != "Success" ||
		info.IssuanceTime != now.Format("2006-01-02T15:04:05Z") || info.ExpirationTime != now.Add(10*time.Minute).Format("2006-01-02T15:04:05Z") {
		t.Errorf("OIDCTokenInfo %+v", info)
	}
	e.useSession(t, resp.Credentials, "ci-job")

	// A token may be presented again until it expires.
	again, err := e.assumeOIDC(t, tok, func(r *stssdk.AssumeRoleWithOIDCRequest) { r.RoleSessionName = "ci-job-2" })
	must(t, err, "the same token again")

	// A Federated principal never matches plain AssumeRole.
	e.grant(t, "dev", "DevMayAssumeSSO", `{"Version":"1","Statement":[{"Effect":"Allow","Action":"sts:AssumeRole","Resource":"`+e.roleARN+`"}]}`)
	_, err = e.assume(t, e.stsClient(t, e.dev.keyID, e.dev.secret), "sso-admin", "dev", nil)
	expectRefused(t, err, 403, "NoPermission", "AssumeRole of a role only identity providers are trusted by")

	// Later calls name the provider and subject as the session's source.
	var found bool
	for _, ev := range e.events() {
		if ev.UserIdentity.Type == "assumed-role" && ev.UserIdentity.AccessKeyID == resp.Credentials.AccessKeyId && ev.EventName == "GetUser" {
			found = ev.UserIdentity.SourceUserName == e.oidcARN+":"+fedSubject
			if !found {
				t.Errorf("session event identity %+v", ev.UserIdentity)
			}
		}
	}
	if !found {
		t.Error("no GetUser event of the OIDC session")
	}

	// Deleting the provider ends the sessions at once.
	must(t, e.svc.DeleteOIDCProvider(context.Background(), ownerActor(nil), "ci"), "DeleteOIDCProvider")
	expectRefused(t, e.getUser(e.ramAs(t, again.Credentials), "dev"), 400, "InvalidSecurityToken.Expired", "a session of a deleted provider")
	_, err = e.assumeOIDC(t, e.token(fedSubject), nil)
	expectRefused(t, err, 401, "AuthenticationFail.NoPermission", "a deleted provider")
}

// TestSTSAssumeRoleWithOIDCRefusals covers every AssumeRoleWithOIDC refusal
// of SPEC §18.8.
func TestSTSAssumeRoleWithOIDCRefusals(t *testing.T) {
	e := newFedEnv(t)
	now := e.clock.Now()
	claims := func(f func(*oidctest.Claims)) oidctest.Claims {
		c := oidctest.Claims{Subject: fedSubject, Audience: []string{fedAudience}}
		f(&c)
		return c
	}
	payload := func(c map[string]any) []byte {
		b, _ := json.Marshal(c)
		return b
	}
	std := map[string]any{"iss": e.iss.URL(), "sub": fedSubject, "aud": fedAudience, "iat": now.Unix(), "exp": now.Add(10 * time.Minute).Unix()}
	const (
		invalid = "AuthenticationFail.OIDCToken.Invalid"
		badSig  = "AuthenticationFail.OIDCToken.InvalidSignature"
	)
	cases := []struct {
		name   string
		token  func() string
		status int
		code   string
	}{
		{"not three parts", func() string { return "abc.def" }, 401, invalid},
		{"not Base64url JSON", func() string { return "a$b.c$d.e$f" }, 401, invalid},
		{"alg none", func() string { return e.iss.Sign(nil, payload(std), "none") }, 401, invalid},
		{"HS256 with the public key as secret", func() string { return e.iss.Sign(nil, payload(std), "HS256") }, 401, invalid},
		{"alg other than the JWK's", func() string {
			return e.iss.Sign(map[string]any{"alg": "RS384", "kid": e.iss.KeyID()}, payload(std), "RS384")
		}, 401, invalid},
		{"no kid", func() string { return e.iss.Sign(map[string]any{"alg": "RS256"}, payload(std), "RS256") }, 401, invalid},
		{"unknown kid", func() string {
			return e.iss.Sign(map[string]any{"alg": "RS256", "kid": "nobody"}, payload(std), "RS256")
		}, 401, badSig},
		{"bad signature", func() string {
			tok := e.token(fedSubject)
			parts := strings.Split(tok, ".")
			forged := map[string]any{}
			for k, v := range std {
				forged[k] = v
			}
			forged["sub"] = "repo:org/other:ref:refs/heads/main"
			return parts[0] + "." + base64.RawURLEncoding.EncodeToString(payload(forged)) + "." + parts[2]
		}, 401, badSig},
		{"wrong iss", func() string {
			return e.iss.Token(claims(func(c *oidctest.Claims) { c.Issuer = "https://token.actions.githubusercontent.com" }))
		}, 401, "AuthenticationFail.OIDCToken.IssuerNotMatch"},
		{"wrong aud", func() string {
			return e.iss.Token(claims(func(c *oidctest.Claims) { c.Audience = []string{"someone-else"} }))
		}, 401, "AuthenticationFail.OIDCToken.AudienceNotMatch"},
		{"expired", func() string {
			return e.iss.Token(claims(func(c *oidctest.Claims) { c.IssuedAt, c.Expiry = now.Add(-time.Hour), now.Add(-2*time.Minute) }))
		}, 401, "AuthenticationFail.OIDCToken.Expired"},
		{"iat older than IssuanceLimitTime", func() string {
			return e.iss.Token(claims(func(c *oidctest.Claims) { c.IssuedAt, c.Expiry = now.Add(-13*time.Hour), now.Add(time.Hour) }))
		}, 401, invalid},
		{"iat in the future", func() string {
			return e.iss.Token(claims(func(c *oidctest.Claims) { c.IssuedAt, c.Expiry = now.Add(5*time.Minute), now.Add(time.Hour) }))
		}, 401, invalid},
		{"nbf ahead", func() string {
			return e.iss.Token(claims(func(c *oidctest.Claims) { c.NotBefore = now.Add(5 * time.Minute) }))
		}, 401, invalid},
		{"trust refuses another branch", func() string { return e.token("repo:org/repo:ref:refs/heads/feature") }, 403, "NoPermission"},
		{"trust refuses another repository", func() string { return e.token("repo:org/other:ref:refs/heads/main") }, 403, "NoPermission"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := e.assumeOIDC(t, c.token(), nil)
			expectRefused(t, err, c.status, c.code, c.name)
		})
	}

	// Providers: unknown, pinned to another certificate, issuer unreachable.
	ctx := context.Background()
	_, err := e.assumeOIDC(t, e.token(fedSubject), func(r *stssdk.AssumeRoleWithOIDCRequest) { r.OIDCProviderArn = ram.OIDCProviderARN(e.acct, "nobody") })
	expectRefused(t, err, 401, "AuthenticationFail.NoPermission", "unknown provider")
	pinned := oidctest.NewIssuer(t)
	pinned.SetClock(e.clock.Now)
	_, err = e.svc.CreateOIDCProvider(ctx, ownerActor(nil), ram.OIDCProviderInput{Name: "pinned", IssuerURL: pinned.URL(),
		ClientIDs: []string{fedAudience}, Fingerprints: []string{strings.Repeat("ab", 20)}})
	must(t, err, "create pinned provider")
	_, err = e.assumeOIDC(t, pinned.Token(oidctest.Claims{Subject: fedSubject, Audience: []string{fedAudience}}),
		func(r *stssdk.AssumeRoleWithOIDCRequest) { r.OIDCProviderArn = ram.OIDCProviderARN(e.acct, "pinned") })
	expectRefused(t, err, 401, "AuthenticationFail.OIDCToken.PublicKeyFingerprintMismatch", "fingerprint mismatch")
	gone := oidctest.NewIssuer(t)
	gone.SetClock(e.clock.Now)
	_, err = e.svc.CreateOIDCProvider(ctx, ownerActor(nil), ram.OIDCProviderInput{Name: "gone", IssuerURL: gone.URL(),
		ClientIDs: []string{fedAudience}, Fingerprints: []string{gone.Fingerprint()}})
	must(t, err, "create provider of an issuer that goes away")
	goneTok := gone.Token(oidctest.Claims{Subject: fedSubject, Audience: []string{fedAudience}})
	gone.Close()
	_, err = e.assumeOIDC(t, goneTok, func(r *stssdk.AssumeRoleWithOIDCRequest) { r.OIDCProviderArn = ram.OIDCProviderARN(e.acct, "gone") })
	expectRefused(t, err, 401, "AuthenticationFail.OIDCToken.IssuerConfigurationBroken", "unreachable issuer")

	// Parameters and roles.
	_, err = e.assumeOIDC(t, e.token(fedSubject), func(r *stssdk.AssumeRoleWithOIDCRequest) { r.RoleSessionName = "" })
	expectRefused(t, err, 400, "MissingParameter.RoleSessionName", "no RoleSessionName")
	_, err = e.assumeOIDC(t, e.token(fedSubject), func(r *stssdk.AssumeRoleWithOIDCRequest) { r.RoleSessionName = "a b" })
	expectRefused(t, err, 400, "InvalidParameter.RoleSessionName", "RoleSessionName not valid")
	_, err = e.assumeOIDC(t, "", nil)
	expectRefused(t, err, 400, "MissingParameter.OIDCToken", "no token")
	_, err = e.assumeOIDC(t, e.token(fedSubject), func(r *stssdk.AssumeRoleWithOIDCRequest) { r.RoleArn = "sso-admin" })
	expectRefused(t, err, 400, "InvalidParameter.RoleArn", "malformed RoleArn")
	_, err = e.assumeOIDC(t, e.token(fedSubject), func(r *stssdk.AssumeRoleWithOIDCRequest) { r.RoleArn = ram.RoleARN(e.acct, "nobody") })
	expectRefused(t, err, 404, "EntityNotExist.Role", "missing role")
	_, err = e.assumeOIDC(t, e.token(fedSubject), func(r *stssdk.AssumeRoleWithOIDCRequest) { r.Policy = "{not json" })
	expectRefused(t, err, 400, "InvalidParameter.PolicyGrammar", "session policy not valid")
	_, err = e.assumeOIDC(t, e.token(fedSubject), func(r *stssdk.AssumeRoleWithOIDCRequest) { r.DurationSeconds = "60" })
	expectRefused(t, err, 400, "InvalidParameter.DurationSeconds", "DurationSeconds under 900")
}

// postSTS posts an STS call as a form, unsigned unless extra says
// otherwise, and returns the status and decoded answer.
func (e *fedEnv) postSTS(t *testing.T, form url.Values, header http.Header) (int, map[string]any) {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, e.srv.URL+"/", strings.NewReader(form.Encode()))
	must(t, err, "request")
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	for k, v := range header {
		req.Header[k] = v
	}
	resp, err := http.DefaultClient.Do(req)
	must(t, err, "post")
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	var out map[string]any
	if err := json.Unmarshal(body, &out); err != nil {
		t.Fatalf("answer %d %.300s", resp.StatusCode, body)
	}
	return resp.StatusCode, out
}

// TestSTSFederatedAnonymous checks the anonymous path: no signature at all,
// a bogus V1 signature, the action named in V3 headers only, and that no
// other action is served without a valid signature.
func TestSTSFederatedAnonymous(t *testing.T) {
	e := newFedEnv(t)
	oidc := func(tok, session string) url.Values {
		return url.Values{"Action": {"AssumeRoleWithOIDC"}, "Version": {"2015-04-01"}, "Format": {"JSON"},
			"OIDCProviderArn": {e.oidcARN}, "RoleArn": {e.roleARN}, "OIDCToken": {tok}, "RoleSessionName": {session}}
	}
	st, body := e.postSTS(t, oidc(e.token(fedSubject), "plain"), nil)
	if st != 200 || body["Credentials"] == nil {
		t.Fatalf("unsigned AssumeRoleWithOIDC: %d %v", st, body)
	}
	// Signature parameters of a key nobody issued, and the same nonce twice.
	f := oidc(e.token(fedSubject), "signed")
	for k, v := range map[string]string{"AccessKeyId": "LTAI5tNobody", "Signature": "bm9wZQ==", "SignatureMethod": "HMAC-SHA1",
		"SignatureVersion": "1.0", "SignatureNonce": "same-nonce", "Timestamp": "2001-01-01T00:00:00Z"} {
		f.Set(k, v)
	}
	for i := 0; i < 2; i++ {
		if st, body := e.postSTS(t, f, nil); st != 200 {
			t.Fatalf("AssumeRoleWithOIDC with a bogus signature (%d): %d %v", i, st, body)
		}
	}
	// The action and version in the x-acs-* headers only (the V3 SDKs'
	// anonymous calls), with an Authorization of no known key.
	h := http.Header{"X-Acs-Action": {"AssumeRoleWithOIDC"}, "X-Acs-Version": {"2015-04-01"},
		"Authorization": {"ACS3-HMAC-SHA256 Credential=LTAI5tNobody,SignedHeaders=host,Signature=00"}}
	f = oidc(e.token(fedSubject), "v3")
	f.Del("Action")
	f.Del("Version")
	if st, body := e.postSTS(t, f, h); st != 200 || body["Credentials"] == nil {
		t.Fatalf("AssumeRoleWithOIDC named in headers: %d %v", st, body)
	}
	h.Set("Authorization", "not an authorization at all")
	f.Set("RoleSessionName", "v3-bad-auth")
	if st, body := e.postSTS(t, f, h); st != 200 {
		t.Fatalf("AssumeRoleWithOIDC with a malformed Authorization: %d %v", st, body)
	}
	// Nothing else is anonymous.
	st, body = e.postSTS(t, url.Values{"Action": {"GetCallerIdentity"}, "Version": {"2015-04-01"}, "Format": {"JSON"}}, nil)
	if st == 200 {
		t.Errorf("unsigned GetCallerIdentity answered %v", body)
	}
	st, _ = e.postSTS(t, url.Values{"Action": {"AssumeRoleWithOIDC"}, "Version": {"2015-05-01"}, "Format": {"JSON"}}, nil)
	if st == 200 {
		t.Error("AssumeRoleWithOIDC served as a RAM action")
	}

	// Rate: FederatedCallsPerSecond a second, then Throttling.User.
	e.clock.Advance(time.Second)
	throttled := 0
	for i := 0; i <= ram.FederatedCallsPerSecond; i++ {
		if st, body := e.postSTS(t, oidc("x.y.z", "rate"), nil); st == 400 && body["Code"] == "Throttling.User" {
			throttled++
		}
	}
	if throttled != 1 {
		t.Errorf("%d of %d calls in one second throttled, want 1", throttled, ram.FederatedCallsPerSecond+1)
	}
	e.clock.Advance(time.Second)
	if st, body := e.postSTS(t, oidc(e.token(fedSubject), "next-second"), nil); st != 200 {
		t.Errorf("the next second: %d %v", st, body)
	}
}

// TestSTSFederatedAudit checks the events of SPEC §18.9: who, what, and
// never the assertion, the token or the credentials.
func TestSTSFederatedAudit(t *testing.T) {
	e := newFedEnv(t)
	assertion := e.idp.Response(e.samlOptions())
	sresp, err := e.assumeSAML(t, assertion, nil)
	must(t, err, "AssumeRoleWithSAML")
	_, err = e.assumeSAML(t, assertion, nil) // replayed: a failure event
	expectRefused(t, err, 401, "AuthenticationFail.SAMLAssertion.Invalid", "replay")
	tok := e.iss.Token(oidctest.Claims{Subject: fedSubject, Audience: []string{fedAudience}, JTI: "job-7"})
	oresp, err := e.assumeOIDC(t, tok, nil)
	must(t, err, "AssumeRoleWithOIDC")
	bad := e.token("repo:org/repo:ref:refs/heads/dev")
	_, err = e.assumeOIDC(t, bad, nil)
	expectRefused(t, err, 403, "NoPermission", "trust refusal")
	must(t, e.getUser(e.ramAs(t, sresp.Credentials), "dev"), "GetUser as the SAML session")
	// Refused before the action runs: the parameters recorded leave the
	// token and the assertion out too.
	early := e.token(fedSubject)
	_, err = e.assumeOIDC(t, early, func(r *stssdk.AssumeRoleWithOIDCRequest) { r.DurationSeconds = "soon" })
	expectRefused(t, err, 400, "InvalidParameter.DurationSeconds", "DurationSeconds not a number")
	earlySAML := e.idp.Response(e.samlOptions())
	_, err = e.assumeSAML(t, earlySAML, func(r *stssdk.AssumeRoleWithSAMLRequest) { r.DurationSeconds = "soon" })
	expectRefused(t, err, 400, "InvalidParameter.DurationSeconds", "DurationSeconds not a number")
	// A token sent in the query string (GET) stays out of the request log.
	inQuery := e.iss.Token(oidctest.Claims{Subject: fedSubject, Audience: []string{fedAudience}, JTI: "job-7"})
	resp, err := http.Get(e.srv.URL + "/?" + url.Values{"Action": {"AssumeRoleWithOIDC"}, "Version": {"2015-04-01"}, "Format": {"JSON"},
		"OIDCProviderArn": {e.oidcARN}, "RoleArn": {e.roleARN}, "RoleSessionName": {"ci-job"}, "OIDCToken": {inQuery}}.Encode())
	must(t, err, "AssumeRoleWithOIDC by GET")
	resp.Body.Close()
	expectStatus(t, page{status: resp.StatusCode}, 200, "AssumeRoleWithOIDC by GET")
	e.logsMu.Lock()
	logs := e.logs.String()
	e.logsMu.Unlock()
	for _, secret := range []string{assertion[:200], tok, inQuery, earlySAML[:200]} {
		if strings.Contains(logs, secret) || strings.Contains(logs, url.QueryEscape(secret)[:100]) {
			t.Fatalf("the request log holds an assertion or token: %.100s", secret)
		}
	}

	samlOK, samlFail, oidcOK, oidcFail, sessionCall := false, false, false, false, false
	for _, ev := range e.events() {
		for _, secret := range []string{assertion[:200], tok, bad, early[:100], earlySAML[:200], sresp.Credentials.AccessKeySecret, sresp.Credentials.SecurityToken,
			oresp.Credentials.AccessKeySecret, oresp.Credentials.SecurityToken} {
			if strings.Contains(ev.Body, secret) {
				t.Fatalf("event %s records a secret: %.400s", ev.EventName, ev.Body)
			}
		}
		id, add := ev.UserIdentity, ev.AdditionalEventData
		switch {
		case ev.EventName == "AssumeRoleWithSAML" && !ev.IsError:
			samlOK = true
			if id.Type != "saml-user" || id.PrincipalID != e.samlARN+":alice@corp.example" || id.UserName != "alice@corp.example" ||
				id.AccountID != e.acct || ev.EventSource != "sts" || ev.ResourceName != e.roleARN || id.AccessKeyID != "" {
				t.Errorf("SAML event %.600s", ev.Body)
			}
			if add["issuer"] != e.idp.EntityID() || add["subject"] != "alice@corp.example" || add["audience"] != e.svc.RoleSSOEntityID() ||
				add["roleSessionName"] != "alice" || add["assertionId"] == "" || add["assertionId"] == nil {
				t.Errorf("SAML additionalEventData %v", add)
			}
			if ev.RequestParameters["SAMLProviderArn"] != e.samlARN || ev.RequestParameters["RoleArn"] != e.roleARN {
				t.Errorf("SAML requestParameters %v", ev.RequestParameters)
			}
		case ev.EventName == "AssumeRoleWithSAML":
			samlFail = ev.ErrorCode == "AuthenticationFail.SAMLAssertion.Invalid" && id.Type == "saml-user"
		case ev.EventName == "AssumeRoleWithOIDC" && !ev.IsError:
			oidcOK = true
			if id.Type != "oidc-user" || id.PrincipalID != e.oidcARN+":"+fedSubject || id.UserName != fedSubject ||
				add["jti"] != "job-7" || add["issuer"] != e.iss.URL() || add["audience"] != fedAudience || add["roleSessionName"] != "ci-job" {
				t.Errorf("OIDC event %.600s", ev.Body)
			}
		case ev.EventName == "AssumeRoleWithOIDC":
			oidcFail = ev.ErrorCode == "NoPermission" && id.PrincipalID == e.oidcARN+":repo:org/repo:ref:refs/heads/dev"
		case ev.EventName == "GetUser" && id.Type == "assumed-role" && id.AccessKeyID == sresp.Credentials.AccessKeyId:
			sessionCall = id.SourceUserName == e.samlARN+":alice@corp.example" && id.SourceUserID == ""
		}
	}
	if !samlOK || !samlFail || !oidcOK || !oidcFail || !sessionCall {
		t.Errorf("events: SAML ok %v, refused %v; OIDC ok %v, refused %v; session call %v", samlOK, samlFail, oidcOK, oidcFail, sessionCall)
	}
}

// TestSTSOIDCCredentialsProvider runs the Go SDK's OIDC credentials
// provider — the CI path: a token file, an STS endpoint over HTTPS —
// against ramconsole served over TLS, then uses what it got.
func TestSTSOIDCCredentialsProvider(t *testing.T) {
	e := newFedEnv(t)
	srv := httptest.NewUnstartedServer(e.app)
	srv.StartTLS()
	t.Cleanup(srv.Close)
	// The provider uses a clone of http.DefaultTransport: trust the test
	// server's certificate there for this test.
	roots, err := x509.SystemCertPool()
	if err != nil {
		roots = x509.NewCertPool()
	}
	roots.AddCert(srv.Certificate())
	dt := http.DefaultTransport.(*http.Transport)
	prev := dt.TLSClientConfig
	dt.TLSClientConfig = &tls.Config{RootCAs: roots}
	t.Cleanup(func() { dt.TLSClientConfig = prev })

	file := filepath.Join(t.TempDir(), "token")
	must(t, os.WriteFile(file, []byte(e.token(fedSubject)), 0o600), "token file")
	u, _ := url.Parse(srv.URL)
	p, err := credentials.NewOIDCCredentialsProviderBuilder().WithOIDCProviderARN(e.oidcARN).WithRoleArn(e.roleARN).
		WithOIDCTokenFilePath(file).WithRoleSessionName("github-actions").WithSTSEndpoint(u.Host).WithDurationSeconds(900).Build()
	must(t, err, "build provider")
	cc, err := p.GetCredentials()
	must(t, err, "GetCredentials")
	if !strings.HasPrefix(cc.AccessKeyId, "STS.") || cc.SecurityToken == "" {
		t.Fatalf("credentials %+v", cc)
	}
	rc, err := ramsdk.NewClientWithStsToken("cn-hangzhou", cc.AccessKeyId, cc.AccessKeySecret, cc.SecurityToken)
	must(t, err, "ram client")
	must(t, e.getUser(rc, "dev"), "GetUser with the provider's credentials")
	var sess []store.RoleSession
	sess, err = e.svc.RoleSessions(context.Background(), ownerActor(nil), "sso-admin")
	must(t, err, "RoleSessions")
	if len(sess) != 1 || sess[0].SessionName != "github-actions" || sess[0].ExpiresAt.Sub(e.clock.Now()) != 15*time.Minute {
		t.Errorf("sessions %+v", sess)
	}
}

// stsNodeSDKVersion is the npm @alicloud/sts20150401 the Node test runs.
const stsNodeSDKVersion = "1.2.0"

// nodeSDK returns a node_modules folder holding the npm package pkg (such
// as "@alicloud/sts20150401") at the exact version, installed with npm into
// a cache folder shared by every run (each install goes to its own folder
// and is renamed into place). A failed install fails the test, it never
// skips.
func nodeSDK(t *testing.T, pkg, version string) string {
	t.Helper()
	cache, err := os.UserCacheDir()
	if err != nil {
		cache = os.TempDir()
	}
	dir := filepath.Join(cache, "ramconsole-test-bin", "npm-"+filepath.Base(pkg)+"-"+version)
	modules := filepath.Join(dir, "node_modules")
	if _, err := os.Stat(filepath.Join(modules, filepath.FromSlash(pkg), "package.json")); err == nil {
		return modules
	}
	npm, err := exec.LookPath("npm")
	if err != nil {
		t.Fatalf("the Node SDK test needs npm (and node) on PATH: %v", err)
	}
	if err := os.MkdirAll(filepath.Dir(dir), 0o755); err != nil {
		t.Fatal(err)
	}
	tmp, err := os.MkdirTemp(filepath.Dir(dir), "npm-install-")
	if err != nil {
		t.Fatal(err)
	}
	defer os.RemoveAll(tmp)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, npm, "install", "--no-audit", "--no-fund", "--ignore-scripts", "--prefix", tmp,
		pkg+"@"+version)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("npm install %s@%s: %v\n%s", pkg, version, err, out)
	}
	if err := os.Rename(tmp, dir); err != nil && !os.IsExist(err) {
		if _, serr := os.Stat(modules); serr != nil { // not another test's install
			t.Fatalf("npm install into the cache: %v", err)
		}
	}
	return modules
}

// stsNodeScript calls assumeRoleWithOIDC, or assumeRoleWithSAML when
// SAML_ASSERTION is set, with the Node SDK (an anonymous V3-style call, the
// action in x-acs-action) and prints the answer's body.
const stsNodeScript = `
const Sts = require('@alicloud/sts20150401');
const { $OpenApiUtil } = require('@alicloud/openapi-core');
(async () => {
  const client = new Sts.default(new $OpenApiUtil.Config({ endpoint: process.env.STS_ENDPOINT, protocol: 'HTTP', regionId: 'cn-hangzhou' }));
  const r = process.env.SAML_ASSERTION
    ? await client.assumeRoleWithSAML(new Sts.AssumeRoleWithSAMLRequest({
        SAMLProviderArn: process.env.SAML_PROVIDER_ARN, roleArn: process.env.ROLE_ARN, SAMLAssertion: process.env.SAML_ASSERTION }))
    : await client.assumeRoleWithOIDC(new Sts.AssumeRoleWithOIDCRequest({
        OIDCProviderArn: process.env.OIDC_PROVIDER_ARN, roleArn: process.env.ROLE_ARN,
        OIDCToken: process.env.OIDC_TOKEN, roleSessionName: 'node-job' }));
  process.stdout.write(JSON.stringify(r.body));
})().catch((e) => { console.error(e.code, e.message); process.exit(1); });
`

// The Node SDK (npm @alicloud/sts20150401) assumes a role with an OIDC token
// and with a SAML response, anonymously, and the credentials work.
func TestSTSFederatedFromNode(t *testing.T) {
	modules := nodeSDK(t, "@alicloud/sts20150401", stsNodeSDKVersion)
	node, err := exec.LookPath("node")
	if err != nil {
		t.Fatalf("the Node SDK test needs node on PATH: %v", err)
	}
	e := newFedEnv(t)
	script := filepath.Join(t.TempDir(), "assume.js")
	must(t, os.WriteFile(script, []byte(stsNodeScript), 0o600), "script")
	u, _ := url.Parse(e.srv.URL)
	run := func(env ...string) []byte {
		t.Helper()
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		cmd := exec.CommandContext(ctx, node, script)
		cmd.Env = append(append(os.Environ(), "NODE_PATH="+modules, "STS_ENDPOINT="+u.Host, "ROLE_ARN="+e.roleARN), env...)
		out, err := cmd.Output()
		if err != nil {
			var stderr []byte
			if ee, ok := err.(*exec.ExitError); ok {
				stderr = ee.Stderr
			}
			t.Fatalf("node: %v\n%s", err, stderr)
		}
		return out
	}
	out := run("OIDC_PROVIDER_ARN="+e.oidcARN, "OIDC_TOKEN="+e.token(fedSubject))
	var body struct {
		AssumedRoleUser   struct{ Arn string }
		Credentials       stssdk.Credentials
		OIDCTokenInfo     stssdk.OIDCTokenInfo
		SAMLAssertionInfo stssdk.SAMLAssertionInfo
	}
	if err := json.Unmarshal(out, &body); err != nil {
		t.Fatalf("answer %s: %v", out, err)
	}
	if body.AssumedRoleUser.Arn != "acs:ram::"+e.acct+":assumed-role/sso-admin/node-job" || body.OIDCTokenInfo.Subject != fedSubject {
		t.Errorf("answer %s", out)
	}
	e.useSession(t, body.Credentials, "node-job")

	o := e.samlOptions()
	out = run("SAML_PROVIDER_ARN="+e.samlARN, "SAML_ASSERTION="+e.idp.Response(o))
	body.SAMLAssertionInfo = stssdk.SAMLAssertionInfo{}
	if err := json.Unmarshal(out, &body); err != nil {
		t.Fatalf("answer %s: %v", out, err)
	}
	session := o.Attributes[ram.SAMLRoleSessionNameAttribute][0]
	if body.AssumedRoleUser.Arn != "acs:ram::"+e.acct+":assumed-role/sso-admin/"+session || body.SAMLAssertionInfo.Subject != o.NameID {
		t.Errorf("answer %s", out)
	}
	e.useSession(t, body.Credentials, session)
}

// A federated session's credentials are decided by the gateway (SPEC §13)
// like any role session's: the role's policies, the session's identity.
func TestSTSFederatedSessionThroughGateway(t *testing.T) {
	e := newGatewayEnv(t)
	acct := e.accountID()
	ctx := context.Background()
	iss := oidctest.NewIssuer(t)
	iss.SetClock(e.clock.Now)
	_, err := e.svc.CreateOIDCProvider(ctx, ownerActor(nil), ram.OIDCProviderInput{Name: "ci", IssuerURL: iss.URL(),
		ClientIDs: []string{fedAudience}, Fingerprints: []string{iss.Fingerprint()}})
	must(t, err, "create OIDC provider")
	oidcARN := ram.OIDCProviderARN(acct, "ci")
	trust := `{"Version":"1","Statement":[{"Effect":"Allow","Action":"sts:AssumeRole","Principal":{"Federated":["` + oidcARN + `"]}}]}`
	_, err = e.svc.CreateRole(ctx, ownerActor(nil), ram.RoleInput{RoleName: "ecs-reader", AssumeRolePolicy: trust, MaxSessionDuration: 3600})
	must(t, err, "create role")
	must(t, e.svc.AttachPolicyToRole(ctx, ownerActor(nil), "System", "AliyunECSReadOnlyAccess", "ecs-reader"), "attach")

	c, err := stssdk.NewClientWithAccessKey("cn-hangzhou", "LTAI5tBogusKeyNobodyIssued", "bogus")
	must(t, err, "sts client")
	req := stssdk.CreateAssumeRoleWithOIDCRequest()
	e.at(req)
	req.OIDCProviderArn, req.RoleArn, req.RoleSessionName = oidcARN, ram.RoleARN(acct, "ecs-reader"), "deployer"
	req.OIDCToken = iss.Token(oidctest.Claims{Subject: fedSubject, Audience: []string{fedAudience}})
	resp, err := c.AssumeRoleWithOIDC(req)
	must(t, err, "AssumeRoleWithOIDC")
	cr := resp.Credentials
	ask := func(action string) page {
		return e.ask("GET", "ecs.internal.example", e.signedRPC(cr.AccessKeyId, cr.AccessKeySecret, "GET",
			url.Values{"Action": {action}, "SecurityToken": {cr.SecurityToken}}), nil, "")
	}
	p := ask("DescribeInstances")
	expectStatus(t, p, 200, "DescribeInstances with the federated session")
	if got := p.header.Get("X-Ram-Principal-Arn"); got != "acs:ram::"+acct+":assumed-role/ecs-reader/deployer" {
		t.Errorf("X-Ram-Principal-Arn %q", got)
	}
	expectStatus(t, ask("StopInstance"), 403, "StopInstance beyond the role's policies")
}
