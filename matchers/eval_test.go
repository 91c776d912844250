package matchers_test

import (
	"fmt"
	"os"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/precwatch/precwatch"
	"github.com/precwatch/precwatch/fixtures/eval"
)

// evalFloorRE is the machine-readable line of README.md's "Detection
// quality" section that records the precision and recall the matcher must
// keep on the evaluation set.
var evalFloorRE = regexp.MustCompile(`<!-- eval-floor precision=([0-9.]+) recall=([0-9.]+) -->`)

// holdoutBatches are the held-out set's parts gated apart, each from its
// first listing's number (ho-NNNN) to the next part's, at the floor of
// its README.md line. Batches 1-3 share one floor; each later batch was
// written blind after the fixes the one before prompted, and is gated at
// its own first figures until fixes raise it.
var holdoutBatches = []struct {
	name  string
	first int
	floor *regexp.Regexp
}{
	{"batches1-3", 1, floorRE("holdout-floor")},
	// Weighted to obfuscation.
	{"batch4", 484, floorRE("holdout-batch4-floor")},
	// Written after the obfuscation rules batch 4 prompted.
	{"batch5", 684, floorRE("holdout-batch5-floor")},
	// Realistic long market text: boilerplate, scattered names.
	{"batch6", 884, floorRE("holdout-batch6-floor")},
	// E-commerce and B2B catalogue text: spec sheets, many numbers.
	{"batch7", 1084, floorRE("holdout-batch7-floor")},
	// CWC Schedule chemicals as fine-chemical suppliers list them.
	{"batch8", 1284, floorRE("holdout-batch8-floor")},
	// Dark-web vendor shops: slang, shorthand, emoji, code-mixing, typos.
	{"batch9", 1484, floorRE("holdout-batch9-floor")},
	// Classified ads and social-commerce posts by private sellers.
	{"batch10", 1684, floorRE("holdout-batch10-floor")},
	// Identifier-heavy and disguised listings: spec sheets, cover names.
	{"batch11", 1884, floorRE("holdout-batch11-floor")},
	// A balanced re-measurement in new wordings, after batches 10 and 11.
	{"batch12", 2084, floorRE("holdout-batch12-floor")},
	// An outside evaluator's mixed set: two thirds ordinary forms in fresh
	// wording, one third habits no earlier batch lists.
	{"batch13", 2284, floorRE("holdout-batch13-floor")},
	// A second outside evaluator: half ordinary listings, half habits no
	// earlier batch lists, inflected names in every language.
	{"batch14", 2484, floorRE("holdout-batch14-floor")},
	// A third outside evaluator: listings as crawled shops, catalogues and
	// classifieds deliver them, in all nine languages.
	{"batch15", 2684, floorRE("holdout-batch15-floor")},
	// Social commerce and messaging: channel posts, captions, WTS/WTB
	// threads, code-mixing and hashtags, in all nine languages.
	{"batch16", 2884, floorRE("holdout-batch16-floor")},
	// Export B2B portals and procurement: keyword-stuffed exporter titles,
	// stacked identifiers, tenders and RFQs, in all nine languages.
	{"batch17", 3084, floorRE("holdout-batch17-floor")},
	// Short search-result titles, and decoys built against the rules.
	{"batch18", 3284, floorRE("holdout-batch18-floor")},
	// Long product pages as a crawler flattens them: variant selectors,
	// spec tables, reviews, boilerplate; decoys that look obfuscated.
	{"batch19", 3484, floorRE("holdout-batch19-floor")},
	// Text that passed through a machine: OCR, PDF copy-paste, machine
	// translation and templated feeds, in all nine languages.
	{"batch20", 3684, floorRE("holdout-batch20-floor")},
	// Names as people misspell them: by ear, doubled or dropped letters,
	// other languages' conventions, romanizations, dictated numbers.
	{"batch21", 3884, floorRE("holdout-batch21-floor")},
	// Shop pages with variants, bundles, "bought together" strips, price
	// tiers and flattened spec tables, in all nine languages.
	{"batch22", 4084, floorRE("holdout-batch22-floor")},
	// Slavic-language markets: Russian (both scripts) and Polish in every
	// case, number and word order, GOST grades, sellers' slang.
	{"batch23", 4284, floorRE("holdout-batch23-floor")},
	// Strengths and amounts as people state them: in words, bounds and
	// ranges, w/w and g/L and mol/L, and percentages that are not strengths.
	{"batch24", 4484, floorRE("holdout-batch24-floor")},
	// Lists and lots: price lists, clearance and auction lots, kits, vendor
	// menus and flattened wholesale tables, each strength to its item.
	{"batch25", 4684, floorRE("holdout-batch25-floor")},
	// Everyday products as mainstream shops sell them: developers, pool,
	// drain and battery acids, fertilisers, fuels, ingredient lists.
	{"batch26", 4884, floorRE("holdout-batch26-floor")},
	// Code-switching: a title in one language and its description in
	// another, half-translated names, neighbouring languages' words.
	{"batch27", 5084, floorRE("holdout-batch27-floor")},
	// Styled Unicode as social-media and chat sellers write it: math
	// letters, small capitals, sub- and superscripts, zalgo, emoji.
	{"batch28", 5284, floorRE("holdout-batch28-floor")},
	// Spec-sheet, safety-data and transport boilerplate around the names
	// (H-codes, ADR lines, licence notices), strengths in every notation.
	{"batch29", 5484, floorRE("holdout-batch29-floor")},
	// Conversation and marketplace chatter: wanted posts, Q&A, channel
	// posts, restock notices, fast typing and chat abbreviations.
	{"batch30", 5684, floorRE("holdout-batch30-floor")},
	// Typos and near misses: dropped, doubled and swapped letters and OCR
	// confusions in long names, decoys one or two letters from a name.
	{"batch31", 5884, floorRE("holdout-batch31-floor")},
	// Code-switching (two languages in one listing, transliteration both
	// ways) and strengths stated away from the name.
	{"batch32", 6084, floorRE("holdout-batch32-floor")},
	// The CWC chemicals and the less common EU entries as industrial,
	// lab-supply and agricultural sellers list them.
	{"batch33", 6284, floorRE("holdout-batch33-floor")},
}

