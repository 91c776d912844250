package main

import (
	"os"
	"regexp"
	"slices"
	"strings"
	"testing"

	"go.yaml.in/yaml/v3"

	"github.com/precwatch/precwatch"
	"github.com/precwatch/precwatch/matchers"
)

const refPath = "../../../configs/reference/precursors.yaml"

// built is the generated watchlist, by id.
func built(t *testing.T) (map[string]outSubstance, []byte) {
	t.Helper()
	b, _, err := build(refPath, "extra_names.yaml", "")
	if err != nil {
		t.Fatal(err)
	}
	var w outWatchlist
	if err := yaml.Unmarshal(b, &w); err != nil {
		t.Fatal(err)
	}
	byID := map[string]outSubstance{}
	for _, s := range w.Substances {
		byID[s.ID] = s
	}
	return byID, b
}

// TestFamilyExemptions checks that each generator's exemptions are the ones
// the reference note states (by CAS), and that no exempt compound is named
// by its family: 2.B.11 exempts N,N-dimethyl- and N,N-diethylaminoethanol.
func TestFamilyExemptions(t *testing.T) {
	data, err := os.ReadFile(refPath)
	if err != nil {
		t.Fatal(err)
	}
	var ref refFile
	var notes struct {
		Substances []struct {
			ID      string `yaml:"id"`
			Regimes []struct {
				Note string `yaml:"note"`
			} `yaml:"regimes"`
		} `yaml:"substances"`
	}
	if err := yaml.Unmarshal(data, &ref); err != nil {
		t.Fatal(err)
	}
	if err := yaml.Unmarshal(data, &notes); err != nil {
		t.Fatal(err)
	}
	casRE := regexp.MustCompile(`\b\d{2,7}-\d{2}-\d\b`)
	for _, s := range notes.Substances {
		gen, ok := families[s.ID]
		if !ok {
			continue
		}
		var stated []string
		for _, r := range s.Regimes {
			if _, after, ok := strings.Cut(r.Note, "Exemption"); ok {
				stated = append(stated, casRE.FindAllString(after, -1)...)
			}
		}
		var have []string
		for _, cas := range gen.exempt {
			have = append(have, cas)
		}
		slices.Sort(stated)
		slices.Sort(have)
		if !slices.Equal(stated, have) {
			t.Errorf("%s: generator exempts %v, reference note exempts %v", s.ID, have, stated)
		}
	}

	byID, _ := built(t)
	for _, n := range byID["cwc2-b11-aminoethane-2-ols"].Synonyms {
		k := termKey(n)
		for _, bad := range []string{"dimethyl", "diethyl", "dimetil", "dietil", "dimetylo", "dietylo", "диметил", "диэтил"} {
			if strings.Contains(k, termKey(bad)) {
				t.Errorf("2.B.11 names the exempt %q", n)
			}
		}
	}
	// 2.B.4 is hand-listed; its exemption is Fonofos (944-22-9).
	for _, n := range byID["cwc2-b4-methyl-ethyl-propyl-phosphorus"].Synonyms {
		if k := termKey(n); strings.Contains(k, "fonofos") || strings.Contains(k, "phenyl") {
			t.Errorf("2.B.4 names the exempt %q", n)
		}
	}
}

