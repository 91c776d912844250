package console

import (
	"cmp"
	"slices"
	"unicode/utf8"

	"github.com/precwatch/precwatch"
)

// segment is a piece of listing text; Mark is set on the pieces a match
// covers. Templates escape Text and wrap marked pieces in <mark>, so the
// highlighting never passes listing text through as HTML.
type segment struct {
	Text string
	Mark bool
	Term string // the watchlist term of the match, for the tooltip
}

// highlight splits text, the listing's field named field, at the matches
// located in it. Match offsets are bytes into the original text; spans that
// overlap are merged, and spans that fall outside the text or inside a
// UTF-8 sequence (a match made against another version of the listing) are
// ignored.
func highlight(text, field string, ms []precwatch.Match) []segment {
	type span struct {
		start, end int
		term       string
	}
	var spans []span
	for _, m := range ms {
		if m.Field != field || m.Start < 0 || m.End > len(text) || m.Start >= m.End {
			continue
		}
		if !utf8.RuneStart(text[m.Start]) || (m.End < len(text) && !utf8.RuneStart(text[m.End])) {
			continue
		}
		spans = append(spans, span{m.Start, m.End, m.Term})
	}
	slices.SortFunc(spans, func(a, b span) int { return cmp.Or(a.start-b.start, b.end-a.end) })
	var merged []span
	for _, sp := range spans {
		if n := len(merged); n > 0 && sp.start <= merged[n-1].end {
			merged[n-1].end = max(merged[n-1].end, sp.end)
			continue
		}
		merged = append(merged, sp)
	}
	var out []segment
	pos := 0
	for _, sp := range merged {
		if sp.start > pos {
			out = append(out, segment{Text: text[pos:sp.start]})
		}
		out = append(out, segment{Text: text[sp.start:sp.end], Mark: true, Term: sp.term})
		pos = sp.end
	}
	if pos < len(text) {
		out = append(out, segment{Text: text[pos:]})
	}
	return out
}
