package matchers

import (
	"maps"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/precwatch/precwatch"
	"github.com/precwatch/precwatch/fixtures"
	"github.com/precwatch/precwatch/fixtures/eval"
)

// plainTexts is the evaluation and fixture fields, the watchlist's terms,
// and mutations of both that plainNoHit must judge like the full path:
// case changes, separator runs, digits and symbols for letters, capital
// I, letters spaced out, words cut and glued.
func plainTexts(t *testing.T, m *Matcher) []string {
	t.Helper()
	var texts []string
	for _, l := range fixtures.Listings() {
		texts = append(texts, l.Title, l.Description)
	}
	cases, err := eval.Load()
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range cases {
		texts = append(texts, c.Title, c.Description)
	}
	for _, s := range m.w.Substances {
		for _, n := range s.Names {
			texts = append(texts, n, "buy "+n+" 25kg", strings.ToUpper(n)+"!!", " -- "+n+" -- ")
		}
		texts = append(texts, s.Synonyms...)
		texts = append(texts, s.Abbreviations...)
		texts = append(texts, s.CAS, "CAS "+strings.ReplaceAll(s.CAS, "-", ""))
	}
	texts = append(texts, "pot.ass.ium salt", "chl-or-ate of ash", "buy am.mo.ni.um today", "ab.cd.ef", "x 12.50 - y.z", "a.b-c.d")
	// Abbreviations written in upper case in the watchlist, in other case.
	texts = append(texts, "Tea tree oil, 100 ml", "an apple and an orange", "Earl Grey TEA", "a can of beans", "Hp laptop, 16 gb",
		"green tea", "Tea", "TEa and Tea", "tea tree and AN", "an", "tEA-tree", "an hp can")
	// Words of letters and digits: model numbers, and disguises at a
	// word's edge that the repair pass reads.
	texts = append(texts, "PS5 controller", "Kaliumsorbat E202, 1 kg", "capsules x60", "buy aceton3 today", "0xidizer",
		"chlorat3 of potash", "3thanol", "VX220 Turbo", "GA4 setup, 1st edition")
	r := rand.New(rand.NewPCG(7, 12))
	seps := []string{" ", "  ", "\t", ", ", " - ", "...", "/", "\n\n", "_", "*"}
	mutate := func(s string) string {
		b := []byte(s)
		for range 1 + r.IntN(4) {
			if len(b) == 0 {
				break
			}
			k := r.IntN(len(b))
			switch r.IntN(10) {
			case 0:
				b[k] ^= 0x20 // case, or a symbol for a letter
			case 1:
				b = append(b[:k], append([]byte(seps[r.IntN(len(seps))]), b[k:]...)...)
			case 2:
				b[k] = "0134579"[r.IntN(7)]
			case 3:
				b[k] = 'I'
			case 4:
				b = append(b[:k], b[k+1:]...)
			case 5:
				b[k] = "@!$|.-"[r.IntN(6)]
			case 6:
				// Letters spaced out.
				var sp []byte
				for _, c := range b[k:min(len(b), k+6)] {
					sp = append(sp, c, ' ')
				}
				b = append(b[:k], append(sp, b[min(len(b), k+6):]...)...)
			case 7:
				b = append(b[:k], append([]byte("é"), b[k:]...)...)
			case 8:
				if j := strings.IndexByte(string(b[k:]), ' '); j >= 0 {
					b = append(b[:k+j], b[k+j+1:]...) // two words glued
				}
			case 9:
				// A word cut into pieces ("pot.ass.ium").
				sep := ".-"[r.IntN(2)]
				var cut []byte
				for x, c := range b[k:min(len(b), k+12)] {
					if x > 0 && x%(2+r.IntN(3)) == 0 {
						cut = append(cut, sep)
					}
					cut = append(cut, c)
				}
				b = append(b[:k], append(cut, b[min(len(b), k+12):]...)...)
			}
		}
		return string(b)
	}
	for _, s := range texts[:len(texts):len(texts)] {
		for range 6 {
			texts = append(texts, mutate(s))
		}
	}
	return texts
}

