package matchers

import (
	"maps"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/precwatch/precwatch"
)

// The shortcuts of the matcher's speed work are held to the code they
// replace: deobfuscate's copy of the words fixWord leaves alone, the
// buffers applyEdits swaps, and the one allocation of a listing's
// results.

// TestFixWordLeavesPlainWords checks the premise of deobfuscate's copy:
// fixWord changes no word of ASCII lower-case letters only or digits only,
// and lettersOrDigits says yes to those words and no to any other.
func TestFixWordLeavesPlainWords(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 5))
	for range 20000 {
		var b []byte
		alpha := "abcdefghijklmnopqrstuvwxyz"
		if r.IntN(3) == 0 {
			alpha = "0123456789"
		}
		for range r.IntN(16) {
			b = append(b, alpha[r.IntN(len(alpha))])
		}
		if !lettersOrDigits(b) {
			t.Fatalf("lettersOrDigits(%q) = false", b)
		}
		w := []rune(string(b))
		if fixWord(w, string(b)) || string(w) != string(b) {
			t.Fatalf("fixWord changed %q to %q", b, string(w))
		}
	}
	for _, s := range []string{"a1", "1a", "h2o2", "é", "abcé", "A", "ab-c", "ab c", "a@b", "нитро", "kno3"} {
		if lettersOrDigits([]byte(s)) {
			t.Errorf("lettersOrDigits(%q) = true", s)
		}
	}
}

// TestDeobfuscateCopyAgrees runs deobfuscate with and without the copy of
// plain words on the evaluation texts, their mutations and random texts:
// the same text and offsets.
func TestDeobfuscateCopyAgrees(t *testing.T) {
	m := sharedInternalMatcher(t)
	texts := plainTexts(t, m)
	texts = appendRandomTexts(texts, rand.New(rand.NewPCG(9, 4)), normAlphabet, 30000, 60)
	rebuilt := 0
	for _, s := range texts {
		fast, _ := normalizeFold(s, true, nil)
		slow, _ := normalizeFold(s, true, nil)
		before := string(fast.text)
		deobfuscateWith(&fast, s, true)
		deobfuscateWith(&slow, s, false)
		if string(fast.text) != string(slow.text) || !slices.Equal(fast.offs, slow.offs) {
			t.Fatalf("deobfuscate(%q): with the copy %q %v, without %q %v", s, fast.text, fast.offs, slow.text, slow.offs)
		}
		if string(fast.text) != before {
			rebuilt++
		}
	}
	if rebuilt < 100 {
		t.Fatalf("only %d of %d texts rebuilt: the test covers too little", rebuilt, len(texts))
	}
}

// applyEditsReference is applyEdits as it was, with fresh buffers.
func applyEditsReference(n *normText, edits []repairEdit) {
	text := make([]byte, 0, len(n.text)+64)
	offs := make([]int32, 0, cap(text))
	last := 0
	for _, e := range edits {
		if e.na < last {
			continue
		}
		text = append(text, n.text[last:e.na]...)
		offs = append(offs, n.offs[last:e.na]...)
		text = append(text, e.text...)
		offs = append(offs, e.offs...)
		last = e.nb
	}
	text = append(text, n.text[last:]...)
	offs = append(offs, n.offs[last:]...)
	n.text = append(n.text[:0], text...)
	n.offs = append(n.offs[:0], offs...)
}

