package precwatch

import (
	"fmt"
	"maps"
	"slices"
	"strconv"
)

// WatchlistChange is one difference between two watchlists.
type WatchlistChange struct {
	Substance string `json:"substance"`
	// Kind is "added" or "removed" (a whole substance), or the field that
	// changed: "term", "regime".
	Kind   string   `json:"kind"`
	Added  []string `json:"added,omitempty"`
	Remove []string `json:"removed,omitempty"`
}

func (c WatchlistChange) String() string {
	switch c.Kind {
	case "added", "removed":
		return c.Kind + " substance " + c.Substance
	}
	return fmt.Sprintf("%s %s: +%q -%q", c.Substance, c.Kind, c.Added, c.Remove)
}

// DiffWatchlists lists what changes from a to b, by substance id.
func DiffWatchlists(a, b *Watchlist) []WatchlistChange {
	as, bs := byID(a), byID(b)
	ids := slices.Sorted(maps.Keys(as))
	for id := range bs {
		if _, ok := as[id]; !ok {
			ids = append(ids, id)
		}
	}
	slices.Sort(ids)
	var out []WatchlistChange
	for _, id := range ids {
		x, inA := as[id]
		y, inB := bs[id]
		switch {
		case !inA:
			out = append(out, WatchlistChange{Substance: id, Kind: "added", Added: y.Terms()})
		case !inB:
			out = append(out, WatchlistChange{Substance: id, Kind: "removed", Remove: x.Terms()})
		default:
			if add, rem := setDiff(x.Terms(), y.Terms()); len(add)+len(rem) > 0 {
				out = append(out, WatchlistChange{Substance: id, Kind: "term", Added: add, Remove: rem})
			}
			if add, rem := setDiff(regimeStrings(x), regimeStrings(y)); len(add)+len(rem) > 0 {
				out = append(out, WatchlistChange{Substance: id, Kind: "regime", Added: add, Remove: rem})
			}
		}
	}
	return out
}

// Terms lists every matchable term of the substance, labelled by kind, as
// "name:de:Salpetersäure", "synonym:HNO3", "abbreviation:AN", "formula:HNO3",
// "cas:7697-37-2".
func (s Substance) Terms() []string {
	var ts []string
	for _, lang := range slices.Sorted(maps.Keys(s.Names)) {
		ts = append(ts, "name:"+lang+":"+s.Names[lang])
	}
	for _, v := range s.Synonyms {
		ts = append(ts, "synonym:"+v)
	}
	for _, v := range s.Abbreviations {
		ts = append(ts, "abbreviation:"+v)
	}
	if s.Formula != "" {
		ts = append(ts, "formula:"+s.Formula)
	}
	if s.CAS != "" {
		ts = append(ts, "cas:"+s.CAS)
	}
	return ts
}

func regimeStrings(s Substance) []string {
	var out []string
	for _, r := range s.Regimes {
		v := string(r.Regime)
		if r.LimitPercent != nil {
			v += " limit " + strconv.FormatFloat(*r.LimitPercent, 'f', -1, 64) + "%"
		}
		out = append(out, v)
	}
	return out
}

func byID(w *Watchlist) map[string]Substance {
	m := map[string]Substance{}
	if w != nil {
		for _, s := range w.Substances {
			m[s.ID] = s
		}
	}
	return m
}

// setDiff returns what b has that a lacks, and what a has that b lacks.
func setDiff(a, b []string) (added, removed []string) {
	for _, v := range b {
		if !slices.Contains(a, v) {
			added = append(added, v)
		}
	}
	for _, v := range a {
		if !slices.Contains(b, v) {
			removed = append(removed, v)
		}
	}
	return added, removed
}
