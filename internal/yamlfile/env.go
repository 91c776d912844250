package yamlfile

import (
	"reflect"
	"strings"

	"go.yaml.in/yaml/v3"
)

// minSecretLen is the shortest substituted value scrubbed from messages:
// shorter ones cannot be secrets worth the name, and scrubbing "1" or
// "on" would garble every message.
const minSecretLen = 4

// needsSubstitution reports whether scalar n has a $ to handle.
func (w *walker) needsSubstitution(n *yaml.Node) bool {
	return w.opts.LookupEnv != nil && !w.done[n] && n.Kind == yaml.ScalarNode && strings.Contains(n.Value, "$")
}

// substitute expands ${VAR} and $$ in scalar n, decoded into a value of
// kind. A value that had a variable is typed by its expansion as if
// written plain (an environment has no types), except that a string field
// keeps it as text.
// It reports false, with an error, when a variable is missing.
func (w *walker) substitute(n *yaml.Node, path string, kind reflect.Kind) bool {
	if !w.needsSubstitution(n) {
		return true
	}
	w.done[n] = true
	out, vars, err := expand(n.Value, w.opts.LookupEnv)
	if err != "" {
		w.errorf(n, path, "%s", err)
		return false
	}
	if out == n.Value {
		return true
	}
	for _, v := range vars {
		w.secret(v)
	}
	if len(vars) > 0 {
		// Errors show the reference, never the value: it may be secret.
		w.written[n] = n.Value
	}
	n.Value = out
	if len(vars) > 0 {
		n.Style = 0
		n.Tag = ""
		if kind == reflect.String {
			n.Tag = "!!str"
		}
	}
	w.changed = true
	return true
}

// secret remembers a value to scrub from messages.
func (w *walker) secret(v string) {
	if len(v) >= minSecretLen {
		w.secrets = append(w.secrets, v)
	}
}

// expand replaces ${NAME} by the variable's value and $$ by $; any other
// $ stays. It returns the values substituted, or a problem.
func expand(s string, lookup func(string) (string, bool)) (out string, values []string, problem string) {
	var b strings.Builder
	for {
		i := strings.IndexByte(s, '$')
		if i < 0 || i == len(s)-1 {
			b.WriteString(s)
			return b.String(), values, ""
		}
		b.WriteString(s[:i])
		switch s[i+1] {
		case '$':
			b.WriteByte('$')
			s = s[i+2:]
		case '{':
			end := strings.IndexByte(s[i:], '}')
			if end < 0 {
				return "", nil, "unterminated ${ (write $$ for a literal $)"
			}
			name := s[i+2 : i+end]
			if !validVarName(name) {
				return "", nil, "bad variable name ${" + name + "} (write $$ for a literal $)"
			}
			v, ok := lookup(name)
			if !ok {
				return "", nil, "environment variable " + name + " is not set"
			}
			b.WriteString(v)
			values = append(values, v)
			s = s[i+end+1:]
		default:
			b.WriteByte('$')
			s = s[i+1:]
		}
	}
}

func validVarName(name string) bool {
	if name == "" {
		return false
	}
	for i, r := range name {
		ok := r == '_' || ('A' <= r && r <= 'Z') || ('a' <= r && r <= 'z') || (i > 0 && '0' <= r && r <= '9')
		if !ok {
			return false
		}
	}
	return true
}
