package policy

import (
	"net/netip"
	"strconv"
	"strings"
)

// family groups operators by the type of their values.
type family uint8

const (
	famString family = iota
	famNumeric
	famDate
	famBool
	famIP
)

// opKind is the comparison an operator makes.
type opKind uint8

const (
	opEquals opKind = iota
	opEqualsIgnoreCase
	opLike
	opLess
	opLessEquals
	opGreater
	opGreaterEquals
	opIPAddress
	opBool
)

type operator struct {
	family  family
	kind    opKind
	negated bool // holds when no value matches; true when the key is absent
}

// operators lists every operator of SPEC §4.2. Names are case-sensitive.
var operators = map[string]operator{
	"StringEquals":              {famString, opEquals, false},
	"StringNotEquals":           {famString, opEquals, true},
	"StringEqualsIgnoreCase":    {famString, opEqualsIgnoreCase, false},
	"StringNotEqualsIgnoreCase": {famString, opEqualsIgnoreCase, true},
	"StringLike":                {famString, opLike, false},
	"StringNotLike":             {famString, opLike, true},
	"NumericEquals":             {famNumeric, opEquals, false},
	"NumericNotEquals":          {famNumeric, opEquals, true},
	"NumericLessThan":           {famNumeric, opLess, false},
	"NumericLessThanEquals":     {famNumeric, opLessEquals, false},
	"NumericGreaterThan":        {famNumeric, opGreater, false},
	"NumericGreaterThanEquals":  {famNumeric, opGreaterEquals, false},
	"DateEquals":                {famDate, opEquals, false},
	"DateNotEquals":             {famDate, opEquals, true},
	"DateLessThan":              {famDate, opLess, false},
	"DateLessThanEquals":        {famDate, opLessEquals, false},
	"DateGreaterThan":           {famDate, opGreater, false},
	"DateGreaterThanEquals":     {famDate, opGreaterEquals, false},
	"Bool":                      {famBool, opBool, false},
	"IpAddress":                 {famIP, opIPAddress, false},
	"NotIpAddress":              {famIP, opIPAddress, true},
}

// check returns why a policy value is not valid for the family, or "".
func (f family) check(s string) string {
	switch f {
	case famNumeric:
		if _, ok := parseNumber(s); !ok {
			return "is not a number"
		}
	case famDate:
		if _, ok := parseDate(s); !ok {
			return "is not an ISO 8601 date (2006-01-02 or 2006-01-02T15:04:05Z)"
		}
	case famBool:
		if s != "true" && s != "false" {
			return `is not "true" or "false"`
		}
	case famIP:
		if _, ok := parsePrefix(s); !ok {
			return "is not an IP or CIDR"
		}
	}
	return ""
}

// parseNumber accepts decimal numbers: an optional sign, digits with an optional fraction, an optional exponent.
// Hexadecimal, underscores, Inf and NaN are refused. The syntax is checked before strconv is called so that a
// malformed request value costs no allocation.
func parseNumber(s string) (float64, bool) {
	i := 0
	if i < len(s) && (s[i] == '+' || s[i] == '-') {
		i++
	}
	digits := 0
	for i < len(s) && s[i] >= '0' && s[i] <= '9' {
		i++
		digits++
	}
	if i < len(s) && s[i] == '.' {
		i++
		for i < len(s) && s[i] >= '0' && s[i] <= '9' {
			i++
			digits++
		}
	}
	if digits == 0 {
		return 0, false
	}
	if i < len(s) && (s[i] == 'e' || s[i] == 'E') {
		i++
		if i < len(s) && (s[i] == '+' || s[i] == '-') {
			i++
		}
		exp := 0
		for i < len(s) && s[i] >= '0' && s[i] <= '9' {
			i++
			exp++
		}
		if exp == 0 {
			return 0, false
		}
	}
	if i != len(s) {
		return 0, false
	}
	f, err := strconv.ParseFloat(s, 64)
	if err != nil { // out of range
		return 0, false
	}
	return f, true
}

// instant is a point in time as seconds and nanoseconds since the Unix epoch.
type instant struct {
	sec  int64
	nsec int32
}

func (a instant) compare(b instant) int {
	switch {
	case a.sec < b.sec:
		return -1
	case a.sec > b.sec:
		return 1
	case a.nsec < b.nsec:
		return -1
	case a.nsec > b.nsec:
		return 1
	}
	return 0
}

