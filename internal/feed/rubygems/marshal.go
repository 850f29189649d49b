package rubygems

import (
	"bytes"
	"time"
)

// marshal writes the values of Ruby's Marshal format 4.8 that RubyGems'
// indexes hold: nil, booleans, small integers, UTF-8 strings, arrays,
// hashes, and the objects below.
type marshal struct{ bytes.Buffer }

// version is a Gem::Version, dumped as [version].
type version string

// requirement is a Gem::Requirement of one operator and version, dumped
// as [[[op, version]]].
type requirement struct{ op, version string }

// specification is what a quick gemspec holds of a Gem::Specification,
// dumped through its _dump as Marshal of its fields.
type specification struct {
	name, version, platform, summary string
	date                             time.Time
}

func dump(v any) []byte {
	var m marshal
	m.WriteString("\x04\x08")
	m.value(v)
	return m.Bytes()
}

func (m *marshal) long(n int) {
	switch {
	case n == 0:
		m.WriteByte(0)
	case n > 0 && n < 123:
		m.WriteByte(byte(n + 5))
	case n < 0 && n > -124:
		m.WriteByte(byte(n - 5))
	default:
		var b []byte
		for x := n; ; x >>= 8 {
			b = append(b, byte(x))
			if x>>8 == 0 && n > 0 || x>>8 == -1 && n < 0 {
				break
			}
		}
		if n > 0 {
			m.WriteByte(byte(len(b)))
		} else {
			m.WriteByte(byte(-len(b)))
		}
		m.Write(b)
	}
}

func (m *marshal) symbol(s string) {
	m.WriteByte(':')
	m.long(len(s))
	m.WriteString(s)
}

func (m *marshal) value(v any) {
	switch v := v.(type) {
	case nil:
		m.WriteByte('0')
	case bool:
		m.WriteByte(map[bool]byte{true: 'T', false: 'F'}[v])
	case int:
		m.WriteByte('i')
		m.long(v)
	case string:
		m.WriteString(`I"`)
		m.long(len(v))
		m.WriteString(v)
		m.long(1)
		m.symbol("E")
		m.WriteByte('T')
	case []any:
		m.WriteByte('[')
		m.long(len(v))
		for _, e := range v {
			m.value(e)
		}
	case map[string]any:
		m.WriteByte('{')
		m.long(len(v))
		for k, e := range v {
			m.value(k)
			m.value(e)
		}
	case version:
		m.WriteByte('U')
		m.symbol("Gem::Version")
		m.value([]any{string(v)})
	case requirement:
		m.WriteByte('U')
		m.symbol("Gem::Requirement")
		m.value([]any{[]any{[]any{v.op, version(v.version)}}})
	case specification:
		fields := dump([]any{"3.3.15", 4, v.name, version(v.version), v.date.UTC().Format("2006-01-02"), v.summary,
			requirement{">=", "0"}, requirement{">=", "0"}, v.platform, []any{}, "", nil, []any{}, "", nil, true,
			v.platform, []any{}, map[string]any{}})
		m.WriteByte('u')
		m.symbol("Gem::Specification")
		m.long(len(fields))
		m.Write(fields)
	default:
		panic("rubygems: no Marshal form for a value of this type")
	}
}
