package yamlfile

import (
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"
)

type limitsT struct {
	MaxPages int           `yaml:"max_pages"`
	MaxDepth int           `yaml:"max_depth"`
	Timeout  time.Duration `yaml:"timeout"`
	Retries  int           `yaml:"retries"`
}

type siteT struct {
	Name     string            `yaml:"name"`
	Tor      bool              `yaml:"tor"`
	Proxy    string            `yaml:"proxy"`
	Limits   limitsT           `yaml:"limits"`
	Tags     map[string]string `yaml:"tags"`
	Password string            `yaml:"password"`
	Ratio    float64           `yaml:"ratio"`
}

type confT struct {
	Store string  `yaml:"store"`
	Sites []siteT `yaml:"sites"`
}

// TestDecodeNamesTheBadValue: every type error is placed at its own value,
// with its full path, in flow and in block style. yaml.v3 alone gives only
// the line, which all the fields of a flow mapping share.
func TestDecodeNamesTheBadValue(t *testing.T) {
	for name, tc := range map[string]struct{ data, want string }{
		"flow first field": {
			"sites:\n  - name: a\n    limits: {max_pages: \"many\", max_depth: 3, retries: 2}\n",
			`c.yaml:3:25: sites[0].limits.max_pages: want an integer, got the string "many"`},
		"flow middle field": {
			"sites:\n  - name: a\n    limits: {max_pages: 3, max_depth: deep, retries: 2}\n",
			`c.yaml:3:39: sites[0].limits.max_depth: want an integer, got "deep"`},
		"flow second site": {
			"sites:\n  - {name: a}\n  - {name: b, limits: {max_pages: 1, timeout: soon}}\n",
			`c.yaml:3:47: sites[1].limits.timeout: want a duration such as 30s or 5m, got "soon"`},
		"block": {
			"sites:\n  - name: a\n    limits:\n      max_pages: 3\n      max_depth: 2.5\n      retries: 2\n",
			`c.yaml:5:18: sites[0].limits.max_depth: want an integer, got "2.5"`},
		"block float": {
			"sites:\n  - name: a\n    ratio: half\n",
			`c.yaml:3:12: sites[0].ratio: want a number, got "half"`},
		"duration without unit": {
			"sites:\n  - limits: {timeout: 90}\n",
			`c.yaml:2:23: sites[0].limits.timeout: want a duration with a unit, such as 30s or 5m, got "90"`},
		"flow unknown field": {
			"sites:\n  - {name: a, limits: {max_pages: 3, max_dpth: 2}}\n",
			`c.yaml:2:38: sites[0].limits.max_dpth: unknown field "max_dpth"`},
		"mapping for a string": {
			"sites:\n  - name: {a: b}\n",
			`c.yaml:2:11: sites[0].name: want a string, got a mapping`},
		"scalar for a struct": {
			"sites:\n  - limits: 3\n",
			`c.yaml:2:13: sites[0].limits: want a mapping of fields, got "3"`},
		"key twice": {
			"sites:\n  - {name: a, name: b}\n",
			`c.yaml:2:15: sites[0].name: given twice (also at line 2)`},
	} {
		t.Run(name, func(t *testing.T) {
			var c confT
			_, err := Decode("c.yaml", []byte(tc.data), &c)
			if err == nil || err.Error() != tc.want {
				t.Errorf("error = %v\nwant    %s", err, tc.want)
			}
		})
	}
}

// TestDecodeMultipleErrorsEachPlaced: two bad values on one line are two
// errors, each at its own column.
func TestDecodeMultipleErrorsEachPlaced(t *testing.T) {
	var c confT
	_, err := Decode("c.yaml", []byte("sites:\n  - limits: {max_pages: x, max_depth: 3, retries: y}\n"), &c)
	var es Errors
	if !errors.As(err, &es) || len(es) != 2 {
		t.Fatalf("errors = %v, want 2", err)
	}
	if es[0].Field != "sites[0].limits.max_pages" || es[0].Column != 25 || es[1].Field != "sites[0].limits.retries" || es[1].Column != 51 {
		t.Errorf("errors = %v", es)
	}
}

// TestDecodeStrictBools: only true and false are booleans; yaml.v3 alone
// takes "yes", on and y as true.
func TestDecodeStrictBools(t *testing.T) {
	for value, ok := range map[string]bool{
		`true`: true, `false`: true, `"yes"`: false, `yes`: false, `on`: false, `"true"`: false, `1`: false, `y`: false,
	} {
		var c confT
		_, err := Decode("c.yaml", []byte("sites:\n  - tor: "+value+"\n"), &c)
		if ok {
			if err != nil {
				t.Errorf("tor: %s: %v", value, err)
			}
			continue
		}
		if err == nil || !strings.HasPrefix(err.Error(), "c.yaml:2:10: sites[0].tor: want true or false, got ") {
			t.Errorf("tor: %s: error = %v, want it rejected at sites[0].tor", value, err)
		}
		if c.Sites != nil && c.Sites[0].Tor {
			t.Errorf("tor: %s decoded as true", value)
		}
	}
}

