// Command watchlistgen builds configs/watchlist.yaml from the reference data
// (shared/reference/precursors.yaml): names, identifiers and thresholds only,
// with source, notes and verification prose dropped.
//
// Names of the form "Common: Systematic" become two terms (the common name
// stays the name, the systematic name becomes a synonym); a trailing short
// parenthetical becomes a synonym, or an abbreviation when it is an
// upper-case code ("white fuming nitric acid (WFNA)").
//
// extra_names.yaml adds names in languages the reference lacks: Italian,
// Dutch, Polish, Portuguese and Russian (Cyrillic, and transliterated as
// synonyms) for the EU substances and the CWC Schedule compounds, Spanish
// where the reference has none, with the word orders reagent catalogues use
// ("Фосфор треххлористый").
//
// CWC family entries are defined by alkyl groups, so listings name their
// members, never the family. families.go enumerates the members of the
// closed families (1.A.1-3, 1.B.9-10, 2.B.5-6, 2.B.10-12) from a table of
// groups (Me, Et, n-Pr, i-Pr; O-alkyls up to C10 and cycloalkyls) and writes
// each in the forms catalogues use (IUPAC with and without locants, N,N-
// forms, CAS index names; the aminoethyl families also in further
// languages), leaving out the compounds the Schedule exempts
// (2.B.11: N,N-dimethyl- and N,N-diethylaminoethanol) and giving a member
// with an entry of its own (sarin, tabun, VX, DF, QL) to that entry.
//
//	go run ./matchers/internal/watchlistgen -in configs/reference/precursors.yaml -out configs/watchlist.yaml
package main

import (
	"bytes"
	"errors"
	"flag"
	"fmt"
	"io/fs"
	"log/slog"
	"maps"
	"os"
	"regexp"
	"slices"
	"strings"
	"unicode"

	"go.yaml.in/yaml/v3"

	"github.com/precwatch/precwatch"
)

type refFile struct {
	Meta struct {
		Compiled string `yaml:"compiled"`
	} `yaml:"meta"`
	Substances []refSubstance `yaml:"substances"`
}

type refSubstance struct {
	ID            string             `yaml:"id"`
	EntryType     string             `yaml:"entry_type"`
	Names         map[string]*string `yaml:"names"`
	Synonyms      []string           `yaml:"synonyms"`
	Abbreviations []string           `yaml:"abbreviations"`
	ProductTerms  []string           `yaml:"product_terms"`
	Formula       *string            `yaml:"formula"`
	CAS           *string            `yaml:"cas"`
	EC            *string            `yaml:"ec"`
	UN            []string           `yaml:"un"`
	Regimes       []struct {
		Regime     string   `yaml:"regime"`
		Limit      *float64 `yaml:"limit_percent_w_w"`
		LimitBasis string   `yaml:"limit_basis"`
		Upper      *float64 `yaml:"upper_limit_licensing_percent_w_w"`
		Item       string   `yaml:"item"`
	} `yaml:"regimes"`
}

// outWatchlist mirrors precwatch.Watchlist with the same yaml keys, leaving
// empty fields out so the file stays readable.
type outWatchlist struct {
	Version    string         `yaml:"version"`
	Substances []outSubstance `yaml:"substances"`
	// Suppressions are analysts' rulings, carried over from the existing
	// output file so that regenerating never drops them.
	Suppressions []precwatch.Suppression `yaml:"suppressions,omitempty"`
}

type outSubstance struct {
	ID            string            `yaml:"id"`
	EntryType     string            `yaml:"entry_type"`
	Names         map[string]string `yaml:"names"`
	Synonyms      []string          `yaml:"synonyms,omitempty"`
	Abbreviations []string          `yaml:"abbreviations,omitempty"`
	Excludes      []string          `yaml:"excludes,omitempty"`
	ProductTerms  []string          `yaml:"product_terms,omitempty"`
	Formula       string            `yaml:"formula,omitempty"`
	CAS           string            `yaml:"cas,omitempty"`
	EC            string            `yaml:"ec,omitempty"`
	UN            []string          `yaml:"un,omitempty"`
	Regimes       []outRegime       `yaml:"regimes"`
}

type outRegime struct {
	Regime              precwatch.Regime `yaml:"regime"`
	LimitPercent        *float64         `yaml:"limit_percent_w_w,omitempty"`
	LimitBasis          string           `yaml:"limit_basis,omitempty"`
	UpperLimitLicensing *float64         `yaml:"upper_limit_licensing_percent_w_w,omitempty"`
	Item                string           `yaml:"item,omitempty"`
}

