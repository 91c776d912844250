package matchers

import (
	"fmt"
	"maps"
	"os"
	"slices"
	"strings"
	"unicode"

	"github.com/precwatch/precwatch"
	"github.com/precwatch/precwatch/internal/yamlfile"
)

// LoadWatchlist reads and validates the watchlist file at path.
func LoadWatchlist(path string) (*precwatch.Watchlist, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("matchers: load watchlist: %w", err)
	}
	return ParseWatchlist(path, data)
}

// ParseWatchlist decodes a watchlist strictly (unknown fields are errors) and
// validates it. Errors read "file:line: field: message", wrap
// precwatch.ErrInvalid, and are a yamlfile.Errors for callers that show
// each problem at its field.
func ParseWatchlist(filename string, data []byte) (*precwatch.Watchlist, error) {
	var w precwatch.Watchlist
	doc, err := yamlfile.Decode(filename, data, &w)
	if err != nil {
		return nil, fmt.Errorf("matchers: %w", err)
	}
	if probs := validate(&w); len(probs) > 0 {
		errs := make(yamlfile.Errors, len(probs))
		for i, p := range probs {
			errs[i] = doc.ErrorAt(p.path, p.msg)
		}
		return nil, fmt.Errorf("matchers: %w", errs)
	}
	return &w, nil
}

type problem struct{ path, msg string }

// termLetters counts a term's letters and digits: what a term is long by,
// as the matcher's shortTermMax counts.
func termLetters(t string) int {
	n := 0
	for _, r := range t {
		if unicode.IsLetter(r) || unicode.IsDigit(r) {
			n++
		}
	}
	return n
}

// shortTerm says what is wrong with a name or synonym that is too short to
// stand alone, "" when nothing is: one letter or digit names nothing, and
// two are a code ("VX") that must also be listed under abbreviations,
// which mark terms that match only with chemical context. An empty name
// is left to the check that the substance has one. Validation only: the
// matcher treats every short term as a code whatever list it is in.
func shortTerm(t string, abbreviations map[string]bool) string {
	switch n := termLetters(t); {
	case strings.TrimSpace(t) == "":
		return ""
	case n < 2:
		return fmt.Sprintf("%q: shorter than 2 letters or digits", t)
	case n == 2 && !abbreviations[strings.ToLower(strings.TrimSpace(t))]:
		return fmt.Sprintf("%q: 2 letters or digits; list it under abbreviations too, as a code that needs chemical context", t)
	}
	return ""
}

var knownRegimes = map[precwatch.Regime]bool{
	precwatch.RegimeEUAnnexI:  true,
	precwatch.RegimeEUAnnexII: true,
	precwatch.RegimeCWC1:      true,
	precwatch.RegimeCWC2:      true,
	precwatch.RegimeCWC3:      true,
}

