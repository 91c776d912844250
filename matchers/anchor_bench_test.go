package matchers_test

import (
	"runtime"
	"testing"

	ahocorasick "github.com/petar-dambovaliev/aho-corasick"

	"github.com/precwatch/precwatch"
)

// anchorScanner is the speed anchor: github.com/petar-dambovaliev/aho-corasick,
// the fastest Go Aho-Corasick library we know, as a DFA, ASCII
// case-insensitive, with leftmost-longest matches, over the watchlist's
// terms as written. It does no normalisation, applies no rules and
// explains nothing: the floor for the bare scan. The library lives only in
// test files, never in the binary.
func anchorScanner(tb testing.TB) func(precwatch.Listing) int {
	builder := ahocorasick.NewAhoCorasickBuilder(ahocorasick.Opts{
		AsciiCaseInsensitive: true,
		MatchKind:            ahocorasick.LeftMostLongestMatch,
		DFA:                  true,
	})
	ac := builder.Build(allTerms(tb))
	return func(l precwatch.Listing) int {
		return len(ac.FindAll(l.Title)) + len(ac.FindAll(l.Description))
	}
}

// anchorChunk is how much listing text the matcher and the anchor take
// turns on: small enough that both meet the same load on a shared
// machine, large enough that a turn is many scheduler ticks.
const anchorChunk = 1 << 20

// BenchmarkMatchVsAnchor runs the matcher and the anchor in turns, a MB of
// listings each, over the same 50 MB corpora as BenchmarkMatch (no
// precursor, one listing in twenty naming one, every listing), and reports
// each one's MB per CPU-second and their ratio (x-anchor): a figure that
// holds on a loaded machine, where MB/s alone does not. CPU time is the
// benchmark thread's, so each is charged the collection its own
// allocations cost (the anchor allocates a match per hit), not the
// other's.
func BenchmarkMatchVsAnchor(b *testing.B) {
	named, none := benchSplit(b)
	noneCorpus, noneSize := repeatTo(none, benchCorpusBytes)
	mixCorpus, mixSize := repeatTo(marketMix(named, none, 20), benchCorpusBytes)
	corpus, size := benchCorpus(b, benchCorpusBytes)
	m, anchor := sharedMatcher(b), anchorScanner(b)
	for _, bm := range []struct {
		name   string
		corpus []precwatch.Listing
		size   int
	}{
		{"no-precursor", noneCorpus, noneSize},
		{"market-1in20", mixCorpus, mixSize},
		{"full", corpus, size},
	} {
		// Turns of about anchorChunk bytes.
		var turns []int
		for i, n := 0, 0; i < len(bm.corpus); i++ {
			if n += len(bm.corpus[i].Title) + len(bm.corpus[i].Description); n >= anchorChunk {
				turns, n = append(turns, i+1), 0
			}
		}
		turns = append(turns, len(bm.corpus))
		b.Run(bm.name, func(b *testing.B) {
			runtime.LockOSThread()
			defer runtime.UnlockOSThread()
			runtime.GC()
			var own, other float64
			matches, hits := 0, 0
			for b.Loop() {
				from := 0
				for _, to := range turns {
					t0 := threadCPUSeconds()
					for _, l := range bm.corpus[from:to] {
						matches += len(m.Match(l))
					}
					t1 := threadCPUSeconds()
					for _, l := range bm.corpus[from:to] {
						hits += anchor(l)
					}
					own, other = own+t1-t0, other+threadCPUSeconds()-t1
					from = to
				}
			}
			if hits == 0 || matches == 0 && bm.name != "no-precursor" {
				b.Fatalf("%d matches, %d anchor hits", matches, hits)
			}
			mb := float64(bm.size) * float64(b.N) / 1e6
			b.ReportMetric(mb/own, "MB/cpu-s")
			b.ReportMetric(mb/other, "anchor-MB/cpu-s")
			b.ReportMetric(other/own, "x-anchor")
		})
	}
}