// parseDate accepts the ISO 8601 forms used in RAM policies: a date (2006-01-02, meaning its midnight UTC) or a
// date and time 2006-01-02T15:04[:05[.999999999]] followed by Z, ±hh:mm, ±hhmm or ±hh; without a zone the time is
// UTC. It needs neither the clock nor the time zone database and does not allocate.
func parseDate(s string) (instant, bool) {
	num := func(i, n int) (int, bool) {
		if i+n > len(s) {
			return 0, false
		}
		v := 0
		for _, c := range []byte(s[i : i+n]) {
			if c < '0' || c > '9' {
				return 0, false
			}
			v = v*10 + int(c-'0')
		}
		return v, true
	}
	year, ok1 := num(0, 4)
	month, ok2 := num(5, 2)
	day, ok3 := num(8, 2)
	if !ok1 || !ok2 || !ok3 || s[4] != '-' || s[7] != '-' {
		return instant{}, false
	}
	if month < 1 || month > 12 || day < 1 || day > daysIn(year, month) {
		return instant{}, false
	}
	var hour, minute, second, nsec int
	i := 10
	if i < len(s) {
		if s[i] != 'T' && s[i] != 't' {
			return instant{}, false
		}
		var ok bool
		if hour, ok = num(i+1, 2); !ok || hour > 23 || i+3 >= len(s) || s[i+3] != ':' {
			return instant{}, false
		}
		if minute, ok = num(i+4, 2); !ok || minute > 59 {
			return instant{}, false
		}
		i += 6
		if i < len(s) && s[i] == ':' {
			if second, ok = num(i+1, 2); !ok || second > 59 {
				return instant{}, false
			}
			i += 3
			if i < len(s) && (s[i] == '.' || s[i] == ',') {
				i++
				start := i
				scale := 100_000_000
				for i < len(s) && s[i] >= '0' && s[i] <= '9' {
					nsec += int(s[i]-'0') * scale
					scale /= 10
					i++
				}
				if i == start {
					return instant{}, false
				}
			}
		}
		offset := 0
		switch {
		case i == len(s):
		case s[i] == 'Z' || s[i] == 'z':
			i++
		case s[i] == '+' || s[i] == '-':
			sign := 1
			if s[i] == '-' {
				sign = -1
			}
			oh, ok := num(i+1, 2)
			if !ok || oh > 23 {
				return instant{}, false
			}
			i += 3
			om := 0
			if i < len(s) {
				if s[i] == ':' {
					i++
				}
				if om, ok = num(i, 2); !ok || om > 59 {
					return instant{}, false
				}
				i += 2
			}
			offset = sign * (oh*3600 + om*60)
		default:
			return instant{}, false
		}
		if i != len(s) {
			return instant{}, false
		}
		return instant{daysFromCivil(year, month, day)*86400 + int64(hour*3600+minute*60+second-offset), int32(nsec)}, true
	}
	return instant{daysFromCivil(year, month, day) * 86400, 0}, true
}

func daysIn(year, month int) int {
	switch month {
	case 2:
		if year%4 == 0 && (year%100 != 0 || year%400 == 0) {
			return 29
		}
		return 28
	case 4, 6, 9, 11:
		return 30
	}
	return 31
}

// daysFromCivil returns the days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's algorithm).
func daysFromCivil(y, m, d int) int64 {
	if m <= 2 {
		y--
	}
	era := y / 400
	if y < 0 {
		era = (y - 399) / 400 // floor division: year 0000 in January and February counts from year -1
	}
	yoe := y - era*400
	mp := (m + 9) % 12
	doy := (153*mp+2)/5 + d - 1
	doe := yoe*365 + yoe/4 - yoe/100 + doy
	return int64(era)*146097 + int64(doe) - 719468
}

// parsePrefix accepts an IP address (a single-address prefix) or a CIDR, IPv4 or IPv6.
func parsePrefix(s string) (netip.Prefix, bool) {
	if strings.Contains(s, "/") {
		p, err := netip.ParsePrefix(s)
		if err != nil {
			return netip.Prefix{}, false
		}
		if p.Addr().Is4In6() {
			return netip.Prefix{}, false
		}
		return p.Masked(), true
	}
	a, ok := parseAddr(s)
	if !ok {
		return netip.Prefix{}, false
	}
	return netip.PrefixFrom(a, a.BitLen()), true
}

// parseAddr parses an IP address without a zone; an IPv4-mapped IPv6 address counts as IPv4.
func parseAddr(s string) (netip.Addr, bool) {
	if s == "" {
		return netip.Addr{}, false
	}
	// Refuse obvious non-addresses before netip, whose error would allocate, and zones ("fe80::1%eth0").
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= '0' && c <= '9' || c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F' || c == '.' || c == ':') {
			return netip.Addr{}, false
		}
	}
	a, err := netip.ParseAddr(s)
	if err != nil {
		return netip.Addr{}, false
	}
	return a.Unmap(), true
}

// parseBool reads a request's boolean value: "true" or "false" in any letter case.
func parseBool(s string) (value, ok bool) {
	switch {
	case strings.EqualFold(s, "true"):
		return true, true
	case strings.EqualFold(s, "false"):
		return false, true
	}
	return false, false
}
