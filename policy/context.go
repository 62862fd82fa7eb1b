package policy

import (
	"fmt"
	"net/netip"
	"strings"
)

// Global condition keys (SPEC §4.2). Any other key may be set too; services add their own.
const (
	KeyCurrentTime     = "acs:CurrentTime"     // ISO 8601, e.g. 2026-01-02T15:04:05Z
	KeySourceIP        = "acs:SourceIp"        // the client's IP address
	KeySecureTransport = "acs:SecureTransport" // "true" over HTTPS
	KeyMFAPresent      = "acs:MFAPresent"      // "true" when the session passed MFA
	KeyUserAgent       = "acs:UserAgent"
	KeyPrincipalARN    = "acs:PrincipalArn"
)

// Context holds a request's condition keys and values. Keys are case-insensitive. The zero value is empty and ready
// to use; Reset empties it while keeping its storage, so one Context can serve many requests. Values are parsed for
// the typed operators when they are set, which keeps Evaluate free of parsing. A Context must not be changed while
// an evaluation reads it.
type Context struct {
	entries []contextEntry
}

// NewContext returns an empty Context with room for n keys.
func NewContext(n int) *Context { return &Context{entries: make([]contextEntry, 0, n)} }

type contextEntry struct {
	key   string // lower-case
	value string

	hasNumber, hasDate, hasBool, hasIP bool
	boolean                            bool
	number                             float64
	date                               instant
	ip                                 netip.Addr
}

// Set sets key to value, replacing any value of the same key in another letter case.
func (c *Context) Set(key, value string) {
	e := contextEntry{key: lowerASCII(key), value: value}
	e.number, e.hasNumber = parseNumber(value)
	e.date, e.hasDate = parseDate(value)
	e.boolean, e.hasBool = parseBool(value)
	e.ip, e.hasIP = parseAddr(value)
	for i := range c.entries {
		if c.entries[i].key == e.key {
			c.entries[i] = e
			c.dropAfter(i)
			return
		}
	}
	c.entries = append(c.entries, e)
}

// dropAfter removes the other values (Add) of entry i's key that follow it.
func (c *Context) dropAfter(i int) {
	out := c.entries[:i+1]
	for _, e := range c.entries[i+1:] {
		if e.key != c.entries[i].key {
			out = append(out, e)
		}
	}
	c.entries = out
}

// Add gives key one more value, keeping those it has: a multi-valued key (oidc:aud, every audience of a token).
// A positive operator holds when any of the values matches, a negated one when none does.
func (c *Context) Add(key, value string) {
	if c.lookup(lowerASCII(key)) == nil {
		c.Set(key, value)
		return
	}
	e := contextEntry{key: lowerASCII(key), value: value}
	e.number, e.hasNumber = parseNumber(value)
	e.date, e.hasDate = parseDate(value)
	e.boolean, e.hasBool = parseBool(value)
	e.ip, e.hasIP = parseAddr(value)
	c.entries = append(c.entries, e)
}

// Get returns the value of key, matched case-insensitively.
func (c *Context) Get(key string) (string, bool) {
	if c == nil {
		return "", false
	}
	for i := range c.entries {
		if len(c.entries[i].key) == len(key) && equalAt(key, c.entries[i].key, true) {
			return c.entries[i].value, true
		}
	}
	return "", false
}

// Reset removes every key, keeping the storage for reuse.
func (c *Context) Reset() {
	c.entries = c.entries[:0]
}

// Len returns the number of keys set.
func (c *Context) Len() int {
	if c == nil {
		return 0
	}
	return len(c.entries)
}

// lookup finds a lower-case key.
func (c *Context) lookup(key string) *contextEntry {
	if c == nil {
		return nil
	}
	for i := range c.entries {
		if c.entries[i].key == key {
			return &c.entries[i]
		}
	}
	return nil
}

// ParseContextArg splits a "key=value" argument of the CLI or the simulator at its first "=". The key must not be
// empty; the value may be empty and may contain "=".
func ParseContextArg(kv string) (key, value string, err error) {
	key, value, ok := strings.Cut(kv, "=")
	key = strings.TrimSpace(key)
	if !ok || key == "" {
		return "", "", fmt.Errorf("policy: context argument %q is not key=value", kv)
	}
	return key, value, nil
}
