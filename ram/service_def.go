package ram

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/url"
	"regexp"
	"slices"
	"strings"
)

// A resource service (SPEC §13) is one of the enterprise's own services
// behind a proxy that asks ramconsole about every request: its code (the
// action prefix), its hosts, and how a request maps to a RAM action and a
// resource ARN. ServiceDef is its definition, exactly the JSON of
// GET /services/<code>/export and POST /services/import.

// Service styles.
const (
	StyleRPC  = "rpc"  // Alibaba RPC: the action is the request's Action
	StyleREST = "rest" // ordered method + path rules
)

// ServiceDef is a resource service's definition.
type ServiceDef struct {
	Code   string   `json:"code"`
	Name   string   `json:"name"`
	Hosts  []string `json:"hosts"`
	Region string   `json:"region,omitempty"`
	Style  string   `json:"style"`
	// Resources (rpc): a resource template per action name; "*" is the
	// default.
	Resources map[string]string `json:"resources,omitempty"`
	// Rules (rest): tried in order; the first that matches decides.
	Rules []ServiceRule `json:"rules,omitempty"`
}

// ServiceRule maps requests of some methods and a path pattern to an
// action and a resource template over the pattern's variables.
type ServiceRule struct {
	Methods  []string `json:"methods"`
	Path     string   `json:"path"`
	Action   string   `json:"action"`
	Resource string   `json:"resource"`
}

var (
	serviceCodeRE = regexp.MustCompile(`^[a-z][a-z0-9-]{1,31}$`)
	hostRE        = regexp.MustCompile(`^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?(\.[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)*$`)
	actionNameRE  = regexp.MustCompile(`^[A-Za-z0-9*?]+$`)
	templateVarRE = regexp.MustCompile(`\{([^{}]*)\}`)
	regionRE      = regexp.MustCompile(`^(\*|[a-z0-9-]{1,64})$`)
	httpMethods   = []string{"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"}
)

const maxServiceRules = 200

// ParseServiceDef reads and validates a definition. Every problem is
// reported, each with the place it is at.
func ParseServiceDef(text string) (*ServiceDef, error) {
	dec := json.NewDecoder(bytes.NewReader([]byte(text)))
	dec.DisallowUnknownFields()
	var d ServiceDef
	if err := dec.Decode(&d); err != nil {
		return nil, &Error{Kind: EINVALID, Code: "InvalidParameter.Definition", Message: "The definition is not valid JSON: " + err.Error(),
			Fields: map[string]string{"definition": "The definition is not valid JSON: " + err.Error()}}
	}
	if dec.More() {
		return nil, &Error{Kind: EINVALID, Code: "InvalidParameter.Definition", Message: "The definition has text after its JSON object.",
			Fields: map[string]string{"definition": "The definition has text after its JSON object."}}
	}
	if problems := d.Problems(); len(problems) > 0 {
		msg := strings.Join(problems, "; ")
		return nil, &Error{Kind: EINVALID, Code: "InvalidParameter.Definition", Message: msg, Fields: map[string]string{"definition": msg}}
	}
	return &d, nil
}

// Problems lists what is wrong with a definition ("" = nothing).
// reservedServiceCodes are the action prefixes ramconsole decides itself: a
// service under one of them would let its definition name what signing in
// to an application or managing RAM means (SPEC §17.6).
var reservedServiceCodes = map[string]bool{"ram": true, "sts": true, "oidc": true, "ims": true, "gateway": true}

