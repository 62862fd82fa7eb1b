package web

import (
	"crypto/tls"
	"crypto/x509"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/aliyun/alibaba-cloud-sdk-go/sdk"
	"github.com/aliyun/alibaba-cloud-sdk-go/sdk/auth/credentials"
	ramsdk "github.com/aliyun/alibaba-cloud-sdk-go/services/ram"
)

// The SDK's own credential provider (RAMRoleARNCredentialsProvider) obtains
// temporary credentials from ramconsole over HTTPS, the only scheme it
// speaks, and a RAM client built on it works with the role's permissions,
// narrowed by a session policy; revoked, its calls fail.
func TestSTSThroughTheSDKCredentialProvider(t *testing.T) {
	e := newSTSEnv(t)
	tlsSrv := httptest.NewTLSServer(e.app)
	t.Cleanup(tlsSrv.Close)
	pool := x509.NewCertPool()
	pool.AddCert(tlsSrv.Certificate())
	// The provider clones http.DefaultTransport: trust the test certificate there.
	def := http.DefaultTransport.(*http.Transport)
	prev := def.TLSClientConfig
	def.TLSClientConfig = &tls.Config{RootCAs: pool}
	t.Cleanup(func() { def.TLSClientConfig = prev })
	host := tlsSrv.Listener.Addr().String()

	newClient := func(session string) *ramsdk.Client {
		base, err := credentials.NewStaticAKCredentialsProviderBuilder().WithAccessKeyId(e.dev.keyID).WithAccessKeySecret(e.dev.secret).Build()
		must(t, err, "static provider")
		provider, err := credentials.NewRAMRoleARNCredentialsProviderBuilder().WithCredentialsProvider(base).
			WithRoleArn("acs:ram::" + e.acct + ":role/ops").WithRoleSessionName(session).WithStsEndpoint(host).
			WithPolicy(`{"Version":"1","Statement":[{"Effect":"Allow","Action":["ram:GetUser","ram:ListUsers"],"Resource":"*"}]}`).
			WithDurationSeconds(1100).Build()
		must(t, err, "RAM role ARN provider")
		cfg := sdk.NewConfig().WithHttpTransport(&http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}})
		client, err := ramsdk.NewClientWithOptions("cn-hangzhou", cfg, provider)
		must(t, err, "RAM client on the provider")
		return client
	}
	getUser := func(c *ramsdk.Client) error {
		r := ramsdk.CreateGetUserRequest()
		r.SetDomain(host)
		r.SetScheme("HTTPS")
		r.UserName = "dev"
		_, err := c.GetUser(r)
		return err
	}
	real := e.clock.Now()

	// The provider assumes the role on its first call. The server's clock
	// is set 14 minutes back then, so that the 1,100-second session ends
	// 4m20s after real time: later the server's clock moves past it while
	// the provider (on real time) still thinks it valid.
	client := newClient("sdk-provider")
	e.setClock(real.Add(-14 * time.Minute))
	must(t, getUser(client), "GetUser through the provider's credentials")
	e.setClock(real)
	lu := ramsdk.CreateListUsersRequest()
	lu.SetDomain(host)
	lu.SetScheme("HTTPS")
	_, err := client.ListUsers(lu)
	must(t, err, "ListUsers through the provider's credentials")
	lg := ramsdk.CreateListGroupsRequest()
	lg.SetDomain(host)
	lg.SetScheme("HTTPS")
	_, err = client.ListGroups(lg)
	expectCode(t, err, "NoPermission", 403, "ListGroups: the role allows it, the session policy does not")
	if ss := e.mustSessions(t, "ops"); len(ss) != 1 || ss[0] != "sdk-provider" {
		t.Fatalf("sessions of ops: %v", ss)
	}
	e.setClock(real.Add(5 * time.Minute))
	expectCode(t, getUser(client), "InvalidSecurityToken.Expired", 400, "GetUser after the session expired")
	e.setClock(real)

	// Revocation.
	client = newClient("sdk-provider-2")
	must(t, getUser(client), "GetUser with a new session")
	e.owner.get("/roles/ops")
	expectRedirect(t, e.owner.post("/roles/ops/sessions/revoke", nil), "/roles/ops", "revoke")
	expectCode(t, getUser(client), "InvalidSecurityToken.Expired", 400, "GetUser after the session was revoked")
}
