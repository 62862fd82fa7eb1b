// Package policy is the RAM policy language of ramconsole: it parses and validates policy documents (SPEC §4.2),
// compiles them into a form built for fast evaluation, and decides requests with the reasons for each decision.
//
// The package is pure: standard library only, no I/O, no clock, no logging. Time and every other fact about a
// request arrive in the request's Context (acs:CurrentTime and friends).
//
// Typical use:
//
//	doc, err := policy.Parse(text) // err is *ValidationError
//	c := policy.Compile(policy.Source{Type: "Custom", Name: "Dev", Version: "v1"}, doc)
//	set := policy.NewSet(c, ...)   // once per principal; immutable, safe for concurrent use
//	d := set.Evaluate(&policy.Request{Action: "ram:GetUser", Resources: []string{arn}, Context: ctx})
//
// A role's trust policy (SPEC §12) is parsed by ParseTrust and decided by the compiled policy itself:
//
//	doc, err := policy.ParseTrust(text)
//	trust := policy.Compile(policy.Source{Type: "Trust", Name: roleName}, doc)
//	d := trust.EvaluateTrust(&policy.TrustRequest{Caller: caller, Context: ctx}) // ExplainTrust adds the reasons
//
// # How evaluation is fast
//
// Compile pre-splits every wildcard pattern (exact, prefix*, *suffix, prefix*suffix, or a general glob run by a
// linear matcher; never a regexp), lower-cases actions, and pre-parses numbers, dates and CIDRs. NewSet indexes
// statements by the literal service of their actions, Deny apart from Allow; statements that can match any
// service (NotAction, "*", a wildcard in the service) sit in one extra list. Evaluate looks up the request's
// service without allocating, scans only those two lists, stops at the first Deny and at the first Allow per
// resource. Context values are parsed for the typed operators when they are Set.
//
// # Choices the SPEC leaves open
//
//   - Resource: "*" or "acs:service:region:account:relative-id"; the relative id is everything after the fourth
//     colon (so it may contain colons, and spaces, as OSS object names do); service and relative id must be
//     non-empty, region and account may be empty; no part may contain control characters.
//   - Resources match part by part: a wildcard in the service, region or account never crosses a colon; in the
//     relative id it matches anything, "/" and ":" included. An empty region or account in a policy matches any
//     value. A request resource that is not an ARN (e.g. "*") is matched only by the policy resource "*".
//   - Action: "*" or "service:Name" with exactly one colon, both parts non-empty, no white space; wildcards may
//     appear in both parts. Letter case is folded for ASCII only. "?" matches one character (a UTF-8 rune).
//   - A request action without a colon is matched only by patterns matching the whole text, such as "*".
//   - "Statement" must be an array. Empty objects ("Condition": {}, an empty operator) are errors, like empty arrays.
//   - Condition values may be JSON strings, numbers or booleans, or arrays of them; the canonical form writes
//     strings. Keys of one operator that differ only in letter case are a duplicate.
//   - Bool: policy values exactly "true"/"false" (or JSON true/false); request values in any letter case.
//   - Numbers: decimal only (sign, digits, fraction, exponent); no hex, Inf, NaN; beyond float64 is invalid.
//   - Dates: YYYY-MM-DD (midnight UTC) or YYYY-MM-DDThh:mm[:ss[.fraction]] with Z, ±hh:mm, ±hhmm or ±hh; no
//     zone means UTC. Unix timestamps are not dates.
//   - IP: an IPv4 or IPv6 address or CIDR; host bits of a CIDR are ignored; zones are refused; an IPv4-mapped
//     IPv6 request address compares as IPv4.
//   - A typed operator whose request value does not parse is false, the negated ones (NotIpAddress, …) included.
//   - The 6144 limit counts characters (code points). A longer document still gets its other problems reported.
//   - A JSON syntax error ends parsing: it is the only problem besides the length. Columns count characters.
//     Invalid UTF-8 is a syntax error.
//   - A request naming no resource is ImplicitDeny.
//   - Reasons are ordered by the policies' order in NewSet, then by statement; Result.Matched lists each matching
//     statement once. NewSet ignores nil and repeated *Compiled values.
//   - Compile trusts Parse: in a hand-built document an element that Parse would refuse makes its statement never
//     match.
//   - Trust policies: Parse refuses the Principal element; ParseTrust requires it in every statement, refuses
//     Resource, and accepts only actions that match sts:AssumeRole (NotAction only when it does not). Principal keys
//     are "RAM", "Service" and "Federated". RAM entries are acs:ram::<16-digit AccountId>:root, :user/<UserName> or
//     :role/<RoleName> with names as RAM allows them and no wildcards; a bare account id is refused (Alibaba documents
//     only the ARN forms) with a hint to write the root ARN. Service entries are "<service>.aliyuncs.com", matched
//     case-insensitively; Federated entries are any text without spaces, matched exactly.
//   - A root entry matches RAM users and role sessions whose Caller.Account is that account; user and role entries
//     match the Caller's ARN exactly (case-sensitively, like resources). A RAM Caller whose ARN is not of its kind
//     in its own account matches nothing. Trust statements never match in a Set; identity statements never match in
//     EvaluateTrust.
package policy