func floorRE(name string) *regexp.Regexp {
	return regexp.MustCompile(`<!-- ` + name + ` precision=([0-9.]+) recall=([0-9.]+) -->`)
}

// readFloor reads a floor line from the repository's README.md.
func readFloor(t *testing.T, re *regexp.Regexp) (precision, recall float64) {
	t.Helper()
	b, err := os.ReadFile("../README.md")
	if err != nil {
		t.Fatal(err)
	}
	m := re.FindSubmatch(b)
	if m == nil {
		t.Fatalf("README.md has no line matching %s under \"## Detection quality\"", re)
	}
	p, err1 := strconv.ParseFloat(string(m[1]), 64)
	r, err2 := strconv.ParseFloat(string(m[2]), 64)
	if err1 != nil || err2 != nil {
		t.Fatalf("README.md floor line %s: %v %v", m[0], err1, err2)
	}
	return p, r
}

// evalScore counts substance verdicts against the labels.
type evalScore struct{ tp, fp, fn, limitOK, limitN, cases, flagged int }

func ratio(a, b int) float64 {
	if b == 0 {
		return 1
	}
	return float64(a) / float64(b)
}

// precision is TP/(TP+FP); a set of decoys alone has no true positive, so
// its precision is the share of decoys left clean.
func (s evalScore) precision() float64 {
	if s.tp == 0 && s.fn == 0 {
		return 1 - ratio(s.flagged, s.cases)
	}
	return ratio(s.tp, s.tp+s.fp)
}
func (s evalScore) recall() float64 { return ratio(s.tp, s.tp+s.fn) }
func (s evalScore) f1() float64 {
	p, r := s.precision(), s.recall()
	if p+r == 0 {
		return 0
	}
	return 2 * p * r / (p + r)
}

// TestEvalSet measures the matcher on the evaluation set (fixtures/eval
// cases.jsonl): substance precision, recall and F1 per category and
// overall, and over_limit accuracy, printing every false positive and
// false negative (make eval shows them). It fails when overall precision
// or recall falls under the floor recorded in README.md. The rules were
// improved after looking at this set's misses, so it is no longer held
// out; TestHoldoutSet measures one that is.
func TestEvalSet(t *testing.T) {
	cases, err := eval.Load()
	if err != nil {
		t.Fatal(err)
	}
	total := runEval(t, cases)
	minP, minR := readFloor(t, evalFloorRE)
	checkFloor(t, total, minP, minR)
	if a := ratio(total.limitOK, total.limitN); a < evalMinLimitAccuracy {
		t.Errorf("over_limit accuracy %.3f < %.3f", a, evalMinLimitAccuracy)
	}
}

