package precwatch_test

import (
	"fmt"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/precwatch/precwatch"
	"github.com/precwatch/precwatch/matchers"
)

// rankingQueue is a mixed queue of shop-style listings, one substance each
// but the reagent set: every class of the severity policy, and Schedule 3
// in each of its contexts.
var rankingQueue = []struct {
	id, site, title, desc string
	tor                   bool
}{
	{"annex2", "chemshop", "Acetone 99% technical, 1 L", "Acetone, 1 litre tin.", false},
	{"s3-shop", "chemshop", "Triethanolamine 99% cosmetic grade, 500 ml", "Triethanolamine for soap and creams, 500 ml bottle.", false},
	{"s3-onion", "silkvault", "Triethanolamine 99%, 500 ml", "Triethanolamine, 500 ml bottle. Stealth shipping.", true},
	{"s3-bulk", "chemshop", "Triethanolamine 99% technical, 25 kg drum", "Triethanolamine in a 25 kg drum, pallet rates.", false},
	{"s3-onion-bulk", "silkvault", "Triethanolamine 99%, 25 kg drum", "Triethanolamine, 25 kg drum, escrow only.", true},
	{"s3-family", "chemshop", "Phosphite reagent set: trimethyl phosphite and triethyl phosphite, 100 ml each", "Trimethyl phosphite 100 ml and triethyl phosphite 100 ml, reagent grade.", false},
	{"annex1-none", "chemshop", "Nitromethane, 1 L can", "Nitromethane in a 1 litre steel can.", false},
	{"annex1-under", "chemshop", "Hydrogen peroxide 3%, 500 ml", "Hydrogen peroxide 3% solution, 500 ml.", false},
	{"annex1-over", "chemshop", "Hydrogen peroxide 35%, 5 L", "Hydrogen peroxide 35% w/w, 5 L jug.", false},
	{"s2", "chemshop", "Thiodiglycol 99%, 1 L", "Thiodiglycol, 1 litre bottle.", false},
	{"s1", "chemshop", "Saxitoxin analytical standard, 10 ug", "Saxitoxin reference material, 10 ug ampoule.", false},
}

