// Package yamlfile decodes YAML configuration strictly and reports every
// problem as "file:line:column: field: message", so that an operator or
// analyst can go straight to the mistake, whether the file is written in
// block or flow style.
package yamlfile

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"reflect"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"go.yaml.in/yaml/v3"

	"github.com/precwatch/precwatch"
)

// Error is a problem at a place in a YAML file.
type Error struct {
	File   string
	Line   int
	Column int    // 0 when unknown
	Field  string // a path such as sites[2].schedule; may be empty
	Msg    string
}

func (e *Error) Error() string {
	var b strings.Builder
	b.WriteString(e.File)
	if e.Line > 0 {
		b.WriteString(":" + strconv.Itoa(e.Line))
		if e.Column > 0 {
			b.WriteString(":" + strconv.Itoa(e.Column))
		}
	}
	if e.Field != "" {
		b.WriteString(": " + e.Field)
	}
	// Messages are built by many callers; no URL password gets past here.
	b.WriteString(": " + RedactURLs(e.Msg))
	return b.String()
}

// Is makes every problem a precwatch.ErrInvalid.
func (e *Error) Is(target error) bool { return target == precwatch.ErrInvalid }

// Errors is every problem found in one file.
type Errors []*Error

func (es Errors) Error() string {
	msgs := make([]string, len(es))
	for i, e := range es {
		msgs[i] = e.Error()
	}
	return strings.Join(msgs, "; ")
}

// Is makes the problems a precwatch.ErrInvalid.
func (es Errors) Is(target error) bool { return target == precwatch.ErrInvalid }

// Doc is a decoded file with the line of every field, to locate the
// problems found after decoding.
type Doc struct {
	File    string
	lines   map[string]pos   // field path → position of its key (or item)
	paths   map[int][]string // line → the field paths on it, outermost first
	secrets []string         // values from files and the environment, for Redact
}

type pos struct{ line, col int }

var lineMsg = regexp.MustCompile(`^line (\d+): (.*)$`)

// parserProblem are the problems yaml.v3's parser (not its scanner)
// reports, as parserc.go words them.
var parserProblem = map[string]bool{
	"did not find expected ',' or ']'":       true,
	"did not find expected ',' or '}'":       true,
	"did not find expected '-' indicator":    true,
	"did not find expected <document start>": true,
	"did not find expected <stream-start>":   true,
	"did not find expected key":              true,
	"did not find expected node content":     true,
	"found duplicate %TAG directive":         true,
	"found duplicate %YAML directive":        true,
	"found incompatible YAML document":       true,
	"found undefined tag handle":             true,
}

var notFound = regexp.MustCompile(`^field (\S+) not found in type .+$`)

// Decode decodes data into v, rejecting unknown fields, and returns the
// document for Doc.Errorf. Errors name the file, line, column and field.
func Decode(file string, data []byte, v any) (*Doc, error) {
	return DecodeWith(file, data, v, Options{})
}

// DecodeWith is Decode with values taken from the environment or files
// as opts allow. Such values never appear in its errors (nor in those of
// the Doc's Errorf and ErrorAt).
func DecodeWith(file string, data []byte, v any, opts Options) (*Doc, error) {
	var root yaml.Node
	if err := yaml.Unmarshal(data, &root); err != nil {
		return nil, convert(file, nil, err)
	}
	if len(root.Content) == 0 {
		return nil, Errors{{File: file, Msg: "empty file"}}
	}
	// Check field by field first: yaml.v3 only gives a type error's line,
	// which a flow mapping such as {max_pages: x, retries: 2} shares.
	w := &walker{file: file, opts: opts, done: map[*yaml.Node]bool{}, written: map[*yaml.Node]string{}}
	if t := reflect.TypeOf(v); t != nil && t.Kind() == reflect.Pointer {
		w.walk(root.Content[0], t.Elem(), "")
	}
	slices.SortFunc(w.secrets, func(a, b string) int { return len(b) - len(a) })
	doc := &Doc{File: file, lines: map[string]pos{}, paths: map[int][]string{}, secrets: w.secrets}
	if len(w.errs) > 0 {
		for _, e := range w.errs {
			e.Msg = doc.Redact(e.Msg)
		}
		return nil, w.errs
	}
	doc.index(&root, "")
	if w.changed {
		// The walk checked every key, so the tree's own decoder (which
		// cannot reject unknown fields) is safe here.
		if err := root.Decode(v); err != nil {
			return nil, Errors{{File: file, Msg: doc.Redact(typeErrorText(err))}}
		}
		return doc, nil
	}
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	if err := dec.Decode(v); err != nil {
		if errors.Is(err, io.EOF) {
			return nil, Errors{{File: file, Msg: "empty file"}}
		}
		return nil, convert(file, doc, err)
	}
	return doc, nil
}

