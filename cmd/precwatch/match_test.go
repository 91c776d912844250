package main

import (
	"encoding/json"
	"io"
	"runtime"
	"strings"
	"testing"

	"github.com/precwatch/precwatch"
)

// titleMatcher reports one match per listing whose title contains "peroxide".
type titleMatcher struct{}

func (titleMatcher) Match(l precwatch.Listing) []precwatch.Match {
	if strings.Contains(l.Title, "peroxide") {
		return []precwatch.Match{{Substance: "hydrogen-peroxide", Term: "peroxide"}}
	}
	return nil
}

// repeatReader yields n bytes of b repeated, without holding them.
type repeatReader struct {
	b byte
	n int64
}

func (r *repeatReader) Read(p []byte) (int, error) {
	if r.n <= 0 {
		return 0, io.EOF
	}
	p = p[:min(int64(len(p)), r.n)]
	for i := range p {
		p[i] = r.b
	}
	r.n -= int64(len(p))
	return len(p), nil
}

// hugeLine is one JSON line whose title is n bytes long.
func hugeLine(n int64) io.Reader {
	return io.MultiReader(strings.NewReader(`{"id":"huge","title":"`), &repeatReader{b: 'a', n: n}, strings.NewReader("\"}\n"))
}

type matchResult struct {
	ID      string            `json:"id"`
	Matches []precwatch.Match `json:"matches"`
	Error   string            `json:"error"`
	Line    int               `json:"line"`
}

func decodeResults(t *testing.T, out string) []matchResult {
	t.Helper()
	var res []matchResult
	for line := range strings.SplitSeq(strings.TrimSpace(out), "\n") {
		var r matchResult
		if err := json.Unmarshal([]byte(line), &r); err != nil {
			t.Fatalf("output line %q: %v", line, err)
		}
		res = append(res, r)
	}
	return res
}

// TestMatchStreamSkipsHugeLinesInBoundedMemory feeds a 50 MB and a 15 MB line
// between ordinary ones: each huge line is reported by number and skipped,
// every other line still answered, and the stream allocates a small multiple
// of the line limit, not of the input.
func TestMatchStreamSkipsHugeLinesInBoundedMemory(t *testing.T) {
	in := io.MultiReader(
		strings.NewReader(`{"id":"1","title":"hydrogen peroxide 35%"}`+"\n"),
		hugeLine(50<<20),
		strings.NewReader(`{"id":"3","title":"garden hose"}`+"\n"),
		hugeLine(15<<20),
		strings.NewReader(`{"id":"5","title":"peroxide again"}`+"\n"),
	)
	var out strings.Builder
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	err := matchStream(t.Context(), titleMatcher{}, in, &out)
	runtime.ReadMemStats(&after)
	if err == nil || !strings.Contains(err.Error(), "2 invalid input line(s)") {
		t.Errorf("err = %v, want 2 invalid lines", err)
	}
	// 65 MB went through; the reader keeps at most one line of 1 MiB.
	if alloc := after.TotalAlloc - before.TotalAlloc; alloc > 8*maxMatchLine {
		t.Errorf("allocated %d bytes for 65 MB of input, want at most %d", alloc, 8*maxMatchLine)
	}
	res := decodeResults(t, out.String())
	if len(res) != 5 {
		t.Fatalf("got %d result lines, want 5:\n%s", len(res), out.String())
	}
	for _, i := range []int{1, 3} {
		if res[i].Line != i+1 || !strings.Contains(res[i].Error, "longer than") {
			t.Errorf("result %d = %+v, want line %d reported too long", i, res[i], i+1)
		}
	}
	if res[0].ID != "1" || len(res[0].Matches) != 1 || res[2].ID != "3" || len(res[2].Matches) != 0 || res[4].ID != "5" || len(res[4].Matches) != 1 {
		t.Errorf("ordinary lines not answered right: %+v", res)
	}
}

// TestMatchStreamBadLines gives each malformed line its own error, naming
// the line and the field, and goes on.
func TestMatchStreamBadLines(t *testing.T) {
	in := strings.Join([]string{
		`null`,
		`[1,2]`,
		`{"id":"a","title":5}`,
		`{"id":"b","title":"peroxide","price":true}`,
		`{"id":"c","title":"peroxide","price":"call me"}`,
		`{"id":"d","title":"peroxide","price":"35 EUR"}`,
		`{"id":"e","title":"peroxide","price":null}`,
		`{not json`,
	}, "\n")
	var out strings.Builder
	err := matchStream(t.Context(), titleMatcher{}, strings.NewReader(in), &out)
	if err == nil || !strings.Contains(err.Error(), "6 invalid input line(s)") {
		t.Errorf("err = %v, want 6 invalid lines", err)
	}
	res := decodeResults(t, out.String())
	want := []struct {
		line    int
		errPart string
	}{
		{1, "not a JSON object"},
		{2, "not a JSON object"},
		{3, `field "title": want a string`},
		{4, `field "price"`},
		{5, `field "price"`},
		{0, ""},
		{0, ""},
		{8, "invalid JSON"},
	}
	if len(res) != len(want) {
		t.Fatalf("got %d result lines, want %d:\n%s", len(res), len(want), out.String())
	}
	for i, w := range want {
		if res[i].Line != w.line || (w.errPart == "") != (res[i].Error == "") || !strings.Contains(res[i].Error, w.errPart) {
			t.Errorf("line %d: got %+v, want line %d error containing %q", i+1, res[i], w.line, w.errPart)
		}
	}
	if len(res[5].Matches) != 1 || len(res[6].Matches) != 1 {
		t.Errorf("valid lines with prices not matched: %+v %+v", res[5], res[6])
	}
}
