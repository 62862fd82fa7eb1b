// Package ram is ramconsole's domain service: every console and API
// operation goes through it — authorise, validate (names, limits, RAM error
// codes), then change and record the audit event in one transaction — so the
// console and the API can never disagree.
package ram

import (
	"errors"
	"fmt"
	"sort"
	"strings"
)

// Kinds of domain error, for handlers to pick a status and page.
const (
	EINVALID   = "invalid"
	ENOTFOUND  = "not_found"
	ECONFLICT  = "conflict"
	EFORBIDDEN = "forbidden"
	ELIMIT     = "limit"
	EAUTH      = "unauthenticated"
	// EBUSY: the server is saturated; try again shortly (503).
	EBUSY = "busy"
)

// Error is a domain error with a safe message for people, the RAM error code
// for the API and, for invalid input, a message per form field.
type Error struct {
	Kind    string
	Code    string            // RAM error code, e.g. InvalidParameter.UserName.Length
	Message string            // safe to show
	Fields  map[string]string // field name → message, for forms
	Denial  *Denial           // for NoPermission: what was refused and why
	// trust marks a refusal by a role's trust policy, which (unlike a
	// policy refusal in authorize) is not recorded yet.
	trust bool
}

func (e *Error) Error() string {
	if len(e.Fields) == 0 {
		return "ram: " + e.Message
	}
	keys := e.fieldNames()
	parts := make([]string, len(keys))
	for i, k := range keys {
		parts[i] = k + ": " + e.Fields[k]
	}
	return "ram: " + e.Message + " (" + strings.Join(parts, "; ") + ")"
}

// Detail is the message an answer and its audit record carry: the
// field messages, sorted by field, when there are any; else Message.
func (e *Error) Detail() string {
	if len(e.Fields) == 0 {
		return e.Message
	}
	keys := e.fieldNames()
	msgs := make([]string, len(keys))
	for i, k := range keys {
		msgs[i] = e.Fields[k]
	}
	return strings.Join(msgs, " ")
}

// fieldNames are the names of e's fields, sorted.
func (e *Error) fieldNames() []string {
	keys := make([]string, 0, len(e.Fields))
	for k := range e.Fields {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// AsError returns the *Error inside err, if any.
func AsError(err error) (*Error, bool) {
	var e *Error
	ok := errors.As(err, &e)
	return e, ok
}

// ErrorKind returns the kind of a domain error, or "" for any other error.
func ErrorKind(err error) string {
	if e, ok := AsError(err); ok {
		return e.Kind
	}
	return ""
}

// fieldErrors collects per-field problems while validating a form.
type fieldErrors struct {
	fields map[string]string
	code   string // the first problem's RAM code
}

func (f *fieldErrors) add(field, code, format string, args ...any) {
	if f.fields == nil {
		f.fields = map[string]string{}
	}
	if _, dup := f.fields[field]; dup {
		return
	}
	f.fields[field] = fmt.Sprintf(format, args...)
	if f.code == "" {
		f.code = code
	}
}

func (f *fieldErrors) err() error {
	if len(f.fields) == 0 {
		return nil
	}
	return &Error{Kind: EINVALID, Code: f.code, Message: "Please correct the highlighted fields.", Fields: f.fields}
}

// errBadLogin is the one answer to every failed sign-in, whatever the cause.
var errBadLogin = &Error{Kind: EAUTH, Code: "InvalidCredentials", Message: "Incorrect logon name or password"}

// ErrBadLogin reports whether err is the sign-in refusal.
func ErrBadLogin(err error) bool { return errors.Is(err, errBadLogin) }
