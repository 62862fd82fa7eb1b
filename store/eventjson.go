package store

import (
	"encoding/json"
	"slices"
	"strconv"
	"unicode/utf8"
)

// encodeEvent returns an event's canonical encoding: exactly what
// json.Marshal writes (the hash chain covers those bytes), without its
// reflection for the events every API call writes. Events with a value
// this encoder does not write byte for byte the same (a float, a type it
// does not know) go through json.Marshal.
func encodeEvent(ev *Event) ([]byte, error) {
	b := make([]byte, 0, 768)
	b, ok := appendEvent(b, ev)
	if !ok {
		return json.Marshal(ev)
	}
	return b, nil
}

func appendEvent(b []byte, ev *Event) ([]byte, bool) {
	field := func(name, v string) {
		b = append(b, ',', '"')
		b = append(b, name...)
		b = append(b, '"', ':')
		b = appendJSONString(b, v)
	}
	b = append(b, `{"eventId":`...)
	b = appendJSONString(b, ev.EventID)
	field("eventVersion", ev.EventVersion)
	field("eventTime", ev.EventTime)
	field("eventType", ev.EventType)
	field("eventSource", ev.EventSource)
	field("eventName", ev.EventName)
	if ev.EventRW != "" {
		field("eventRW", ev.EventRW)
	}
	field("serviceName", ev.ServiceName)
	field("requestId", ev.RequestID)
	b = append(b, `,"userIdentity":{"type":`...)
	id := &ev.UserIdentity
	b = appendJSONString(b, id.Type)
	if id.PrincipalID != "" {
		field("principalId", id.PrincipalID)
	}
	if id.AccountID != "" {
		field("accountId", id.AccountID)
	}
	if id.UserName != "" {
		field("userName", id.UserName)
	}
	if id.AccessKeyID != "" {
		field("accessKeyId", id.AccessKeyID)
	}
	if id.ARN != "" {
		field("arn", id.ARN)
	}
	if id.SessionName != "" {
		field("sessionName", id.SessionName)
	}
	if id.SourceUserName != "" {
		field("sourceUserName", id.SourceUserName)
	}
	if id.SourceUserID != "" {
		field("sourceUserId", id.SourceUserID)
	}
	if id.SourceAccessKeyID != "" {
		field("sourceAccessKeyId", id.SourceAccessKeyID)
	}
	b = append(b, '}')
	field("sourceIpAddress", ev.SourceIPAddress)
	field("userAgent", ev.UserAgent)
	var ok bool
	if len(ev.RequestParameters) > 0 {
		b = append(b, `,"requestParameters":`...)
		if b, ok = appendJSONMap(b, ev.RequestParameters); !ok {
			return nil, false
		}
	}
	if ev.ResourceName != "" {
		field("resourceName", ev.ResourceName)
	}
	if ev.AcsRegion != "" {
		field("acsRegion", ev.AcsRegion)
	}
	if ev.RecipientAccountID != "" {
		field("recipientAccountId", ev.RecipientAccountID)
	}
	if ev.ErrorCode != "" {
		field("errorCode", ev.ErrorCode)
	}
	if ev.ErrorMessage != "" {
		field("errorMessage", ev.ErrorMessage)
	}
	if len(ev.AdditionalEventData) > 0 {
		b = append(b, `,"additionalEventData":`...)
		if b, ok = appendJSONMap(b, ev.AdditionalEventData); !ok {
			return nil, false
		}
	}
	b = append(b, `,"isError":`...)
	b = strconv.AppendBool(b, ev.IsError)
	return append(b, '}'), true
}

// appendJSONMap writes a map with its keys sorted, as encoding/json does.
func appendJSONMap(b []byte, m map[string]any) ([]byte, bool) {
	var arr [16]string
	keys := arr[:0]
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	b = append(b, '{')
	for i, k := range keys {
		if i > 0 {
			b = append(b, ',')
		}
		b = appendJSONString(b, k)
		b = append(b, ':')
		var ok bool
		if b, ok = appendJSONValue(b, m[k]); !ok {
			return nil, false
		}
	}
	return append(b, '}'), true
}

func appendJSONValue(b []byte, v any) ([]byte, bool) {
	switch v := v.(type) {
	case string:
		return appendJSONString(b, v), true
	case bool:
		return strconv.AppendBool(b, v), true
	case int:
		return strconv.AppendInt(b, int64(v), 10), true
	case int64:
		return strconv.AppendInt(b, v, 10), true
	case nil:
		return append(b, "null"...), true
	case []string:
		if v == nil {
			return append(b, "null"...), true
		}
		b = append(b, '[')
		for i, s := range v {
			if i > 0 {
				b = append(b, ',')
			}
			b = appendJSONString(b, s)
		}
		return append(b, ']'), true
	case map[string]any:
		if v == nil {
			return append(b, "null"...), true
		}
		return appendJSONMap(b, v)
	}
	return nil, false
}

// appendJSONString writes s as encoding/json does: HTML characters, U+2028
// and U+2029 escaped, invalid UTF-8 as U+FFFD.
func appendJSONString(b []byte, s string) []byte {
	const hex = "0123456789abcdef"
	b = append(b, '"')
	start := 0
	for i := 0; i < len(s); {
		if c := s[i]; c < utf8.RuneSelf {
			if c >= 0x20 && c != '"' && c != '\\' && c != '<' && c != '>' && c != '&' {
				i++
				continue
			}
			b = append(b, s[start:i]...)
			switch c {
			case '\\', '"':
				b = append(b, '\\', c)
			case '\b':
				b = append(b, '\\', 'b')
			case '\f':
				b = append(b, '\\', 'f')
			case '\n':
				b = append(b, '\\', 'n')
			case '\r':
				b = append(b, '\\', 'r')
			case '\t':
				b = append(b, '\\', 't')
			default:
				b = append(b, '\\', 'u', '0', '0', hex[c>>4], hex[c&0xF])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			b = append(b, s[start:i]...)
			b = append(b, `\ufffd`...)
			i += size
			start = i
			continue
		}
		if r == '\u2028' || r == '\u2029' {
			b = append(b, s[start:i]...)
			b = append(b, '\\', 'u', '2', '0', '2', hex[r&0xF])
			i += size
			start = i
			continue
		}
		i += size
	}
	b = append(b, s[start:]...)
	return append(b, '"')
}
