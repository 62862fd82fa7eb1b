package ram

import (
	"net/url"
	"testing"
)

const testECS = `{"code": "ecs", "name": "Instances", "hosts": ["ecs.internal.example"], "region": "cn-hangzhou", "style": "rpc",
	"resources": {"StopInstance": "instance/{InstanceId}", "*": "*"}}`

// A gateway decision authorises the service's own resource, records the
// decision with the service's fields before it answers, and spends the
// signature's nonce: the same signed request is then refused.
func TestGatewayDecide(t *testing.T) {
	e := newTestEnv(t)
	if _, _, err := e.svc.ImportService(e.ctx, e.owner, testECS); err != nil {
		t.Fatal(err)
	}
	_, k := e.user("ops", "AliyunECSReadOnlyAccess")
	svc, err := e.svc.ServiceForHost(e.ctx, "ECS.internal.example:443")
	if err != nil {
		t.Fatal(err)
	}
	acct := e.svc.AccountID(e.ctx)
	decide := func(params map[string]string) (GatewayCall, *Call, error) {
		q := url.Values{}
		for k, v := range params {
			q.Set(k, v)
		}
		gc := GatewayCall{Service: svc, Host: "ecs.internal.example"}
		gc.Action, gc.Resource, err = svc.Map(acct, GatewayRequest{Method: "GET", Path: "/", Query: q})
		if err != nil {
			t.Fatal(err)
		}
		call := e.svc.Authenticate(e.ctx, Actor{RequestID: NewRequestID()}, e.signedV1(k.AccessKeyID, k.AccessKeySecret, params))
		if call.Err() != nil {
			t.Fatal(call.Err())
		}
		return gc, call, e.svc.GatewayDecide(e.ctx, call, gc)
	}
	gc, call, err := decide(map[string]string{"Action": "DescribeInstances"})
	if err != nil {
		t.Fatalf("DescribeInstances with AliyunECSReadOnlyAccess: %v", err)
	}
	if gc.Resource.ARN() != "acs:ecs:cn-hangzhou:"+acct+":*" {
		t.Errorf("resource %s", gc.Resource.ARN())
	}
	ev := e.events()[0]
	if ev.RequestID != call.Actor.RequestID || ev.ServiceName != "ecs" || ev.EventSource != "ecs.internal.example" ||
		ev.EventName != "DescribeInstances" || ev.AcsRegion != "cn-hangzhou" || ev.IsError {
		t.Errorf("the decision's event: %+v", ev.Event)
	}
	if err := e.svc.GatewayDecide(e.ctx, call, gc); err != nil {
		t.Errorf("the same Call decided twice: %v (its nonce was spent with the first record)", err)
	}
	_, _, err = decide(map[string]string{"Action": "StopInstance", "InstanceId": "i-1"})
	d, ok := DenialOf(err)
	if errCode(err) != "NoPermission" || !ok || d.Type != "ImplicitDeny" || d.Resources[0] != "acs:ecs:cn-hangzhou:"+acct+":instance/i-1" {
		t.Errorf("StopInstance with a read-only policy: %v %+v", err, d)
	}
	if ev := e.events()[0]; ev.ErrorCode != "NoPermission" || ev.EventName != "StopInstance" {
		t.Errorf("the refusal's event: %+v", ev.Event)
	}
	// A refusal before the decision names the service and is recorded.
	anon := e.svc.Anonymous(Actor{RequestID: NewRequestID(), SourceIP: "198.51.100.9"})
	if err := e.svc.GatewayRefuse(e.ctx, anon, GatewayCall{Service: svc, Host: "ecs.internal.example"}, ErrNoMatchingRoute); err != ErrNoMatchingRoute {
		t.Fatal(err)
	}
	if ev := e.events()[0]; ev.ErrorCode != "NoMatchingRoute" || ev.ServiceName != "ecs" || ev.EventName != "UnknownAction" {
		t.Errorf("the refusal before a decision: %+v", ev.Event)
	}
}
