package extract

import (
	"encoding/json"
	"slices"
	"strings"
	"testing"
)

// pathDoc is the state the path table reads.
const pathDoc = `{
	"a": {"b": {"c": "abc"}, "0": "zero key", "007": "digits key", "empty": "", "n": 0},
	"list": [{"n": "L0", "tags": ["t1", "t2"], "s": [{"c": "x"}, {"c": "y"}]}, {"m": "no n"}, {"n": 2.50, "s": [{"c": "z"}]}],
	"byKey": {"k2": {"n": "second"}, "k1": {"n": "first"}},
	"x.y": {"q": "dotted"}, "k[0]": "bracketed", "a b": "spaced", "@type": "Product", "a-b": "dashed",
	"nested": [[1, 2], [3]], "mixed": ["s", ["inner"], {"o": 1}, null, true],
	"price": 5, "title": "T"
}`

// TestJSONPath pins what the documented path syntax reads: the values
// (as JSON) a spec gives with all (every value of every alternative) and
// without (the first scalar that is not empty).
func TestJSONPath(t *testing.T) {
	doc, _, ok := decodeFirst(pathDoc)
	if !ok {
		t.Fatal("pathDoc does not decode")
	}
	tests := []struct {
		spec      string
		all, best string // the values as JSON, joined by spaces
	}{
		{"a.b.c", `"abc"`, `"abc"`},
		{"  a.b.c  ", `"abc"`, `"abc"`},
		{"a.missing", ``, ``},
		{"a.b.c.d", ``, ``},
		// [N] and .N: an array's element; .N on an object is a key of digits.
		{"list[0].n", `"L0"`, `"L0"`},
		{"list.0.n", `"L0"`, `"L0"`},
		{"list[ 2 ].n", `2.50`, `2.50`},
		{"list.[0].n", `"L0"`, `"L0"`},
		{"list[3].n", ``, ``},
		{"a.0", `"zero key"`, `"zero key"`},
		{"a.007", `"digits key"`, `"digits key"`},
		{"nested[1][0]", `3`, `3`},
		{"[0]", ``, ``}, // the document is an object
		// [], [*] and *: every element of an array, every value of an object
		// (by sorted key); nothing from a scalar.
		{"list[].n", `"L0" 2.50`, `"L0"`},
		{"list.*.n", `"L0" 2.50`, `"L0"`},
		{"list[*].n", `"L0" 2.50`, `"L0"`},
		{"byKey[].n", `"first" "second"`, `"first"`},
		{"byKey.*.n", `"first" "second"`, `"first"`},
		{"list[].s[].c", `"x" "y" "z"`, `"x"`},
		{"price[]", ``, ``},
		{"list[]", `{"n":"L0","s":[{"c":"x"},{"c":"y"}],"tags":["t1","t2"]} {"m":"no n"} {"n":2.50,"s":[{"c":"z"}]}`, ``},
		// An array of scalars is opened into its values; arrays nested in it
		// are dropped.
		{"list[0].tags", `"t1" "t2"`, `"t1"`},
		{"mixed", `"s" {"o":1} null true`, `"s"`},
		{"nested", ``, ``},
		{"nested[]", `1 2 3`, `1`},
		// Quoted keys hold dots, brackets and spaces; unquoted keys may hold
		// other punctuation.
		{`["x.y"].q`, `"dotted"`, `"dotted"`},
		{`['x.y'].q`, `"dotted"`, `"dotted"`},
		{`["k[0]"]`, `"bracketed"`, `"bracketed"`},
		{`["a b"]`, `"spaced"`, `"spaced"`},
		{`a["b"].c`, `"abc"`, `"abc"`},
		{`a["b"]["c"]`, `"abc"`, `"abc"`},
		{`["x"].q`, ``, ``},
		{"@type", `"Product"`, `"Product"`},
		{"a-b", `"dashed"`, `"dashed"`},
		// Alternatives: all gives every one's values in turn; else the first
		// scalar that is not empty wins, 0 and false included.
		{"missing, a.b.c", `"abc"`, `"abc"`},
		{"a.empty, a.b.c", `"" "abc"`, `"abc"`},
		{"a.n, a.b.c", `0 "abc"`, `0`},
		{"a.b, a.b.c", `{"c":"abc"} "abc"`, `"abc"`},
		{"list[0].tags, title", `"t1" "t2" "T"`, `"t1"`},
		// Templates: each {path} filled with its first scalar; none filled
		// gives nothing.
		{"/p/{a.b.c}", `"/p/abc"`, `"/p/abc"`},
		{"{list[0].n}-{a.missing}-{byKey[].n}", `"L0--first"`, `"L0--first"`},
		{`/q/{["x.y"].q}`, `"/q/dotted"`, `"/q/dotted"`},
		{"/p/{a.missing}", ``, ``},
		{"/p/{a.empty}", ``, ``},
	}
	show := func(vs []any) string {
		var out []string
		for _, v := range vs {
			b, err := json.Marshal(v)
			if err != nil {
				t.Fatal(err)
			}
			out = append(out, string(b))
		}
		return strings.Join(out, " ")
	}
	for _, tt := range tests {
		s, err := compileJSONSpec(tt.spec)
		if err != nil {
			t.Errorf("compileJSONSpec(%q): %v", tt.spec, err)
			continue
		}
		if got := show(s.values(doc, true)); got != tt.all {
			t.Errorf("%q, all: %s, want %s", tt.spec, got, tt.all)
		}
		if got := show(s.values(doc, false)); got != tt.best {
			t.Errorf("%q, first: %s, want %s", tt.spec, got, tt.best)
		}
	}
}