func main() {
	in := flag.String("in", "configs/reference/precursors.yaml", "reference precursors file (a copy of shared/reference)")
	out := flag.String("out", "configs/watchlist.yaml", "watchlist to write")
	extra := flag.String("extra", "matchers/internal/watchlistgen/extra_names.yaml", "names in further languages")
	flag.Parse()
	if err := run(*in, *extra, *out); err != nil {
		slog.Error("watchlistgen failed", "error", err)
		os.Exit(1)
	}
}

func run(in, extraPath, out string) error {
	b, n, err := build(in, extraPath, out)
	if err != nil {
		return err
	}
	if err := os.WriteFile(out, b, 0o644); err != nil {
		return fmt.Errorf("watchlistgen: %w", err)
	}
	slog.Info("watchlist written", "path", out, "substances", n)
	return nil
}

// build renders the watchlist file from the reference and extra names,
// keeping the suppressions of the existing file at existingPath (if any).
func build(in, extraPath, existingPath string) ([]byte, int, error) {
	data, err := os.ReadFile(in)
	if err != nil {
		return nil, 0, fmt.Errorf("watchlistgen: %w", err)
	}
	var ref refFile
	if err := yaml.Unmarshal(data, &ref); err != nil {
		return nil, 0, fmt.Errorf("watchlistgen: parse %s: %w", in, err)
	}
	// id → language → names
	extra := map[string]map[string][]string{}
	if extraPath != "" {
		data, err := os.ReadFile(extraPath)
		if err != nil {
			return nil, 0, fmt.Errorf("watchlistgen: %w", err)
		}
		if err := yaml.Unmarshal(data, &extra); err != nil {
			return nil, 0, fmt.Errorf("watchlistgen: parse %s: %w", extraPath, err)
		}
	}
	if err := checkExtra(extra); err != nil {
		return nil, 0, fmt.Errorf("watchlistgen: %s: %w", extraPath, err)
	}
	w := outWatchlist{Version: ref.Meta.Compiled}
	for _, rs := range ref.Substances {
		s := convert(rs)
		addExtra(&s, extra[rs.ID])
		delete(extra, rs.ID)
		w.Substances = append(w.Substances, s)
	}
	for id := range extra {
		return nil, 0, fmt.Errorf("watchlistgen: %s: unknown substance %q", extraPath, id)
	}
	if err := addFamilyMembers(w.Substances); err != nil {
		return nil, 0, err
	}
	for i := range w.Substances {
		addTranslits(&w.Substances[i])
	}
	if existingPath != "" {
		data, err := os.ReadFile(existingPath)
		switch {
		case errors.Is(err, fs.ErrNotExist):
		case err != nil:
			return nil, 0, fmt.Errorf("watchlistgen: %w", err)
		default:
			var old struct {
				Suppressions []precwatch.Suppression `yaml:"suppressions"`
			}
			if err := yaml.Unmarshal(data, &old); err != nil {
				return nil, 0, fmt.Errorf("watchlistgen: read suppressions from %s: %w", existingPath, err)
			}
			w.Suppressions = old.Suppressions
		}
	}
	var buf bytes.Buffer
	fmt.Fprintf(&buf, "# precwatch watchlist: names, identifiers and regulatory thresholds only.\n")
	fmt.Fprintf(&buf, "# Generated from shared/reference/precursors.yaml and matchers/internal/watchlistgen/extra_names.yaml:\n")
	fmt.Fprintf(&buf, "#   go run ./matchers/internal/watchlistgen\n")
	fmt.Fprintf(&buf, "# The matcher reads this file strictly: unknown fields are errors.\n")
	enc := yaml.NewEncoder(&buf)
	enc.SetIndent(2)
	if err := enc.Encode(w); err != nil {
		return nil, 0, fmt.Errorf("watchlistgen: encode: %w", err)
	}
	if err := enc.Close(); err != nil {
		return nil, 0, fmt.Errorf("watchlistgen: encode: %w", err)
	}
	return buf.Bytes(), len(w.Substances), nil
}

// generic are reference synonyms that name a whole class of substances, so
// a matcher cannot use them: bare "vitriol" is any sulfate (blue vitriol is
// copper sulfate); "oil of vitriol" stays.
var generic = map[string]bool{"vitriol": true}