// TestPlainPrefilterAgrees checks plainNoHit against the full path: a
// field it passes has no hit in its normalised text, and a field that is
// plain and has none is passed (else the prefilter is needlessly slow).
func TestPlainPrefilterAgrees(t *testing.T) {
	m := sharedInternalMatcher(t)
	passed, plain := 0, 0
	for _, s := range plainTexts(t, m) {
		n, suspicious := normalizeFold(s, true, nil)
		deob := suspicious || hasChunkedWord(s)
		if deob {
			n = normalize(s, true, nil)
		}
		hits := m.ac.scanSpaced(n.text, nil)
		got := m.ac.plainNoHit(s)
		if got && len(hits) > 0 {
			t.Fatalf("plainNoHit(%q) but the normalised text %q has %d hits", s, n.text, len(hits))
		}
		// ASCII, or Latin letters that fold to ASCII letters ("é", "ß").
		latin := !strings.ContainsFunc(s, func(r rune) bool {
			return r >= 0x80 && (r >= latinFoldSize || latinFold[r] == "") || strings.ContainsRune("@!$|", r)
		})
		if got && (!latin || deob) {
			t.Fatalf("plainNoHit(%q) for a text normalisation deobfuscates or that holds other than ASCII and Latin letters", s)
		}
		// A word mixing digits and Latin letters outside ASCII is left to
		// the full path (normalisation's leetspeak rules).
		wideDigits := slices.ContainsFunc(strings.FieldsFunc(s, func(r rune) bool {
			return r < 0x80 && !isASCIIAlnum(byte(r))
		}), func(w string) bool {
			return strings.ContainsAny(w, "0123456789") && strings.ContainsFunc(w, func(r rune) bool { return r >= 0x80 })
		})
		// A subscript mark ("H_2SO_4") joins what it separates.
		subscript := false
		for i := range len(s) {
			subscript = subscript || s[i] == '_' && subscriptMark(s, i)
		}
		if latin && !deob && !wideDigits && !subscript && len(hits) == 0 {
			plain++
			if !got {
				t.Errorf("plainNoHit(%q) = false for a plain text without hits", s)
			}
		}
		if got {
			passed++
		}
	}
	if passed == 0 || plain == 0 {
		t.Fatalf("%d texts passed, %d plain: the test covers nothing", passed, plain)
	}
	t.Logf("%d texts passed the prefilter, %d plain without hits", passed, plain)
}

// TestPlainSkipAgrees checks plainSkip, the prefilter's one walk, on the
// evaluation texts and their mutations against checkPlainSkip.
func TestPlainSkipAgrees(t *testing.T) {
	m := sharedInternalMatcher(t)
	skipped, kept, dead := 0, 0, 0
	for _, s := range plainTexts(t, m) {
		checkPlainSkip(t, m, s)
		switch {
		case m.plainSkip(s) && !m.ac.plainNoHit(s):
			dead++
		case m.plainSkip(s):
			skipped++
		case m.ac.plainNoHit(s):
			kept++
		}
	}
	if skipped == 0 || kept == 0 || dead == 0 {
		t.Fatalf("%d texts skipped, %d skipped past dead hits, %d plain texts kept for the repair pass: the test covers nothing", skipped, dead, kept)
	}
}

// checkPlainSkip checks plainSkip(s) against its references: it skips
// every text plainNoHit passes and mayRepair leaves alone; a text it
// skips is one the repair pass leaves as it is, whose hits, if any, are
// all dead (deadHitsOnly), and in which the full path finds nothing.
func checkPlainSkip(t *testing.T, m *Matcher, s string) {
	t.Helper()
	skip := m.plainSkip(s)
	if m.ac.plainNoHit(s) && !m.mayRepair(s) && !skip {
		t.Fatalf("plainSkip(%q) = false, but plainNoHit && !mayRepair", s)
	}
	if !skip {
		return
	}
	n := normalize(s, true, nil)
	before := string(n.text)
	if m.repair(&n, s, nil); string(n.text) != before {
		t.Fatalf("plainSkip(%q) but the repair pass reads %q as %q", s, before, n.text)
	}
	if !deadHitsOnly(m, s) {
		t.Fatalf("plainSkip(%q) but its normalised text has a hit that may name a substance", s)
	}
	// The full path: a description after a title that names a substance
	// does not go through the prefilter.
	for _, x := range m.Match(precwatch.Listing{Title: "acetone 99%, 1 L", Description: s}) {
		if x.Field == "description" {
			t.Fatalf("plainSkip(%q) but the full path finds %s (%q)", s, x.Substance, x.Text)
		}
	}
}

