package matchers_test

import (
	"errors"
	"fmt"
	"runtime"
	"slices"
	"strings"
	"testing"

	"github.com/precwatch/precwatch"
	"github.com/precwatch/precwatch/matchers"
)

func TestQuantity(t *testing.T) {
	m := sharedMatcher(t)
	tests := []struct {
		title string
		want  string // value unit count grams millilitres
	}{
		{"Potassium chlorate 25kg", "25 kg 1 25000 0"},
		{"Acetone 5 L", "5 L 1 0 5000"},
		{"Nitromethane 0.5 kg", "0.5 kg 1 500 0"},
		{"Hydrogen peroxide 35% - 1 gal", "1 gal 1 0 3785.411784"},
		{"Acetone 500 ml", "500 ml 1 0 500"},
		{"Acetone 10 x 1 L", "1 L 10 0 10000"},
		{"Acetone 1 L x10", "1 L 10 0 10000"},
		{"Aceton 2,5 Liter", "2.5 Liter 1 0 2500"},
		{"Saltpeter 1 lb", "1 lb 1 453.59237 0"},
		{"Acetone x10", "0  10 0 0"},
	}
	for _, tt := range tests {
		ms := m.Match(precwatch.Listing{Title: tt.title})
		if len(ms) != 1 || ms[0].Quantity == nil {
			t.Errorf("%q: %d matches, quantity %+v", tt.title, len(ms), ms)
			continue
		}
		q := ms[0].Quantity
		if got := fmt.Sprintf("%g %s %d %g %g", q.Value, q.Unit, q.Count, q.Grams, q.Millilitres); got != tt.want {
			t.Errorf("%q: quantity %s, want %s", tt.title, got, tt.want)
		}
	}
	// The amount belongs to the nearest substance.
	ms := m.Match(precwatch.Listing{Title: "Acetone 5 L, potassium chlorate 1 kg"})
	if len(ms) != 2 || ms[0].Quantity == nil || ms[0].Quantity.Millilitres != 5000 || ms[1].Quantity == nil || ms[1].Quantity.Grams != 1000 {
		t.Errorf("two substances: %+v", ms)
	}
	// Items of a list, each with a strength and an amount: the amount
	// before a comma ends the item before it, though fewer words part it
	// from the next substance than the strength parts it from its own (the
	// demo's lab-clearance lot read 2 L for the acid and 5 L for the
	// peroxide).
	for _, tt := range []struct{ title, want string }{
		{"Lab clearance lot: acetone 5 L, hydrogen peroxide 30% 2 L, nitric acid 65% 1 L", "acetone 5 L; hydrogen-peroxide 2 L; nitric-acid 1 L"},
		{"nitric acid 65% 1 L, hydrogen peroxide 30% 2 L", "nitric-acid 1 L; hydrogen-peroxide 2 L"},
		{"Nitric acid 65%, 1 L", "nitric-acid 1 L"},
	} {
		var got []string
		for _, x := range m.Match(precwatch.Listing{Title: tt.title}) {
			q := "none"
			if x.Quantity != nil {
				q = x.Quantity.Text
			}
			got = append(got, x.Substance+" "+q)
		}
		if strings.Join(got, "; ") != tt.want {
			t.Errorf("%q: amounts %q, want %s", tt.title, got, tt.want)
		}
	}
}

