package matchers_test

import (
	"testing"

	ahocorasick "github.com/petar-dambovaliev/aho-corasick"

	"github.com/precwatch/precwatch"
)

// anchorScanner is the speed anchor BenchmarkMatch runs beside the matcher
// on each corpus: github.com/petar-dambovaliev/aho-corasick, the fastest Go
// Aho-Corasick library we know, as a DFA, ASCII case-insensitive, with
// leftmost-longest matches, over the watchlist's terms as written. It does
// no normalisation, applies no rules and explains nothing, so it is the
// floor for the bare scan: the matcher's figure over the anchor's, in the
// same run, is its speed independent of how loaded the machine is. The
// library lives only in test files, never in the binary.
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