func (d *ServiceDef) Problems() []string {
	var out []string
	add := func(format string, args ...any) { out = append(out, fmt.Sprintf(format, args...)) }
	if !serviceCodeRE.MatchString(d.Code) {
		add("code: %q must be 2–32 lower-case letters, digits and hyphens, starting with a letter", d.Code)
	} else if reservedServiceCodes[d.Code] {
		add("code: %q is ramconsole's own (its actions are %s:*); choose another code", d.Code, d.Code)
	}
	if strings.TrimSpace(d.Name) == "" || len([]rune(d.Name)) > 128 {
		add("name: give a name of 1 to 128 characters")
	}
	if len(d.Hosts) == 0 {
		add("hosts: name at least one host")
	}
	seen := map[string]bool{}
	for i, h := range d.Hosts {
		switch lh := strings.ToLower(h); {
		case !hostRE.MatchString(lh) || len(lh) > 253:
			add("hosts[%d]: %q is not a host name (no scheme, port or path)", i, h)
		case seen[lh]:
			add("hosts[%d]: %q is named twice", i, h)
		default:
			seen[lh] = true
		}
	}
	if d.Region != "" && !regionRE.MatchString(d.Region) {
		add("region: %q is not a region like cn-hangzhou (or *)", d.Region)
	}
	switch d.Style {
	case StyleRPC:
		if len(d.Rules) > 0 {
			add("rules: an rpc service maps actions with resources, not rules")
		}
		for name, tmpl := range d.Resources {
			if name != "*" && !actionNameRE.MatchString(name) {
				add("resources: %q is not an action name", name)
			}
			if msg := checkTemplate(tmpl, nil); msg != "" {
				add("resources[%q]: %s", name, msg)
			}
		}
	case StyleREST:
		if len(d.Resources) > 0 {
			add("resources: a rest service maps requests with rules, not resources")
		}
		if len(d.Rules) == 0 {
			add("rules: a rest service needs at least one rule")
		}
		if len(d.Rules) > maxServiceRules {
			add("rules: at most %d rules", maxServiceRules)
		}
		for i, r := range d.Rules {
			d.checkRule(i, r, add)
		}
	default:
		add("style: %q must be rpc or rest", d.Style)
	}
	return out
}

func (d *ServiceDef) checkRule(i int, r ServiceRule, add func(string, ...any)) {
	if len(r.Methods) == 0 {
		add("rules[%d].methods: name at least one method", i)
	}
	for _, m := range r.Methods {
		if m != "*" && !slices.Contains(httpMethods, m) {
			add("rules[%d].methods: %q is not an HTTP method (GET, HEAD, POST, PUT, PATCH, DELETE, OPTIONS or *)", i, m)
		}
	}
	vars, msg := patternVars(r.Path)
	if msg != "" {
		add("rules[%d].path: %s", i, msg)
		return
	}
	if code, name, ok := strings.Cut(r.Action, ":"); !ok || code != d.Code || !actionNameRE.MatchString(name) {
		add("rules[%d].action: %q must be %s:<ActionName>", i, r.Action, d.Code)
	}
	if msg := checkTemplate(r.Resource, vars); msg != "" {
		add("rules[%d].resource: %s", i, msg)
	}
	for j := 0; j < i; j++ {
		if shadows(d.Rules[j], r) {
			add("rules[%d] can never match: rules[%d] (%s) takes every request it would", i, j, d.Rules[j].Path)
			break
		}
	}
}

// patternVars parses a path pattern: "/" then segments, each literal or a
// {variable}; a last {variable...} takes the rest of the path.
func patternVars(pattern string) ([]string, string) {
	if !strings.HasPrefix(pattern, "/") {
		return nil, fmt.Sprintf("%q must start with /", pattern)
	}
	segs := strings.Split(pattern[1:], "/")
	var vars []string
	for i, seg := range segs {
		if !strings.ContainsAny(seg, "{}") {
			continue
		}
		name, ok := strings.CutPrefix(seg, "{")
		if name, ok = strings.CutSuffix(name, "}"); !ok || strings.ContainsAny(name, "{}") {
			return nil, fmt.Sprintf("segment %q: a variable is a whole segment, {name} or {name...}", seg)
		}
		rest := strings.HasSuffix(name, "...")
		name = strings.TrimSuffix(name, "...")
		if !varNameRE.MatchString(name) {
			return nil, fmt.Sprintf("segment %q: a variable's name is letters, digits and underscores", seg)
		}
		if rest && i != len(segs)-1 {
			return nil, fmt.Sprintf("{%s...} must be the last segment", name)
		}
		if slices.Contains(vars, name) {
			return nil, fmt.Sprintf("{%s} is named twice", name)
		}
		vars = append(vars, name)
	}
	return vars, ""
}