// TestJSONPathRootArray: a state that is an array is read by [] and [N].
func TestJSONPathRootArray(t *testing.T) {
	doc, _, ok := decodeFirst(`[{"n": "a"}, {"n": "b"}]`)
	if !ok {
		t.Fatal("no decode")
	}
	for spec, want := range map[string][]string{"[].n": {"a", "b"}, "*.n": {"a", "b"}, "[1].n": {"b"}, "1.n": {"b"}, "n": nil} {
		s, err := compileJSONSpec(spec)
		if err != nil {
			t.Fatal(err)
		}
		var got []string
		for _, v := range s.values(doc, true) {
			got = append(got, scalarText(v))
		}
		if !slices.Equal(got, want) {
			t.Errorf("%q: %q, want %q", spec, got, want)
		}
	}
}

// TestJSONPathErrors: a malformed path is refused with the reason.
func TestJSONPathErrors(t *testing.T) {
	for spec, want := range map[string]string{
		"a..b":       `JSON path "a..b": empty key`,
		".a":         `JSON path ".a": empty key`,
		"a.":         `JSON path "a.": empty key`,
		"a[x]":       `JSON path "a[x]": want [N], [] or ["key"]`,
		"a[-1]":      `JSON path "a[-1]": want [N], [] or ["key"]`,
		"a[0":        `JSON path "a[0": unclosed [`,
		`a["x]`:      `JSON path "a[\"x]": unclosed quote`,
		`a["x"y]`:    `JSON path "a[\"x\"y]": want ] right after a quoted key`,
		"a b":        `JSON path "a b": want keys separated by dots`,
		"a]":         `JSON path "a]": want keys separated by dots`,
		"a, ":        `empty JSON path in ""`,
		"/p/{}":      `template "/p/{}": empty JSON path in ""`,
		"/p/{a}}":    `template "/p/{a}}": unbalanced }`,
		"/p/{a":      `template "/p/{a": unbalanced { or }`,
		"/p/}{a}":    `template "/p/}{a}": unbalanced { or }`,
		"/p/{a[x]}":  `template "/p/{a[x]}": JSON path "a[x]": want [N], [] or ["key"]`,
		"x, a['y'z]": `JSON path "a['y'z]": want ] right after a quoted key`,
		"list[0]]":   `JSON path "list[0]]": want keys separated by dots`,
		"a . b":      `JSON path "a . b": want keys separated by dots`,
	} {
		_, err := compileJSONSpec(spec)
		if err == nil || err.Error() != want {
			t.Errorf("compileJSONSpec(%q) = %v, want %s", spec, err, want)
		}
	}
}

// TestDecodeStateJSONParse: a state assigned through JSON.parse is read
// whichever quotes its string has, its JavaScript escapes undone; a string
// that does not end is no state.
func TestDecodeStateJSONParse(t *testing.T) {
	for _, tt := range []struct{ script, want string }{
		{`window.__S__ = JSON.parse("{\"t\":\"Nitromethane 98 %\"}");`, "Nitromethane 98 %"},
		{`window.__S__ = JSON.parse('{"t":"Nitromethane 98 %"}');`, "Nitromethane 98 %"},
		{`window.__S__ = JSON.parse('{"t":"Peroxyde d\'hydrog\u00e8ne 35 %"}');`, "Peroxyde d'hydrogène 35 %"},
		{`window.__S__ = JSON.parse('{"t":"say \\"hi\\" \x41\u{1F525}"}');`, `say "hi" A🔥`},
		{`window.__S__ = JSON.parse('{"t":"\uD83D\uDD25 \\u00e9"}');`, "🔥 é"},
		{`window.__S__ = JSON.parse('{"t":"unterminated"}`, ""},
	} {
		var got string
		for _, d := range decodeState(tt.script) {
			if m, ok := d.(map[string]any); ok {
				got, _ = m["t"].(string)
			}
		}
		if got != tt.want {
			t.Errorf("decodeState(%s): t = %q, want %q", tt.script, got, tt.want)
		}
	}
}

// TestDescriptionPairs: a description path naming a product's attributes
// reads each name–value pair on one line, as a page shows it, so a
// strength keeps its head word; other rich text reads a string a line.
func TestDescriptionPairs(t *testing.T) {
	item := map[string]any{}
	doc := `{"description": "<p>Pharmacy grade, 1 litre.</p>",
		"attributes": [{"label": "Brand", "value": "PharmaPlus"}, {"label": "Concentration", "value": "6 %"},
			{"name": "Sizes", "options": ["1 L", "5 L"]}, {"name": "Empty", "options": []}],
		"body": {"nodeType": "document", "content": [{"nodeType": "text", "value": "Rich text line"}]}}`
	if err := json.Unmarshal([]byte(doc), &item); err != nil {
		t.Fatal(err)
	}
	spec, err := compileJSONSpec("description, attributes, body")
	if err != nil {
		t.Fatal(err)
	}
	want := "Pharmacy grade, 1 litre.\nBrand: PharmaPlus\nConcentration: 6 %\nSizes: 1 L, 5 L\nEmpty\nRich text line"
	if got := spec.allText(item, maxDescription); got != want {
		t.Errorf("got %q\nwant %q", got, want)
	}
}
