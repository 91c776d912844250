package storetest

import (
	"slices"
	"testing"
	"time"

	"github.com/precwatch/precwatch"
)

// testSeverityPolicyOrder (issue 12): a mixed queue whose matches got their
// severities from the default policy ranks in the policy's order: CWC
// Schedule 1, then Schedule 2, Annex I over its limit and Schedule 3 raised
// by two contexts, then Annex I without a strength and Schedule 3 raised by
// one, then Schedule 3 on a shop and Annex II; by score within each, even
// where a Schedule 3 match scores above an Annex I one. Both stores must
// list exactly that order, filtered or not.
func testSeverityPolicyOrder(t *testing.T, factory func() precwatch.Store) {
	s := client(t, factory)
	cwc := func(sub string, regime precwatch.Regime, score, grams float64) precwatch.Match {
		m := precwatch.Match{
			Substance: sub, Name: sub, Regime: regime, Severity: precwatch.SeverityCritical,
			Term: sub, Kind: "name", Field: "title", Text: sub, Score: score,
		}
		if grams > 0 {
			m.Quantity = &precwatch.Quantity{Value: grams / 1000, Unit: "kg", Count: 1, Grams: grams, Text: "25 kg"}
		}
		return m
	}
	withScore := func(m precwatch.Match, score float64) precwatch.Match { m.Score = score; return m }
	acetone := withScore(sulphuric(), 20)
	acetone.Substance, acetone.Regime = "acetone", precwatch.RegimeEUAnnexII
	queue := []struct {
		id  string
		tor bool
		ms  []precwatch.Match
	}{
		{"s3-shop", false, []precwatch.Match{cwc("triethanolamine", precwatch.RegimeCWC3, 70, 500)}},
		{"annex2", false, []precwatch.Match{acetone}},
		{"s3-onion", true, []precwatch.Match{cwc("triethanolamine", precwatch.RegimeCWC3, 65, 500)}},
		{"s3-bulk", false, []precwatch.Match{cwc("triethanolamine", precwatch.RegimeCWC3, 68, 25000)}},
		{"s3-family", false, []precwatch.Match{cwc("trimethyl-phosphite", precwatch.RegimeCWC3, 60, 0), cwc("triethyl-phosphite", precwatch.RegimeCWC3, 60.125, 0)}},
		{"annex1-none", false, []precwatch.Match{withScore(nitromethane(), 50)}},
		{"annex1-under", false, []precwatch.Match{withScore(nitricUnder(), 45)}},
		{"annex1-over", false, []precwatch.Match{withScore(peroxide(35), 55)}},
		{"s2", false, []precwatch.Match{withScore(thiodiglycol(), 58)}},
		{"s3-onion-bulk", true, []precwatch.Match{cwc("triethanolamine", precwatch.RegimeCWC3, 75, 25000)}},
		{"s1", false, []precwatch.Match{cwc("saxitoxin", precwatch.RegimeCWC1, 40, 0)}},
	}
	policy := precwatch.DefaultSeverityPolicy()
	for i, q := range queue {
		o := obs("chemshop", q.id, 20, t0.Add(time.Duration(i)*time.Minute), "run-1")
		o.Listing.Tor = q.tor
		o.Matches = policy.Apply(o.Listing, slices.Clone(q.ms))
		record(t, s, o)
	}
	label := func(as []precwatch.Alert) []string {
		out := make([]string, len(as))
		for i, a := range as {
			out[i] = a.Listing.ID + "/" + a.Substance + ":" + a.Severity.String()
		}
		return out
	}
	want := []string{
		"s1/saxitoxin:critical",
		"s3-onion-bulk/triethanolamine:high",
		"s2/thiodiglycol:high",
		"annex1-over/hydrogen-peroxide:high",
		"s3-bulk/triethanolamine:medium",
		"s3-onion/triethanolamine:medium",
		"s3-family/triethyl-phosphite:medium",
		"s3-family/trimethyl-phosphite:medium",
		"annex1-none/nitromethane:medium",
		"s3-shop/triethanolamine:low",
		"annex2/acetone:low",
	}
	if got := label(allAlerts(t, s, precwatch.AlertFilter{})); !slices.Equal(got, want) {
		t.Errorf("Alerts() =\n %q\nwant\n %q", got, want)
	}
	if got := label(allAlerts(t, s, precwatch.AlertFilter{MinSeverity: precwatch.SeverityMedium, Limit: 4, Offset: 2})); !slices.Equal(got, want[2:6]) {
		t.Errorf("Alerts(medium and up, 4 from 2) = %q, want %q", got, want[2:6])
	}
	// The stored alert keeps the policy's reason first.
	for _, a := range allAlerts(t, s, precwatch.AlertFilter{Substance: "triethanolamine", Limit: 1}) {
		if len(a.Reasons) == 0 || a.Reasons[0] != "severity high: CWC Schedule 3, raised from low by dark-web market, bulk amount 25 kg" {
			t.Errorf("%s reasons %q, want the severity's reason first", a.Listing.ID, a.Reasons)
		}
	}
}
