package matchers_test

import (
	"bufio"
	"encoding/json"
	"fmt"
	"hash/fnv"
	"math/rand/v2"
	"os"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/precwatch/precwatch"
	"github.com/precwatch/precwatch/fixtures"
	"github.com/precwatch/precwatch/fixtures/eval"
)

// equalityInputs is every fixture, evaluation and held-out listing, and
// seeded mutations of them: the inputs on which an old and a new build of
// the matcher must give the same matches (TestMatchDump).
func equalityInputs(tb testing.TB, perBase int) []precwatch.Listing {
	var base []precwatch.Listing
	for _, l := range fixtures.Listings() {
		base = append(base, precwatch.Listing{Title: l.Title, Description: l.Description})
	}
	for _, load := range []func() ([]eval.Case, error){eval.Load, eval.LoadHoldout} {
		cases, err := load()
		if err != nil {
			tb.Fatal(err)
		}
		for _, c := range cases {
			base = append(base, precwatch.Listing{Title: c.Title, Description: c.Description})
		}
	}
	r := rand.New(rand.NewPCG(2026, 12))
	seps := []string{" ", "  ", "\t", ", ", " - ", "...", "/", "\n\n", "_", "*", ". ", "-", "."}
	subs := []string{"0", "1", "3", "4", "5", "7", "@", "!", "$", "|", "*", "#", "_", "?", "•", "€", "а", "о", "е", "Ø", "é", "ß", "%", " ", "I", "l", "x", "kg", "%", "35", "N"}
	mutate := func(s string) string {
		b := []byte(s)
		for range 1 + r.IntN(5) {
			if len(b) == 0 {
				b = append(b, "AN 34.5% N"[:1+r.IntN(9)]...)
				continue
			}
			k := r.IntN(len(b))
			switch r.IntN(12) {
			case 0:
				if c := b[k]; c < 0x80 && (c|0x20) >= 'a' && (c|0x20) <= 'z' {
					b[k] ^= 0x20
				}
			case 1:
				b = append(b[:k], append([]byte(seps[r.IntN(len(seps))]), b[k:]...)...)
			case 2, 3:
				// A substitution (digit, symbol, mask, look-alike).
				b = append(b[:k], append([]byte(subs[r.IntN(len(subs))]), b[k+1:]...)...)
			case 4:
				b = append(b[:k], b[k+1:]...)
			case 5:
				b = b[:k] // truncated
			case 6:
				var sp []byte
				sep := " ."[r.IntN(2)]
				for _, c := range b[k:min(len(b), k+8)] {
					sp = append(sp, c, sep)
				}
				b = append(b[:k], append(sp, b[min(len(b), k+8):]...)...)
			case 7:
				b = []byte(strings.ToUpper(string(b)))
			case 8:
				if j := strings.IndexByte(string(b[k:]), ' '); j >= 0 {
					b = append(b[:k+j], b[k+j+1:]...)
				}
			case 9:
				sep := ".-"[r.IntN(2)]
				var cut []byte
				for x, c := range b[k:min(len(b), k+12)] {
					if x > 0 && x%(2+r.IntN(3)) == 0 {
						cut = append(cut, sep)
					}
					cut = append(cut, c)
				}
				b = append(b[:k], append(cut, b[min(len(b), k+12):]...)...)
			case 10:
				// A word's letter doubled or two swapped.
				if k+1 < len(b) {
					if r.IntN(2) == 0 {
						b = append(b[:k+1], b[k:]...)
					} else {
						b[k], b[k+1] = b[k+1], b[k]
					}
				}
			case 11:
				// A word cut short and a full stop ("Nitrometh.").
				if j := strings.IndexByte(string(b[k:]), ' '); j > 1 {
					b = append(b[:k+j-1], append([]byte(". "), b[k+j:]...)...)
				}
			}
		}
		return string(b)
	}
	out := make([]precwatch.Listing, 0, len(base)*(2+perBase))
	for i, l := range base {
		out = append(out, l)
		l.Tor = true
		out = append(out, precwatch.Listing{Title: l.Title + " " + base[(i+7)%len(base)].Title, Description: l.Description, Tor: true})
		for range perBase {
			x := l
			x.Tor = r.IntN(3) == 0
			switch r.IntN(4) {
			case 0:
				x.Title = mutate(x.Title)
			case 1:
				x.Description = mutate(x.Description)
			default:
				x.Title, x.Description = mutate(x.Title), mutate(x.Description)
			}
			out = append(out, x)
		}
	}
	return out
}

