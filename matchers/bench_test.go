package matchers_test

import (
	"fmt"
	"math/rand/v2"
	"regexp"
	"runtime"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/precwatch/precwatch"
	"github.com/precwatch/precwatch/fixtures"
	"github.com/precwatch/precwatch/fixtures/eval"
	"github.com/precwatch/precwatch/matchers"
)

// benchCorpusBytes is the least listing text one BenchmarkMatch iteration
// scans; baselineBytes is the prefix of the same corpus the (much slower)
// baselines scan per iteration, so that a run stays within seconds. All
// report MB/s through b.SetBytes, so the figures compare directly.
const (
	benchCorpusBytes = 50 << 20
	baselineBytes    = 2 << 20
	// The regexp alternation runs at well under 1 MB/s: a smaller prefix.
	regexpBytes = 256 << 10
)

// benchBase is the fixture and evaluation listings, once each: the dense
// corpus, where most listings name a precursor.
func benchBase(tb testing.TB) []precwatch.Listing {
	named, none := benchSplit(tb)
	return append(named, none...)
}

// benchSplit divides the fixture and evaluation listings into those that
// name a precursor (by their labels, whether over the limit or not) and
// those that name none: the near misses and everyday goods a market is
// mostly made of ("TEA tree oil", "peroxide-free", hair developer).
func benchSplit(tb testing.TB) (named, none []precwatch.Listing) {
	for _, l := range fixtures.Listings() {
		x := precwatch.Listing{Title: l.Title, Description: l.Description}
		if len(l.Expected) > 0 {
			named = append(named, x)
		} else {
			none = append(none, x)
		}
	}
	cases, err := eval.Load()
	if err != nil {
		tb.Fatal(err)
	}
	for _, c := range cases {
		x := precwatch.Listing{Title: c.Title, Description: c.Description}
		if c.Decoy() {
			none = append(none, x)
		} else {
			named = append(named, x)
		}
	}
	return named, none
}

// benchCorpus repeats the fixture and evaluation listings until they hold
// at least limit bytes of title and description text.
func benchCorpus(tb testing.TB, limit int) ([]precwatch.Listing, int) {
	return repeatTo(benchBase(tb), limit)
}

// repeatTo repeats base until it holds at least limit bytes of text.
func repeatTo(base []precwatch.Listing, limit int) ([]precwatch.Listing, int) {
	var out []precwatch.Listing
	size := 0
	for size < limit {
		for _, l := range base {
			out = append(out, l)
			size += len(l.Title) + len(l.Description)
			if size >= limit && limit < benchCorpusBytes {
				return out, size
			}
		}
	}
	return out, size
}

// marketMix interleaves the two sets so that one listing in every names
// a precursor, as on a market where precursors are a small share of what
// is sold.
func marketMix(named, none []precwatch.Listing, every int) []precwatch.Listing {
	var out []precwatch.Listing
	for i := 0; i < len(named); i++ {
		out = append(out, named[i])
		for k := range every - 1 {
			out = append(out, none[(i*(every-1)+k)%len(none)])
		}
	}
	return out
}

// syntheticWatchlist is the configured watchlist grown to at least terms
// terms with made-up names (pronounceable, so they share prefixes with
// real words the way chemical names do) that occur in no listing.
func syntheticWatchlist(tb testing.TB, terms int) *precwatch.Watchlist {
	w, err := matchers.LoadWatchlist("../configs/watchlist.yaml")
	if err != nil {
		tb.Fatal(err)
	}
	have := 0
	for _, s := range w.Substances {
		have += len(s.Names) + len(s.Synonyms) + len(s.Abbreviations) + 2
	}
	r := rand.New(rand.NewPCG(1, 2))
	syll := []string{"meth", "eth", "prop", "but", "chlor", "fluor", "brom", "nitr", "amin", "oxy", "phos", "sulf", "ac", "yl", "ate", "ide", "ol", "an", "on", "ium", "ox", "zyr", "quin", "thal", "vex"}
	word := func() string {
		var b strings.Builder
		for range 2 + r.IntN(3) {
			b.WriteString(syll[r.IntN(len(syll))])
		}
		return b.String()
	}
	seen := map[string]bool{}
	for i := 0; have < terms; i++ {
		s := precwatch.Substance{
			ID:      fmt.Sprintf("synthetic-%d", i),
			Names:   map[string]string{"en": "zq" + word() + " " + word()},
			Regimes: []precwatch.RegimeEntry{{Regime: precwatch.RegimeEUAnnexII}},
		}
		for len(s.Synonyms) < 100 {
			t := "zq" + word() + " " + word()
			if !seen[t] {
				seen[t] = true
				s.Synonyms = append(s.Synonyms, t)
			}
		}
		have += 101
		w.Substances = append(w.Substances, s)
	}
	return w
}

