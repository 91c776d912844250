package precwatch

// Severity policy (issue 12): an alert's severity follows the legal
// consequence of its substance's regime and the risk of the listing's
// context, not list membership alone. The matchers report facts (regime,
// strength against the limit, amount); the policy turns them into a
// severity with its reasons, as a pure function of the listing and its
// matches, so that the crawl, `precwatch match` and every store rank alike.

import (
	"fmt"
	"net/url"
	"slices"
	"strconv"
	"strings"
)

// Severity classes: the regimes, with EU Annex I split by its limit.
const (
	ClassCWC1       = string(RegimeCWC1)
	ClassCWC2       = string(RegimeCWC2)
	ClassCWC3       = string(RegimeCWC3)
	ClassAnnexIOver = string(RegimeEUAnnexI) + "-over-limit"
	ClassAnnexI     = string(RegimeEUAnnexI)
	ClassAnnexII    = string(RegimeEUAnnexII)
)

// Bounds of a policy: steps per context, families and their members.
const (
	maxSeveritySteps = int(SeverityCritical)
	maxFamilies      = 64
	maxFamilyMembers = 64
)

// SeverityClasses lists the classes a policy gives a base severity, most
// consequential first.
var SeverityClasses = []string{ClassCWC1, ClassCWC2, ClassAnnexIOver, ClassCWC3, ClassAnnexI, ClassAnnexII}

// SeverityPolicy sets the severity of matches: a base per class, raised by
// the listing's context for the classes named in Raise, one step per
// context present, up to Max. It is a deployment's `severity:` config block;
// DefaultSeverityPolicy is what the README's "Severity policy" describes.
type SeverityPolicy struct {
	// Base is the severity of each class (SeverityClasses); every class
	// needs one, none of them "none" (that would drop alerts: suppress
	// them instead).
	Base map[string]Severity `yaml:"base" json:"base"`
	// Raise names the classes context raises: substances traded in bulk
	// for ordinary industry, whose membership alone says little.
	Raise []string `yaml:"raise" json:"raise"`
	// DarkWeb, Bulk and Family are the steps each context adds: a listing
	// on a dark-web market (a Tor site or an .onion URL); an amount of the
	// substance of at least BulkGrams grams or millilitres, beyond
	// household use; another precursor of the substance's family (one of
	// Families) in the same listing.
	DarkWeb   int     `yaml:"dark_web" json:"dark_web"`
	Bulk      int     `yaml:"bulk" json:"bulk"`
	BulkGrams float64 `yaml:"bulk_grams" json:"bulk_grams"`
	Family    int     `yaml:"family" json:"family"`
	// Max caps what context can raise a class to.
	Max Severity `yaml:"max" json:"max"`
	// Families groups substance IDs whose joint offer points to one use.
	Families map[string][]string `yaml:"families" json:"families,omitempty"`
}

// DefaultSeverityPolicy is the policy of a deployment that sets none: CWC
// Schedule 1 critical; Schedule 2 and EU Annex I over its limit high; Annex I
// without a stated strength medium; Schedule 3 low unless raised by context
// (each of a dark-web market, 10 kg or more, several precursors of one
// family adds a step, up to high); Annex II low.
func DefaultSeverityPolicy() SeverityPolicy {
	return SeverityPolicy{
		Base: map[string]Severity{
			ClassCWC1: SeverityCritical, ClassCWC2: SeverityHigh, ClassAnnexIOver: SeverityHigh,
			ClassCWC3: SeverityLow, ClassAnnexI: SeverityMedium, ClassAnnexII: SeverityLow,
		},
		Raise:   []string{ClassCWC3},
		DarkWeb: 1, Bulk: 1, BulkGrams: 10_000, Family: 1,
		Max: SeverityHigh,
		Families: map[string][]string{
			// CWC 3.B.5-3.B.11: the phosphorus precursors of nerve agents.
			"phosphorus": {"phosphorus-oxychloride", "phosphorus-trichloride", "phosphorus-pentachloride",
				"trimethyl-phosphite", "triethyl-phosphite", "dimethyl-phosphite", "diethyl-phosphite"},
			// 3.B.12-3.B.14: the sulfur chlorides of mustards.
			"sulfur-chlorides": {"sulfur-monochloride", "sulfur-dichloride", "thionyl-chloride"},
			// 3.B.15-3.B.17 with 2.B.11: the ethanolamines of nitrogen mustards and V agents.
			"ethanolamines": {"ethyldiethanolamine", "methyldiethanolamine", "triethanolamine", "cwc2-b11-aminoethane-2-ols"},
			// 3.A.1-3.A.4: the toxic chemicals themselves.
			"toxic-chemicals": {"phosgene", "cyanogen-chloride", "hydrogen-cyanide", "chloropicrin"},
		},
	}
}