// TestMatchDump matches the equality inputs (a few mutations of each
// listing; $MATCH_DUMP_PER of them when set) and checks every span. With
// $MATCH_DUMP set it writes, per input, its index, match count and a hash
// of its matches (all fields, as JSON) there, and logs the inputs listed
// in $MATCH_DUMP_SHOW with their matches: run by the test binaries of two
// commits (MATCH_DUMP_PER=200: 310,000 inputs), `cmp` of the two files
// shows whether a change to the matcher changed any result.
func TestMatchDump(t *testing.T) {
	per, _ := strconv.Atoi(os.Getenv("MATCH_DUMP_PER"))
	if per <= 0 {
		per = 2
	}
	show := map[int]bool{}
	for _, s := range strings.Fields(os.Getenv("MATCH_DUMP_SHOW")) {
		i, _ := strconv.Atoi(s)
		show[i] = true
	}
	var w *bufio.Writer
	if path := os.Getenv("MATCH_DUMP"); path != "" {
		f, err := os.Create(path)
		if err != nil {
			t.Fatal(err)
		}
		defer func() {
			if err := f.Close(); err != nil {
				t.Error(err)
			}
		}()
		w = bufio.NewWriter(f)
	}
	m := sharedMatcher(t)
	ins := equalityInputs(t, per)
	matched := 0
	for i, l := range ins {
		ms := m.Match(l)
		if len(ms) > 0 {
			matched++
		}
		for _, x := range ms {
			field := l.Title
			if x.Field == "description" {
				field = l.Description
			}
			if x.Start < 0 || x.End > len(field) || x.Start >= x.End || x.Text != field[x.Start:x.End] {
				t.Fatalf("input %d: match %q at [%d:%d] of its %s, %q", i, x.Text, x.Start, x.End, x.Field, field)
			}
		}
		if w == nil && !show[i] {
			continue
		}
		js, err := json.Marshal(ms)
		if err != nil {
			t.Fatal(err)
		}
		if show[i] {
			t.Logf("%d: %q / %q\n%s", i, l.Title, l.Description, js)
		}
		if w != nil {
			h := fnv.New64a()
			h.Write(js)
			fmt.Fprintf(w, "%d %d %x\n", i, len(ms), h.Sum64())
		}
	}
	if w != nil {
		if err := w.Flush(); err != nil {
			t.Fatal(err)
		}
	}
	if matched == 0 || matched == len(ins) {
		t.Fatalf("%d of %d inputs matched: the inputs test too little", matched, len(ins))
	}
	t.Logf("%d inputs, %d with matches", len(ins), matched)
}

// BenchmarkMatchOnce matches the listings of BenchmarkMatch's three
// corpora once each per iteration (the fixture and evaluation listings;
// those that name no precursor; a market mix of one in twenty that name
// one), without repeating them to 50 MB: small enough to count the
// instructions Match runs under callgrind (--toggle-collect on Match),
// which a shared machine does not disturb.
func BenchmarkMatchOnce(b *testing.B) {
	named, none := benchSplit(b)
	m := sharedMatcher(b)
	for _, bm := range []struct {
		name   string
		corpus []precwatch.Listing
	}{
		{"full", append(slices.Clip(named), none...)},
		{"no-precursor", none},
		{"market-1in20", marketMix(named, none, 20)},
	} {
		size := 0
		for _, l := range bm.corpus {
			size += len(l.Title) + len(l.Description)
		}
		b.Run(bm.name, func(b *testing.B) {
			runtime.LockOSThread()
			defer runtime.UnlockOSThread()
			n := 0
			t0 := threadCPUSeconds()
			for b.Loop() {
				for _, l := range bm.corpus {
					n += len(m.Match(l))
				}
			}
			if n == 0 && bm.name != "no-precursor" {
				b.Fatal("no matches")
			}
			b.ReportMetric(float64(size)*float64(b.N)/1e6/(threadCPUSeconds()-t0), "MB/cpu-s")
		})
	}
}