// checkPlainRead checks plainRead(s) against the passes the full path
// skips for a plain field: plain without a hit is plainSkip's answer; a
// plain field normalises without deobfuscation (normalizeFold's text and
// offsets: nothing suspicious, no word in pieces), and the repair pass
// changes nothing in it and asks for no support.
func checkPlainRead(t *testing.T, m *Matcher, s string) (plain, hit bool) {
	t.Helper()
	plain, hit = m.plainRead(s)
	if skip := m.plainSkip(s); (plain && !hit) != skip {
		t.Fatalf("plainRead(%q) = %v, %v but plainSkip = %v", s, plain, hit, skip)
	}
	if !plain {
		return plain, hit
	}
	folded, suspicious := normalizeFold(s, true, nil)
	if suspicious || hasChunkedWord(s) {
		t.Fatalf("plainRead(%q): plain, but normalisation deobfuscates it", s)
	}
	n := normalize(s, true, nil)
	if string(n.text) != string(folded.text) || !slices.Equal(n.offs, folded.offs) {
		t.Fatalf("plainRead(%q): plain, but normalize gives %q, normalizeFold %q", s, n.text, folded.text)
	}
	if support := m.repair(&n, s, nil); len(support) > 0 || string(n.text) != string(folded.text) || !slices.Equal(n.offs, folded.offs) {
		t.Fatalf("plainRead(%q): plain, but the repair pass reads %q as %q (%d spans for support)", s, folded.text, n.text, len(support))
	}
	return plain, hit
}

// TestPlainReadAgrees checks plainRead (checkPlainRead) on the evaluation
// texts, their mutations, the names with a letter dropped, doubled,
// swapped or masked, and random texts.
func TestPlainReadAgrees(t *testing.T) {
	m := sharedInternalMatcher(t)
	texts := plainTexts(t, m)
	for _, s := range m.w.Substances {
		for _, n := range s.Names {
			if k := len(n) / 2; k >= 2 {
				texts = append(texts, n[:k]+n[k+1:]+" 99%, 1 kg", n[:k]+n[k:k+1]+n[k:]+" 99%, 1 kg",
					n[:k-1]+n[k:k+1]+n[k-1:k]+n[k+1:], n[:k]+"*"+n[k+1:]+" 35 %", "Buy "+n+", "+n[:k]+"."+" 35 %")
			}
		}
	}
	texts = appendRandomTexts(texts, rand.New(rand.NewPCG(12, 6)), normAlphabet, 30000, 60)
	var plainHit, plainNone, other int
	for _, s := range texts {
		switch plain, hit := checkPlainRead(t, m, s); {
		case plain && hit:
			plainHit++
		case plain:
			plainNone++
		default:
			other++
		}
	}
	if plainHit == 0 || plainNone == 0 || other == 0 {
		t.Fatalf("%d plain texts with a hit, %d without, %d others: the test covers too little", plainHit, plainNone, other)
	}
	t.Logf("%d plain texts with a hit, %d without, %d others", plainHit, plainNone, other)
}

