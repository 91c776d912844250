package precwatch

import (
	"slices"
	"testing"
)

func TestDiffWatchlists(t *testing.T) {
	lim := 12.0
	a := &Watchlist{Substances: []Substance{
		{ID: "hp", Names: map[string]string{"en": "Hydrogen peroxide"}, Synonyms: []string{"H2O2"}, Regimes: []RegimeEntry{{Regime: RegimeEUAnnexI, LimitPercent: &lim}}},
		{ID: "gone", Names: map[string]string{"en": "Gone"}},
	}}
	lim2 := 10.0
	b := &Watchlist{Substances: []Substance{
		{ID: "new", Names: map[string]string{"en": "New"}},
		{ID: "hp", Names: map[string]string{"en": "Hydrogen peroxide", "it": "Perossido di idrogeno"}, Regimes: []RegimeEntry{{Regime: RegimeEUAnnexI, LimitPercent: &lim2}}},
	}}
	var got []string
	for _, d := range DiffWatchlists(a, b) {
		got = append(got, d.String())
	}
	want := []string{
		"added substance new",
		`changed hp: +["name[it]: Perossido di idrogeno" "regime: eu-2019-1148-annex-i limit 10%"] -["synonym: H2O2" "regime: eu-2019-1148-annex-i limit 12%"]`,
		"removed substance gone",
	}
	if !slices.Equal(got, want) {
		t.Errorf("diff =\n%q\nwant\n%q", got, want)
	}
	if d := DiffWatchlists(a, a); len(d) != 0 {
		t.Errorf("diff of a watchlist with itself = %v", d)
	}
	if d := DiffWatchlists(nil, a); len(d) != 2 || d[0].Change != "added" {
		t.Errorf("diff from nil = %v", d)
	}
}
