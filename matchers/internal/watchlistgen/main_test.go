package main

import (
	"bytes"
	"os"
	"slices"
	"strings"
	"testing"
)

func TestSplitTerm(t *testing.T) {
	tests := []struct {
		in, main    string
		family      bool
		syns, abbrs []string
	}{
		{"Sarin: O-Isopropyl methylphosphonofluoridate", "Sarin", false, []string{"O-Isopropyl methylphosphonofluoridate"}, nil},
		{"white fuming nitric acid (WFNA)", "white fuming nitric acid", false, nil, []string{"WFNA"}},
		{"Gaz moutarde (ypérite)", "Gaz moutarde", false, []string{"ypérite"}, nil},
		{"Carbamates (quaternaries and bisquaternaries of dimethylcarbamoyloxypyridines)", "Carbamates (quaternaries and bisquaternaries of dimethylcarbamoyloxypyridines)", true, nil, nil},
		{"Lewisite 1: 2-Chlorovinyldichloroarsine", "Lewisite 1", false, []string{"2-Chlorovinyldichloroarsine"}, nil},
		{"Quaternary X given as example under Schedule 1 A(16) (full systematic name not transcribed)", "Quaternary X given as example under Schedule 1 A(16) (full systematic name not transcribed)", false, nil, nil},
	}
	for _, tt := range tests {
		main, syns, abbrs := splitTerm(tt.in, tt.family)
		if main != tt.main || !slices.Equal(syns, tt.syns) || !slices.Equal(abbrs, tt.abbrs) {
			t.Errorf("splitTerm(%q) = %q %q %q, want %q %q %q", tt.in, main, syns, abbrs, tt.main, tt.syns, tt.abbrs)
		}
	}
}

// TestCommittedWatchlist checks that configs/watchlist.yaml is what the
// generator makes of the reference data, so the two cannot drift apart.
func TestCommittedWatchlist(t *testing.T) {
	const ref = "../../../configs/reference/precursors.yaml"
	got, n, err := build(ref, "extra_names.yaml", "../../../configs/watchlist.yaml")
	if err != nil {
		t.Fatalf("build from %s (the vendored reference copy): %v", ref, err)
	}
	if n != 92 {
		t.Errorf("substances = %d, want 92", n)
	}
	want, err := os.ReadFile("../../../configs/watchlist.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, want) {
		t.Error("configs/watchlist.yaml differs from the generator's output: run go run ./matchers/internal/watchlistgen")
	}
}

// TestKeepsSuppressions checks that regenerating the watchlist keeps the
// analysts' suppressions of the existing file.
func TestKeepsSuppressions(t *testing.T) {
	const ref = "../../../configs/reference/precursors.yaml"
	dir := t.TempDir()
	existing := dir + "/watchlist.yaml"
	supp := "suppressions:\n  - term: Nitro\n    site: agora2\n    by: alice\n    reason: RC fuel shop\n    at: 2026-01-02T03:04:05Z\n"
	if err := os.WriteFile(existing, []byte("version: old\nsubstances: []\n"+supp), 0o644); err != nil {
		t.Fatal(err)
	}
	got, _, err := build(ref, "extra_names.yaml", existing)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Contains(got, []byte("reason: RC fuel shop")) || !bytes.Contains(got, []byte("by: alice")) || !bytes.Contains(got, []byte("term: Nitro")) {
		t.Errorf("suppression lost on regeneration:\n%s", got[len(got)-300:])
	}
	// And the result is a valid watchlist with that suppression.
	if err := os.WriteFile(existing, got, 0o644); err != nil {
		t.Fatal(err)
	}
	again, _, err := build(ref, "extra_names.yaml", existing)
	if err != nil || !bytes.Equal(again, got) {
		t.Errorf("regenerating twice changed the file (err %v)", err)
	}
}

func TestTransliterate(t *testing.T) {
	for _, tc := range []struct {
		in, bgn, icao string
	}{
		{"Аммиачная селитра", "ammiachnaya selitra", "ammiachnaia selitra"},
		{"Калий хлорноватокислый", "kaliy khlornovatokislyy", "kalii khlornovatokislyi"},
		{"нитрат кальция", "nitrat kaltsiya", "nitrat kaltsiia"},
		{"серная к-та 93%", "sernaya k-ta 93%", "sernaia k-ta 93%"},
		{"Щёлочь", "shchyoloch", "shcheloch"},
	} {
		if got, ok := transliterate(tc.in, nil); !ok || got != tc.bgn {
			t.Errorf("transliterate(%q) = %q, %v; want %q", tc.in, got, ok, tc.bgn)
		}
		if got, ok := transliterate(tc.in, icaoLatin); !ok || got != tc.icao {
			t.Errorf("transliterate(%q, icao) = %q, %v; want %q", tc.in, got, ok, tc.icao)
		}
	}
	// A letter of another Cyrillic language is no Russian: no term.
	if got, ok := transliterate("Ґрунт", nil); ok {
		t.Errorf("transliterate(Ґрунт) = %q, want none", got)
	}
	s := outSubstance{Names: map[string]string{"ru": "Нитрат аммония", "en": "Ammonium nitrate"}, Synonyms: []string{"аммиачная селитра", "nitrat ammoniya"}, Excludes: []string{"азотная кислота-free"}}
	addTranslits(&s)
	for _, want := range []string{"ammiachnaya selitra", "ammiachnaja selitra", "ammiachnaia selitra", "nitrat ammoniia"} {
		if !slices.Contains(s.Synonyms, want) {
			t.Errorf("synonyms %q lack %q", s.Synonyms, want)
		}
	}
	if n := strings.Count(strings.Join(s.Synonyms, "|"), "nitrat ammoniya"); n != 1 {
		t.Errorf("synonyms %q hold nitrat ammoniya %d times, want once", s.Synonyms, n)
	}
	if !slices.Contains(s.Excludes, "azotnaya kislota-free") {
		t.Errorf("excludes %q lack the transliterated exclusion", s.Excludes)
	}
}