// PolicyProblem is one thing wrong with a policy, at a field path below
// the policy (such as "base.cwc-schedule-9").
type PolicyProblem struct {
	Path []any
	Msg  string
}

// Problems lists what is wrong with p; none means Apply can use it.
func (p SeverityPolicy) Problems() []PolicyProblem {
	var out []PolicyProblem
	bad := func(msg string, path ...any) { out = append(out, PolicyProblem{Path: path, Msg: msg}) }
	known := "want one of " + strings.Join(SeverityClasses, ", ")
	for _, c := range sortedKeys(p.Base) {
		switch {
		case !slices.Contains(SeverityClasses, c):
			bad(fmt.Sprintf("unknown class %q (%s)", c, known), "base", c)
		case p.Base[c] <= SeverityNone || p.Base[c] > SeverityCritical:
			bad(fmt.Sprintf("want low, medium, high or critical, got %q (to silence matches, suppress them)", p.Base[c]), "base", c)
		}
	}
	for _, c := range SeverityClasses {
		if _, ok := p.Base[c]; !ok {
			bad(fmt.Sprintf("class %q has no base severity", c), "base")
		}
	}
	for i, c := range p.Raise {
		if !slices.Contains(SeverityClasses, c) {
			bad(fmt.Sprintf("unknown class %q (%s)", c, known), "raise", i)
		}
	}
	for _, f := range []struct {
		name string
		v    int
	}{{"dark_web", p.DarkWeb}, {"bulk", p.Bulk}, {"family", p.Family}} {
		if f.v < 0 || f.v > maxSeveritySteps {
			bad(fmt.Sprintf("want 0 to %d steps, got %d", maxSeveritySteps, f.v), f.name)
		}
	}
	if !(p.BulkGrams > 0) {
		bad(fmt.Sprintf("want a positive amount in grams (or millilitres), got %v", p.BulkGrams), "bulk_grams")
	}
	if p.Max <= SeverityNone || p.Max > SeverityCritical {
		bad(fmt.Sprintf("want low, medium, high or critical, got %q", p.Max), "max")
	}
	if len(p.Families) > maxFamilies {
		bad(fmt.Sprintf("at most %d families, got %d", maxFamilies, len(p.Families)), "families")
	}
	for _, name := range sortedKeys(p.Families) {
		ids := p.Families[name]
		if len(ids) < 2 || len(ids) > maxFamilyMembers {
			bad(fmt.Sprintf("want 2 to %d substance ids, got %d", maxFamilyMembers, len(ids)), "families", name)
		}
		for i, id := range ids {
			if strings.TrimSpace(id) == "" {
				bad("empty substance id", "families", name, i)
			}
		}
	}
	return out
}

func sortedKeys[V any](m map[string]V) []string {
	ks := make([]string, 0, len(m))
	for k := range m {
		ks = append(ks, k)
	}
	slices.Sort(ks)
	return ks
}

// SeverityClass is the class of a match: its regime, Annex I split by
// whether the stated strength is over the limit.
func SeverityClass(m Match) string {
	if m.Regime == RegimeEUAnnexI && m.OverLimit != nil && *m.OverLimit {
		return ClassAnnexIOver
	}
	return string(m.Regime)
}

