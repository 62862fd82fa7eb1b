package policy

import (
	"bytes"
	_ "embed"
	"encoding/json"
)

//go:embed system_policies.json
var systemPoliciesJSON []byte

// SystemPolicy is one policy of the built-in catalogue.
type SystemPolicy struct {
	Name        string
	Description string
	Document    string // the policy document, JSON text indented by two spaces
}

// SystemPolicies returns the catalogue of system policies (SPEC §4.1), in catalogue order. Each call returns a new
// slice. Every document passes Parse; the tests check it.
func SystemPolicies() []SystemPolicy {
	var raw []struct {
		PolicyName     string
		Description    string
		PolicyDocument json.RawMessage
	}
	if err := json.Unmarshal(systemPoliciesJSON, &raw); err != nil {
		panic("policy: embedded system_policies.json: " + err.Error()) // a build defect, caught by the tests
	}
	out := make([]SystemPolicy, len(raw))
	for i, r := range raw {
		var b bytes.Buffer
		if err := json.Indent(&b, r.PolicyDocument, "", "  "); err != nil {
			panic("policy: embedded system_policies.json: " + err.Error())
		}
		out[i] = SystemPolicy{Name: r.PolicyName, Description: r.Description, Document: b.String()}
	}
	return out
}

// LookupSystemPolicy returns the system policy named name (case-sensitive).
func LookupSystemPolicy(name string) (SystemPolicy, bool) {
	for _, p := range SystemPolicies() {
		if p.Name == name {
			return p, true
		}
	}
	return SystemPolicy{}, false
}
