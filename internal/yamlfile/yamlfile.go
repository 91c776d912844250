// Package yamlfile decodes YAML configuration strictly and reports every
// error as "file:line: field: message", so an operator can go straight to
// the mistake.
package yamlfile

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"regexp"
	"strconv"
	"strings"

	"gopkg.in/yaml.v3"
)

// Error is a problem at a place in a YAML file.
type Error struct {
	File  string
	Line  int
	Field string // dotted path such as sites[2].schedule; may be empty
	Msg   string
}

func (e *Error) Error() string {
	var b strings.Builder
	b.WriteString(e.File)
	if e.Line > 0 {
		b.WriteString(":" + strconv.Itoa(e.Line))
	}
	if e.Field != "" {
		b.WriteString(": " + e.Field)
	}
	b.WriteString(": " + e.Msg)
	return b.String()
}

// Errors is every problem found in one file.
type Errors []*Error

func (es Errors) Error() string {
	msgs := make([]string, len(es))
	for i, e := range es {
		msgs[i] = e.Error()
	}
	return strings.Join(msgs, "\n")
}

// Doc is a decoded file with its node tree, to locate fields for
// validation errors.
type Doc struct {
	File string
	Root *yaml.Node
}

var lineMsg = regexp.MustCompile(`^line (\d+): (.*)$`)
var notFound = regexp.MustCompile(`^field (\S+) not found in type (.+)$`)

// Decode decodes data into v, rejecting unknown fields, and returns the
// document for Doc.Errorf. Errors name the file, line and field.
func Decode(file string, data []byte, v any) (*Doc, error) {
	doc := &Doc{File: file, Root: &yaml.Node{}}
	if err := yaml.Unmarshal(data, doc.Root); err != nil {
		return nil, convert(file, err)
	}
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	if err := dec.Decode(v); err != nil {
		if errors.Is(err, io.EOF) {
			return nil, &Error{File: file, Msg: "empty file"}
		}
		return nil, convert(file, err)
	}
	return doc, nil
}

func convert(file string, err error) error {
	var te *yaml.TypeError
	if errors.As(err, &te) {
		var es Errors
		for _, m := range te.Errors {
			e := &Error{File: file, Msg: m}
			if sm := lineMsg.FindStringSubmatch(m); sm != nil {
				e.Line, _ = strconv.Atoi(sm[1])
				e.Msg = sm[2]
				if nf := notFound.FindStringSubmatch(e.Msg); nf != nil {
					e.Field = nf[1]
					e.Msg = "unknown field"
					if !strings.ContainsAny(nf[2], " {") {
						e.Msg += " of " + nf[2]
					}
				}
			}
			es = append(es, e)
		}
		return es
	}
	msg := strings.TrimPrefix(err.Error(), "yaml: ")
	e := &Error{File: file, Msg: msg}
	if sm := lineMsg.FindStringSubmatch(msg); sm != nil {
		e.Line, _ = strconv.Atoi(sm[1])
		e.Msg = sm[2]
	}
	return e
}

// Errorf returns an error at the field named by path (map keys and list
// indexes, e.g. "sites", 2, "schedule"), with the line of the deepest node
// of the path that exists.
func (d *Doc) Errorf(path []any, format string, args ...any) *Error {
	return &Error{File: d.File, Line: d.Line(path...), Field: FieldName(path...), Msg: fmt.Sprintf(format, args...)}
}

// Line returns the line of the node at path, or of its deepest existing
// ancestor.
func (d *Doc) Line(path ...any) int {
	n := d.Root
	if n != nil && n.Kind == yaml.DocumentNode && len(n.Content) > 0 {
		n = n.Content[0]
	}
	line := 0
	if n != nil {
		line = n.Line
	}
	for _, p := range path {
		if n == nil {
			break
		}
		var next *yaml.Node
		switch k := p.(type) {
		case string:
			if n.Kind == yaml.MappingNode {
				for i := 0; i+1 < len(n.Content); i += 2 {
					if n.Content[i].Value == k {
						line = n.Content[i].Line
						next = n.Content[i+1]
						break
					}
				}
			}
		case int:
			if n.Kind == yaml.SequenceNode && k < len(n.Content) {
				next = n.Content[k]
				line = next.Line
			}
		}
		n = next
	}
	return line
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