// TestSeverityRanking ranks the mixed queue, matched by the real matcher,
// under the default policy: CWC Schedule 1 first; Schedule 2 and Annex I
// over its limit next, joined by Schedule 3 only when two contexts raise
// it; Annex I without a strength and Schedule 3 with one context next;
// Schedule 3 on a shop and Annex II last; Annex I under its limit raises
// no alert. Within a severity the score ranks, as SortAlerts (and every
// store, see storetest's SeverityPolicyOrder) orders.
func TestSeverityRanking(t *testing.T) {
	wl, err := matchers.LoadWatchlist(filepath.Join("configs", "watchlist.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	mt, err := matchers.Compile(wl)
	if err != nil {
		t.Fatal(err)
	}
	policy := precwatch.DefaultSeverityPolicy()
	m := precwatch.WithSeverity(mt, &policy)
	t0 := time.Date(2026, 12, 6, 8, 0, 0, 0, time.UTC)
	var queue []precwatch.Alert
	for i, q := range rankingQueue {
		l := precwatch.Listing{Site: q.site, ID: q.id, URL: "http://" + q.site + ".test/item/" + q.id, Title: q.title, Description: q.desc, Tor: q.tor}
		_, alerts, _ := precwatch.Reconcile(nil, nil, precwatch.Observation{
			Listing: l, Matches: m.Match(l), RunID: "run-1", At: t0.Add(time.Duration(i) * time.Minute),
		})
		queue = append(queue, alerts...)
	}
	precwatch.SortAlerts(queue)
	var got []string
	for _, a := range queue {
		got = append(got, fmt.Sprintf("%s/%s:%s", a.Listing.ID, a.Substance, a.Severity))
	}
	want := []string{
		"s1/saxitoxin:critical",
		// Within a severity the matcher's score ranks: its amount and
		// dark-web points put the raised drum first.
		"s3-onion-bulk/triethanolamine:high",
		"annex1-over/hydrogen-peroxide:high",
		"s2/thiodiglycol:high",
		"s3-onion/triethanolamine:medium",
		"s3-bulk/triethanolamine:medium",
		// One listing, one score: the alert key decides.
		"s3-family/trimethyl-phosphite:medium",
		"s3-family/triethyl-phosphite:medium",
		"annex1-none/nitromethane:medium",
		"s3-shop/triethanolamine:low",
		"annex2/acetone:low",
	}
	if !slices.Equal(got, want) {
		t.Errorf("queue order:\n got %s\nwant %s", strings.Join(got, "\n     "), strings.Join(want, "\n     "))
		for _, a := range queue {
			t.Logf("%s %s %v %q", a.Listing.ID, a.Severity, a.Score, a.Reasons)
		}
	}
	// Every alert says why it has its severity, first among its reasons.
	for _, a := range queue {
		if len(a.Reasons) == 0 || !strings.HasPrefix(a.Reasons[0], "severity "+a.Severity.String()+": ") {
			t.Errorf("%s: reasons %q, want the severity reason first", a.Listing.ID, a.Reasons)
		}
	}
}

// TestSeverityPolicyReasons checks the context upgrades one by one, the cap,
// and the reasons given.
func TestSeverityPolicyReasons(t *testing.T) {
	yes := true
	tea := func(grams float64) precwatch.Match {
		m := precwatch.Match{Substance: "triethanolamine", Regime: precwatch.RegimeCWC3, Severity: precwatch.SeverityCritical, Reasons: []string{"CWC Schedule 3"}}
		if grams > 0 {
			m.Quantity = &precwatch.Quantity{Grams: grams, Text: fmt.Sprintf("%g g", grams)}
		}
		return m
	}
	mdea := precwatch.Match{Substance: "methyldiethanolamine", Regime: precwatch.RegimeCWC3, Severity: precwatch.SeverityCritical}
	tests := []struct {
		name   string
		l      precwatch.Listing
		ms     []precwatch.Match
		want   precwatch.Severity
		reason string
	}{
		{"shop", precwatch.Listing{URL: "https://shop.test/x"}, []precwatch.Match{tea(500)}, precwatch.SeverityLow,
			"severity low: CWC Schedule 3, no raising context"},
		{"onion URL", precwatch.Listing{URL: "http://abc.onion/x"}, []precwatch.Match{tea(0)}, precwatch.SeverityMedium,
			"severity medium: CWC Schedule 3, raised from low by dark-web market"},
		{"bulk", precwatch.Listing{}, []precwatch.Match{tea(25000)}, precwatch.SeverityMedium,
			"severity medium: CWC Schedule 3, raised from low by bulk amount 25000 g"},
		{"just under bulk", precwatch.Listing{}, []precwatch.Match{tea(9999)}, precwatch.SeverityLow,
			"severity low: CWC Schedule 3, no raising context"},
		{"family", precwatch.Listing{}, []precwatch.Match{tea(0), mdea}, precwatch.SeverityMedium,
			"severity medium: CWC Schedule 3, raised from low by 2 ethanolamines precursors"},
		{"suppressed family member", precwatch.Listing{}, []precwatch.Match{tea(0), {Substance: "methyldiethanolamine", Regime: precwatch.RegimeCWC3, Severity: precwatch.SeverityCritical, Suppressed: "by ana: test"}},
			precwatch.SeverityLow, "severity low: CWC Schedule 3, no raising context"},
		{"all three, capped", precwatch.Listing{Tor: true}, []precwatch.Match{tea(25000), mdea}, precwatch.SeverityHigh,
			"severity high: CWC Schedule 3, raised from low by dark-web market, bulk amount 25000 g, 2 ethanolamines precursors"},
		{"annex I over", precwatch.Listing{Tor: true}, []precwatch.Match{{Substance: "hydrogen-peroxide", Regime: precwatch.RegimeEUAnnexI, Severity: precwatch.SeverityHigh, OverLimit: &yes}},
			precwatch.SeverityHigh, "severity high: EU Annex I over its limit"},
		{"schedule 2 not raised", precwatch.Listing{Tor: true}, []precwatch.Match{{Substance: "thiodiglycol", Regime: precwatch.RegimeCWC2, Severity: precwatch.SeverityCritical}},
			precwatch.SeverityHigh, "severity high: CWC Schedule 2"},
	}
	for _, tt := range tests {
		p := precwatch.DefaultSeverityPolicy()
		got := p.Apply(tt.l, slices.Clone(tt.ms))
		if got[0].Severity != tt.want || got[0].Reasons[0] != tt.reason {
			t.Errorf("%s: %s %q, want %s %q", tt.name, got[0].Severity, got[0].Reasons, tt.want, tt.reason)
		}
		if tt.ms[0].Reasons != nil && !slices.Equal(got[0].Reasons[1:], tt.ms[0].Reasons) {
			t.Errorf("%s: matcher reasons %q not kept after the severity's", tt.name, got[0].Reasons)
		}
	}
	// A class already at the cap is not raised, nor said to lack context.
	p0 := precwatch.DefaultSeverityPolicy()
	p0.Base[precwatch.ClassCWC3] = precwatch.SeverityHigh
	if got := p0.Apply(precwatch.Listing{Tor: true}, []precwatch.Match{tea(0)}); got[0].Severity != precwatch.SeverityHigh || got[0].Reasons[0] != "severity high: CWC Schedule 3" {
		t.Errorf("at the cap: %s %q", got[0].Severity, got[0].Reasons)
	}
	// A deployment can make Schedule 3 critical on dark-web markets.
	p := precwatch.DefaultSeverityPolicy()
	p.DarkWeb, p.Max = 3, precwatch.SeverityCritical
	if got := p.Apply(precwatch.Listing{Tor: true}, []precwatch.Match{tea(0)}); got[0].Severity != precwatch.SeverityCritical {
		t.Errorf("configured dark_web 3, max critical: %s, want critical", got[0].Severity)
	}
}

func TestSeverityPolicyProblems(t *testing.T) {
	if ps := precwatch.DefaultSeverityPolicy().Problems(); len(ps) != 0 {
		t.Fatalf("default policy: %v", ps)
	}
	p := precwatch.DefaultSeverityPolicy()
	p.Base["cwc-schedule-9"] = precwatch.SeverityHigh
	p.Base[precwatch.ClassAnnexII] = precwatch.SeverityNone
	delete(p.Base, precwatch.ClassCWC1)
	p.Raise = append(p.Raise, "annex-x")
	p.Bulk, p.BulkGrams, p.Max = -1, 0, precwatch.SeverityNone
	p.Families["lonely"] = []string{"phosgene"}
	var got []string
	for _, pr := range p.Problems() {
		got = append(got, fmt.Sprint(pr.Path, ": ", pr.Msg))
	}
	for _, want := range []string{
		`[base cwc-schedule-9]: unknown class "cwc-schedule-9"`,
		`[base eu-2019-1148-annex-ii]: want low, medium, high or critical, got "none"`,
		`[base]: class "cwc-schedule-1" has no base severity`,
		`[raise 1]: unknown class "annex-x"`,
		`[bulk]: want 0 to 4 steps, got -1`,
		`[bulk_grams]: want a positive amount`,
		`[max]: want low, medium, high or critical, got "none"`,
		`[families lonely]: want 2 to 64 substance ids, got 1`,
	} {
		if !slices.ContainsFunc(got, func(g string) bool { return strings.HasPrefix(g, want) }) {
			t.Errorf("no problem %q in %q", want, got)
		}
	}
}