// contextOnly are reference synonyms with an everyday sense of their own,
// kept as abbreviations are, needing chemical context beside them: an
// eau-forte or aguafuerte is also an etching ("Eau-forte originale de
// Daubigny").
var contextOnly = map[string]bool{"eau-forte": true, "agua fuerte": true, "aqua fortis": true}

// codeRE is an upper-case code such as WFNA, HN-1 or L-3.
var codeRE = regexp.MustCompile(`^[A-Z][A-Z0-9-]{0,5}$`)

// trailingParenRE splits "name (other)" where other holds no parentheses.
var trailingParenRE = regexp.MustCompile(`^(.*\S)\s*\(([^()]+)\)$`)

// splitTerm cleans one name into its main term and extra synonyms and
// abbreviations. Family entries keep their descriptive names whole, since
// their parentheses are part of the definition.
func splitTerm(s string, family bool) (main string, syns, abbrs []string) {
	s = strings.TrimSpace(s)
	if family {
		return s, nil, nil
	}
	// "Sarin: O-Isopropyl methylphosphonofluoridate"
	if common, systematic, ok := strings.Cut(s, ": "); ok {
		s = strings.TrimSpace(common)
		syns = append(syns, strings.TrimSpace(systematic))
	}
	if m := trailingParenRE.FindStringSubmatch(s); m != nil && balanced(m[1]) && len(strings.Fields(m[2])) <= 4 {
		s = m[1]
		if inner := strings.TrimSpace(m[2]); codeRE.MatchString(inner) {
			abbrs = append(abbrs, inner)
		} else {
			syns = append(syns, inner)
		}
	}
	return s, syns, abbrs
}

func balanced(s string) bool {
	return strings.Count(s, "(") == strings.Count(s, ")")
}

func convert(rs refSubstance) outSubstance {
	family := rs.EntryType == "family"
	s := outSubstance{
		ID:        rs.ID,
		EntryType: rs.EntryType,
		Names:     map[string]string{},
		UN:        rs.UN,
	}
	var syns, abbrs []string
	for _, lang := range []string{"en", "fr", "de", "es"} {
		p := rs.Names[lang]
		if p == nil || strings.TrimSpace(*p) == "" {
			continue
		}
		main, sy, ab := splitTerm(*p, family)
		s.Names[lang] = main
		syns = append(syns, sy...)
		abbrs = append(abbrs, ab...)
	}
	for _, syn := range rs.Synonyms {
		if generic[strings.ToLower(syn)] {
			continue
		}
		if contextOnly[strings.ToLower(syn)] {
			abbrs = append(abbrs, syn)
			continue
		}
		main, sy, ab := splitTerm(syn, false)
		syns = append(syns, main)
		syns = append(syns, sy...)
		abbrs = append(abbrs, ab...)
	}
	abbrs = append(abbrs, rs.Abbreviations...)
	s.Synonyms = dedupe(syns, s.Names)
	s.Abbreviations = dedupe(abbrs, nil)
	s.ProductTerms = rs.ProductTerms
	if rs.Formula != nil {
		s.Formula = *rs.Formula
		// The Hill-order formula of catalogues and data sheets, where it
		// differs ("ClKO4" for KClO4); a single element's is its symbol.
		if h, err := hillFormula(s.Formula); err == nil && h != s.Formula && len(h) > 2 {
			s.Synonyms = dedupe(append(s.Synonyms, h), s.Names)
		}
	}
	if rs.CAS != nil {
		s.CAS = *rs.CAS
	}
	if rs.EC != nil {
		s.EC = *rs.EC
	}
	for _, r := range rs.Regimes {
		s.Regimes = append(s.Regimes, outRegime{
			Regime:              precwatch.Regime(r.Regime),
			LimitPercent:        r.Limit,
			LimitBasis:          r.LimitBasis,
			UpperLimitLicensing: r.Upper,
			Item:                r.Item,
		})
	}
	return s
}