// TestApplyEditsAgrees applies random edits (overlapping ones included,
// which applyEdits skips) with applyEdits and with its reference, over
// and over, so that the swapped buffers are reused at every size.
func TestApplyEditsAgrees(t *testing.T) {
	r := rand.New(rand.NewPCG(11, 2))
	for range 20000 {
		size := r.IntN(300)
		var a normText
		for i := range size {
			a.text = append(a.text, byte('a'+i%26))
			a.offs = append(a.offs, int32(3*i))
		}
		b := normText{text: slices.Clone(a.text), offs: slices.Clone(a.offs)}
		var edits []repairEdit
		for at := 0; at < size; {
			na := at + r.IntN(20)
			nb := min(size, na+r.IntN(10))
			if na > size {
				break
			}
			e := repairEdit{na: na, nb: nb}
			for k := range r.IntN(12) {
				e.text = append(e.text, byte('A'+k))
				e.offs = append(e.offs, int32(na*3+k))
			}
			edits = append(edits, e)
			at = nb
			if r.IntN(8) == 0 {
				at = max(0, at-5) // an overlap
			}
		}
		applyEdits(&a, edits)
		applyEditsReference(&b, edits)
		if string(a.text) != string(b.text) || !slices.Equal(a.offs, b.offs) {
			t.Fatalf("edits %+v: applyEdits %q %v, reference %q %v", edits, a.text, a.offs, b.text, b.offs)
		}
		// A second round on the result, as repair, joinPieces and
		// fuzzyWords each rewrite the field in turn.
		if len(a.text) > 2 {
			e := []repairEdit{{na: 1, nb: 2, text: []byte("xy"), offs: []int32{7, 7}}}
			applyEdits(&a, e)
			applyEditsReference(&b, e)
			if string(a.text) != string(b.text) || !slices.Equal(a.offs, b.offs) {
				t.Fatalf("second round: applyEdits %q, reference %q", a.text, b.text)
			}
		}
	}
}

// TestNewResults checks the results' one allocation: n zeroed matches and
// extras, of length and capacity n, apart from each other.
func TestNewResults(t *testing.T) {
	for n := 1; n <= 9; n++ {
		out, extras := newResults(n)
		if len(out) != n || cap(out) != n || len(extras) != n || cap(extras) != n {
			t.Fatalf("newResults(%d): len %d cap %d, extras len %d cap %d", n, len(out), cap(out), len(extras), cap(extras))
		}
		for i := range out {
			if !isZeroMatch(out[i]) || extras[i] != (matchExtras{}) {
				t.Fatalf("newResults(%d)[%d] not zeroed", n, i)
			}
			out[i].Text, extras[i].conc = "x", 1
		}
		// Appending to a full result moves it, and leaves the extras be.
		out = append(out, precwatch.Match{Text: "y"})
		for i := range extras {
			if extras[i].conc != 1 || out[i].Text != "x" {
				t.Fatalf("newResults(%d): match %d or its extras overwritten", n, i)
			}
		}
	}
	// Results of listings with one to many matches, read whole.
	m := sharedInternalMatcher(t)
	for k := 1; k <= 7; k++ {
		var parts []string
		for range k {
			parts = append(parts, "acetone 99% 1 L")
		}
		l := precwatch.Listing{Title: strings.Join(parts, ", ")}
		ms := m.Match(l)
		if len(ms) != k {
			t.Fatalf("%d mentions: %d matches", k, len(ms))
		}
		for i, x := range ms {
			if x.Text != l.Title[x.Start:x.End] || x.ConcentrationPercent == nil || *x.ConcentrationPercent != 99 || x.Quantity == nil || len(x.Reasons) == 0 {
				t.Fatalf("%d mentions, match %d: %+v", k, i, x)
			}
			if i > 0 && (x.ConcentrationPercent == ms[i-1].ConcentrationPercent || x.Quantity == ms[i-1].Quantity) {
				t.Fatalf("%d mentions: matches %d and %d share their extras", k, i-1, i)
			}
		}
	}
}

func isZeroMatch(x precwatch.Match) bool {
	return x.Substance == "" && x.Text == "" && x.Start == 0 && x.End == 0 && x.ConcentrationPercent == nil &&
		x.LimitPercent == nil && x.OverLimit == nil && x.Quantity == nil && x.Steps == nil && x.Reasons == nil && x.Score == 0
}

// nextTriggerReference is nextTrigger as it was: after eight bytes that
// may hold a trigger, one byte, then eight again.
func nextTriggerReference(s string, i int) int {
	for ; i < len(s); i++ {
		for i+8 <= len(s) && !mayTrigger8(load8(s, i)) {
			i += 8
		}
		if i >= len(s) {
			break
		}
		if !repairByte[s[i]] {
			continue
		}
		if c := s[i]; c >= utf8.RuneSelf && !disguiseRune(s, i) {
			continue
		}
		if c := s[i]; c >= '0' && c <= '9' {
			j := i + 1
			for j < len(s) && s[j] >= '0' && s[j] <= '9' {
				j++
			}
			if (i == 0 || !wordy(s[i-1])) && (j == len(s) || !wordy(s[j])) {
				i = j - 1
				continue
			}
		}
		return i
	}
	return len(s)
}