func TestScoreAndReasons(t *testing.T) {
	m := sharedMatcher(t)
	one := func(l precwatch.Listing) precwatch.Match {
		t.Helper()
		ms := m.Match(l)
		if len(ms) == 0 {
			t.Fatalf("%q: no match", l.Title)
		}
		return ms[0]
	}
	hp := one(precwatch.Listing{Title: "Hydrogen peroxide 35% 25 kg"})
	for _, want := range []string{"EU 2019/1148 Annex I", "35% w/w, 2.9x the 12% limit", "25 kg"} {
		if !slices.Contains(hp.Reasons, want) {
			t.Errorf("reasons %q lack %q", hp.Reasons, want)
		}
	}
	weak := one(precwatch.Listing{Title: "Hydrogen peroxide 6% 100 ml"})
	tor := one(precwatch.Listing{Title: "Hydrogen peroxide 35% 25 kg", Tor: true})
	sarin := one(precwatch.Listing{Title: "Sarin"})
	acetone := one(precwatch.Listing{Title: "Acetone"})
	hidden := one(precwatch.Listing{Title: "Hydrоgen pеroxide 35% 25 kg"})
	if !(weak.Score < hp.Score && hp.Score < tor.Score && acetone.Score < sarin.Score && hp.Score < hidden.Score) {
		t.Errorf("scores: weak %v hp %v tor %v acetone %v sarin %v hidden %v", weak.Score, hp.Score, tor.Score, acetone.Score, sarin.Score, hidden.Score)
	}
	if !slices.Contains(tor.Reasons, "dark-web market") || !slices.Contains(hidden.Reasons, "obfuscated: homoglyphs") || !slices.Contains(sarin.Reasons, "CWC Schedule 1") {
		t.Errorf("reasons: tor %q hidden %q sarin %q", tor.Reasons, hidden.Reasons, sarin.Reasons)
	}
	multi := m.Match(precwatch.Listing{Title: "Acetone, nitromethane and potassium chlorate"})
	if len(multi) != 3 || !slices.Contains(multi[0].Reasons, "3 precursors in one listing") || multi[0].Score <= acetone.Score {
		t.Errorf("multi: %+v", multi)
	}
	for _, x := range append(multi, hp, weak, tor, sarin, acetone, hidden) {
		if x.Score < 0 || x.Score > 100 {
			t.Errorf("score %v outside [0,100]", x.Score)
		}
	}
}

func TestSteps(t *testing.T) {
	m := sharedMatcher(t)
	tests := []struct{ title, want string }{
		{"acetone", ""},
		{"Acetone", "casefold"},
		{"Hydrоgen peroxide", "casefold homoglyph"},
		{"perchIorate de potassium", "casefold homoglyph"},
		{"4c3t0n3 99%", "leetspeak"},
		{"a.c.e.t.o.n.e", "joined-separators"},
		{"H₂O₂ 35%", "casefold subscript"},
		{"Peróxido de hidrógeno", "casefold diacritics"},
		{"ＡＣＥＴＯＮＥ", "nfkc"},
		{"ᎪᏟᎬᎢՕոᎬ", "homoglyph"},
		{"ace\u200btone", "invisible"},
		{"CAS 7722841", "cas-without-hyphens"},
		{"Acet&#111;ne 99 %", "casefold decoded"},
	}
	for _, tt := range tests {
		ms := m.Match(precwatch.Listing{Title: tt.title})
		if len(ms) != 1 {
			t.Errorf("%q: %d matches %+v", tt.title, len(ms), ms)
			continue
		}
		if got := strings.Join(ms[0].Steps, " "); got != tt.want {
			t.Errorf("%q: steps %q, want %q", tt.title, got, tt.want)
		}
	}
}

func TestAbbreviationContext(t *testing.T) {
	m := sharedMatcher(t)
	tests := []struct{ title, want string }{
		{"AN prills, 25 kg bags", "ammonium-nitrate"},
		{"TEA 99% reagent", "triethanolamine"},
		{"HP 50%", "hydrogen-peroxide"},
		{"nitro fuel 20%", "nitromethane"},
		{"MDEA and TEA, 99% each", "methyldiethanolamine triethanolamine"},
		{"TEA tree oil 100% pure", ""},
		{"Earl Grey TEA 500 g", ""},
		{"nitro cold brew", ""},
		{"HP laptop 50% off", ""},
		{"AN example", ""},
		{"CAN bus adapter 2 kg", ""},
		{"DMP dimethyl phthalate 99%", ""},
		{"Ceric ammonium nitrate (CAN) 98%", ""},
		{"TEA (triethylamine) 99%", ""},
	}
	for _, tt := range tests {
		var got []string
		for _, x := range m.Match(precwatch.Listing{Title: tt.title}) {
			if !slices.Contains(got, x.Substance) {
				got = append(got, x.Substance)
			}
		}
		if strings.Join(got, " ") != tt.want {
			t.Errorf("%q: got %q, want %q", tt.title, got, tt.want)
		}
	}
}

