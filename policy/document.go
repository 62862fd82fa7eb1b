package policy

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strings"
	"unicode/utf8"
)

// MaxDocumentLength is the longest policy document accepted, in characters (Unicode code points) of its JSON text.
const MaxDocumentLength = 6144

// Document is a parsed, valid policy document.
type Document struct {
	Version    string // always "1"
	Statements []Statement
}

// Statement is one element of a document's Statement array. An identity policy's statements have a Resource and no
// Principal; a trust policy's have a Principal and no Resource.
type Statement struct {
	Effect     string   // "Allow" or "Deny"
	Action     []string // exactly one of Action and NotAction is non-empty
	NotAction  []string
	Principal  Principal   // trust policies only
	Resource   []string    // identity policies only
	Conditions []Condition // in document order; the whole block holds when every condition holds
}

// Principal is the Principal element of a trust policy's statement: who may assume the role (SPEC §12). A caller
// matches when it matches any one entry of any list.
type Principal struct {
	// RAM holds "acs:ram::<AccountId>:root" (every RAM user and role of that account, as far as their own policies
	// allow them), "acs:ram::<AccountId>:user/<UserName>" and "acs:ram::<AccountId>:role/<RoleName>".
	RAM []string
	// Service holds Alibaba Cloud services, "<service>.aliyuncs.com", matched case-insensitively.
	Service []string
	// Federated holds identity providers, stored and matched as given.
	Federated []string
}

// IsZero reports whether p names no principal, as in every identity policy statement.
func (p Principal) IsZero() bool {
	return len(p.RAM) == 0 && len(p.Service) == 0 && len(p.Federated) == 0
}

// Condition is one key of one operator of a statement's Condition block.
type Condition struct {
	Operator string   // e.g. "IpAddress"
	Key      string   // as written; matched case-insensitively
	Values   []string // JSON numbers keep their literal text, booleans are "true" or "false"
}

// Effect values.
const (
	EffectAllow = "Allow"
	EffectDeny  = "Deny"
)

// ValidationError lists every problem found in a document, in document order.
type ValidationError struct {
	Problems []Problem
}

// Error joins the problems with "; ".
func (e *ValidationError) Error() string {
	parts := make([]string, len(e.Problems))
	for i, p := range e.Problems {
		parts[i] = p.String()
	}
	return strings.Join(parts, "; ")
}

// Problem is one reason a document is invalid. JSON syntax errors carry Line and Column (1-based, the column counted
// in characters); grammar errors carry the Path of the element ("Statement[2].Condition.IpAddress.acs:SourceIp").
// Problems about the document as a whole (its length, a missing top-level element) have neither.
type Problem struct {
	Line, Column int
	Path         string
	Message      string
}

// String renders "line 3, column 5: message", "Statement[2].Effect: message" or just the message.
func (p Problem) String() string {
	switch {
	case p.Line > 0:
		return fmt.Sprintf("line %d, column %d: %s", p.Line, p.Column, p.Message)
	case p.Path != "":
		return p.Path + ": " + p.Message
	default:
		return p.Message
	}
}

// Parse parses and validates an identity policy document: one attached to users, groups and roles. On failure the
// error is a *ValidationError listing every problem in document order; a JSON syntax error stops parsing, so it is
// then the only problem (after the length one). A Principal element is refused: it belongs to trust policies.
func Parse(text string) (*Document, error) {
	return parse(text, false)
}

// ParseTrust parses and validates a role's trust policy (its AssumeRolePolicyDocument, SPEC §12): the language of
// Parse where every statement names a Principal, has no Resource, and its action is sts:AssumeRole (or a pattern
// matching it, such as "sts:*"). Errors are reported as by Parse.
func ParseTrust(text string) (*Document, error) {
	return parse(text, true)
}

func parse(text string, trust bool) (*Document, error) {
	v := &validator{trust: trust}
	if n := utf8.RuneCountInString(text); n > MaxDocumentLength {
		v.add("", fmt.Sprintf("document is %d characters long, longer than the limit of %d", n, MaxDocumentLength))
		// Still report the other problems unless the text is absurdly long.
		if len(text) > 16*MaxDocumentLength {
			return nil, &ValidationError{v.problems}
		}
	}
	root, serr := parseJSON(text)
	if serr != nil {
		line, col := lineColumn(text, serr.offset)
		v.problems = append(v.problems, Problem{Line: line, Column: col, Message: serr.msg})
		return nil, &ValidationError{v.problems}
	}
	doc := v.document(root)
	if len(v.problems) > 0 {
		return nil, &ValidationError{v.problems}
	}
	return doc, nil
}