// deadHitsOnly reports whether every automaton hit in the normalised s is
// of a one-word pattern that stands only for abbreviations written in
// upper case, and s is not in upper case there: the full path makes no
// candidate of it (matchField's classAbbr case).
func deadHitsOnly(m *Matcher, s string) bool {
	n := normalize(s, true, nil)
	for _, h := range m.ac.scanSpaced(n.text, nil) {
		p := &m.patterns[h.pat]
		a, b := int(h.end-m.ac.lens[h.pat]), int(h.end)-1
		if !p.compound {
			b--
		}
		if strings.Contains(string(n.text[a:b]), " ") || p.compound {
			return false
		}
		for _, r := range p.refs {
			if r.class != classAbbr || !r.upper {
				return false
			}
		}
		start, last := int(n.offs[a]), int(n.offs[b-1])
		_, size := utf8.DecodeRuneInString(s[last:])
		if allUpper(s[start : last+size]) {
			return false
		}
	}
	return true
}

// sharedInternalMatcher compiles the configured watchlist.
func sharedInternalMatcher(t testing.TB) *Matcher {
	t.Helper()
	w, err := LoadWatchlist("../configs/watchlist.yaml")
	if err != nil {
		t.Fatal(err)
	}
	m, err := Compile(w)
	if err != nil {
		t.Fatal(err)
	}
	return m
}

// FuzzPlainPrefilter checks plainNoHit's promise on any text: a field it
// passes has no hit in its normalised text; plainSkip against
// checkPlainSkip, and that it skips no text the repair pass rewrites;
// plainRead against checkPlainRead; and plainCands against
// checkPlainCands.
func FuzzPlainPrefilter(f *testing.F) {
	for _, s := range []string{"ammonium nitrate 25kg", "Buy  NITRIC -- acid", "t e a  tree", "pot.ass.ium", "H2O2 35%", "perchIorate", "a b c d e",
		"Zitronensäure wasserfrei, 1 kg", "Nitrométh. 99 %", "sans acétone", "Straße é à ü ø", "Amoníaco líquido 25%"} {
		f.Add(s)
	}
	m := sharedInternalMatcher(f)
	f.Fuzz(func(t *testing.T, s string) {
		if m.ac.plainNoHit(s) {
			if n := normalize(s, true, nil); len(m.ac.scanSpaced(n.text, nil)) > 0 {
				t.Fatalf("plainNoHit(%q) but %q has hits", s, n.text)
			}
		}
		checkPlainSkip(t, m, s)
		checkPlainRead(t, m, s)
		checkPlainCands(t, m, s)
		if m.plainSkip(s) {
			n := normalize(s, true, nil)
			before := string(n.text)
			if m.repair(&n, s, nil); string(n.text) != before {
				t.Fatalf("plainSkip(%q) but the repair pass reads %q as %q", s, before, n.text)
			}
		}
	})
}

// TestPlainSkipsNoRepair: a field the prefilter ends early (plain, no
// hit, mayRepair false) is one the repair pass leaves as it is, on the
// evaluation texts, their mutations, and the names with one letter
// dropped, doubled, swapped or masked.
func TestPlainSkipsNoRepair(t *testing.T) {
	m := sharedInternalMatcher(t)
	texts := plainTexts(t, m)
	for _, s := range m.w.Substances {
		for _, n := range s.Names {
			if len(n) < 4 {
				continue
			}
			k := len(n) / 2
			texts = append(texts,
				n[:k]+n[k+1:]+" 99%, 1 kg",            // dropped
				n[:k]+n[k:k+1]+n[k:]+" 99%, 1 kg",     // doubled
				n[:k-1]+n[k:k+1]+n[k-1:k]+n[k+1:],     // swapped
				n[:k]+"*"+n[k+1:]+" 35 %",             // masked
				"Buy "+n[:k]+"_"+n[k+1:]+" in stock.", // masked
			)
		}
	}
	skipped, repaired := 0, 0
	for _, s := range texts {
		if !m.ac.plainNoHit(s) {
			continue
		}
		n := normalize(s, true, nil)
		before := string(n.text)
		m.repair(&n, s, nil)
		changed := string(n.text) != before
		if m.mayRepair(s) {
			if changed {
				repaired++
			}
			continue
		}
		skipped++
		if changed {
			t.Errorf("prefilter skips %q, which the repair pass reads as %q", s, n.text)
		}
	}
	if skipped == 0 || repaired == 0 {
		t.Fatalf("%d texts skipped, %d plain texts repaired: the test covers nothing", skipped, repaired)
	}
	t.Logf("%d plain texts skipped, %d plain texts that the repair pass changes kept", skipped, repaired)
	// The disguises the prefilter once hid from the repair pass.
	for _, s := range []string{"Hydrogen perox*de 35%, 1 L", "Potassium perchlorrate 99%, 500 g", "Sodium chl_rate 99%, 1 kg"} {
		if ms := m.Match(precwatch.Listing{Title: s}); len(ms) == 0 {
			t.Errorf("Match(%q) found nothing", s)
		}
	}
}