// TestNextTriggerAgrees checks nextTrigger against its reference from
// every position of the evaluation texts, their mutations and random
// texts of the bytes it looks for.
func TestNextTriggerAgrees(t *testing.T) {
	m := sharedInternalMatcher(t)
	texts := plainTexts(t, m)
	alpha := []string{"a", "b", "Z", " ", ".", "-", "0", "7", "@", "*", "#", "_", "?", "•", "ø", "Ø", "é", "ж", "%", "!", "$", "|", ",", "\n"}
	texts = appendRandomTexts(texts, rand.New(rand.NewPCG(5, 8)), alpha, 20000, 40)
	found := 0
	for _, s := range texts {
		for i := 0; i <= len(s); i++ {
			got, want := nextTrigger(s, i), nextTriggerReference(s, i)
			if got != want {
				t.Fatalf("nextTrigger(%q, %d) = %d, reference %d", s, i, got, want)
			}
			if got < len(s) {
				found++
			}
		}
	}
	if found == 0 {
		t.Fatal("no trigger found: the test covers nothing")
	}
}

// fuzzyWordsReference is fuzzyWords as it was, asking every word.
func (m *Matcher) fuzzyWordsReference(n *normText) {
	v := m.vocab
	var edits []repairEdit
	t := n.text
	for i := 0; i < len(t); {
		a, b := i, nextSpace(t, i)
		i = b + 1
		if !v.fuzzyCandidate(t[a:b]) {
			continue
		}
		fix, ok := v.ocrRead(t[a:b])
		if !ok {
			fix, ok = v.fuzzy(t[a:b])
		}
		if !ok || isSystematicName(t[a:b]) {
			continue
		}
		edits = append(edits, wordFix(n, a, b, fix))
	}
	if len(edits) > 0 {
		applyEdits(n, edits)
	}
}

// TestFuzzyWordsAgrees runs fuzzyWords and its reference on the
// normalised evaluation texts, their mutations, and texts of words of
// every length around eight with one letter dropped, doubled or swapped
// in watchlist words, in every byte the normalised text holds.
func TestFuzzyWordsAgrees(t *testing.T) {
	m := sharedInternalMatcher(t)
	texts := plainTexts(t, m)
	r := rand.New(rand.NewPCG(2, 9))
	var long []string
	for w := range m.vocab.words {
		if len(w) >= fuzzyMinLetters {
			long = append(long, w)
		}
	}
	slices.Sort(long)
	fillers := []string{"a", "ab", "abc", "abcd", "abcde", "abcdef", "abcdefg", "abcdefgh", "35", "é", "!", "жж", "kg"}
	for range 20000 {
		var parts []string
		for range 1 + r.IntN(8) {
			if r.IntN(2) == 0 {
				w := []byte(long[r.IntN(len(long))])
				switch k := 1 + r.IntN(len(w)-1); r.IntN(3) {
				case 0:
					w = append(w[:k:k], w[k+1:]...)
				case 1:
					w = append(w[:k+1:k+1], w[k:]...)
				default:
					if k+1 < len(w) {
						w[k], w[k+1] = w[k+1], w[k]
					}
				}
				parts = append(parts, string(w))
			} else {
				parts = append(parts, fillers[r.IntN(len(fillers))])
			}
		}
		texts = append(texts, strings.Join(parts, " "))
	}
	fixed := 0
	for _, s := range texts {
		a := normalize(s, true, nil)
		b := normText{text: slices.Clone(a.text), offs: slices.Clone(a.offs)}
		before := string(a.text)
		m.fuzzyWords(&a)
		m.fuzzyWordsReference(&b)
		if string(a.text) != string(b.text) || !slices.Equal(a.offs, b.offs) {
			t.Fatalf("fuzzyWords(%q) = %q, reference %q", before, a.text, b.text)
		}
		if string(a.text) != before {
			fixed++
		}
	}
	if fixed < 100 {
		t.Fatalf("only %d texts corrected: the test covers too little", fixed)
	}
}