type validator struct {
	trust    bool // a trust policy: Principal required, Resource refused, sts:AssumeRole only
	problems []Problem
}

func (v *validator) add(path, msg string) {
	v.problems = append(v.problems, Problem{Path: path, Message: msg})
}

func join(path, name string) string {
	if path == "" {
		return name
	}
	return path + "." + name
}

// members checks for duplicate keys and calls fn for each member in order.
func (v *validator) members(path string, obj *jsonValue, fn func(m jsonMember)) {
	seen := make(map[string]bool, len(obj.members))
	for _, m := range obj.members {
		if seen[m.key] {
			v.add(path, fmt.Sprintf("duplicate element %q", m.key))
			continue
		}
		seen[m.key] = true
		fn(m)
	}
}

func (v *validator) document(root *jsonValue) *Document {
	if root.kind != jsonObject {
		v.add("", "a policy document must be a JSON object")
		return nil
	}
	doc := &Document{}
	var hasVersion, hasStatement bool
	v.members("", root, func(m jsonMember) {
		switch m.key {
		case "Version":
			hasVersion = true
			switch {
			case m.value.kind != jsonString:
				v.add("Version", `must be the string "1"`)
			case m.value.text != "1":
				v.add("Version", fmt.Sprintf(`must be "1", got %q`, m.value.text))
			default:
				doc.Version = "1"
			}
		case "Statement":
			hasStatement = true
			switch {
			case m.value.kind != jsonArray:
				v.add("Statement", "must be an array of statements")
			case len(m.value.items) == 0:
				v.add("Statement", "must not be empty")
			default:
				for i, item := range m.value.items {
					if st, ok := v.statement(fmt.Sprintf("Statement[%d]", i), item); ok {
						doc.Statements = append(doc.Statements, st)
					}
				}
			}
		default:
			v.add("", fmt.Sprintf("unknown element %q", m.key))
		}
	})
	if !hasVersion {
		v.add("", `missing "Version"`)
	}
	if !hasStatement {
		v.add("", `missing "Statement"`)
	}
	return doc
}

func (v *validator) statement(path string, item *jsonValue) (Statement, bool) {
	var st Statement
	if item.kind != jsonObject {
		v.add(path, "must be an object")
		return st, false
	}
	before := len(v.problems)
	var hasEffect, hasAction, hasNotAction, hasResource, hasPrincipal bool
	v.members(path, item, func(m jsonMember) {
		p := join(path, m.key)
		switch m.key {
		case "Effect":
			hasEffect = true
			switch {
			case m.value.kind != jsonString:
				v.add(p, `must be "Allow" or "Deny"`)
			case m.value.text != EffectAllow && m.value.text != EffectDeny:
				v.add(p, fmt.Sprintf(`must be "Allow" or "Deny", got %q`, m.value.text))
			default:
				st.Effect = m.value.text
			}
		case "Action":
			hasAction = true
			check := checkAction
			if v.trust {
				check = checkTrustAction
			}
			st.Action = v.stringList(p, m.value, check)
		case "NotAction":
			hasNotAction = true
			check := checkAction
			if v.trust {
				check = checkTrustNotAction
			}
			st.NotAction = v.stringList(p, m.value, check)
		case "Resource":
			hasResource = true
			if v.trust {
				v.add(p, "a trust policy has no Resource (the role it belongs to is the resource)")
				return
			}
			st.Resource = v.stringList(p, m.value, checkResource)
		case "Principal":
			hasPrincipal = true
			if !v.trust {
				v.add(p, "the Principal element is only allowed in a role's trust policy")
				return
			}
			st.Principal = v.principal(p, m.value)
		case "Condition":
			st.Conditions = v.conditions(p, m.value)
		default:
			v.add(path, fmt.Sprintf("unknown element %q", m.key))
		}
	})
	if !hasEffect {
		v.add(path, `missing "Effect"`)
	}
	switch {
	case hasAction && hasNotAction:
		v.add(path, `has both "Action" and "NotAction" (use one)`)
	case !hasAction && !hasNotAction:
		v.add(path, `missing "Action" (or "NotAction")`)
	}
	switch {
	case v.trust && !hasPrincipal:
		v.add(path, "a trust policy statement needs a Principal")
	case !v.trust && !hasResource:
		v.add(path, `missing "Resource"`)
	}
	return st, len(v.problems) == before
}

