package policy

import (
	"strings"
	"unicode/utf8"
)

// pattern is a compiled wildcard pattern: * matches any run of characters (including none), ? exactly one
// character. The common shapes are recognised at compile time so that most matches are one comparison; the rest
// use a linear-time glob matcher. No regexp is ever built from user input.
type pattern struct {
	kind   patternKind
	lit    string // exact: the literal; prefix/suffix: the fixed part; glob: the whole pattern
	suffix string // prefixSuffix only
	fold   bool   // compare case-insensitively (ASCII); lit and suffix are then lower-case
}

type patternKind uint8

const (
	patAny patternKind = iota
	patExact
	patPrefix
	patSuffix
	patPrefixSuffix
	patGlob
)

func compilePattern(p string, fold bool) pattern {
	if fold {
		p = lowerASCII(p)
	}
	stars := strings.Count(p, "*")
	switch {
	case strings.IndexByte(p, '?') >= 0:
		return pattern{kind: patGlob, lit: p, fold: fold}
	case stars == 0:
		return pattern{kind: patExact, lit: p, fold: fold}
	case strings.Trim(p, "*") == "":
		return pattern{kind: patAny}
	case stars == 1 && p[len(p)-1] == '*':
		return pattern{kind: patPrefix, lit: p[:len(p)-1], fold: fold}
	case stars == 1 && p[0] == '*':
		return pattern{kind: patSuffix, lit: p[1:], fold: fold}
	case stars == 1:
		i := strings.IndexByte(p, '*')
		return pattern{kind: patPrefixSuffix, lit: p[:i], suffix: p[i+1:], fold: fold}
	}
	return pattern{kind: patGlob, lit: p, fold: fold}
}

func (p *pattern) match(s string) bool {
	switch p.kind {
	case patAny:
		return true
	case patExact:
		return len(s) == len(p.lit) && equalAt(s, p.lit, p.fold)
	case patPrefix:
		return len(s) >= len(p.lit) && equalAt(s[:len(p.lit)], p.lit, p.fold)
	case patSuffix:
		return len(s) >= len(p.lit) && equalAt(s[len(s)-len(p.lit):], p.lit, p.fold)
	case patPrefixSuffix:
		return len(s) >= len(p.lit)+len(p.suffix) &&
			equalAt(s[:len(p.lit)], p.lit, p.fold) &&
			equalAt(s[len(s)-len(p.suffix):], p.suffix, p.fold)
	}
	return glob(p.lit, s, p.fold)
}

// equalAt reports whether s equals lit (same length); with fold, s is lower-cased byte by byte on the fly.
func equalAt(s, lit string, fold bool) bool {
	if !fold {
		return s == lit
	}
	for i := 0; i < len(lit); i++ {
		c := s[i]
		if c >= 'A' && c <= 'Z' {
			c += 'a' - 'A'
		}
		if c != lit[i] {
			return false
		}
	}
	return true
}

// glob matches s against a pattern with * and ?, in time linear in len(pat)*len(s) at worst and without
// allocating (the backtracking-to-the-last-star algorithm). ? consumes one UTF-8 character.
func glob(pat, s string, fold bool) bool {
	px, sx := 0, 0
	nextPx, nextSx := 0, 0
	for px < len(pat) || sx < len(s) {
		if px < len(pat) {
			switch c := pat[px]; c {
			case '*':
				nextPx = px
				nextSx = sx + 1
				if sx < len(s) {
					_, w := utf8.DecodeRuneInString(s[sx:])
					nextSx = sx + w
				}
				px++
				continue
			case '?':
				if sx < len(s) {
					_, w := utf8.DecodeRuneInString(s[sx:])
					px++
					sx += w
					continue
				}
			default:
				if sx < len(s) {
					b := s[sx]
					if fold && b >= 'A' && b <= 'Z' {
						b += 'a' - 'A'
					}
					if b == c {
						px++
						sx++
						continue
					}
				}
			}
		}
		if 0 < nextSx && nextSx <= len(s) {
			px = nextPx
			sx = nextSx
			continue
		}
		return false
	}
	return true
}

// arn is a resource name split into its parts: acs:service:region:account:relative-id.
type arn struct {
	service, region, account, relative string
}

// splitARN splits "acs:service:region:account:relative-id"; the relative id is everything after the fourth colon.
func splitARN(s string) (arn, bool) {
	rest, ok := strings.CutPrefix(s, "acs:")
	if !ok {
		return arn{}, false
	}
	var a arn
	var parts [3]string
	for i := range parts {
		j := strings.IndexByte(rest, ':')
		if j < 0 {
			return arn{}, false
		}
		parts[i] = rest[:j]
		rest = rest[j+1:]
	}
	a.service, a.region, a.account, a.relative = parts[0], parts[1], parts[2], rest
	return a, true
}

// resourcePattern is a compiled Resource entry: "*" or the four parts of an ARN pattern, matched part by part
// (case-sensitively), so a wildcard in the service, region or account never crosses a colon. An empty region or
// account in the pattern matches any value.
type resourcePattern struct {
	any                                bool
	service, region, account, relative pattern
}

func compileResource(s string) (resourcePattern, bool) {
	if s == "*" {
		return resourcePattern{any: true}, true
	}
	a, ok := splitARN(s)
	if !ok {
		return resourcePattern{}, false
	}
	part := func(p string, emptyMatchesAny bool) pattern {
		if p == "" && emptyMatchesAny {
			return pattern{kind: patAny}
		}
		return compilePattern(p, false)
	}
	return resourcePattern{
		service:  part(a.service, false),
		region:   part(a.region, true),
		account:  part(a.account, true),
		relative: part(a.relative, false),
	}, true
}

// requestResource is a request's resource, split once per evaluation.
type requestResource struct {
	full string
	arn  arn
	ok   bool // an ARN; otherwise only "*" patterns match it
}

func (p *resourcePattern) match(r *requestResource) bool {
	if p.any {
		return true
	}
	return r.ok && p.service.match(r.arn.service) && p.region.match(r.arn.region) &&
		p.account.match(r.arn.account) && p.relative.match(r.arn.relative)
}
