package matchers

import (
	"slices"
	"strings"
)

// Sellers write a chemical name apart at its parts ("tri ethanol amine",
// "Hexa-methylene-tetramine"), which the scan, reading words, would miss.
// The matcher therefore also looks for a name with its parts apart, in
// every combination, when the name is wholly made of the common parts of
// systematic names below.

// nameParts are multiplying prefixes, groups and parent names of
// systematic chemical names, longest first so that a word is cut into
// the fewest parts.
var nameParts = func() []string {
	// The parents and groups also as the watchlist's other languages
	// write them ("nitrometano", "Nitroethan", "trietanolamina"), so that
	// "Nitro metano" is read and "nitroetano" is never nitromethane
	// misspelt.
	ps := strings.Fields(`mono di tri tetra penta hexa bis
		methyl ethyl propyl isopropyl butyl phenyl methylene ethylene
		metil etil metyl etyl
		chloro fluoro bromo nitro amino hydroxy thio
		ethanol amine tetramine methane ethane glycol
		etanol amina amin methan ethan metano etano methaan ethaan metan etan
		phosphite phosphate phosphonate phosphonic chloride sulfide sulphide`)
	slices.SortStableFunc(ps, func(a, b string) int { return len(b) - len(a) })
	return ps
}()

// maxPartVariants bounds the spellings added per term (a name of five
// parts in one word has sixteen).
const maxPartVariants = 16

// splitName cuts a word into nameParts, or returns nil when it is not
// wholly made of them or is one part only.
func splitName(w string) []string {
	// from[i] is where the part ending at i starts (-1: i not reached).
	from := make([]int, len(w)+1)
	for i := range from {
		from[i] = -1
	}
	from[0] = 0
	for i := 0; i < len(w); i++ {
		if from[i] < 0 {
			continue
		}
		for _, p := range nameParts {
			if j := i + len(p); j <= len(w) && from[j] < 0 && w[i:j] == p {
				from[j] = i
			}
		}
	}
	if from[len(w)] < 0 {
		return nil
	}
	var parts []string
	for j := len(w); j > 0; j = from[j] {
		parts = append(parts, w[from[j]:j])
	}
	if len(parts) < 2 {
		return nil
	}
	slices.Reverse(parts)
	return parts
}

// partVariants returns the spellings of a normalised term with the parts
// of its words apart, in every combination, the term itself excepted; none
// when it has no such parts or more than maxPartVariants spellings.
func partVariants(norm string) []string {
	out := []string{""}
	for i, w := range strings.Split(norm, " ") {
		sep := " "
		if i == 0 {
			sep = ""
		}
		parts := splitName(w)
		if parts == nil {
			for k := range out {
				out[k] += sep + w
			}
			continue
		}
		if len(out)<<(len(parts)-1) > maxPartVariants {
			return nil
		}
		var next []string
		for _, prefix := range out {
			for mask := range 1 << (len(parts) - 1) {
				var b strings.Builder
				b.WriteString(prefix + sep + parts[0])
				for k, p := range parts[1:] {
					if mask&(1<<k) != 0 {
						b.WriteByte(' ')
					}
					b.WriteString(p)
				}
				next = append(next, b.String())
			}
		}
		out = next
	}
	return slices.DeleteFunc(out, func(v string) bool { return v == norm })
}