// stringList reads a string or a non-empty array of strings, checking each with check, which returns why a value is
// invalid ("" when it is valid); the message follows the quoted value.
func (v *validator) stringList(path string, val *jsonValue, check func(string) string) []string {
	checkOne := func(p, s string) {
		if msg := check(s); msg != "" {
			v.add(p, fmt.Sprintf("%q %s", s, msg))
		}
	}
	switch val.kind {
	case jsonString:
		checkOne(path, val.text)
		return []string{val.text}
	case jsonArray:
		if len(val.items) == 0 {
			v.add(path, "must not be empty")
			return nil
		}
		out := make([]string, 0, len(val.items))
		for i, item := range val.items {
			p := fmt.Sprintf("%s[%d]", path, i)
			if item.kind != jsonString {
				v.add(p, "must be a string")
				continue
			}
			checkOne(p, item.text)
			out = append(out, item.text)
		}
		return out
	default:
		v.add(path, "must be a string or a non-empty array of strings")
		return nil
	}
}

func checkAction(s string) string {
	if !validAction(s) {
		return `is not an action ("*" or "service:Name")`
	}
	return ""
}

func checkResource(s string) string {
	if !validResource(s) {
		return `is not a resource ("*" or "acs:service:region:account:relative-id")`
	}
	return ""
}

// validAction accepts "*" and "service:Name" where both parts are non-empty, contain no white space or control
// characters and no further colon; either part may contain the wildcards * and ?.
func validAction(s string) bool {
	if s == "*" {
		return true
	}
	svc, name, ok := strings.Cut(s, ":")
	return ok && svc != "" && name != "" && !strings.Contains(name, ":") && printable(svc) && printable(name)
}

// validResource accepts "*" and "acs:service:region:account:relative-id". The service and the relative id must be
// non-empty; region and account may be empty (in a policy an empty one matches any value). The relative id is
// everything after the fourth colon, so it may itself contain colons, and spaces; no part may contain control
// characters, and only the relative id may contain spaces.
func validResource(s string) bool {
	if s == "*" {
		return true
	}
	p, ok := splitARN(s)
	return ok && p.service != "" && p.relative != "" && printable(p.service) && printable(p.region) &&
		printable(p.account) && printableOrSpace(p.relative)
}

func printable(s string) bool {
	return !strings.ContainsRune(s, ' ') && printableOrSpace(s)
}

// printableOrSpace is printable allowing spaces, which object names (an OSS key "My Documents/a.txt") may contain.
func printableOrSpace(s string) bool {
	for _, r := range s {
		if r < ' ' || r == 0x7f || r == utf8.RuneError {
			return false
		}
	}
	return true
}

func (v *validator) conditions(path string, val *jsonValue) []Condition {
	if val.kind != jsonObject {
		v.add(path, "must be an object mapping operators to keys and values")
		return nil
	}
	if len(val.members) == 0 {
		v.add(path, "must not be empty")
		return nil
	}
	var out []Condition
	v.members(path, val, func(m jsonMember) {
		op, known := operators[m.key]
		if !known {
			v.add(path, fmt.Sprintf("unknown operator %q", m.key))
			return
		}
		p := join(path, m.key)
		if m.value.kind != jsonObject {
			v.add(p, "must be an object mapping condition keys to values")
			return
		}
		if len(m.value.members) == 0 {
			v.add(p, "must not be empty")
			return
		}
		folded := make(map[string]string, len(m.value.members))
		v.members(p, m.value, func(k jsonMember) {
			kp := join(p, k.key)
			if k.key == "" {
				v.add(p, "condition key must not be empty")
				return
			}
			lk := lowerASCII(k.key)
			if first, dup := folded[lk]; dup {
				v.add(p, fmt.Sprintf("duplicate condition key %q (same as %q: keys are case-insensitive)", k.key, first))
				return
			}
			folded[lk] = k.key
			values := v.conditionValues(kp, op, k.value)
			if values != nil {
				out = append(out, Condition{Operator: m.key, Key: k.key, Values: values})
			}
		})
	})
	return out
}

