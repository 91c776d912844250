package yamlfile

import (
	"encoding"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"
)

// Options turn on reading values from the environment and from files.
// The zero Options decode the file as written.
type Options struct {
	// LookupEnv resolves ${VAR} in scalar values ($$ is a literal $); an
	// unset variable is an error. Nil leaves values as written.
	LookupEnv func(string) (string, bool)
	// Files lets any string field X be given as X_file: the name of a file
	// (relative to the YAML file's directory) holding the value, without
	// its trailing newline.
	Files bool
}

// fileSuffix marks a key whose value names the file holding its sibling's value.
const fileSuffix = "_file"

// walker checks a node tree against the Go type it is decoded into, field
// by field, so that every problem is placed at its own line and column
// with its full path, whatever the style (block or flow) of the file. It
// also substitutes ${VAR} and X_file values in the tree.
type walker struct {
	file    string
	opts    Options
	errs    Errors
	changed bool                  // the tree differs from the file's text
	secrets []string              // values read from files or the environment
	done    map[*yaml.Node]bool   // scalars already substituted (aliases)
	written map[*yaml.Node]string // scalars with variables → their text as written
}

var (
	unmarshalerType         = reflect.TypeFor[yaml.Unmarshaler]()
	obsoleteUnmarshalerType = reflect.TypeFor[interface {
		UnmarshalYAML(func(any) error) error
	}]()
	textUnmarshalerType = reflect.TypeFor[encoding.TextUnmarshaler]()
	durationType        = reflect.TypeFor[time.Duration]()
	timeType            = reflect.TypeFor[time.Time]()
)

func (w *walker) errorf(n *yaml.Node, path, format string, args ...any) {
	w.errs = append(w.errs, &Error{File: w.file, Line: n.Line, Column: n.Column, Field: path, Msg: fmt.Sprintf(format, args...)})
}

// walk checks node n, found at path, against type t.
func (w *walker) walk(n *yaml.Node, t reflect.Type, path string) {
	n = deref(n)
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	if n.Kind == yaml.ScalarNode && n.ShortTag() == "!!null" && !w.needsSubstitution(n) {
		return // the zero value, whatever the type
	}
	custom := reflect.PointerTo(t).Implements(unmarshalerType) || reflect.PointerTo(t).Implements(obsoleteUnmarshalerType)
	switch {
	case t == timeType || t == durationType || reflect.PointerTo(t).Implements(textUnmarshalerType):
		w.leaf(n, t, path)
	case custom && t.Kind() == reflect.Struct && n.Kind == yaml.MappingNode:
		// Such types (Extraction) accept a shorthand scalar or their fields.
		w.structure(n, t, path)
	case custom:
		if n.Kind == yaml.ScalarNode && !w.substitute(n, path, reflect.String) {
			return
		}
		if err := n.Decode(reflect.New(t).Interface()); err != nil {
			w.errorf(n, path, "%s", typeErrorText(err))
		}
	case t.Kind() == reflect.Struct:
		if n.Kind != yaml.MappingNode {
			w.errorf(n, path, "want a mapping of fields, got %s", w.describe(n))
			return
		}
		w.structure(n, t, path)
	case t.Kind() == reflect.Map:
		if n.Kind != yaml.MappingNode {
			w.errorf(n, path, "want a mapping, got %s", w.describe(n))
			return
		}
		seen := map[string]int{}
		for i := 0; i+1 < len(n.Content); i += 2 {
			k, v := n.Content[i], n.Content[i+1]
			p := join(path, k.Value)
			if line, dup := seen[k.Value]; dup {
				w.errorf(k, p, "given twice (also at line %d)", line)
				continue
			}
			seen[k.Value] = k.Line
			w.walk(v, t.Elem(), p)
		}
	case t.Kind() == reflect.Slice || t.Kind() == reflect.Array:
		if n.Kind != yaml.SequenceNode {
			w.errorf(n, path, "want a list, got %s", w.describe(n))
			return
		}
		for i, c := range n.Content {
			w.walk(c, t.Elem(), fmt.Sprintf("%s[%d]", path, i))
		}
	case t.Kind() == reflect.Interface:
		// Anything goes.
	default:
		w.leaf(n, t, path)
	}
}

// field is a struct field as YAML names it.
type field struct {
	t    reflect.Type
	kind reflect.Kind // of the field's type, pointers removed
}

// inlineMapKey holds, in fields' map, the element type of an inline map,
// which takes every key the struct does not name.
const inlineMapKey = ",inline"

