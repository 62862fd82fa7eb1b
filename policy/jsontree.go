package policy

import (
	"fmt"
	"strings"
	"unicode/utf16"
	"unicode/utf8"
)

// A small JSON reader of our own: encoding/json neither reports duplicate keys nor gives reliable positions for
// syntax errors, and both are part of the contract of Parse. It builds a tree that keeps members in document order.

type jsonKind uint8

const (
	jsonNull jsonKind = iota
	jsonBool
	jsonNumber
	jsonString
	jsonArray
	jsonObject
)

// jsonValue is one node of the tree. For strings text is the decoded value, for numbers the literal, for
// booleans "true" or "false".
type jsonValue struct {
	kind    jsonKind
	text    string
	items   []*jsonValue
	members []jsonMember
}

type jsonMember struct {
	key   string
	value *jsonValue
}

// maxJSONDepth bounds nesting; a policy document needs five levels.
const maxJSONDepth = 64

// jsonSyntaxError is a syntax error at a byte offset of the input.
type jsonSyntaxError struct {
	offset int
	msg    string
}

type jsonReader struct {
	s   string
	pos int
	err *jsonSyntaxError
}

// parseJSON parses exactly one JSON value surrounded by optional white space.
func parseJSON(s string) (*jsonValue, *jsonSyntaxError) {
	if !utf8.ValidString(s) {
		off := 0
		for off < len(s) {
			r, w := utf8.DecodeRuneInString(s[off:])
			if r == utf8.RuneError && w == 1 {
				break
			}
			off += w
		}
		return nil, &jsonSyntaxError{off, "invalid UTF-8"}
	}
	r := &jsonReader{s: s}
	r.space()
	if r.pos == len(s) {
		return nil, &jsonSyntaxError{r.pos, "empty document, expected a JSON object"}
	}
	v := r.value(0)
	if r.err != nil {
		return nil, r.err
	}
	r.space()
	if r.pos < len(s) {
		return nil, &jsonSyntaxError{r.pos, fmt.Sprintf("unexpected %s after the end of the document", r.describe())}
	}
	return v, nil
}

func (r *jsonReader) fail(msg string) *jsonValue {
	if r.err == nil {
		r.err = &jsonSyntaxError{r.pos, msg}
	}
	return nil
}

// describe names the character at the current position for an error message.
func (r *jsonReader) describe() string {
	if r.pos >= len(r.s) {
		return "end of input"
	}
	c, _ := utf8.DecodeRuneInString(r.s[r.pos:])
	if c < 0x20 || c == 0x7f {
		return fmt.Sprintf("control character %U", c)
	}
	return fmt.Sprintf("character %q", c)
}

func (r *jsonReader) space() {
	for r.pos < len(r.s) {
		switch r.s[r.pos] {
		case ' ', '\t', '\n', '\r':
			r.pos++
		default:
			return
		}
	}
}

func (r *jsonReader) value(depth int) *jsonValue {
	if depth > maxJSONDepth {
		return r.fail("nesting too deep")
	}
	if r.pos >= len(r.s) {
		return r.fail("unexpected end of input, expected a value")
	}
	switch c := r.s[r.pos]; {
	case c == '{':
		return r.object(depth)
	case c == '[':
		return r.array(depth)
	case c == '"':
		s, ok := r.str()
		if !ok {
			return nil
		}
		return &jsonValue{kind: jsonString, text: s}
	case c == '-' || (c >= '0' && c <= '9'):
		return r.number()
	case strings.HasPrefix(r.s[r.pos:], "true"):
		r.pos += 4
		return &jsonValue{kind: jsonBool, text: "true"}
	case strings.HasPrefix(r.s[r.pos:], "false"):
		r.pos += 5
		return &jsonValue{kind: jsonBool, text: "false"}
	case strings.HasPrefix(r.s[r.pos:], "null"):
		r.pos += 4
		return &jsonValue{kind: jsonNull}
	default:
		return r.fail(fmt.Sprintf("unexpected %s, expected a value", r.describe()))
	}
}

func (r *jsonReader) object(depth int) *jsonValue {
	r.pos++ // {
	v := &jsonValue{kind: jsonObject}
	r.space()
	if r.pos < len(r.s) && r.s[r.pos] == '}' {
		r.pos++
		return v
	}
	for {
		r.space()
		if r.pos >= len(r.s) || r.s[r.pos] != '"' {
			return r.fail(fmt.Sprintf("unexpected %s, expected a string key", r.describe()))
		}
		key, ok := r.str()
		if !ok {
			return nil
		}
		r.space()
		if r.pos >= len(r.s) || r.s[r.pos] != ':' {
			return r.fail(fmt.Sprintf("unexpected %s, expected ':' after key %q", r.describe(), key))
		}
		r.pos++
		r.space()
		val := r.value(depth + 1)
		if val == nil {
			return nil
		}
		v.members = append(v.members, jsonMember{key, val})
		r.space()
		if r.pos >= len(r.s) {
			return r.fail("unexpected end of input, expected ',' or '}'")
		}
		switch r.s[r.pos] {
		case ',':
			r.pos++
		case '}':
			r.pos++
			return v
		default:
			return r.fail(fmt.Sprintf("unexpected %s, expected ',' or '}'", r.describe()))
		}
	}
}