// index records the line of every field below n, whose path is path.
func (d *Doc) index(n *yaml.Node, path string) {
	at := func(p string, n *yaml.Node) {
		d.lines[p] = pos{n.Line, n.Column}
		d.paths[n.Line] = append(d.paths[n.Line], p)
	}
	switch n.Kind {
	case yaml.DocumentNode:
		for _, c := range n.Content {
			d.index(c, path)
		}
	case yaml.MappingNode:
		for i := 0; i+1 < len(n.Content); i += 2 {
			k := n.Content[i]
			p := k.Value
			if path != "" {
				p = path + "." + k.Value
			}
			at(p, k)
			d.index(n.Content[i+1], p)
		}
	case yaml.SequenceNode:
		for i, c := range n.Content {
			p := fmt.Sprintf("%s[%d]", path, i)
			at(p, c)
			d.index(c, p)
		}
	}
}

func convert(file string, doc *Doc, err error) error {
	var te *yaml.TypeError
	if !errors.As(err, &te) {
		msg := strings.TrimPrefix(err.Error(), "yaml: ")
		e := &Error{File: file, Msg: msg}
		if sm := lineMsg.FindStringSubmatch(msg); sm != nil {
			e.Line, _ = strconv.Atoi(sm[1])
			e.Msg = sm[2]
			if parserProblem[e.Msg] {
				// yaml.v3 reports a parser error's line counted from 0
				// (it adds the missing 1 for scanner errors only).
				e.Line++
			}
		}
		if strings.Contains(e.Msg, "did not find expected ',' or") {
			// The usual cause: a URL with a query in a [ ] list, which
			// YAML does not read as one plain value.
			e.Msg += ` (a value holding "?", "#" or ": " inside [ ] or { } needs quotes: ["http://host/list?page=1"])`
		}
		return Errors{e}
	}
	var es Errors
	for _, m := range te.Errors {
		e := &Error{File: file, Msg: m}
		if sm := lineMsg.FindStringSubmatch(m); sm != nil {
			e.Line, _ = strconv.Atoi(sm[1])
			e.Msg = sm[2]
			if nf := notFound.FindStringSubmatch(e.Msg); nf != nil {
				e.Msg = fmt.Sprintf("unknown field %q", nf[1])
				e.Field = doc.fieldOnLine(e.Line, nf[1])
			} else {
				e.Field = doc.fieldOnLine(e.Line, "")
			}
		}
		es = append(es, e)
	}
	return es
}

// fieldOnLine names the field a decoding problem on line is about: the key
// called name when given, else the innermost field on the line.
func (d *Doc) fieldOnLine(line int, name string) string {
	if d == nil {
		return name
	}
	ps := d.paths[line]
	for i := len(ps) - 1; i >= 0; i-- {
		if name == "" || ps[i] == name || strings.HasSuffix(ps[i], "."+name) {
			return ps[i]
		}
	}
	return name
}

// Errorf returns a problem at the field named by path (map keys and list
// indexes, e.g. "sites", 2, "schedule").
func (d *Doc) Errorf(path []any, format string, args ...any) *Error {
	return d.ErrorAt(FieldName(path...), fmt.Sprintf(format, args...))
}

// ErrorAt returns a problem at a field path such as "substances[4].cas",
// at the key of the field, or of its nearest ancestor that is in the file.
// Secrets are redacted from msg.
func (d *Doc) ErrorAt(field, msg string) *Error {
	p := d.pos(field)
	return &Error{File: d.File, Line: p.line, Column: p.col, Field: field, Msg: d.Redact(msg)}
}

// Line returns the line of the field path, or of its nearest ancestor in
// the file; 1 when none is.
func (d *Doc) Line(field string) int { return d.pos(field).line }

func (d *Doc) pos(field string) pos {
	for field != "" {
		if p, ok := d.lines[field]; ok {
			return p
		}
		i := strings.LastIndexAny(field, ".[")
		if i < 0 {
			break
		}
		field = field[:i]
	}
	return pos{line: 1}
}

// FieldName renders a path as sites[2].schedule.
func FieldName(path ...any) string {
	var b strings.Builder
	for _, p := range path {
		switch k := p.(type) {
		case int:
			fmt.Fprintf(&b, "[%d]", k)
		default:
			if b.Len() > 0 {
				b.WriteByte('.')
			}
			fmt.Fprint(&b, k)
		}
	}
	return b.String()
}
