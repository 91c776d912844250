package matchers_test

import (
	"fmt"
	"os"
	"testing"

	"github.com/precwatch/precwatch"
	"github.com/precwatch/precwatch/fixtures/eval"
)

// TestEvalSet measures the matcher on the held-out evaluation set
// (fixtures/eval): substance recall and precision and over_limit accuracy
// per category. The matcher is not tuned to these cases; the floors below
// only guard against regressions. PRECWATCH_EVAL_MISSES=1 logs every miss.
func TestEvalSet(t *testing.T) {
	m := compileConfig(t)
	cases, err := eval.Load()
	if err != nil {
		t.Fatal(err)
	}
	type score struct{ tp, fp, fn, limitOK, limitN, cases, decoyFP int }
	per := map[string]*score{}
	total := &score{}
	verbose := os.Getenv("PRECWATCH_EVAL_MISSES") != ""
	for _, c := range cases {
		s := per[c.Category]
		if s == nil {
			s = &score{}
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
		for _, x := range []*score{s, total} {
			x.cases++
			if c.Decoy() && len(got) > 0 {
				x.decoyFP++
			}
			for id, v := range want {
				if g, ok := got[id]; ok {
					x.tp++
					x.limitN++
					if g == v {
						x.limitOK++
					}
				} else {
					x.fn++
				}
			}
			for id := range got {
				if _, ok := want[id]; !ok {
					x.fp++
				}
			}
		}
		if verbose && format(got) != format(want) {
			t.Logf("%s [%s/%s]: got %s, want %s | %s | %s | %s", c.ID, c.Category, c.Lang, format(got), format(want), c.Title, c.Description, c.Note)
		}
	}
	ratio := func(a, b int) float64 {
		if b == 0 {
			return 1
		}
		return float64(a) / float64(b)
	}
	for _, cat := range append(eval.Categories, "all") {
		s := per[cat]
		if cat == "all" {
			s = total
		}
		if s == nil {
			continue
		}
		t.Logf("%-13s cases=%3d recall=%.3f precision=%.3f over_limit_accuracy=%.3f decoys_flagged=%d",
			cat, s.cases, ratio(s.tp, s.tp+s.fn), ratio(s.tp, s.tp+s.fp), ratio(s.limitOK, s.limitN), s.decoyFP)
	}
	if r := ratio(total.tp, total.tp+total.fn); r < evalMinRecall {
		t.Errorf("recall %.3f < %.3f", r, evalMinRecall)
	}
	if p := ratio(total.tp, total.tp+total.fp); p < evalMinPrecision {
		t.Errorf("precision %.3f < %.3f", p, evalMinPrecision)
	}
	if a := ratio(total.limitOK, total.limitN); a < evalMinLimitAccuracy {
		t.Errorf("over_limit accuracy %.3f < %.3f", a, evalMinLimitAccuracy)
	}
}

// Regression floors, set a little under the measured figures.
const (
	evalMinRecall        = 0.95
	evalMinPrecision     = 0.99
	evalMinLimitAccuracy = 0.98
)
