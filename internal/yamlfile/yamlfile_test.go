package yamlfile

import (
	"strings"
	"testing"
)

type conf struct {
	Name  string `yaml:"name"`
	Items []struct {
		Spec string `yaml:"spec"`
	} `yaml:"items"`
}

func TestDecodeUnknownFieldNamesFileLineField(t *testing.T) {
	data := "name: x\nitems:\n  - spec: a\n  - spce: b\n"
	var c conf
	_, err := Decode("c.yaml", []byte(data), &c)
	if err == nil {
		t.Fatal("unknown field accepted")
	}
	if got, want := err.Error(), "c.yaml:4: spce: unknown field"; !strings.HasPrefix(got, want) {
		t.Errorf("error = %q, want prefix %q", got, want)
	}
}

func TestDecodeSyntaxAndTypeErrors(t *testing.T) {
	for name, tc := range map[string]struct{ data, want string }{
		"syntax": {"name: [x\n", "c.yaml:"},
		"type":   {"name: x\nitems: 3\n", "c.yaml:2: cannot unmarshal"},
		"empty":  {"", "c.yaml: empty file"},
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

func TestDocErrorfLocatesField(t *testing.T) {
	data := "name: x\nitems:\n  - spec: a\n  - spec: b\n"
	var c conf
	doc, err := Decode("c.yaml", []byte(data), &c)
	if err != nil {
		t.Fatal(err)
	}
	e := doc.Errorf([]any{"items", 1, "spec"}, "bad spec %q", "b")
	if got, want := e.Error(), `c.yaml:4: items[1].spec: bad spec "b"`; got != want {
		t.Errorf("got %q, want %q", got, want)
	}
	// A missing field points at its nearest existing parent.
	if got, want := doc.Line("items", 0, "missing"), 3; got != want {
		t.Errorf("Line = %d, want %d", got, want)
	}
}