// fields lists the YAML keys of struct type t, inlined structs included.
func fields(t reflect.Type, out map[string]field) {
	for i := range t.NumField() {
		f := t.Field(i)
		if !f.IsExported() && !f.Anonymous {
			continue
		}
		tag := f.Tag.Get("yaml")
		if tag == "-" {
			continue
		}
		name, flags, _ := strings.Cut(tag, ",")
		if strings.Contains(","+flags+",", ",inline,") {
			ft := f.Type
			for ft.Kind() == reflect.Pointer {
				ft = ft.Elem()
			}
			switch ft.Kind() {
			case reflect.Struct:
				fields(ft, out)
			case reflect.Map:
				out[inlineMapKey] = field{t: ft.Elem(), kind: ft.Elem().Kind()}
			}
			continue
		}
		if !f.IsExported() {
			continue
		}
		if name == "" {
			name = strings.ToLower(f.Name)
		}
		ft := f.Type
		for ft.Kind() == reflect.Pointer {
			ft = ft.Elem()
		}
		out[name] = field{t: f.Type, kind: ft.Kind()}
	}
}

// structure checks a mapping against the fields of struct type t: unknown
// and repeated keys, X_file siblings, then each value.
func (w *walker) structure(n *yaml.Node, t reflect.Type, path string) {
	known := map[string]field{}
	fields(t, known)
	seen := map[string]int{} // key as decoded → line
	for _, pr := range w.merged(n, path) {
		k, v := pr.owner.Content[pr.at], pr.owner.Content[pr.at+1]
		name := k.Value
		if strings.HasPrefix(name, extensionPrefix) && path == "" {
			// Compose-style extension fields hold anchors to merge.
			w.changed = true
			continue
		}
		f, ok := known[name]
		if !ok {
			base := strings.TrimSuffix(name, fileSuffix)
			bf, isString := known[base]
			if w.opts.Files && base != name && isString && bf.kind == reflect.String {
				value, good := w.fromFile(k, v, join(path, name), base)
				if !good {
					continue
				}
				pr.owner.Content[pr.at+1], v = value, value
				name, f, ok = base, bf, true
			}
		}
		if !ok {
			f, ok = known[inlineMapKey]
		}
		p := join(path, name)
		if !ok {
			w.errorf(k, p, "unknown field %q", name)
			continue
		}
		if line, dup := seen[name]; dup {
			w.errorf(k, p, "given twice (also at line %d)", line)
			continue
		}
		seen[name] = k.Line
		w.walk(v, f.t, p)
	}
}

// extensionPrefix starts top-level keys that the config ignores, a place
// for anchors shared by merge keys ("x-site: &site {...}").
const extensionPrefix = "x-"

// pair is a key of a mapping, at owner.Content[at] (its value next).
type pair struct {
	owner *yaml.Node
	at    int
}

// merged returns mapping n's keys with YAML merge keys ("<<: *base",
// "<<: [*a, *b]") expanded: a key written in n wins over a merged one, and
// an earlier merged mapping over a later one.
func (w *walker) merged(n *yaml.Node, path string) []pair {
	var merges []*yaml.Node
	var out []pair
	own := map[string]bool{}
	for i := 0; i+1 < len(n.Content); i += 2 {
		if k := n.Content[i]; k.Value == "<<" && k.ShortTag() == "!!merge" {
			merges = append(merges, n.Content[i+1])
		} else {
			own[k.Value] = true
			out = append(out, pair{n, i})
		}
	}
	if len(merges) > 0 {
		w.changed = true // yaml.v3's tree decoder merges; its strict one is not used
	}
	var sources []*yaml.Node
	for _, m := range merges {
		m = deref(m)
		if m.Kind == yaml.SequenceNode {
			for _, c := range m.Content {
				sources = append(sources, deref(c))
			}
		} else {
			sources = append(sources, m)
		}
	}
	for _, src := range sources {
		if src.Kind != yaml.MappingNode {
			w.errorf(src, join(path, "<<"), "a merge key wants a mapping or a list of them, got %s", w.describe(src))
			continue
		}
		for _, pr := range w.merged(src, path) {
			if k := pr.owner.Content[pr.at]; !own[k.Value] {
				own[k.Value] = true
				out = append(out, pr)
			}
		}
	}
	return out
}

// deref follows aliases to the node they name.
func deref(n *yaml.Node) *yaml.Node {
	for n.Kind == yaml.AliasNode && n.Alias != nil {
		n = n.Alias
	}
	return n
}