// TestDecodeInlineAndEmbedded: an inline struct's keys are the outer
// struct's, an inline map takes the other keys, and each still has its type.
func TestDecodeInlineAndEmbedded(t *testing.T) {
	type inner struct {
		Depth int `yaml:"depth"`
	}
	type outer struct {
		inner `yaml:",inline"`
		Name  string         `yaml:"name"`
		Rest  map[string]int `yaml:",inline"`
	}
	var o outer
	if _, err := Decode("c.yaml", []byte("name: a\ndepth: 2\nother: 3\n"), &o); err != nil || o.Depth != 2 || o.Rest["other"] != 3 {
		t.Errorf("decoded %+v, %v", o, err)
	}
	if _, err := Decode("c.yaml", []byte("depth: x\nother: y\n"), &o); err == nil || err.Error() != `c.yaml:1:8: depth: want an integer, got "x"; c.yaml:2:8: other: want an integer, got "y"` {
		t.Errorf("error = %v", err)
	}
}

func env(vars map[string]string) Options {
	return Options{LookupEnv: func(k string) (string, bool) { v, ok := vars[k]; return v, ok }}
}

func TestDecodeExpandsEnvironment(t *testing.T) {
	vars := map[string]string{"PROXY_PW": "D3adS3cret", "PAGES": "300", "TOR": "true", "EMPTY": ""}
	for name, tc := range map[string]struct {
		data    string
		check   func(confT) bool
		wantErr string
	}{
		"in a string": {
			data:  "sites:\n  - proxy: socks5://bob:${PROXY_PW}@127.0.0.1:3128\n",
			check: func(c confT) bool { return c.Sites[0].Proxy == "socks5://bob:D3adS3cret@127.0.0.1:3128" }},
		"typed by its value": {
			data:  "sites:\n  - tor: ${TOR}\n    limits: {max_pages: \"${PAGES}\"}\n",
			check: func(c confT) bool { return c.Sites[0].Tor && c.Sites[0].Limits.MaxPages == 300 }},
		"a number stays text in a string field": {
			data:  "sites:\n  - name: ${PAGES}\n",
			check: func(c confT) bool { return c.Sites[0].Name == "300" }},
		"set but empty": {
			data:  "store: \"${EMPTY}\"\n",
			check: func(c confT) bool { return c.Store == "" }},
		"escaped dollar": {
			data:  "sites:\n  - password: pa$$${PAGES}$$x$y\n",
			check: func(c confT) bool { return c.Sites[0].Password == "pa$300$x$y" }},
		"escaped reference": {
			data:  "store: \"$${PAGES}\"\n",
			check: func(c confT) bool { return c.Store == "${PAGES}" }},
		"in a map value": {
			data:  "sites:\n  - tags: {a: \"${PAGES}\"}\n",
			check: func(c confT) bool { return c.Sites[0].Tags["a"] == "300" }},
		"unset": {
			data:    "sites:\n  - name: a\n    proxy: \"socks5://${PROXY_HOST}:9050\"\n",
			wantErr: "c.yaml:3:12: sites[0].proxy: environment variable PROXY_HOST is not set"},
		"unterminated": {
			data:    "store: \"${PAGES\"\n",
			wantErr: "c.yaml:1:8: store: unterminated ${"},
		"bad name": {
			data:    "store: \"${1X}\"\n",
			wantErr: "c.yaml:1:8: store: bad variable name ${1X}"},
		"bad expanded value": {
			data:    "sites:\n  - limits: {max_pages: \"${PROXY_PW}\"}\n",
			wantErr: `c.yaml:2:25: sites[0].limits.max_pages: want an integer, got the value of "${PROXY_PW}"`},
	} {
		t.Run(name, func(t *testing.T) {
			var c confT
			_, err := DecodeWith("c.yaml", []byte(tc.data), &c, env(vars))
			if tc.wantErr != "" {
				if err == nil || !strings.HasPrefix(err.Error(), tc.wantErr) {
					t.Errorf("error = %v, want prefix %q", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if !tc.check(c) {
				t.Errorf("decoded %+v", c)
			}
		})
	}
	// A missing variable is one error, not also a type error.
	var es Errors
	var c0 confT
	_, err := DecodeWith("c.yaml", []byte("sites:\n  - limits: {max_pages: \"${NOPE}\"}\n"), &c0, env(vars))
	if !errors.As(err, &es) || len(es) != 1 {
		t.Errorf("unset variable in a number: %v, want one error", err)
	}

	// Without LookupEnv values stay as written.
	var c confT
	if _, err := Decode("c.yaml", []byte("store: \"${PAGES}\"\n"), &c); err != nil || c.Store != "${PAGES}" {
		t.Errorf("Decode without env: %q, %v", c.Store, err)
	}
}

func TestDecodeReadsFileSiblings(t *testing.T) {
	dir := t.TempDir()
	write := func(name, data string) {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(data), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	write("proxy", "socks5://bob:D3adS3cret@127.0.0.1:3128\n")
	write("store", "redis://:R3disPw@127.0.0.1:6379/0\r\n")
	write("pw", "two\nlines\n\n")
	file := filepath.Join(dir, "c.yaml")
	opts := Options{Files: true}

	var c confT
	_, err := DecodeWith(file, []byte("store_file: store\nsites:\n  - name: a\n    proxy_file: "+filepath.Join(dir, "proxy")+"\n    password_file: pw\n"), &c, opts)
	if err != nil {
		t.Fatal(err)
	}
	if c.Store != "redis://:R3disPw@127.0.0.1:6379/0" || c.Sites[0].Proxy != "socks5://bob:D3adS3cret@127.0.0.1:3128" || c.Sites[0].Password != "two\nlines\n" {
		t.Errorf("decoded %+v", c)
	}

	// A file named through an alias leaves the anchor's own value alone.
	c = confT{}
	if _, err := DecodeWith(file, []byte("sites:\n  - name: &n pw\n    password_file: *n\n"), &c, opts); err != nil || c.Sites[0].Name != "pw" || c.Sites[0].Password != "two\nlines\n" {
		t.Errorf("alias: %+v, %v", c, err)
	}

	for name, tc := range map[string]struct{ data, want string }{
		"map key twice": {"sites:\n  - tags: {a: x, a: y}\n",
			"c.yaml:2:18: sites[0].tags.a: given twice (also at line 2)"},
		"missing file": {"sites:\n  - proxy_file: nope\n",
			`c.yaml:2:17: sites[0].proxy_file: cannot read the file "` + filepath.Join(dir, "nope") + `": no such file or directory`},
		"both given": {"sites:\n  - proxy: socks5://a:1\n    proxy_file: proxy\n",
			"c.yaml:3:5: sites[0].proxy: given twice (also at line 2)"},
		"not a string field": {"sites:\n  - limits: {max_pages_file: x}\n",
			`c.yaml:2:14: sites[0].limits.max_pages_file: unknown field "max_pages_file"`},
		"secret kept out of a later error": {"sites:\n  - name_file: proxy\n    tor: maybe\n",
			`c.yaml:3:10: sites[0].tor: want true or false, got "maybe"`},
	} {
		t.Run(name, func(t *testing.T) {
			var c confT
			_, err := DecodeWith(file, []byte(tc.data), &c, opts)
			if err == nil || strings.TrimPrefix(err.Error(), dir+string(filepath.Separator)) != tc.want {
				t.Errorf("error = %v\nwant    %s", err, tc.want)
			}
		})
	}

	// Without Files, X_file is an unknown field.
	if _, err := Decode(file, []byte("store_file: store\n"), &c); err == nil || !strings.Contains(err.Error(), `unknown field "store_file"`) {
		t.Errorf("Decode without Files: %v", err)
	}
}

// TestDocRedactsSecrets: a value read from a file or the environment, and
// any URL password, never reaches an error's text.
func TestDocRedactsSecrets(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "pw"), []byte("Sup3rSecretValue\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	opts := Options{Files: true, LookupEnv: func(k string) (string, bool) { return "3nvS3cret", k == "PW" }}
	var c confT
	doc, err := DecodeWith(filepath.Join(dir, "c.yaml"), []byte("store: \"http://u:${PW}@h\"\nsites:\n  - password_file: pw\n"), &c, opts)
	if err != nil {
		t.Fatal(err)
	}
	msg := doc.Errorf([]any{"sites", 0, "password"}, "bad %q near %q and %s", c.Sites[0].Password, "socks5://bob:Plain0ne@127.0.0.1:3128", c.Store).Error()
	for _, secret := range []string{"Sup3rSecretValue", "3nvS3cret", "Plain0ne"} {
		if strings.Contains(msg, secret) {
			t.Errorf("%q leaks %q", msg, secret)
		}
	}
	if !strings.Contains(msg, "socks5://bob:xxxxx@127.0.0.1:3128") {
		t.Errorf("%q: want the URL redacted as url.URL.Redacted does", msg)
	}
	// A secret inside a longer one: the longer is hidden whole.
	doc, err = DecodeWith(filepath.Join(dir, "c.yaml"), []byte("store: \"${A}\"\nsites:\n  - name: \"${B}\"\n"), &c,
		env(map[string]string{"A": "abcd", "B": "abcdefgh"}))
	if err != nil {
		t.Fatal(err)
	}
	if got := doc.ErrorAt("store", "abcdefgh").Msg; got != "xxxxx" {
		t.Errorf("nested secrets redacted as %q", got)
	}
	// Even an Error built by hand hides URL passwords.
	if got := (&Error{File: "f", Msg: `got "socks5://bob:D3adS3cret@127.0.0.1:3128"`}).Error(); strings.Contains(got, "D3adS3cret") {
		t.Errorf("Error() = %q", got)
	}
}

func TestRedactURLs(t *testing.T) {
	for in, want := range map[string]string{
		"socks5://bob:D3adS3cret@127.0.0.1:3128":                 "socks5://bob:xxxxx@127.0.0.1:3128",
		`got "redis://:pw@host:6379/0?prefix=p", want x`:         `got "redis://:xxxxx@host:6379/0?prefix=p", want x`,
		"http://user@host/path":                                  "http://user@host/path",
		"socks5://127.0.0.1:9050":                                "socks5://127.0.0.1:9050",
		"a socks5://a:b@c and http://d:e@f":                      "a socks5://a:xxxxx@c and http://d:xxxxx@f",
		"parse \"socks5://bob:p@ss/w:rd@127.0.0.1:x\": bad port": "parse \"socks5://bob:xxxxx@127.0.0.1:x\": bad port",
		// Passwords in a Redis URL's query (issue 9).
		"redis+sentinel://s:26379/0?master=m&sentinel_password=Zq9&prefix=p": "redis+sentinel://s:26379/0?master=m&sentinel_password=xxxxx&prefix=p",
		"redis://h:6379?password=Zq9":                                        "redis://h:6379?password=xxxxx",
	} {
		if got := RedactURLs(in); got != want {
			t.Errorf("RedactURLs(%q) = %q, want %q", in, got, want)
		}
	}
}

// TestMergeKeys checks YAML merge keys: shared settings written once under
// an anchor (an "x-" top-level key or any node) and merged into mappings,
// a key written beside the merge winning, errors placed where the merged
// key is written and named by every path that merges it.
func TestMergeKeys(t *testing.T) {
	type item struct {
		Name  string `yaml:"name"`
		Proxy string `yaml:"proxy"`
		Depth int    `yaml:"depth"`
	}
	type doc struct {
		Items []item `yaml:"items"`
	}
	data := `x-base: &base
  proxy: socks5://127.0.0.1:1080
  depth: 3
x-deep: &deep {depth: 9}
items:
  - <<: *base
    name: a
  - <<: *base
    name: b
    depth: 4
  - <<: [*deep, *base]
    name: c
`
	var d doc
	if _, err := Decode("m.yaml", []byte(data), &d); err != nil {
		t.Fatal(err)
	}
	want := []item{{"a", "socks5://127.0.0.1:1080", 3}, {"b", "socks5://127.0.0.1:1080", 4}, {"c", "socks5://127.0.0.1:1080", 9}}
	if !reflect.DeepEqual(d.Items, want) {
		t.Errorf("items = %+v, want %+v", d.Items, want)
	}

	bad := strings.Replace(data, "  depth: 3\n", "  depht: 3\n", 1)
	_, err := Decode("m.yaml", []byte(bad), &d)
	for _, w := range []string{`m.yaml:3:3: items[0].depht: unknown field "depht"`, `m.yaml:3:3: items[1].depht`} {
		if err == nil || !strings.Contains(err.Error(), w) {
			t.Errorf("error = %v, want it to hold %q", err, w)
		}
	}
	// "x-" keys are free at the top level only.
	if _, err := Decode("m.yaml", []byte("items:\n  - name: a\n    x-note: b\n"), &d); err == nil || !strings.Contains(err.Error(), `unknown field "x-note"`) {
		t.Errorf("an x- key inside an item: %v, want unknown field", err)
	}
}

// TestMergeKeysFromFile checks an X_file value in a merged mapping: read
// once, into every mapping that merges it, and kept out of errors.
func TestMergeKeysFromFile(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "pw"), []byte("s3cret\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	type item struct {
		Name     string `yaml:"name"`
		Password string `yaml:"password"`
	}
	var d struct {
		Items []item `yaml:"items"`
	}
	data := "x-login: &login {password_file: pw}\nitems:\n  - {<<: *login, name: a}\n  - {<<: *login, name: b}\n"
	if _, err := DecodeWith(filepath.Join(dir, "c.yaml"), []byte(data), &d, Options{Files: true}); err != nil {
		t.Fatal(err)
	}
	if len(d.Items) != 2 || d.Items[0].Password != "s3cret" || d.Items[1].Password != "s3cret" {
		t.Errorf("items = %+v, want both with the file's password", d.Items)
	}
}