func TestHillFormula(t *testing.T) {
	for in, want := range map[string]string{
		"KClO4": "ClKO4", "H2SO4": "H2O4S", "HNO3": "HNO3", "NH4NO3": "H4N2O3", "CH3NO2": "CH3NO2",
		"Ca(NO3)2": "CaN2O6", "Mg(NO3)2·6H2O": "H12MgN2O12", "POCl3": "Cl3OP", "COCl2": "CCl2O", "HCN": "CHN",
		"C6H12N4": "C6H12N4", "S2Cl2": "Cl2S2", "CClN": "CClN", "Mg": "Mg",
	} {
		if got, err := hillFormula(in); err != nil || got != want {
			t.Errorf("hillFormula(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
	for _, bad := range []string{"Ca(NO3", "NO3)2", "K-Cl"} {
		if got, err := hillFormula(bad); err == nil {
			t.Errorf("hillFormula(%q) = %q, want an error", bad, got)
		}
	}
}

func TestInflect(t *testing.T) {
	for in, want := range map[string][]string{
		"Серная кислота":               {"серной кислоты", "серную кислоту", "серной кислотой", "серной кислоте"},
		"Кислота азотная":              {"кислоты азотной", "кислоту азотную", "кислотой азотной", "кислоте азотной"},
		"Перекись водорода":            {"перекиси водорода", "перекись водорода", "перекисью водорода", "перекиси водорода"},
		"Калий хлорноватокислый":       {"калия хлорноватокислого", "калий хлорноватокислый", "калием хлорноватокислым", "калии хлорноватокислом"},
		"порошок магния":               {"порошка магния", "порошок магния", "порошком магния", "порошке магния"},
		"бертолетова соль":             {"бертолетовой соли", "бертолетову соль", "бертолетовой солью", "бертолетовой соли"},
		"Тиодигликоль":                 {"тиодигликоля", "тиодигликоль", "тиодигликолем", "тиодигликоле"},
		"технический хлорид":           {"технического хлорида", "технический хлорид", "техническим хлоридом", "техническом хлориде"},
		"фосфора хлорокись":            nil, // already a genitive before its noun
		"Магний азотнокислый 6-водный": {"магния азотнокислого 6-водного", "магний азотнокислый 6-водный", "магнием азотнокислым 6-водным", "магнии азотнокислом 6-водном"},
		"нитрат магния шестиводный":    {"нитрата магния шестиводного", "нитрат магния шестиводный", "нитратом магния шестиводным", "нитрате магния шестиводном"},
		"Kwas siarkowy":                {"kwasu siarkowego", "kwas siarkowy", "kwasem siarkowym", "kwasie siarkowym"},
		"Saletra amonowa":              {"saletry amonowej", "saletrę amonową", "saletrą amonową", "saletrze amonowej"},
		"Nadtlenek wodoru":             {"nadtlenku wodoru", "nadtlenek wodoru", "nadtlenkiem wodoru", "nadtlenku wodoru"},
		"saletra chilijska":            {"saletry chilijskiej", "saletrę chilijską", "saletrą chilijską", "saletrze chilijskiej"},
		"Magnez w proszku":             {"magnezu w proszku", "magnez w proszku", "magnezem w proszku", "magnezie w proszku"},
		"Chlorek siarki(I)":            nil,
		"Azot":                         {"azotu", "azot", "azotem", "azocie"},
		"Siarka":                       {"siarki", "siarkę", "siarką", "siarce"},
		"Nawóz azotowy":                nil, // ó alternates ("nawozu"): no guess
		"Ацетон":                       {"ацетона", "ацетон", "ацетоном", "ацетоне"},
		"Гексамин":                     {"гексамина", "гексамин", "гексамином", "гексамине"},
	} {
		got := ruForms(in)
		if in[0] < 0x80 {
			got = plForms(in)
		}
		if !slices.Equal(got, want) {
			t.Errorf("forms(%q) = %q, want %q", in, got, want)
		}
	}
}
