package main

import (
	"fmt"
	"slices"
	"strconv"
	"strings"
	"unicode"
)

// hillFormula writes a molecular formula in the Hill system catalogues
// and safety data sheets print as the "empirical formula": carbon first,
// then hydrogen, then every other element alphabetically; without carbon,
// every element alphabetically, hydrogen included ("KClO4" is "ClKO4",
// "H2SO4" is "H2O4S"). Parentheses and a hydrate's dot are multiplied out
// ("Mg(NO3)2·6H2O" is "H12MgN2O12").
func hillFormula(f string) (string, error) {
	counts := map[string]int{}
	rs := []rune(f)
	i := 0
	var group func(mult int, depth int) error
	group = func(mult, depth int) error {
		for i < len(rs) {
			switch r := rs[i]; {
			case r == '(':
				i++
				start := i
				inner := map[string]int{}
				saved := counts
				counts = inner
				if err := group(1, depth+1); err != nil {
					return err
				}
				counts = saved
				if i >= len(rs) || rs[i] != ')' {
					return fmt.Errorf("formula %q: unclosed parenthesis at %d", f, start)
				}
				i++
				n := number(rs, &i, 1)
				for el, c := range inner {
					counts[el] += c * n * mult
				}
			case r == ')':
				if depth == 0 {
					return fmt.Errorf("formula %q: unmatched parenthesis", f)
				}
				return nil
			case r == '·' || r == '.':
				i++
				n := number(rs, &i, 1)
				// The rest is a hydrate: n times what follows.
				inner := map[string]int{}
				saved := counts
				counts = inner
				if err := group(1, depth); err != nil {
					return err
				}
				counts = saved
				for el, c := range inner {
					counts[el] += c * n * mult
				}
			case unicode.IsUpper(r):
				el := string(r)
				i++
				if i < len(rs) && unicode.IsLower(rs[i]) {
					el += string(rs[i])
					i++
				}
				counts[el] += number(rs, &i, 1) * mult
			default:
				return fmt.Errorf("formula %q: unexpected %q", f, r)
			}
		}
		return nil
	}
	if err := group(1, 0); err != nil {
		return "", err
	}
	els := make([]string, 0, len(counts))
	for el := range counts {
		if el != "C" && el != "H" || counts["C"] == 0 {
			els = append(els, el)
		}
	}
	slices.Sort(els)
	if counts["C"] > 0 {
		els = append([]string{"C", "H"}[:1+min(1, counts["H"])], els...)
	}
	var b strings.Builder
	for _, el := range els {
		b.WriteString(el)
		if counts[el] > 1 {
			b.WriteString(strconv.Itoa(counts[el]))
		}
	}
	return b.String(), nil
}

// number reads the count at rs[*i], or def when there is none.
func number(rs []rune, i *int, def int) int {
	n, seen := 0, false
	for *i < len(rs) && rs[*i] >= '0' && rs[*i] <= '9' {
		n = 10*n + int(rs[*i]-'0')
		*i++
		seen = true
	}
	if !seen {
		return def
	}
	return n
}