// TestFuzzyEndsASCII checks the prefilter's bitset test before the copy:
// every ASCII word fuzzyCandidate takes, in any case, passes it, and it
// turns some long words away.
func TestFuzzyEndsASCII(t *testing.T) {
	m := sharedInternalMatcher(t)
	v := m.vocab
	var words []string
	for _, s := range plainTexts(t, m) {
		words = append(words, strings.FieldsFunc(s, func(r rune) bool { return !isASCIIAlnum(byte(r)) || r >= 0x80 })...)
	}
	for w := range v.words {
		words = append(words, w, strings.ToUpper(w), w[:len(w)-1], w+"s", w[:1]+w)
	}
	passed, failed := 0, 0
	for _, w := range words {
		if len(w) < 4 || strings.ContainsFunc(w, func(r rune) bool { return r >= 0x80 }) {
			continue
		}
		lower := []byte(strings.ToLower(w))
		ends := v.fuzzyEndsASCII(w)
		if want := v.fuzzyBits.has(lower) && v.fuzzyEndBits.has(lower[len(lower)-4:]); ends != want {
			t.Fatalf("fuzzyEndsASCII(%q) = %v, the bitsets of its lower-cased ends %v", w, ends, want)
		}
		if v.fuzzyCandidate(lower) && !ends {
			t.Fatalf("fuzzyEndsASCII(%q) = false for a fuzzy candidate", w)
		}
		if len(w) >= fuzzyMinLetters {
			if ends {
				passed++
			} else {
				failed++
			}
		}
	}
	if passed == 0 || failed == 0 {
		t.Fatalf("%d long words passed, %d failed: the test covers too little", passed, failed)
	}
	t.Logf("%d long words passed, %d turned away", passed, failed)
}

// appendRandomTexts appends n texts of up to maxLen pieces drawn from
// alphabet.
func appendRandomTexts(texts []string, rng *rand.Rand, alphabet []string, n, maxLen int) []string {
	var b strings.Builder
	for range n {
		b.Reset()
		for range rng.IntN(maxLen) {
			b.WriteString(alphabet[rng.IntN(len(alphabet))])
		}
		texts = append(texts, b.String())
	}
	return texts
}

// TestSolutionFlagIsTheWords checks fSolution, which findStrengths reads
// where it once looked the word up in solutionWords: on every word token,
// after fixTokens has given the words the repair pass read their reading's
// flags (over the repair's spans, and over the whole text), it is set
// exactly for the words of solutionWords as written.
func TestSolutionFlagIsTheWords(t *testing.T) {
	m := sharedInternalMatcher(t)
	texts := plainTexts(t, m)
	for w := range solutionWords {
		texts = append(texts, "Ammonium nitrate "+w+" 30 %", "Amm0nium nitrat3 "+w+" 30%", strings.ToUpper(w)+" 50 %, 1 L",
			"S0lution "+w+", 30 %", "Nitrométh. "+w+" 35 %")
	}
	sc := &scratch{}
	fixed, solution := 0, 0
	for _, s := range texts {
		n := normalize(s, true, nil)
		support := m.repair(&n, s, nil)
		sc.arena, sc.words, sc.nums = sc.arena[:0], sc.words[:0], sc.nums[:0]
		toks := tokenizeRange(s, 0, len(s), nil, sc)
		finishTokens(toks, sc)
		// The spans the repair pass gives, and one over the whole text,
		// which reaches words no span of today's watchlist holds.
		whole := slices.Clone(toks)
		m.fixTokens(s, whole, []span{{a: 0, b: len(s)}})
		before := slices.Clone(toks)
		if len(support) > 0 {
			m.fixTokens(s, toks, support)
		}
		for _, tok := range whole {
			if tok.kind == tokWord && tok.flags&fSolution != 0 != solutionWords[tok.word] {
				t.Fatalf("%q, fixTokens over the whole text: word %q has fSolution %v", s, tok.word, tok.flags&fSolution != 0)
			}
		}
		for i, tok := range toks {
			if tok.kind != tokWord {
				continue
			}
			if tok.flags != before[i].flags {
				fixed++
			}
			if got, want := tok.flags&fSolution != 0, solutionWords[tok.word]; got != want {
				t.Fatalf("%q: word %q has fSolution %v, solutionWords %v", s, tok.word, got, want)
			}
			if solutionWords[tok.word] {
				solution++
			}
		}
	}
	if fixed == 0 || solution == 0 {
		t.Fatalf("%d tokens' flags fixed, %d solution words: the test covers too little", fixed, solution)
	}
	t.Logf("%d tokens' flags fixed, %d solution words", fixed, solution)
}

