package yamlfile

import (
	"strings"
	"testing"

	"go.yaml.in/yaml/v3"
)

type mergeSub struct {
	ID       string            `yaml:"id"`
	Names    map[string]string `yaml:"names"`
	Synonyms []string          `yaml:"synonyms"`
	CAS      string            `yaml:"cas,omitempty"`
}

type mergeList struct {
	Version    string     `yaml:"version"`
	Substances []mergeSub `yaml:"substances"`
}

// TestMergeKeepsComments: a change merged over a commented file keeps the
// comments of what is still there, its order and quoting, and decodes as
// the new value.
func TestMergeKeepsComments(t *testing.T) {
	old := `# Watchlist: header comment.
version: "1" # quoted on purpose
substances:
  # The first substance.
  - id: a
    names:
      en: Alpha # English
    synonyms:
      - alfa # Italian
      - alpha-one
  # Comment on b.
  - id: b
    names:
      en: Beta
    synonyms: []
    cas: 7722-84-1 # checked
`
	nw := mergeList{Version: "2", Substances: []mergeSub{
		{ID: "b", Names: map[string]string{"en": "Beta", "de": "Beta"}, CAS: "7722-84-1"}, // moved first
		{ID: "a", Names: map[string]string{"en": "Alpha"}, Synonyms: []string{"alpha-one", "alfa", "alpha-2"}},
		{ID: "c", Names: map[string]string{"en": "Gamma"}},
	}}
	out, err := Merge([]byte(old), nw)
	if err != nil {
		t.Fatal(err)
	}
	got := string(out)
	for _, want := range []string{
		"# Watchlist: header comment.", `version: "2" # quoted on purpose`, "# The first substance.\n  - id: a",
		"en: Alpha # English", "- alfa # Italian", "# Comment on b.\n  - id: b", "cas: 7722-84-1 # checked",
	} {
		if !strings.Contains(got, want) {
			t.Errorf("merged file lacks %q:\n%s", want, got)
		}
	}
	if strings.Contains(got, "id: c\n    names:\n      en: Gamma\n    synonyms") {
		t.Errorf("an empty field was added to a new item:\n%s", got)
	}
	var back mergeList
	if err := yaml.Unmarshal(out, &back); err != nil {
		t.Fatal(err)
	}
	a, _ := yaml.Marshal(back)
	b, _ := yaml.Marshal(nw)
	if string(a) != string(b) {
		t.Errorf("merged file decodes as\n%s\nwant\n%s", a, b)
	}
	// A removed synonym takes its comment with it; the others keep theirs.
	nw.Substances[1].Synonyms = []string{"alpha-one"}
	out, _ = Merge([]byte(old), nw)
	if strings.Contains(string(out), "Italian") || !strings.Contains(string(out), "# English") {
		t.Errorf("after removing alfa:\n%s", out)
	}
	if _, err := Merge([]byte("a: [unclosed"), nw); err == nil {
		t.Error("no error merging over a broken file")
	}
}