// validate checks what the YAML decoder cannot: unique ids, known regimes,
// CAS check digits, a name for every substance, names and terms long
// enough (shortTerm) and limits in (0,100].
func validate(w *precwatch.Watchlist) []problem {
	var probs []problem
	add := func(path, format string, args ...any) {
		probs = append(probs, problem{path, fmt.Sprintf(format, args...)})
	}
	if len(w.Substances) == 0 {
		add("substances", "no substances")
	}
	ids := map[string]int{}
	for i, s := range w.Substances {
		p := fmt.Sprintf("substances[%d]", i)
		switch prev, dup := ids[s.ID]; {
		case s.ID == "":
			add(p+".id", "missing id")
		case dup:
			add(p+".id", "duplicate id %q (also substances[%d])", s.ID, prev)
		default:
			ids[s.ID] = i
		}
		named := false
		for _, n := range s.Names {
			if strings.TrimSpace(n) != "" {
				named = true
			}
		}
		if !named {
			add(p+".names", "at least one name is required")
		}
		abbr := map[string]bool{}
		for _, a := range s.Abbreviations {
			abbr[strings.ToLower(strings.TrimSpace(a))] = true
		}
		// Sorted, so that the problems of a map come in one order.
		for _, lang := range slices.Sorted(maps.Keys(s.Names)) {
			if msg := shortTerm(s.Names[lang], abbr); msg != "" {
				add(fmt.Sprintf("%s.names.%s", p, lang), "name %s", msg)
			}
		}
		for j, syn := range s.Synonyms {
			if msg := shortTerm(syn, abbr); msg != "" {
				add(fmt.Sprintf("%s.synonyms[%d]", p, j), "synonym %s", msg)
			}
		}
		for j, a := range s.Abbreviations {
			if n := termLetters(a); n < 2 {
				add(fmt.Sprintf("%s.abbreviations[%d]", p, j), "abbreviation %q: shorter than 2 letters or digits", a)
			}
		}
		for j, x := range s.Excludes {
			if strings.TrimSpace(x) == "" {
				add(fmt.Sprintf("%s.excludes[%d]", p, j), "empty phrase")
			}
		}
		if s.CAS != "" && !ValidCAS(s.CAS) {
			add(p+".cas", "check digit wrong in %q", s.CAS)
		}
		if s.EC != "" && !ValidEC(s.EC) {
			add(p+".ec", "not an EC number (NNN-NNN-R, check digit right): %q", s.EC)
		}
		for j, un := range s.UN {
			if len(un) != 4 || strings.Trim(un, "0123456789") != "" {
				add(fmt.Sprintf("%s.un[%d]", p, j), "not a UN number (four digits): %q", un)
			}
		}
		if len(s.Regimes) == 0 {
			add(p+".regimes", "at least one regime is required")
		}
		for j, r := range s.Regimes {
			rp := fmt.Sprintf("%s.regimes[%d]", p, j)
			if !knownRegimes[r.Regime] {
				add(rp+".regime", "unknown regime %q", r.Regime)
			}
			if l := r.LimitPercent; l != nil && (*l <= 0 || *l > 100) {
				add(rp+".limit_percent_w_w", "limit %v outside (0,100]", *l)
			}
			if l := r.UpperLimitLicensing; l != nil && (*l <= 0 || *l > 100) {
				add(rp+".upper_limit_licensing_percent_w_w", "limit %v outside (0,100]", *l)
			}
		}
	}
	ids2 := map[string]bool{}
	for _, s := range w.Substances {
		ids2[s.ID] = true
	}
	for i, s := range w.Suppressions {
		p := fmt.Sprintf("suppressions[%d]", i)
		if strings.TrimSpace(s.By) == "" {
			add(p+".by", "who suppressed is required")
		}
		if strings.TrimSpace(s.Reason) == "" {
			add(p+".reason", "a reason is required")
		}
		if strings.TrimSpace(s.Term) == "" && strings.TrimSpace(s.Listing) == "" {
			add(p, "a term or a listing is required")
		}
		if strings.TrimSpace(s.Term) != "" && strings.TrimSpace(s.Site) == "" {
			add(p+".site", "a term suppression needs the site it applies to")
		}
		if s.Substance != "" && !ids2[s.Substance] {
			add(p+".substance", "unknown substance %q", s.Substance)
		}
	}
	return probs
}

// ValidCAS reports whether s is a CAS registry number ("7722-84-1", or its
// digits alone "7722841") whose check digit is right: the last digit equals
// the sum of the other digits, weighted 1, 2, 3... from the right, modulo 10.
func ValidCAS(s string) bool {
	var digits []byte
	if strings.Contains(s, "-") {
		parts := strings.Split(s, "-")
		if len(parts) != 3 || len(parts[0]) < 2 || len(parts[0]) > 7 || len(parts[1]) != 2 || len(parts[2]) != 1 {
			return false
		}
		s = parts[0] + parts[1] + parts[2]
	}
	if len(s) < 5 || len(s) > 10 {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
		digits = append(digits, s[i]-'0')
	}
	return casCheck(digits)
}

// ValidEC reports whether s is an EC number ("231-765-0") whose check
// digit is right: the sum of the first six digits weighted 1 to 6, modulo
// 11 (a remainder of 10 is never issued).
func ValidEC(s string) bool {
	if len(s) != 9 || s[3] != '-' || s[7] != '-' {
		return false
	}
	sum, w := 0, 1
	for i := range 7 {
		c := s[i]
		if i == 3 {
			continue
		}
		if c < '0' || c > '9' {
			return false
		}
		sum += int(c-'0') * w
		w++
	}
	return s[8] >= '0' && s[8] <= '9' && sum%11 == int(s[8]-'0')
}

// casCheck verifies the check digit of a CAS number given as its digits.
func casCheck(d []byte) bool {
	if len(d) < 5 || d[0] == 0 {
		return false
	}
	sum := 0
	for i, w := len(d)-2, 1; i >= 0; i, w = i-1, w+1 {
		sum += int(d[i]) * w
	}
	return sum%10 == int(d[len(d)-1])
}