func (v *validator) conditionValues(path string, op operator, val *jsonValue) []string {
	var raw []*jsonValue
	switch val.kind {
	case jsonString, jsonNumber, jsonBool:
		raw = []*jsonValue{val}
	case jsonArray:
		if len(val.items) == 0 {
			v.add(path, "must not be empty")
			return nil
		}
		raw = val.items
	default:
		v.add(path, "must be a string, number or boolean, or a non-empty array of them")
		return nil
	}
	out := make([]string, 0, len(raw))
	ok := true
	for _, item := range raw {
		if item.kind != jsonString && item.kind != jsonNumber && item.kind != jsonBool {
			v.add(path, "must be a string, number or boolean, or a non-empty array of them")
			ok = false
			continue
		}
		if msg := op.family.check(item.text); msg != "" {
			v.add(path, fmt.Sprintf("%q %s", item.text, msg))
			ok = false
			continue
		}
		out = append(out, item.text)
	}
	if !ok {
		return nil
	}
	return out
}

// MarshalJSON renders the document in canonical form: elements in the order Version, Statement; Effect, Action or
// NotAction, Principal (its lists in the order RAM, Service, Federated), Resource (unless the statement has a
// Principal and no Resource), Condition; operators in order of first appearance, keys in document order; a list of
// one element as a plain string; condition values as strings. Parse of MarshalJSON(d) yields d again (ParseTrust
// for a trust policy).
func (d *Document) MarshalJSON() ([]byte, error) {
	var b bytes.Buffer
	b.WriteString(`{"Version":`)
	writeString(&b, d.Version)
	b.WriteString(`,"Statement":[`)
	for i, st := range d.Statements {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteString(`{"Effect":`)
		writeString(&b, st.Effect)
		if len(st.NotAction) > 0 {
			b.WriteString(`,"NotAction":`)
			writeList(&b, st.NotAction)
		} else {
			b.WriteString(`,"Action":`)
			writeList(&b, st.Action)
		}
		if !st.Principal.IsZero() {
			b.WriteString(`,"Principal":{`)
			sep := ""
			for _, kv := range []struct {
				key    string
				values []string
			}{{"RAM", st.Principal.RAM}, {"Service", st.Principal.Service}, {"Federated", st.Principal.Federated}} {
				if len(kv.values) == 0 {
					continue
				}
				b.WriteString(sep)
				writeString(&b, kv.key)
				b.WriteByte(':')
				writeList(&b, kv.values)
				sep = ","
			}
			b.WriteByte('}')
		}
		if len(st.Resource) > 0 || st.Principal.IsZero() {
			b.WriteString(`,"Resource":`)
			writeList(&b, st.Resource)
		}
		if len(st.Conditions) > 0 {
			b.WriteString(`,"Condition":{`)
			done := make([]bool, len(st.Conditions))
			firstOp := true
			for j, c := range st.Conditions {
				if done[j] {
					continue
				}
				if !firstOp {
					b.WriteByte(',')
				}
				firstOp = false
				writeString(&b, c.Operator)
				b.WriteString(":{")
				firstKey := true
				for k := j; k < len(st.Conditions); k++ {
					if done[k] || st.Conditions[k].Operator != c.Operator {
						continue
					}
					done[k] = true
					if !firstKey {
						b.WriteByte(',')
					}
					firstKey = false
					writeString(&b, st.Conditions[k].Key)
					b.WriteByte(':')
					writeList(&b, st.Conditions[k].Values)
				}
				b.WriteByte('}')
			}
			b.WriteByte('}')
		}
		b.WriteByte('}')
	}
	b.WriteString("]}")
	return b.Bytes(), nil
}

func writeString(b *bytes.Buffer, s string) {
	enc, _ := json.Marshal(s) // a string always marshals
	b.Write(enc)
}

func writeList(b *bytes.Buffer, list []string) {
	if len(list) == 1 {
		writeString(b, list[0])
		return
	}
	b.WriteByte('[')
	for i, s := range list {
		if i > 0 {
			b.WriteByte(',')
		}
		writeString(b, s)
	}
	b.WriteByte(']')
}

// lowerASCII lower-cases ASCII letters only, without allocating when s has none.
func lowerASCII(s string) string {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c >= 'A' && c <= 'Z' {
			b := []byte(s)
			for j := i; j < len(b); j++ {
				if c := b[j]; c >= 'A' && c <= 'Z' {
					b[j] = c + 'a' - 'A'
				}
			}
			return string(b)
		}
	}
	return s
}