// TestExemptNotMatched runs the matcher over the exempt aminoethanols in
// the spellings shops use: none may be reported as 2.B.11, while members
// written the same ways are.
func TestExemptNotMatched(t *testing.T) {
	_, b := built(t)
	w, err := matchers.ParseWatchlist("watchlist.yaml", b)
	if err != nil {
		t.Fatal(err)
	}
	m, err := matchers.Compile(w)
	if err != nil {
		t.Fatal(err)
	}
	has := func(title, id string) bool {
		for _, x := range m.Match(precwatch.Listing{Title: title}) {
			if x.Substance == id {
				return true
			}
		}
		return false
	}
	const fam = "cwc2-b11-aminoethane-2-ols"
	for _, alk := range []string{"dimethyl", "diethyl"} {
		for _, title := range []string{
			"2-(" + alk + "amino)ethanol 99%, 1 L",
			alk + "aminoethanol 500 ml",
			"2-" + alk + "aminoethanol, 1 kg",
			"N,N-" + alk + "ethanolamine 98%",
			"N,N-" + alk + "aminoethanol hydrochloride",
			"Ethanol, 2-(" + alk + "amino)- 250 g",
		} {
			if has(title, fam) {
				t.Errorf("exempt %q matched as 2.B.11", title)
			}
		}
	}
	for _, alk := range []string{"диметил", "диэтил", "dimetil", "dietil"} {
		for _, title := range []string{
			"2-(" + alk + "амино)этанол 1 л",
			alk + "аминоэтанол",
			"2-(" + alk + "amino)etanol 1 L",
			alk + "aminoetanol 500 ml",
			"N,N-" + alk + "etanolamina",
		} {
			if has(title, fam) {
				t.Errorf("exempt %q matched as 2.B.11", title)
			}
		}
	}
	for _, title := range []string{
		"2-(Diisopropylamino)ethanol 99%, 1 L",
		"N,N-Diisopropylethanolamine 98%",
		"2-(Dipropylamino)ethanol 250 ml",
		"N-Ethyl-N-methylethanolamine 100 g",
		"Ethanol, 2-[bis(1-methylethyl)amino]- 500 g",
		"2-(Диизопропиламино)этанол, 1 л",
		"2-(diisopropilammino)etanolo 250 ml",
	} {
		if !has(title, fam) {
			t.Errorf("member %q not matched as 2.B.11", title)
		}
	}
}

// TestFamilyNamesUnique checks that no family member name (generated, or
// hand-listed for 2.B.4) is a term of a compound's entry: a member with an
// entry of its own is left to that entry.
func TestFamilyNamesUnique(t *testing.T) {
	byID, _ := built(t)
	owner := map[string]string{}
	for id, s := range byID {
		if s.EntryType == "family" {
			continue
		}
		for _, n := range terms(s) {
			owner[termKey(n)] = id
		}
	}
	for id, s := range byID {
		if s.EntryType != "family" {
			continue
		}
		for _, n := range s.Synonyms {
			if o, ok := owner[termKey(n)]; ok {
				t.Errorf("%s: %q is also a term of %s", id, n, o)
			}
		}
	}
	// The members with entries of their own got the generated spellings.
	for id, name := range map[string]string{
		"sarin": "isopropyl methylphosphonofluoridate",
		"soman": "O-pinacolyl methylphosphonofluoridate",
		"tabun": "ethyl N,N-dimethylphosphoramidocyanidate",
		"vx":    "O-ethyl S-[2-(diisopropylamino)ethyl] methylphosphonothioate",
		"df":    "methylphosphonic difluoride",
		"ql":    "O-ethyl O-[2-(diisopropylamino)ethyl] methylphosphonite",
	} {
		if !slices.ContainsFunc(terms(byID[id]), func(s string) bool { return strings.EqualFold(s, name) }) {
			t.Errorf("%s lacks %q", id, name)
		}
	}
}