// TestHoldoutSet measures the matcher on the held-out set (fixtures/eval
// holdout.jsonl), written by someone who had not read the matcher and
// never used to tune it, against README.md's holdout-floor.
func TestHoldoutSet(t *testing.T) {
	cases, err := eval.LoadHoldout()
	if err != nil {
		t.Fatal(err)
	}
	parts := make([][]eval.Case, len(holdoutBatches))
	for _, c := range cases {
		n, err := strconv.Atoi(strings.TrimPrefix(c.ID, "ho-"))
		if err != nil {
			t.Fatalf("holdout id %q: want ho-NNNN", c.ID)
		}
		i := len(holdoutBatches) - 1
		for n < holdoutBatches[i].first {
			i--
		}
		parts[i] = append(parts[i], c)
	}
	for i, b := range holdoutBatches {
		t.Run(b.name, func(t *testing.T) {
			if len(parts[i]) == 0 {
				t.Fatalf("no listing of %s (ho-%04d on)", b.name, b.first)
			}
			minP, minR := readFloor(t, b.floor)
			checkFloor(t, runEval(t, parts[i]), minP, minR)
		})
	}
}

func checkFloor(t *testing.T, total evalScore, minP, minR float64) {
	t.Helper()
	if p := total.precision(); p < minP {
		t.Errorf("precision %.3f < %.3f (README.md floor)", p, minP)
	}
	if r := total.recall(); r < minR {
		t.Errorf("recall %.3f < %.3f (README.md floor)", r, minR)
	}
}

// runEval matches every case, logs the per-category report and the
// confusion cases, and returns the overall score.
func runEval(t *testing.T, cases []eval.Case) evalScore {
	t.Helper()
	m := compileConfig(t)
	per := map[string]*evalScore{}
	total := &evalScore{}
	var confusion, limits []string
	for _, c := range cases {
		s := per[c.Category]
		if s == nil {
			s = &evalScore{}
			per[c.Category] = s
		}
		got := verdicts(m.Match(precwatch.Listing{Title: c.Title, Description: c.Description}))
		want := map[string]string{}
		for _, e := range c.Expected {
			v := "null"
			if e.OverLimit != nil {
				v = fmt.Sprint(*e.OverLimit)
			}
			want[e.Substance] = v
		}
		var fps, fns []string
		for id, v := range want {
			if g, ok := got[id]; ok {
				for _, x := range []*evalScore{s, total} {
					x.tp++
					x.limitN++
					if g == v {
						x.limitOK++
					}
				}
				if g != v {
					limits = append(limits, fmt.Sprintf("LIMIT %s [%s] %q: %s over_limit %s, want %s", c.ID, c.Category, c.Title, id, g, v))
				}
			} else {
				fns = append(fns, id)
				s.fn++
				total.fn++
			}
		}
		for id := range got {
			if _, ok := want[id]; !ok {
				fps = append(fps, id)
				s.fp++
				total.fp++
			}
		}
		s.cases++
		total.cases++
		if len(fps) > 0 {
			s.flagged++
			total.flagged++
			confusion = append(confusion, fmt.Sprintf("FP %s [%s] %q: got %s, want %s", c.ID, c.Category, c.Title, format(got), format(want)))
		}
		if len(fns) > 0 {
			confusion = append(confusion, fmt.Sprintf("FN %s [%s] %q: got %s, want %s", c.ID, c.Category, c.Title, format(got), format(want)))
		}
	}
	var report strings.Builder
	fmt.Fprintf(&report, "%-13s %5s %9s %7s %6s %11s\n", "category", "cases", "precision", "recall", "f1", "over_limit")
	for _, cat := range append(append([]string(nil), eval.Categories...), "all") {
		s := per[cat]
		if cat == "all" {
			s = total
		}
		if s == nil {
			continue
		}
		fmt.Fprintf(&report, "%-13s %5d %9.3f %7.3f %6.3f %11.3f\n", cat, s.cases, s.precision(), s.recall(), s.f1(), ratio(s.limitOK, s.limitN))
	}
	fmt.Fprintf(&report, "confusion cases: %d\n", len(confusion))
	for _, c := range confusion {
		report.WriteString("  " + c + "\n")
	}
	fmt.Fprintf(&report, "over_limit errors: %d\n", len(limits))
	for _, c := range limits {
		report.WriteString("  " + c + "\n")
	}
	t.Log("\n" + report.String())
	return *total
}

// evalMinLimitAccuracy guards the over_limit verdicts, a little under the
// measured figure.
const evalMinLimitAccuracy = 0.98