// addExtra adds names in further languages: the first per language as the
// name (a code with a hyphen, like "ru-latn", only as synonyms), the rest as
// synonyms. The key "abbreviations" holds codes and trade slang that match
// only with supporting context ("HP", "nitro"); "excludes" phrases that
// hold a term but name something else ("huile de ricin").
func addExtra(s *outSubstance, byLang map[string][]string) {
	if abbrs := byLang["abbreviations"]; len(abbrs) > 0 {
		s.Abbreviations = dedupe(append(s.Abbreviations, abbrs...), nil)
	}
	s.Excludes = dedupe(append(s.Excludes, byLang["excludes"]...), nil)
	langs := make([]string, 0, len(byLang))
	for l := range byLang {
		if l != "abbreviations" && l != "excludes" {
			langs = append(langs, l)
		}
	}
	slices.Sort(langs)
	syns := s.Synonyms
	for _, l := range langs {
		names := byLang[l]
		if _, taken := s.Names[l]; !taken && !strings.Contains(l, "-") && len(names) > 0 {
			s.Names[l] = names[0]
			names = names[1:]
		}
		syns = append(syns, names...)
		if l == "pl" {
			for _, n := range byLang[l] {
				syns = append(syns, plForms(n)...)
				// Catalogues abbreviate kwas to "kw." ("kw. siarkowy").
				if rest, ok := strings.CutPrefix(strings.ToLower(n), "kwas "); ok {
					syns = append(syns, "kw. "+rest)
				}
			}
		}
		if l == "ru-latn" {
			for _, n := range names {
				syns = append(syns, translitVariants(n)...)
			}
		}
	}
	s.Synonyms = dedupe(syns, s.Names)
}

// Russian in Latin letters is written in several systems: "ya", "yu" and
// "yy" in the BGN style the extra names use, "ja", "ju" and "yj" in the
// ISO and Polish-German styles ("natrievaja selitra", "nitrat natrija"),
// and "kh" as "h" or "x" ("hlorpikrin", "xlorpikrin").
var (
	translitJ  = strings.NewReplacer("ya", "ja", "yu", "ju", "yy", "yj", "iy", "ij", "yo", "jo", "ye", "je")
	translitKh = []string{"h", "x"}
)

// translitVariants returns n written in the other systems, each change
// once: the j-spellings, and kh as h and as x.
func translitVariants(n string) []string {
	var out []string
	if v := translitJ.Replace(n); v != n {
		out = append(out, v)
	}
	if strings.Contains(n, "kh") {
		for _, k := range translitKh {
			out = append(out, strings.ReplaceAll(n, "kh", k))
		}
	}
	return out
}

// cyrLatin transliterates Russian Cyrillic in the BGN/PCGN style sellers
// and shops mostly use ("аммиачная" → "ammiachnaya"); the soft and hard
// signs are dropped, as most informal writing drops them.
var cyrLatin = map[rune]string{
	'а': "a", 'б': "b", 'в': "v", 'г': "g", 'д': "d", 'е': "e", 'ё': "yo", 'ж': "zh", 'з': "z", 'и': "i",
	'й': "y", 'к': "k", 'л': "l", 'м': "m", 'н': "n", 'о': "o", 'п': "p", 'р': "r", 'с': "s", 'т': "t",
	'у': "u", 'ф': "f", 'х': "kh", 'ц': "ts", 'ч': "ch", 'ш': "sh", 'щ': "shch", 'ъ': "", 'ы': "y", 'ь': "",
	'э': "e", 'ю': "yu", 'я': "ya",
}

// softSign writes the soft sign as BGN does, an apostrophe ("sinil'naya").
var softSign = map[rune]string{'ь': "'"}

// icaoLatin is where the ICAO system of Russian passports differs from
// cyrLatin ("ammiachnaia", "kalii").
var icaoLatin = map[rune]string{'я': "ia", 'ю': "iu", 'й': "i", 'ё': "e"}

// transliterate writes the Cyrillic letters of n in Latin with table, then
// cyrLatin; ok is false when n has a letter neither table holds.
func transliterate(n string, table map[rune]string) (string, bool) {
	return transliterateYe(n, table, false)
}

// ruVowels are the letters after which BGN writes "е" as "ye", as it
// does after the soft and hard signs and at a word's start
// ("kaliyevaya", "yedkiy").
const ruVowels = "аеёиоуыэюяьъ"