// BenchmarkMatch matches listings repeated to 50 MB per iteration:
//   - full: the fixture and evaluation listings, most of which name a
//     precursor, each match explained, with the configured watchlist;
//   - 10k-terms: the same with the watchlist grown to 10,000 terms;
//   - no-precursor: the listings that name none (decoys and near misses);
//   - market-1in20: one listing in twenty names a precursor.
func BenchmarkMatch(b *testing.B) {
	corpus, size := benchCorpus(b, benchCorpusBytes)
	named, none := benchSplit(b)
	noneCorpus, noneSize := repeatTo(none, benchCorpusBytes)
	mixCorpus, mixSize := repeatTo(marketMix(named, none, 20), benchCorpusBytes)
	big, err := matchers.Compile(syntheticWatchlist(b, 10000))
	if err != nil {
		b.Fatal(err)
	}
	for _, bm := range []struct {
		name   string
		m      *matchers.Matcher
		corpus []precwatch.Listing
		size   int
	}{
		{"full", sharedMatcher(b), corpus, size},
		{"10k-terms", big, corpus, size},
		{"no-precursor", sharedMatcher(b), noneCorpus, noneSize},
		{"market-1in20", sharedMatcher(b), mixCorpus, mixSize},
	} {
		b.Run(bm.name, func(b *testing.B) {
			b.SetBytes(int64(bm.size))
			b.ReportAllocs()
			// Collect the corpora's construction garbage now, not on
			// the clock of whichever case runs first.
			runtime.GC()
			matches := 0
			cpu0 := cpuSeconds()
			for b.Loop() {
				for _, l := range bm.corpus {
					matches += len(bm.m.Match(l))
				}
			}
			if matches == 0 && bm.name != "no-precursor" {
				b.Fatal("no matches in the corpus")
			}
			// MB per CPU-second of the whole process (GC included): the
			// per-core figure, unaffected by other load on the machine.
			b.ReportMetric(float64(bm.size)*float64(b.N)/1e6/(cpuSeconds()-cpu0), "MB/cpu-s")
			b.ReportMetric(float64(len(bm.corpus))*float64(b.N)/b.Elapsed().Seconds(), "listings/s")
		})
	}
}

// cpuSeconds is the process's user and system CPU time so far.
func cpuSeconds() float64 {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano()).Seconds()
}

// allTerms lists every term of the configured watchlist as written.
func allTerms(tb testing.TB) []string {
	w := sharedMatcher(tb).Watchlist()
	var ts []string
	for _, s := range w.Substances {
		for _, n := range s.Names {
			ts = append(ts, n)
		}
		ts = append(ts, s.Synonyms...)
		ts = append(ts, s.Abbreviations...)
		if s.Formula != "" {
			ts = append(ts, s.Formula)
		}
		if s.CAS != "" {
			ts = append(ts, s.CAS)
		}
	}
	return ts
}

// BenchmarkBaselineRegexp is the naive matcher: one case-insensitive
// regexp alternation of every term, run over title and description.
func BenchmarkBaselineRegexp(b *testing.B) {
	terms := allTerms(b)
	quoted := make([]string, len(terms))
	for i, t := range terms {
		quoted[i] = regexp.QuoteMeta(t)
	}
	re := regexp.MustCompile(`(?i)(?:` + strings.Join(quoted, "|") + `)`)
	corpus, size := benchCorpus(b, regexpBytes)
	b.SetBytes(int64(size))
	hits := 0
	for b.Loop() {
		for _, l := range corpus {
			hits += len(re.FindAllStringIndex(l.Title, -1)) + len(re.FindAllStringIndex(l.Description, -1))
		}
	}
	if hits == 0 {
		b.Fatal("no hits")
	}
}

// BenchmarkBaselineContains is the naive loop: strings.Contains of every
// lower-cased term in the lower-cased text.
func BenchmarkBaselineContains(b *testing.B) {
	terms := allTerms(b)
	for i, t := range terms {
		terms[i] = strings.ToLower(t)
	}
	corpus, size := benchCorpus(b, baselineBytes)
	b.SetBytes(int64(size))
	hits := 0
	for b.Loop() {
		for _, l := range corpus {
			title, desc := strings.ToLower(l.Title), strings.ToLower(l.Description)
			for _, t := range terms {
				if strings.Contains(title, t) || strings.Contains(desc, t) {
					hits++
				}
			}
		}
	}
	if hits == 0 {
		b.Fatal("no hits")
	}
}
