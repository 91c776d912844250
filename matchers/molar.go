package matchers

import "unicode"

// Molar masses, for reading a molarity or normality as a percentage
// (percentOf): the standard atomic weights (IUPAC, abridged to three
// decimals) of the elements the watchlist's formulas use.
var atomicWeight = map[string]float64{
	"H": 1.008, "B": 10.81, "C": 12.011, "N": 14.007, "O": 15.999, "F": 18.998, "Na": 22.990,
	"Mg": 24.305, "Al": 26.982, "Si": 28.085, "P": 30.974, "S": 32.06, "Cl": 35.45, "K": 39.098,
	"Ca": 40.078, "Fe": 55.845, "Cu": 63.546, "Zn": 65.38, "As": 74.922, "Br": 79.904, "Sr": 87.62,
	"Ag": 107.868, "I": 126.904, "Ba": 137.327, "Pb": 207.2,
}

// formulaMass returns the molar mass of a formula such as "H2SO4" or
// "Ca(NO3)2" in g/mol, or 0 when it holds anything else (a hydrate's
// dot, an unknown element, a charge).
func formulaMass(f string) float64 {
	m, rest := formulaGroup(f)
	if rest != "" || m == 0 {
		return 0
	}
	return m
}

// formulaGroup reads elements and parenthesised groups, each with its
// count, up to a ")" or the end, and returns their mass and what is left.
func formulaGroup(f string) (float64, string) {
	total := 0.0
	for f != "" && f[0] != ')' {
		var m float64
		switch c := rune(f[0]); {
		case c == '(':
			inner, rest := formulaGroup(f[1:])
			if inner == 0 || rest == "" || rest[0] != ')' {
				return 0, f
			}
			m, f = inner, rest[1:]
		case unicode.IsUpper(c):
			n := 1
			if len(f) > 1 && f[1] >= 'a' && f[1] <= 'z' {
				n = 2
			}
			w, ok := atomicWeight[f[:n]]
			if !ok {
				return 0, f
			}
			m, f = w, f[n:]
		default:
			return 0, f
		}
		count := 0
		for f != "" && f[0] >= '0' && f[0] <= '9' {
			count = count*10 + int(f[0]-'0')
			f = f[1:]
		}
		total += m * float64(max(count, 1))
	}
	return total, f
}

// acidEquivalents is the count of leading hydrogens of a formula written
// acid-first ("H2SO4" 2, "HNO3" 1, "H2O2" 2: its equivalents in a
// titration), 0 for any other, whose normality is not read.
func acidEquivalents(f string) int {
	if len(f) < 2 || f[0] != 'H' || f[1] >= 'a' && f[1] <= 'z' {
		return 0
	}
	if f[1] >= '1' && f[1] <= '9' && (len(f) == 2 || f[2] < '0' || f[2] > '9') {
		return int(f[1] - '0')
	}
	if f[1] >= 'A' && f[1] <= 'Z' {
		return 1
	}
	return 0
}
