package yamlfile

import (
	"errors"
	"strings"
	"testing"

	"github.com/precwatch/precwatch"
)

type conf struct {
	Name  string   `yaml:"name"`
	URLs  []string `yaml:"urls"`
	Items []struct {
		Spec string `yaml:"spec"`
	} `yaml:"items"`
}

func TestDecodeUnknownFieldNamesFileLineField(t *testing.T) {
	data := "name: x\nitems:\n  - spec: a\n  - spce: b\n"
	var c conf
	_, err := Decode("c.yaml", []byte(data), &c)
	if got, want := err.Error(), `c.yaml:4:5: items[1].spce: unknown field "spce"`; got != want {
		t.Errorf("error = %q, want %q", got, want)
	}
	if !errors.Is(err, precwatch.ErrInvalid) {
		t.Error("error is not precwatch.ErrInvalid")
	}
	var es Errors
	if !errors.As(err, &es) || len(es) != 1 || es[0].Field != "items[1].spce" || es[0].Line != 4 || es[0].Column != 5 {
		t.Errorf("structured error = %+v", es)
	}
}

func TestDecodeSyntaxAndTypeErrors(t *testing.T) {
	for name, tc := range map[string]struct{ data, want string }{
		"syntax": {"name: [x\n", "c.yaml:"},
		// Parser errors name the line the construct starts on, counted
		// from 1 like every other error (yaml.v3 counts them from 0).
		"block mapping, line 3": {"name: x\nitems:\n  - spec: a\n    spec: b\n   bad\n", "c.yaml:3: did not find expected '-' indicator"},
		"scanner error, line 2": {"name: x\nitems: [a, b]: c\n", "c.yaml:2: mapping values are not allowed"},
		"type":                  {"name: x\nitems: 3\n", `c.yaml:2:8: items: want a list, got "3"`},
		"empty":                 {"", "c.yaml: empty file"},
		// The README's own first site example once tripped on this.
		"unquoted URL query in a flow list": {"name: x\nurls: [http://m.onion/list?page=1]\n",
			`c.yaml:2: did not find expected ',' or ']' (a value holding "?", "#" or ": " inside [ ] or { } needs quotes: ["http://host/list?page=1"])`},
	} {
		t.Run(name, func(t *testing.T) {
			var c conf
			_, err := Decode("c.yaml", []byte(tc.data), &c)
			if err == nil || !strings.HasPrefix(err.Error(), tc.want) {
				t.Errorf("error = %v, want prefix %q", err, tc.want)
			}
		})
	}
}

func TestDocLocatesFields(t *testing.T) {
	data := "name: x\nitems:\n  - spec: a\n  - spec: b\n"
	var c conf
	doc, err := Decode("c.yaml", []byte(data), &c)
	if err != nil {
		t.Fatal(err)
	}
	e := doc.Errorf([]any{"items", 1, "spec"}, "bad spec %q", "b")
	if got, want := e.Error(), `c.yaml:4:5: items[1].spec: bad spec "b"`; got != want {
		t.Errorf("got %q, want %q", got, want)
	}
	// A missing field points at its nearest existing parent.
	if got, want := doc.Line("items[0].missing"), 3; got != want {
		t.Errorf("Line = %d, want %d", got, want)
	}
	if got, want := doc.ErrorAt("nowhere", "x").Line, 1; got != want {
		t.Errorf("unknown path line = %d, want %d", got, want)
	}
}
