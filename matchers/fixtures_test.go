package matchers_test

import (
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/precwatch/precwatch"
	"github.com/precwatch/precwatch/fixtures"
	"github.com/precwatch/precwatch/matchers"
)

// verdicts folds matches into one verdict per substance: over_limit true
// if any match is over, false if every stated strength is under, nil if
// no strength is stated.
func verdicts(ms []precwatch.Match) map[string]string {
	out := map[string]string{}
	for _, m := range ms {
		cur, seen := out[m.Substance]
		v := "null"
		if m.OverLimit != nil {
			v = fmt.Sprint(*m.OverLimit)
		}
		switch {
		case !seen, cur == "null", v == "true":
			out[m.Substance] = v
		}
	}
	return out
}

func expectations(es []fixtures.Expectation) map[string]string {
	out := map[string]string{}
	for _, e := range es {
		v := "null"
		if e.OverLimit != nil {
			v = fmt.Sprint(*e.OverLimit)
		}
		out[e.Substance] = v
	}
	return out
}

func format(m map[string]string) string {
	var parts []string
	for k, v := range m {
		parts = append(parts, k+"="+v)
	}
	slices.Sort(parts)
	return "{" + strings.Join(parts, " ") + "}"
}

func TestFixtureListings(t *testing.T) {
	m := compileConfig(t)
	ls := fixtures.Listings()
	if len(ls) < 150 {
		t.Fatalf("fixtures.Listings() = %d listings, want 150+", len(ls))
	}
	mismatches := 0
	for _, l := range ls {
		got := verdicts(m.Match(precwatch.Listing{Title: l.Title, Description: l.Description}))
		want := expectations(l.Expected)
		if format(got) != format(want) {
			mismatches++
			t.Errorf("%s (%s): got %s, want %s\n  title: %s\n  description: %s", l.ID, l.Lang, format(got), format(want), l.Title, l.Description)
		}
		if l.Decoy {
			for _, x := range m.Match(precwatch.Listing{Title: l.Title, Description: l.Description}) {
				if x.Alertable() {
					t.Errorf("%s: decoy raises an alert: %s %q (%s)", l.ID, x.Substance, x.Text, x.Field)
				}
			}
		}
	}
	t.Logf("%d listings, %d mismatches", len(ls), mismatches)
}

func compileConfig(t testing.TB) *matchers.Matcher {
	t.Helper()
	w, err := matchers.LoadWatchlist("../configs/watchlist.yaml")
	if err != nil {
		t.Fatal(err)
	}
	m, err := matchers.Compile(w)
	if err != nil {
		t.Fatal(err)
	}
	return m
}
