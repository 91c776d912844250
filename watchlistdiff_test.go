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
		{ID: "hp", Names: map[string]string{"en": "Hydrogen peroxide", "it": "Perossido di idrogeno"}, Regimes: []RegimeEntry{{Regime: RegimeEUAnnexI, LimitPercent: &lim2}}},
		{ID: "new", Names: map[string]string{"en": "New"}},
	}}
	got := DiffWatchlists(a, b)
	var strs []string
	for _, c := range got {
		strs = append(strs, c.String())
	}
	want := []string{
		"removed substance gone",
		`hp term: +["name:it:Perossido di idrogeno"] -["synonym:H2O2"]`,
		`hp regime: +["eu-2019-1148-annex-i limit 10%"] -["eu-2019-1148-annex-i limit 12%"]`,
		"added substance new",
	}
	if !slices.Equal(strs, want) {
		t.Errorf("diff =\n%q\nwant\n%q", strs, want)
	}
	if d := DiffWatchlists(a, a); len(d) != 0 {
		t.Errorf("diff of a watchlist with itself = %v", d)
	}
}