// TestFamilyPatterns checks that each family is written in each of its
// name patterns.
func TestFamilyPatterns(t *testing.T) {
	byID, _ := built(t)
	want := map[string][]string{
		"cwc1-a1-phosphonofluoridates": {
			"cyclohexyl methylphosphonofluoridate", "O-cyclohexyl methylphosphonofluoridate",
			"O-decyl isopropylphosphonofluoridate", "ethyl methylfluorophosphonate", "O-cyclopentyl propylphosphonofluoridate",
		},
		"cwc1-a2-phosphoramidocyanidates": {"O-isopropyl N,N-diethyl phosphoramidocyanidate", "cyclohexyl N,N-dimethylphosphoramidocyanidate"},
		"cwc1-a3-phosphonothiolates": {
			"O-isobutyl S-2-diethylaminoethyl methylphosphonothiolate",
			"O-isobutyl S-[2-(diethylamino)ethyl] methylphosphonothioate",
		},
		"cwc1-b9-phosphonyldifluorides":    {"ethylphosphonyl difluoride", "isopropylphosphonic difluoride", "Phosphonic difluoride, P-(1-methylethyl)-"},
		"cwc1-b10-phosphonites":            {"O-methyl O-2-diethylaminoethyl ethylphosphonite", "O-ethyl O-[2-(dimethylamino)ethyl] methylphosphonite"},
		"cwc2-b5-phosphoramidic-dihalides": {"N,N-dimethylphosphoramidic dichloride", "dimethylphosphoramidic difluoride", "Phosphoramidic dichloride, N,N-bis(1-methylethyl)-", "N-ethyl-N-methylphosphoramidic dichloride"},
		"cwc2-b6-dialkyl-phosphoramidates": {"diethyl N,N-dimethylphosphoramidate", "O,O-diethyl N,N-dimethylphosphoramidate", "Phosphoramidic acid, N,N-dimethyl-, diethyl ester"},
		"cwc2-b10-aminoethyl-2-chlorides": {
			"2-(diisopropylamino)ethyl chloride", "diisopropylaminoethyl chloride", "N,N-diisopropylaminoethyl chloride",
			"2-chloro-N,N-diisopropylethylamine", "Ethanamine, 2-chloro-N,N-bis(1-methylethyl)-", "2-(dimethylamino)ethyl chloride",
			"2-(N-ethyl-N-methylamino)ethyl chloride", "Ethanamine, 2-chloro-N-methyl-N-(1-methylethyl)-",
			"2-(диизопропиламино)этилхлорид", "cloruro de 2-(diisopropilamino)etilo", "chlorure de 2-(diisopropylamino)éthyle",
		},
		"cwc2-b11-aminoethane-2-ols": {
			"2-(diisopropylamino)ethanol", "2-[bis(1-methylethyl)amino]ethanol", "diisopropylaminoethanol",
			"N,N-diisopropylaminoethanol", "N,N-diisopropylethanolamine", "Ethanol, 2-[bis(1-methylethyl)amino]-",
			"2-[ethyl(methyl)amino]ethanol", "N-ethyl-N-methylethanolamine", "Ethanol, 2-[methyl(1-methylethyl)amino]-",
		},
		"cwc2-b12-aminoethane-2-thiols": {
			"2-(diisopropylamino)ethanethiol", "diisopropylaminoethanethiol", "N,N-dimethylcysteamine",
			"Ethanethiol, 2-[bis(1-methylethyl)amino]-", "2-(N-ethyl-N-methylamino)ethanethiol",
			"2-(диизопропиламино)этантиол", "diizopropilaminoetantiol",
		},
	}
	for id := range families {
		if _, ok := want[id]; !ok {
			t.Errorf("%s: no patterns checked", id)
		}
	}
	for id, names := range want {
		got := byID[id].Synonyms
		for _, n := range names {
			if !slices.ContainsFunc(got, func(s string) bool { return strings.EqualFold(s, n) }) {
				t.Errorf("%s lacks %q", id, n)
			}
		}
	}
	// No member is named with an ambiguous run: "methylpropyl" is isobutyl.
	for id := range families {
		for _, n := range byID[id].Synonyms {
			if strings.Contains(n, "methylpropyl") && !strings.Contains(n, ", ") {
				t.Errorf("%s: ambiguous %q", id, n)
			}
		}
	}
}

// TestTermCountBounded keeps the automaton's growth in check: no family
// above 400 terms and the whole watchlist under 4,100 (4,031 with the
// Russian names also in Latin letters, noun first, and the Russian and
// Polish ones in four more cases; the automaton's cost grows far slower
// than its terms: BenchmarkMatch/10k-terms).
func TestTermCountBounded(t *testing.T) {
	byID, _ := built(t)
	total := 0
	for id, s := range byID {
		n := len(terms(s))
		total += n
		if _, ok := families[id]; ok && n > 400 {
			t.Errorf("%s: %d terms, want at most 400", id, n)
		}
	}
	if total > 4100 {
		t.Errorf("watchlist has %d terms, want at most 4100", total)
	}
	t.Logf("%d terms", total)
}

// TestCheckExtra checks that a comma split left as a bare locant is refused.
func TestCheckExtra(t *testing.T) {
	if err := checkExtra(map[string]map[string][]string{"x": {"ru": {"Тиодигликоль", "2"}}}); err == nil {
		t.Error("bare locant accepted")
	}
	if err := checkExtra(map[string]map[string][]string{"x": {"ru": {"2,2'-тиодиэтанол"}}}); err != nil {
		t.Error(err)
	}
}