func TestNormalizeGaps(t *testing.T) {
	tests := []struct{ in, want string }{
		{"perchIorate", "perchlorate"},
		{"McIntosh", "mclntosh"}, // the rule is general: I between lower-case letters
		{"IODINE", "iodine"},
		{"4c3t0n3", "acetone"},
		{"kclo3 500ml", "kclo3 500ml"},
		{"n.i-t.r_o", "nitro"},
		{"h.y.d.r.o p.e.r.o", "hydro pero"},
		{"perch|orate", "perchlorate"},
	}
	for _, tt := range tests {
		if got := matchers.Normalize(tt.in); got != tt.want {
			t.Errorf("Normalize(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestSuppressions(t *testing.T) {
	w, err := matchers.LoadWatchlist("../configs/watchlist.yaml")
	if err != nil {
		t.Fatal(err)
	}
	w.Suppressions = []precwatch.Suppression{
		{Term: "Acetone", Site: "shop", By: "alice", Reason: "nail polish shop"},
		{Site: "market", Listing: "id:42", Substance: "nitromethane", By: "bob", Reason: "RC fuel"},
	}
	m, err := matchers.Compile(w)
	if err != nil {
		t.Fatal(err)
	}
	ms := m.Match(precwatch.Listing{Site: "shop", URL: "u", Title: "ACETONE 1 L, nitromethane"})
	if len(ms) != 2 || ms[0].Suppressed != "by alice: nail polish shop" || ms[0].Alertable() || ms[1].Suppressed != "" {
		t.Errorf("term suppression: %+v", ms)
	}
	if ms := m.Match(precwatch.Listing{Site: "other", Title: "Acetone"}); len(ms) != 1 || ms[0].Suppressed != "" {
		t.Errorf("other site suppressed: %+v", ms)
	}
	ms = m.Match(precwatch.Listing{Site: "market", ID: "42", Title: "Nitromethane 98%, acetone"})
	if len(ms) != 2 || ms[0].Suppressed != "by bob: RC fuel" || ms[1].Suppressed != "" {
		t.Errorf("listing suppression: %+v", ms)
	}

	base := "version: \"1\"\nsubstances:\n  - id: hp\n    entry_type: compound\n    names:\n      en: Hydrogen peroxide\n    regimes:\n      - regime: eu-2019-1148-annex-i\n        limit_percent_w_w: 12\nsuppressions:\n"
	for _, tt := range []struct{ supp, want string }{
		{"  - term: HP\n    site: s\n    reason: laptops\n", `w.yaml:11:5: suppressions[0].by: who suppressed is required`},
		{"  - term: HP\n    site: s\n    by: alice\n", `w.yaml:11:5: suppressions[0].reason: a reason is required`},
		{"  - site: s\n    by: alice\n    reason: x\n", `w.yaml:11:5: suppressions[0]: a term or a listing is required`},
		{"  - site: s\n    listing: id:1\n    substance: nope\n    by: a\n    reason: x\n", `w.yaml:13:5: suppressions[0].substance: unknown substance "nope"`},
	} {
		_, err := matchers.ParseWatchlist("w.yaml", []byte(base+tt.supp))
		if err == nil || !strings.Contains(err.Error(), tt.want) || !errors.Is(err, precwatch.ErrInvalid) {
			t.Errorf("error %v, want %s", err, tt.want)
		}
	}
	if _, err := matchers.ParseWatchlist("w.yaml", []byte(base+"  - term: HP\n    site: s\n    by: a\n    reason: laptops\n    at: 2026-01-02T03:04:05Z\n")); err != nil {
		t.Errorf("valid suppression: %v", err)
	}
}

// TestBigListing checks that a 10 MB listing, valid UTF-8 or not, is
// matched in allocation proportional to its size: ten times the text, at
// most about ten times the allocation (not a hundred), and a bounded
// number of bytes per input byte.
func TestBigListing(t *testing.T) {
	m := sharedMatcher(t)
	unit := "Hydrogen peroxide 35% 25 kg \xff\xfe n.i.t.r.o ｈｙｄｒｏ Ѕаrіn 4c3t0n3 lorem ipsum dolor sit amet. "
	big := 10 << 20
	if raceEnabled {
		big = 2 << 20
	}
	measure := func(size int) (uint64, int) {
		desc := strings.Repeat(unit, size/len(unit))
		var before, after runtime.MemStats
		runtime.GC()
		runtime.ReadMemStats(&before)
		ms := m.Match(precwatch.Listing{Title: "x", Description: desc})
		runtime.ReadMemStats(&after)
		if len(ms) == 0 {
			t.Fatal("no matches")
		}
		for _, x := range ms {
			if x.Text != desc[x.Start:x.End] {
				t.Fatalf("span %q != %q", x.Text, desc[x.Start:x.End])
			}
		}
		return after.TotalAlloc - before.TotalAlloc, len(desc)
	}
	small, smallLen := measure(big / 10)
	large, largeLen := measure(big)
	if r := float64(large) / float64(small); r > 15 {
		t.Errorf("10x the text allocated %.1fx the memory (%d MB vs %d MB): not linear", r, large>>20, small>>20)
	}
	// Every byte here is dense with matches; most text allocates far less.
	if perByte := large / uint64(largeLen); perByte > 400 {
		t.Errorf("%d bytes allocated per input byte (%d MB for %d MB)", perByte, large>>20, largeLen>>20)
	}
	t.Logf("%d MB listing: %d MB allocated; %d MB: %d MB", largeLen>>20, large>>20, smallLen>>20, small>>20)
}

// TestMatchAllocs checks that the scan itself allocates O(1) per listing:
// a listing with no match allocates nothing once buffers are warm.
func TestMatchAllocs(t *testing.T) {
	m := sharedMatcher(t)
	l := precwatch.Listing{Title: "Vintage wooden chair, oak, 4 legs", Description: strings.Repeat("Solid oak, hand finished, ships in 3 days. ", 50)}
	// Under the race detector sync.Pool drops a share of its items on
	// purpose, so buffers are sometimes made anew.
	limit := 0.0
	if raceEnabled {
		limit = 10
	}
	if n := testing.AllocsPerRun(100, func() { m.Match(l) }); n > limit {
		t.Errorf("%v allocations for a listing with no match, want at most %v", n, limit)
	}
}

// TestMixedPairsBeyondManySubstances: a name in two languages is read
// whatever the substance's place in a long watchlist (the pair index once
// held 128 substances).
func TestMixedPairsBeyondManySubstances(t *testing.T) {
	w, err := matchers.LoadWatchlist("../configs/watchlist.yaml")
	if err != nil {
		t.Fatal(err)
	}
	var filler []precwatch.Substance
	for i := range 200 {
		filler = append(filler, precwatch.Substance{
			ID:      fmt.Sprintf("filler-%d", i),
			Names:   map[string]string{"en": fmt.Sprintf("Zqfiller compound %c%c", 'a'+i/26, 'a'+i%26)},
			Regimes: []precwatch.RegimeEntry{{Regime: precwatch.RegimeEUAnnexII}},
		})
	}
	w.Substances = append(filler, w.Substances...)
	m, err := matchers.Compile(w)
	if err != nil {
		t.Fatal(err)
	}
	ms := m.Match(precwatch.Listing{Title: "Lab clearance: potassium perchlorat 99 %, 1 kg"})
	if len(ms) != 1 || ms[0].Substance != "potassium-perchlorate" || ms[0].Text != "potassium perchlorat" {
		t.Errorf("got %+v, want potassium-perchlorate at \"potassium perchlorat\"", ms)
	}
}