// TestGlueMayEditAgrees checks the prefilter at hyphens and full stops
// (glueMayEdit) on clipped vocabulary words ("Buy nitrom. now"), words
// cut by a hyphen, full stop or line end ("Nitro-methane") and pairs of
// words so joined that make no word ("acetone-free"): a text it skips is
// one the repair pass leaves as it is (checkPlainSkip, checkPlainRead),
// and it keeps both texts the repair pass edits and texts it does not.
func TestGlueMayEditAgrees(t *testing.T) {
	m := sharedInternalMatcher(t)
	var words []string
	for w := range m.vocab.words {
		if len(w) >= 5 && strings.Trim(w, "abcdefghijklmnopqrstuvwxyz") == "" {
			words = append(words, w)
		}
	}
	slices.Sort(words)
	var texts []string
	for i, w := range words {
		if i%3 != 0 {
			continue
		}
		for k := 4; k < len(w); k++ {
			texts = append(texts, "Buy "+w[:k]+". Fast shipping", "("+strings.ToUpper(w[:1])+w[1:k]+".")
		}
		for k := 2; k+2 <= len(w); k += 3 {
			texts = append(texts, "Buy "+w[:k]+"-"+w[k:]+" now", w[:k]+"."+w[k:]+" 1 kg", "x "+w[:k]+"-\n"+w[k:])
		}
		other := words[(i*7+3)%len(words)]
		texts = append(texts, w+"-"+other+" 500 g", strings.ToUpper(w[:1])+w[1:]+"-free, 1 L", "Amm. "+w[:4]+". 25 kg")
	}
	skipped, edited := 0, 0
	for _, s := range texts {
		checkPlainSkip(t, m, s)
		checkPlainRead(t, m, s)
		checkPlainCands(t, m, s)
		if !m.ac.plainNoHit(s) {
			continue
		}
		if m.plainSkip(s) {
			skipped++
			continue
		}
		n := normalize(s, true, nil)
		before := string(n.text)
		if m.repair(&n, s, nil); string(n.text) != before {
			edited++
		}
	}
	if skipped < 1000 || edited < 100 {
		t.Fatalf("%d texts skipped, %d kept that the repair pass edits: the test covers too little", skipped, edited)
	}
	t.Logf("%d of %d texts skipped; %d kept that the repair pass edits", skipped, len(texts), edited)
}