var classLabels = map[string]string{
	ClassCWC1: "CWC Schedule 1", ClassCWC2: "CWC Schedule 2", ClassCWC3: "CWC Schedule 3",
	ClassAnnexIOver: "EU Annex I over its limit", ClassAnnexI: "EU Annex I", ClassAnnexII: "EU Annex II (reportable)",
}

// DarkWeb reports whether l comes from a dark-web market: a Tor site, or an
// .onion URL.
func (l Listing) DarkWeb() bool {
	if l.Tor {
		return true
	}
	u, err := url.Parse(l.URL)
	return err == nil && strings.HasSuffix(strings.ToLower(strings.TrimSuffix(u.Hostname(), ".")), ".onion")
}

// Apply sets the severity of each match of listing l by the policy and puts
// the reason first in its Reasons ("severity high: CWC Schedule 3, raised
// from low by dark-web market, 25 kg"). Matches of no known regime keep
// theirs. It changes ms in place and returns it.
func (p *SeverityPolicy) Apply(l Listing, ms []Match) []Match {
	if len(ms) == 0 {
		return ms
	}
	dark := l.DarkWeb()
	// The largest amount stated for each substance, and the substances
	// present (suppressed matches count for nothing).
	amount := map[string]float64{}
	amountText := map[string]string{}
	present := map[string]bool{}
	for _, m := range ms {
		if m.Suppressed != "" {
			continue
		}
		present[m.Substance] = true
		if q := m.Quantity; q != nil && q.Grams+q.Millilitres > amount[m.Substance] {
			amount[m.Substance], amountText[m.Substance] = q.Grams+q.Millilitres, q.Text
		}
	}
	for i := range ms {
		m := &ms[i]
		class := SeverityClass(*m)
		base, ok := p.Base[class]
		if !ok || m.Severity == SeverityNone {
			continue
		}
		sev, why := base, []string(nil)
		raised := slices.Contains(p.Raise, class)
		if raised {
			steps := 0
			if dark && p.DarkWeb > 0 {
				steps += p.DarkWeb
				why = append(why, "dark-web market")
			}
			if p.Bulk > 0 && amount[m.Substance] >= p.BulkGrams {
				steps += p.Bulk
				why = append(why, "bulk amount "+amountText[m.Substance])
			}
			if p.Family > 0 {
				if fam, n := p.family(m.Substance, present); n > 1 {
					steps += p.Family
					why = append(why, strconv.Itoa(n)+" "+fam+" precursors")
				}
			}
			sev = max(base, min(base+Severity(steps), p.Max))
		}
		reason := "severity " + sev.String() + ": " + classLabels[class]
		switch {
		case sev > base:
			reason += ", raised from " + base.String() + " by " + strings.Join(why, ", ")
		case raised && len(why) == 0:
			reason += ", no raising context"
		}
		m.Severity = sev
		m.Reasons = append([]string{reason}, m.Reasons...)
	}
	return ms
}

// family returns the family of substance with the most members present
// (the first by name among equals), and how many are.
func (p *SeverityPolicy) family(substance string, present map[string]bool) (string, int) {
	best, most := "", 0
	for name, ids := range p.Families {
		if !slices.Contains(ids, substance) {
			continue
		}
		n := 0
		for _, id := range ids {
			if present[id] {
				n++
			}
		}
		if n > most || n == most && name < best {
			best, most = name, n
		}
	}
	return best, most
}

// WithSeverity wraps a matcher so that its matches get p's severities.
func WithSeverity(m Matcher, p *SeverityPolicy) Matcher { return severityMatcher{m, p} }

type severityMatcher struct {
	m Matcher
	p *SeverityPolicy
}

func (s severityMatcher) Match(l Listing) []Match { return s.p.Apply(l, s.m.Match(l)) }