// fromFile renames the key X_file to base and returns the node to put in
// place of its value, a file name: the file's contents. It reports whether
// that worked.
func (w *walker) fromFile(k, v *yaml.Node, path, base string) (*yaml.Node, bool) {
	v = deref(v)
	if v.Kind != yaml.ScalarNode {
		w.errorf(v, path, "want a file name, got %s", w.describe(v))
		return nil, false
	}
	if !w.substitute(v, path, reflect.String) {
		return nil, false
	}
	name := v.Value
	if name == "" {
		w.errorf(v, path, "want a file name, got an empty value")
		return nil, false
	}
	if !filepath.IsAbs(name) {
		name = filepath.Join(filepath.Dir(w.file), name)
	}
	data, err := os.ReadFile(name)
	if err != nil {
		var reason any = err
		if pe, ok := err.(*os.PathError); ok {
			reason = pe.Err
		}
		w.errorf(v, path, "cannot read the file %q: %v", name, reason)
		return nil, false
	}
	value := strings.TrimSuffix(string(data), "\n")
	value = strings.TrimSuffix(value, "\r")
	w.secret(value)
	k.Value = base
	read := &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!str", Value: value, Line: v.Line, Column: v.Column}
	w.done[read] = true
	w.changed = true
	return read, true
}

// leaf checks a scalar decoded into a string, bool, number, duration,
// time or text-unmarshalling type.
func (w *walker) leaf(n *yaml.Node, t reflect.Type, path string) {
	if n.Kind != yaml.ScalarNode {
		w.errorf(n, path, "want %s, got %s", want(t), w.describe(n))
		return
	}
	if !w.substitute(n, path, t.Kind()) || n.ShortTag() == "!!null" {
		return
	}
	switch {
	case t.Kind() == reflect.String:
		return // any scalar reads as its text
	case t.Kind() == reflect.Bool:
		// Only true and false: yaml.v3 would take "yes", "on" and even a
		// quoted "yes" as true.
		if n.ShortTag() != "!!bool" {
			w.errorf(n, path, "want true or false, got %s", w.describe(n))
		}
		return
	case isInt(t.Kind()) && reflect.PointerTo(t).Implements(textUnmarshalerType):
		// A named level such as a severity: its own parser says what it
		// wants, without the error's package prefixes.
		if err := reflect.New(t).Interface().(encoding.TextUnmarshaler).UnmarshalText([]byte(n.Value)); err != nil {
			msg := err.Error()
			if i := strings.LastIndex(msg, ": "); i >= 0 {
				msg = msg[i+2:]
			}
			w.errorf(n, path, "%s", msg)
		}
		return
	case isInt(t.Kind()) && t != durationType:
		// yaml.v3 would truncate 2.5 to 2.
		if n.ShortTag() != "!!int" {
			w.errorf(n, path, "want %s, got %s", want(t), w.describe(n))
			return
		}
	case t == durationType:
		// A bare number would be nanoseconds: 90 is not 90s.
		if n.ShortTag() != "!!str" && n.Value != "0" {
			w.errorf(n, path, "want a duration with a unit, such as 30s or 5m, got %s", w.describe(n))
			return
		}
	}
	if err := n.Decode(reflect.New(t).Interface()); err != nil {
		w.errorf(n, path, "want %s, got %s", want(t), w.describe(n))
	}
}

func isInt(k reflect.Kind) bool {
	switch k {
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		return true
	}
	return false
}

// want names what a value of type t looks like.
func want(t reflect.Type) string {
	switch {
	case t == durationType:
		return "a duration such as 30s or 5m"
	case t == timeType:
		return "a time such as 2026-01-02T15:04:05Z"
	}
	switch t.Kind() {
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		return "an integer"
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		return "a non-negative integer"
	case reflect.Float32, reflect.Float64:
		return "a number"
	case reflect.Bool:
		return "true or false"
	case reflect.String:
		return "a string"
	}
	return "a " + t.String()
}

// describe shows a node in an error: a scalar quoted (as written when
// it had variables), else its kind.
func (w *walker) describe(n *yaml.Node) string {
	if text, ok := w.written[n]; ok {
		return fmt.Sprintf("the value of %q", text)
	}
	switch n.Kind {
	case yaml.MappingNode:
		return "a mapping"
	case yaml.SequenceNode:
		return "a list"
	case yaml.ScalarNode:
		v := n.Value
		if len(v) > 64 {
			v = v[:61] + "..."
		}
		if n.ShortTag() == "!!str" && n.Style&(yaml.DoubleQuotedStyle|yaml.SingleQuotedStyle) != 0 {
			return fmt.Sprintf("the string %q", v)
		}
		return fmt.Sprintf("%q", v)
	}
	return "nothing"
}

// typeErrorText is a decoding error without yaml's prefixes, for types
// that decode themselves.
func typeErrorText(err error) string {
	msg := strings.TrimPrefix(err.Error(), "yaml: ")
	msg = strings.TrimPrefix(msg, "unmarshal errors:\n  ")
	if sm := lineMsg.FindStringSubmatch(msg); sm != nil {
		msg = sm[2]
	}
	return msg
}

func join(path, key string) string {
	if path == "" {
		return key
	}
	return path + "." + key
}