// TestWordOnlyFlagsAreTheLists checks the flags that only name a word
// (wordOnlyFlags), which findStrengths, distributiveAround,
// policyNegated, purityHead and specHeadWord read where they once looked
// the word up in its list, and which listed asks before the lists of
// ruleLists: on
// every word token, after fixTokens (over the repair's spans, and over the
// whole text), each is set exactly for the words of its lists as written.
func TestWordOnlyFlagsAreTheLists(t *testing.T) {
	m := sharedInternalMatcher(t)
	lists := []struct {
		f     wordFlag
		words []map[string]bool
	}{
		{fWeightPct, []map[string]bool{weightPercent}}, {fDistributive, []map[string]bool{distributiveWords}},
		{fPolicyVerb, []map[string]bool{tradeVerbs, containVerbs}}, {fStopVerb, []map[string]bool{stopBeforeVerb}},
		{fWeightWord, []map[string]bool{weightPercentWords}}, {fContent, []map[string]bool{contentWords}},
		{fFraction, []map[string]bool{fractionWords}}, {fListed, ruleLists()},
	}
	inList := func(f wordFlag, w string) bool {
		for _, l := range lists {
			if l.f == f {
				return slices.ContainsFunc(l.words, func(m map[string]bool) bool { return m[w] })
			}
		}
		return false
	}
	texts := plainTexts(t, m)
	for _, l := range lists {
		for _, set := range l.words {
			for _, w := range slices.Sorted(maps.Keys(set)) {
				texts = append(texts, "Ammonium nitrate 30 "+w+", "+w+" 1 kg", "we do not "+w+" amm0nium nitr*te "+w+" 30%",
					strings.ToUpper(w)+" 50 %, 1 L", "Nitrométh. "+w+" 35 %, ch*"+w)
			}
		}
	}
	sc := &scratch{}
	flagged := 0
	check := func(s, how string, toks []token) {
		for _, tok := range toks {
			if tok.kind != tokWord {
				continue
			}
			for _, l := range lists {
				if got, want := tok.flags&l.f != 0, inList(l.f, tok.word); got != want {
					t.Fatalf("%q, %s: word %q has flag %#x %v, its lists %v", s, how, tok.word, l.f, got, want)
				}
			}
			if tok.flags&wordOnlyFlags != 0 {
				flagged++
			}
		}
	}
	for _, s := range texts {
		n := normalize(s, true, nil)
		support := m.repair(&n, s, nil)
		sc.arena, sc.words, sc.nums = sc.arena[:0], sc.words[:0], sc.nums[:0]
		toks := tokenizeRange(s, 0, len(s), nil, sc)
		finishTokens(toks, sc)
		whole := slices.Clone(toks)
		m.fixTokens(s, whole, []span{{a: 0, b: len(s)}})
		check(s, "fixTokens over the whole text", whole)
		if len(support) > 0 {
			m.fixTokens(s, toks, support)
		}
		check(s, "fixTokens", toks)
	}
	if flagged == 0 {
		t.Fatal("no word flagged: the test covers too little")
	}
	t.Logf("%d flagged words", flagged)
}

// TestOCRReadingsPassTheGate checks that every OCR reading the vocabulary
// holds passes fuzzyCandidate, the one gate before fuzzyWords reads it,
// and that a form two words share reads as neither.
func TestOCRReadingsPassTheGate(t *testing.T) {
	m := sharedInternalMatcher(t)
	v := m.vocab
	read, shared := 0, 0
	for k, w := range v.ocr {
		fix, ok := v.ocrRead([]byte(k))
		if w == "" {
			shared++
			if ok {
				t.Errorf("ocrRead(%q) = %q, want no reading (shared form)", k, fix)
			}
			continue
		}
		if !ok || fix != w {
			t.Errorf("ocrRead(%q) = %q, %v; want %q", k, fix, ok, w)
		}
		if !v.fuzzyCandidate([]byte(k)) {
			t.Errorf("OCR form %q of %q fails fuzzyCandidate", k, w)
		}
		read++
	}
	if read < 1000 {
		t.Fatalf("only %d OCR forms: the test covers too little", read)
	}
	t.Logf("%d OCR forms, %d shared by two words", read, shared)
}