func (r *jsonReader) array(depth int) *jsonValue {
	r.pos++ // [
	v := &jsonValue{kind: jsonArray}
	r.space()
	if r.pos < len(r.s) && r.s[r.pos] == ']' {
		r.pos++
		return v
	}
	for {
		r.space()
		item := r.value(depth + 1)
		if item == nil {
			return nil
		}
		v.items = append(v.items, item)
		r.space()
		if r.pos >= len(r.s) {
			return r.fail("unexpected end of input, expected ',' or ']'")
		}
		switch r.s[r.pos] {
		case ',':
			r.pos++
		case ']':
			r.pos++
			return v
		default:
			return r.fail(fmt.Sprintf("unexpected %s, expected ',' or ']'", r.describe()))
		}
	}
}

func (r *jsonReader) number() *jsonValue {
	start := r.pos
	digits := func() int {
		n := 0
		for r.pos < len(r.s) && r.s[r.pos] >= '0' && r.s[r.pos] <= '9' {
			r.pos++
			n++
		}
		return n
	}
	if r.s[r.pos] == '-' {
		r.pos++
	}
	if r.pos < len(r.s) && r.s[r.pos] == '0' {
		r.pos++
	} else if digits() == 0 {
		return r.fail(fmt.Sprintf("unexpected %s in number, expected a digit", r.describe()))
	}
	if r.pos < len(r.s) && r.s[r.pos] == '.' {
		r.pos++
		if digits() == 0 {
			return r.fail(fmt.Sprintf("unexpected %s in number, expected a digit", r.describe()))
		}
	}
	if r.pos < len(r.s) && (r.s[r.pos] == 'e' || r.s[r.pos] == 'E') {
		r.pos++
		if r.pos < len(r.s) && (r.s[r.pos] == '+' || r.s[r.pos] == '-') {
			r.pos++
		}
		if digits() == 0 {
			return r.fail(fmt.Sprintf("unexpected %s in number, expected a digit", r.describe()))
		}
	}
	return &jsonValue{kind: jsonNumber, text: r.s[start:r.pos]}
}

// str reads a string starting at the opening quote.
func (r *jsonReader) str() (string, bool) {
	r.pos++ // opening quote
	start := r.pos
	// Fast path: no escapes.
	for r.pos < len(r.s) {
		c := r.s[r.pos]
		if c == '"' {
			s := r.s[start:r.pos]
			r.pos++
			return s, true
		}
		if c == '\\' || c < 0x20 {
			break
		}
		r.pos++
	}
	var b strings.Builder
	b.WriteString(r.s[start:r.pos])
	for {
		if r.pos >= len(r.s) {
			r.fail("unexpected end of input in string")
			return "", false
		}
		c := r.s[r.pos]
		switch {
		case c == '"':
			r.pos++
			return b.String(), true
		case c < 0x20:
			r.fail(fmt.Sprintf("unexpected %s in string", r.describe()))
			return "", false
		case c != '\\':
			b.WriteByte(c)
			r.pos++
			continue
		}
		r.pos++ // backslash
		if r.pos >= len(r.s) {
			r.fail("unexpected end of input in string escape")
			return "", false
		}
		e := r.s[r.pos]
		switch e {
		case '"', '\\', '/':
			b.WriteByte(e)
		case 'b':
			b.WriteByte('\b')
		case 'f':
			b.WriteByte('\f')
		case 'n':
			b.WriteByte('\n')
		case 'r':
			b.WriteByte('\r')
		case 't':
			b.WriteByte('\t')
		case 'u':
			r.pos++
			c1, ok := r.hex4()
			if !ok {
				return "", false
			}
			if utf16.IsSurrogate(c1) && strings.HasPrefix(r.s[r.pos:], `\u`) {
				save := r.pos
				r.pos += 2
				c2, ok := r.hex4()
				if !ok {
					return "", false
				}
				if dec := utf16.DecodeRune(c1, c2); dec != utf8.RuneError {
					b.WriteRune(dec)
					continue
				}
				r.pos = save
			}
			if utf16.IsSurrogate(c1) {
				c1 = utf8.RuneError
			}
			b.WriteRune(c1)
			continue
		default:
			r.fail(fmt.Sprintf("invalid escape %s in string", r.describe()))
			return "", false
		}
		r.pos++
	}
}

func (r *jsonReader) hex4() (rune, bool) {
	var v rune
	for i := 0; i < 4; i++ {
		if r.pos >= len(r.s) {
			r.fail("unexpected end of input in \\u escape")
			return 0, false
		}
		c := r.s[r.pos]
		switch {
		case c >= '0' && c <= '9':
			v = v<<4 | rune(c-'0')
		case c >= 'a' && c <= 'f':
			v = v<<4 | rune(c-'a'+10)
		case c >= 'A' && c <= 'F':
			v = v<<4 | rune(c-'A'+10)
		default:
			r.fail(fmt.Sprintf("unexpected %s in \\u escape, expected a hex digit", r.describe()))
			return 0, false
		}
		r.pos++
	}
	return v, true
}

// lineColumn converts a byte offset into a 1-based line and a 1-based column counted in characters.
func lineColumn(s string, offset int) (line, column int) {
	if offset > len(s) {
		offset = len(s)
	}
	line = 1
	lineStart := 0
	for i := 0; i < offset; i++ {
		if s[i] == '\n' {
			line++
			lineStart = i + 1
		}
	}
	return line, utf8.RuneCountInString(s[lineStart:offset]) + 1
}
