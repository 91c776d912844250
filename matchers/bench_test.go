package matchers_test

import (
	"testing"

	"github.com/precwatch/precwatch"
	"github.com/precwatch/precwatch/fixtures"
)

// benchCorpusBytes is the least listing text one benchmark iteration scans.
const benchCorpusBytes = 50 << 20

// benchCorpus repeats the fixture listings until they hold at least
// benchCorpusBytes of title and description text.
func benchCorpus() ([]precwatch.Listing, int) {
	var base []precwatch.Listing
	for _, l := range fixtures.Listings() {
		base = append(base, precwatch.Listing{Title: l.Title, Description: l.Description})
	}
	var out []precwatch.Listing
	size := 0
	for size < benchCorpusBytes {
		for _, l := range base {
			out = append(out, l)
			size += len(l.Title) + len(l.Description)
		}
	}
	return out, size
}

// BenchmarkMatch matches the whole fixture corpus (repeated to 50 MB)
// against the full watchlist per iteration.
func BenchmarkMatch(b *testing.B) {
	m := sharedMatcher(b)
	corpus, size := benchCorpus()
	b.SetBytes(int64(size))
	b.ReportAllocs()
	matches := 0
	for b.Loop() {
		for _, l := range corpus {
			matches += len(m.Match(l))
		}
	}
	if matches == 0 {
		b.Fatal("no matches in the fixture corpus")
	}
	b.ReportMetric(float64(len(corpus))*float64(b.N)/b.Elapsed().Seconds(), "listings/s")
}
