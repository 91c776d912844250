package precwatch

import (
	"fmt"
	"maps"
	"slices"
	"strconv"
)

// SubstanceDiff is what changed in one substance between two watchlists.
type SubstanceDiff struct {
	ID      string   `json:"id"`
	Name    string   `json:"name"`
	Change  string   `json:"change"` // added, removed or changed
	Added   []string `json:"added,omitempty"`
	Removed []string `json:"removed,omitempty"`
}

func (d SubstanceDiff) String() string {
	if d.Change != "changed" {
		return d.Change + " substance " + d.ID
	}
	return fmt.Sprintf("changed %s: +%q -%q", d.ID, d.Added, d.Removed)
}

// Terms lists the substance's names, terms, identifiers and regimes as
// labelled strings ("name[de]: Salpetersäure", "cas: 7697-37-2"), so that
// two versions compare as sets.
func (s Substance) Terms() []string {
	var out []string
	for _, lang := range slices.Sorted(maps.Keys(s.Names)) {
		out = append(out, "name["+lang+"]: "+s.Names[lang])
	}
	for _, v := range s.Synonyms {
		out = append(out, "synonym: "+v)
	}
	for _, v := range s.Abbreviations {
		out = append(out, "abbreviation: "+v)
	}
	for _, v := range s.ProductTerms {
		out = append(out, "product term: "+v)
	}
	for _, v := range s.Excludes {
		out = append(out, "exclude: "+v)
	}
	for _, f := range []struct{ k, v string }{{"formula", s.Formula}, {"cas", s.CAS}, {"ec", s.EC}, {"entry type", s.EntryType}} {
		if f.v != "" {
			out = append(out, f.k+": "+f.v)
		}
	}
	for _, v := range s.UN {
		out = append(out, "un: "+v)
	}
	for _, r := range s.Regimes {
		e := "regime: " + string(r.Regime)
		if r.LimitPercent != nil {
			e += " limit " + strconv.FormatFloat(*r.LimitPercent, 'f', -1, 64) + "%"
		}
		if r.Item != "" {
			e += " item " + r.Item
		}
		out = append(out, e)
	}
	return out
}

// DiffWatchlists compares two watchlists substance by substance (by ID), in
// the order of the newer one, then the removed ones. Either may be nil.
func DiffWatchlists(old, cur *Watchlist) []SubstanceDiff {
	index := func(w *Watchlist) (map[string]Substance, []string) {
		m := map[string]Substance{}
		var order []string
		if w != nil {
			for _, s := range w.Substances {
				if _, dup := m[s.ID]; !dup {
					order = append(order, s.ID)
				}
				m[s.ID] = s
			}
		}
		return m, order
	}
	om, oorder := index(old)
	cm, corder := index(cur)
	var out []SubstanceDiff
	for _, id := range corder {
		c := cm[id]
		o, ok := om[id]
		if !ok {
			out = append(out, SubstanceDiff{ID: id, Name: c.DisplayName(), Change: "added", Added: c.Terms()})
			continue
		}
		added, removed := setDiff(o.Terms(), c.Terms())
		if len(added)+len(removed) > 0 {
			out = append(out, SubstanceDiff{ID: id, Name: c.DisplayName(), Change: "changed", Added: added, Removed: removed})
		}
	}
	for _, id := range oorder {
		if _, ok := cm[id]; !ok {
			o := om[id]
			out = append(out, SubstanceDiff{ID: id, Name: o.DisplayName(), Change: "removed", Removed: o.Terms()})
		}
	}
	return out
}

// setDiff returns what is in b and not a, and in a and not b, keeping
// order. The comparison is exact: a change of case is a change.
func setDiff(a, b []string) (added, removed []string) {
	for _, x := range b {
		if !slices.Contains(a, x) {
			added = append(added, x)
		}
	}
	for _, x := range a {
		if !slices.Contains(b, x) {
			removed = append(removed, x)
		}
	}
	return added, removed
}