// transliterateYe is transliterate, with "е" as "ye" where BGN writes it
// so when ye is set.
func transliterateYe(n string, table map[rune]string, ye bool) (string, bool) {
	var b strings.Builder
	prev := ' '
	for _, r := range strings.ToLower(n) {
		p := prev
		prev = r
		if !unicode.Is(unicode.Cyrillic, r) {
			b.WriteRune(r)
			continue
		}
		if ye && r == 'е' && (strings.ContainsRune(ruVowels, p) || !unicode.IsLetter(p)) {
			b.WriteString("ye")
			continue
		}
		l, ok := table[r]
		if !ok {
			l, ok = cyrLatin[r]
		}
		if !ok {
			return "", false
		}
		b.WriteString(l)
	}
	return b.String(), true
}

func hasCyrillic(s string) bool {
	return strings.ContainsFunc(s, func(r rune) bool { return unicode.Is(unicode.Cyrillic, r) })
}

// addTranslits adds the oblique cases of every Russian name
// (ruForms), and every Cyrillic name, synonym and exclusion of s in Latin
// letters, in the systems listings use (transliterate, icaoLatin,
// translitVariants), so that a Russian name typed on a Latin keyboard is
// found (and an excluded phrase excluded) without writing each by hand.
func addTranslits(s *outSubstance) {
	latin := func(terms []string) []string {
		var out []string
		for _, t := range terms {
			if !hasCyrillic(t) {
				continue
			}
			if v, ok := transliterate(t, nil); ok {
				out = append(out, v)
				out = append(out, translitVariants(v)...)
			}
			if v, ok := transliterate(t, icaoLatin); ok {
				out = append(out, v)
			}
			if v, ok := transliterateYe(t, nil, true); ok {
				out = append(out, v)
			}
			if v, ok := transliterate(t, softSign); ok && strings.ContainsRune(t, 'ь') {
				out = append(out, v)
				// BGN in full: the apostrophe and "ye" ("kal'tsiyevaya").
				if v, ok := transliterateYe(t, softSign, true); ok {
					out = append(out, v)
				}
			}
		}
		return out
	}
	terms := append(slices.Sorted(maps.Values(s.Names)), s.Synonyms...)
	// Catalogues and GOST names put the noun first ("Селитра калиевая",
	// "Кислота азотная"): every two-word Russian name in the other order
	// too, in Cyrillic and Latin letters.
	var inverted []string
	for _, t := range terms {
		if w := strings.Fields(strings.ToLower(t)); len(w) == 2 && hasCyrillic(t) && ruAdjective(w[0], true) && !ruAdjective(w[1], false) {
			inverted = append(inverted, w[1]+" "+w[0])
		}
	}
	var forms []string
	for _, t := range terms {
		if hasCyrillic(t) {
			forms = append(forms, ruForms(t)...)
		}
	}
	// The other order in the nominative only: its oblique cases would
	// add as many terms again for a rarer form.
	s.Synonyms = append(s.Synonyms, inverted...)
	terms = append(terms, inverted...)
	syns := append(s.Synonyms, latin(terms)...)
	syns = append(syns, forms...)
	// The oblique forms in the one common Latin spelling only, and with
	// its apostrophe for the soft sign.
	for _, f := range forms {
		if v, ok := transliterate(f, nil); ok {
			syns = append(syns, v)
		}
		if v, ok := transliterate(f, softSign); ok && strings.ContainsRune(f, 'ь') {
			syns = append(syns, v)
		}
	}
	s.Synonyms = dedupe(syns, s.Names)
	s.Excludes = dedupe(append(s.Excludes, latin(s.Excludes)...), nil)
}

// checkExtra rejects a name without a letter: an unquoted name holding a
// comma ("2,2'-thiodiethanol") is split by YAML's flow sequences into bare
// locants, which would then match every "2" in a listing.
func checkExtra(extra map[string]map[string][]string) error {
	for id, byLang := range extra {
		for lang, names := range byLang {
			for _, n := range names {
				if !strings.ContainsFunc(n, unicode.IsLetter) {
					return fmt.Errorf("%s.%s: name %q has no letter (quote names that hold commas)", id, lang, n)
				}
			}
		}
	}
	return nil
}

// dedupe drops empty and repeated terms (case-insensitively), and terms
// already present among names.
func dedupe(terms []string, names map[string]string) []string {
	seen := map[string]bool{}
	for _, n := range names {
		seen[strings.ToLower(n)] = true
	}
	var out []string
	for _, t := range terms {
		t = strings.TrimSpace(t)
		k := strings.ToLower(t)
		if t == "" || seen[k] {
			continue
		}
		seen[k] = true
		out = append(out, t)
	}
	return slices.Clip(out)
}