var varNameRE = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*$`)

// checkTemplate validates a resource template; vars, when not nil, are the
// only variables it may use (a rest rule's path variables).
func checkTemplate(tmpl string, vars []string) string {
	if tmpl == "" {
		return "give a resource (\"*\" for any)"
	}
	if strings.Count(tmpl, "{") != strings.Count(tmpl, "}") {
		return fmt.Sprintf("%q has unbalanced braces", tmpl)
	}
	for _, m := range templateVarRE.FindAllStringSubmatch(tmpl, -1) {
		name := m[1]
		if !varNameRE.MatchString(name) {
			return fmt.Sprintf("%q: {%s} is not a variable name", tmpl, name)
		}
		if vars != nil && !slices.Contains(vars, name) {
			return fmt.Sprintf("%q uses {%s}, which the path does not define (it has %s)", tmpl, name, listOrNone(vars))
		}
	}
	return ""
}

func listOrNone(vars []string) string {
	if len(vars) == 0 {
		return "no variables"
	}
	return "{" + strings.Join(vars, "}, {") + "}"
}

// shadows reports whether rule a matches every request rule b would: a
// takes all of b's methods and a's pattern matches whatever b's does.
func shadows(a, b ServiceRule) bool {
	if !slices.Contains(a.Methods, "*") {
		for _, m := range b.Methods {
			if !slices.Contains(a.Methods, m) {
				return false
			}
		}
	}
	as, bs := strings.Split(a.Path[1:], "/"), strings.Split(b.Path[1:], "/")
	for i, seg := range as {
		if len(seg) >= 5 && strings.HasPrefix(seg, "{") && strings.HasSuffix(seg, "...}") {
			return i < len(bs) // takes a non-empty rest, whatever b has from here
		}
		if i >= len(bs) {
			return false
		}
		bseg := bs[i]
		if strings.HasPrefix(bseg, "{") && strings.HasSuffix(bseg, "...}") {
			return false
		}
		if !strings.HasPrefix(seg, "{") && seg != bseg {
			return false
		}
	}
	return len(as) == len(bs)
}

// GatewayRequest is an original request as a proxy forwards it.
type GatewayRequest struct {
	Method string
	Path   string     // unescaped
	Query  url.Values // the original query's parameters
	Action string     // x-acs-action, for rpc services that carry it in a header
}

// ErrNoMatchingRoute is a rest request no rule maps.
var ErrNoMatchingRoute = &Error{Kind: EFORBIDDEN, Code: "NoMatchingRoute", Message: "No rule of the service maps this request to an action."}

// Map finds the action and the resource of a request: the resource is
// the service's own (acs:<code>:<region>:<AccountId>:…), for the gateway's
// decision to authorise as it authorises everything else.
func (d *ServiceDef) Map(acct string, r GatewayRequest) (action string, resource Resource, err error) {
	region := d.Region
	if region == "" {
		region = "*"
	}
	if d.Style == StyleRPC {
		name := r.Query.Get("Action")
		if name == "" {
			name = r.Action
		}
		if name == "" || !actionNameRE.MatchString(name) || strings.ContainsAny(name, "*?") {
			return "", Resource{}, &Error{Kind: EINVALID, Code: "MissingParameter", Message: "The request names no Action."}
		}
		if rid := r.Query.Get("RegionId"); rid != "" && regionRE.MatchString(rid) && rid != "*" {
			region = rid
		}
		tmpl, ok := d.Resources[name]
		if !ok {
			if tmpl, ok = d.Resources["*"]; !ok {
				tmpl = "*"
			}
		}
		return d.Code + ":" + name, Resource{expandResource(d.Code, region, acct, tmpl, func(v string) string { return r.Query.Get(v) })}, nil
	}
	for _, rule := range d.Rules {
		if !slices.Contains(rule.Methods, "*") && !slices.Contains(rule.Methods, r.Method) {
			continue
		}
		vals, ok := matchPath(rule.Path, r.Path)
		if !ok {
			continue
		}
		return rule.Action, Resource{expandResource(d.Code, region, acct, rule.Resource, vals.get)}, nil
	}
	return "", Resource{}, ErrNoMatchingRoute
}

// pathVars are the variables a path pattern matched, in pattern order.
type pathVars []struct{ name, value string }

func (v pathVars) get(name string) string {
	for _, kv := range v {
		if kv.name == name {
			return kv.value
		}
	}
	return ""
}

// matchPath matches a request path against a pattern and returns the
// variables' values. It runs on every gateway decision of a rest service:
// it walks both strings without splitting them.
func matchPath(pattern, path string) (pathVars, bool) {
	if !strings.HasPrefix(path, "/") {
		return nil, false
	}
	var vals pathVars
	pat, rest := pattern[1:], path[1:]
	for {
		seg, patMore, lastSeg := pat, "", true
		if i := strings.IndexByte(pat, '/'); i >= 0 {
			seg, patMore, lastSeg = pat[:i], pat[i+1:], false
		}
		if len(seg) >= 5 && strings.HasPrefix(seg, "{") && strings.HasSuffix(seg, "...}") {
			if rest == "" {
				return nil, false
			}
			return append(vals, struct{ name, value string }{seg[1 : len(seg)-4], rest}), true
		}
		part, after, more := strings.Cut(rest, "/")
		if !lastSeg && !more || lastSeg && more {
			return nil, false
		}
		if len(seg) >= 2 && strings.HasPrefix(seg, "{") && strings.HasSuffix(seg, "}") {
			if part == "" {
				return nil, false
			}
			vals = append(vals, struct{ name, value string }{seg[1 : len(seg)-1], part})
		} else if part != seg {
			return nil, false
		}
		if lastSeg {
			return vals, true
		}
		pat, rest = patMore, after
	}
}

// expandResource expands a template to acs:<code>:<region>:<AccountId>:…;
// an absent value is "*". A variable is {name}: braces around no brace
// (a lone brace is kept as it is).
func expandResource(code, region, acct, tmpl string, value func(string) string) string {
	var b strings.Builder
	b.Grow(len("acs::::") + len(code) + len(region) + len(acct) + len(tmpl) + 32)
	b.WriteString("acs:")
	b.WriteString(code)
	b.WriteByte(':')
	b.WriteString(region)
	b.WriteByte(':')
	b.WriteString(acct)
	b.WriteByte(':')
	for {
		i := strings.IndexByte(tmpl, '{')
		if i < 0 {
			break
		}
		j := strings.IndexAny(tmpl[i+1:], "{}")
		if j < 0 {
			break
		}
		j += i + 1
		if tmpl[j] == '{' {
			b.WriteString(tmpl[:j])
			tmpl = tmpl[j:]
			continue
		}
		b.WriteString(tmpl[:i])
		v := value(tmpl[i+1 : j])
		if v == "" {
			v = "*"
		}
		b.WriteString(v)
		tmpl = tmpl[j+1:]
	}
	b.WriteString(tmpl)
	return b.String()
}

// MapServiceRequest maps a request written as "METHOD URL" (as a person
// types it in the simulator: "GET https://oss.example/b1/k1") through the
// resource service that owns the URL's host.
func (s *Service) MapServiceRequest(ctx context.Context, line string) (service, action, resource string, err error) {
	bad := func(msg string) (string, string, string, error) {
		return "", "", "", &Error{Kind: EINVALID, Code: "InvalidParameter.Request", Message: msg, Fields: map[string]string{"request": msg}}
	}
	method, raw, ok := strings.Cut(strings.TrimSpace(line), " ")
	method = strings.ToUpper(method)
	if !ok || !slices.Contains(httpMethods, method) {
		return bad("Write a request as a method and a URL, like GET https://oss.example/bucket/key.")
	}
	u, perr := url.Parse(strings.TrimSpace(raw))
	if perr != nil || u.Host == "" || (u.Scheme != "http" && u.Scheme != "https") {
		return bad("The URL must be absolute, like https://oss.example/bucket/key.")
	}
	d, err := s.ServiceForHost(ctx, u.Host)
	if isNotFound(err) || ErrorKind(err) == ENOTFOUND {
		return bad(fmt.Sprintf("No resource service serves %s.", u.Hostname()))
	}
	if err != nil {
		return "", "", "", err
	}
	path := u.Path
	if path == "" {
		path = "/"
	}
	action, res, err := d.Map(s.accountID(ctx), GatewayRequest{Method: method, Path: path, Query: u.Query()})
	if e, ok := AsError(err); ok {
		return bad(fmt.Sprintf("The %s service does not map this request: %s", d.Code, e.Message))
	}
	return d.Code, action, res.ARN(), err
}