// TestPlainCleanAgrees checks plainReadClean's clean, which spares
// matchFieldDecoded its mayBeEncoded question, on the evaluation texts,
// their mutations, texts with the bytes mayBeEncoded looks for put in,
// and random texts: plain and hit are plainRead's, clean only for a plain
// text, and a clean text is one mayBeEncoded passes over.
func TestPlainCleanAgrees(t *testing.T) {
	m := sharedInternalMatcher(t)
	texts := plainTexts(t, m)
	r := rand.New(rand.NewPCG(21, 5))
	for _, s := range texts[:min(len(texts), 3000)] {
		for _, x := range []string{"&amp;", "&nbsp;", "& co;", "[b]", "[/i]", "[1]", "%20%41", "100%", "%2", "Ã©", "Ã Â", "é", "ÃÃÃÃ", "ñ", "×"} {
			k := r.IntN(len(s) + 1)
			texts = append(texts, s[:k]+x+s[k:], s[:k]+" "+x+" "+s[k:])
		}
	}
	texts = appendRandomTexts(texts, r, append(slices.Clone(normAlphabet), "&", "[", "%", ";", "/", "b", "2", "Ã", "©", "é"), 30000, 60)
	clean, cleanEnc, unclean := 0, 0, 0
	for _, s := range texts {
		plain, hit, c, _ := m.plainReadClean(s, nil)
		if p2, h2 := m.plainRead(s); p2 != plain || h2 != hit {
			t.Fatalf("plainReadClean(%q) = %v, %v; plainRead %v, %v", s, plain, hit, p2, h2)
		}
		if c && !plain {
			t.Fatalf("plainReadClean(%q): clean but not plain", s)
		}
		if c && mayBeEncoded(s) {
			t.Fatalf("plainReadClean(%q): clean, but mayBeEncoded", s)
		}
		switch {
		case c && strings.ContainsAny(s, "&[%\xc3"):
			t.Fatalf("plainReadClean(%q): clean, but it holds & [ %% or 0xC3", s)
		case c:
			clean++
		case plain && mayBeEncoded(s):
			cleanEnc++
		case plain:
			unclean++
		}
	}
	if clean == 0 || cleanEnc == 0 || unclean == 0 {
		t.Fatalf("%d clean texts, %d plain ones mayBeEncoded passes, %d plain ones with the bytes it looks for but not passed: the test covers too little", clean, cleanEnc, unclean)
	}
	t.Logf("%d clean, %d plain and maybe encoded, %d plain with the bytes", clean, cleanEnc, unclean)
}

// TestPlainCandsAgrees checks plainCands, which reads a plain field's
// candidates from the hits the prefilter's walk records, against
// scanCands on the field's normalised form, on the evaluation texts,
// their mutations, the watchlist's names with Latin letters, separators
// and words around them, and random texts: the same candidates in the
// same order, whenever plainCands reads the field at all.
func TestPlainCandsAgrees(t *testing.T) {
	m := sharedInternalMatcher(t)
	texts := plainTexts(t, m)
	r := rand.New(rand.NewPCG(8, 3))
	for _, s := range m.w.Substances {
		for _, n := range append(append(slices.Sorted(maps.Values(s.Names)), s.Synonyms...), s.Abbreviations...) {
			for _, x := range []string{"é", "ß", "ü", "Ł", "x4", "s", "-", " -- ", "\n", "ab", "é "} {
				k := r.IntN(len(n) + 1)
				texts = append(texts, n+x, x+n, n[:k]+x+n[k:], "Straße "+n+" "+x+n+", "+n+x+" 1 kg", n+" "+n+"  "+strings.ToUpper(n))
			}
		}
	}
	texts = appendRandomTexts(texts, r, append(slices.Clone(normAlphabet), "é", "ß", "Œ"), 30000, 60)
	read, fallback := 0, 0
	for _, s := range texts {
		switch plain, hit, ok := checkPlainCands(t, m, s); {
		case plain && hit && ok:
			read++
		case plain && hit:
			fallback++
		}
	}
	if read < 1000 || fallback == 0 {
		t.Fatalf("%d plain texts with a hit read from the walk, %d left to the scan: the test covers too little", read, fallback)
	}
	t.Logf("%d plain texts with a hit read from the walk, %d left to the scan", read, fallback)
}

// checkPlainCands checks plainCands(s) against scanCands on s's
// normalised form when s is plain with a hit (plainReadClean) and
// plainCands reads it (ok).
func checkPlainCands(t *testing.T, m *Matcher, s string) (plain, hit, ok bool) {
	t.Helper()
	plain, hit, _, hits := m.plainReadClean(s, nil)
	if !plain || !hit {
		return plain, hit, false
	}
	got, ok := m.plainCands(s, hits, nil)
	if !ok {
		return plain, hit, false
	}
	if want := m.scanCands(new(scratch), s, true, nil); !slices.Equal(got, want) {
		t.Fatalf("plainCands(%q) = %v, scanCands %v", s, got, want)
	}
	return plain, hit, true
}
