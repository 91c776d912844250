package matchers

import (
	"slices"
	"strings"
)

// Numbers written as words before a percentage ("thirty-five percent",
// "fünfunddreißig Prozent", "trente-cinq pour cent", "treinta y cinco por
// ciento", "тридцать пять процентов") are read as the number they spell,
// from one to a hundred, in the languages the watchlist covers. A spelled
// number counts only before a percentage: "one" or "een" elsewhere is a
// word.

// spelledNumbers maps a number's spelling, its words folded and joined by
// one space (hyphens read as spaces), to its value.
var spelledNumbers = func() map[string]float64 {
	m := map[string]float64{}
	add := func(s string, v int) {
		s = strings.ReplaceAll(s, "-", " ")
		m[string(appendFoldedWords(nil, s))] = float64(v)
	}
	// tensThenUnits spells 21–99 as tens, a joiner and units ("thirty
	// five", "treinta y cinco", "тридцать пять"), 1–19 and the tens from
	// their own lists.
	tensThenUnits := func(units, teens, tens []string, joiner string, first func(t int) string) {
		for v := 1; v <= 9; v++ {
			add(units[v], v)
		}
		for v := 10; v <= 19; v++ {
			add(teens[v-10], v)
		}
		for t := 2; t <= 9; t++ {
			add(tens[t], 10*t)
			for u := 1; u <= 9; u++ {
				unit := units[u]
				if first != nil && u == 1 {
					unit = first(t)
				}
				add(tens[t]+joiner+unit, 10*t+u)
			}
		}
	}
	en := []string{"", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine"}
	tensThenUnits(en, []string{"ten", "eleven", "twelve", "thirteen", "fourteen", "fifteen", "sixteen", "seventeen", "eighteen", "nineteen"},
		[]string{"", "", "twenty", "thirty", "forty", "fifty", "sixty", "seventy", "eighty", "ninety"}, " ", nil)
	add("one hundred", 100)
	add("a hundred", 100)
	add("hundred", 100)
	pl := []string{"", "jeden", "dwa", "trzy", "cztery", "pięć", "sześć", "siedem", "osiem", "dziewięć"}
	tensThenUnits(pl, []string{"dziesięć", "jedenaście", "dwanaście", "trzynaście", "czternaście", "piętnaście", "szesnaście", "siedemnaście", "osiemnaście", "dziewiętnaście"},
		[]string{"", "", "dwadzieścia", "trzydzieści", "czterdzieści", "pięćdziesiąt", "sześćdziesiąt", "siedemdziesiąt", "osiemdziesiąt", "dziewięćdziesiąt"}, " ", nil)
	add("sto", 100)
	ru := []string{"", "один", "два", "три", "четыре", "пять", "шесть", "семь", "восемь", "девять"}
	tensThenUnits(ru, []string{"десять", "одиннадцать", "двенадцать", "тринадцать", "четырнадцать", "пятнадцать", "шестнадцать", "семнадцать", "восемнадцать", "девятнадцать"},
		[]string{"", "", "двадцать", "тридцать", "сорок", "пятьдесят", "шестьдесят", "семьдесят", "восемьдесят", "девяносто"}, " ", nil)
	add("сто", 100)
	es := []string{"", "uno", "dos", "tres", "cuatro", "cinco", "seis", "siete", "ocho", "nueve"}
	tensThenUnits(es, []string{"diez", "once", "doce", "trece", "catorce", "quince", "dieciséis", "diecisiete", "dieciocho", "diecinueve"},
		[]string{"", "", "veinte", "treinta", "cuarenta", "cincuenta", "sesenta", "setenta", "ochenta", "noventa"}, " y ", nil)
	for u, w := range []string{"veintiuno", "veintidós", "veintitrés", "veinticuatro", "veinticinco", "veintiséis", "veintisiete", "veintiocho", "veintinueve"} {
		add(w, 21+u)
	}
	add("cien", 100)
	// French: 70–79 and 90–99 count on from sixty and eighty ("soixante
	// et onze", "quatre-vingt-dix-sept"); "et" joins only the ones.
	fr := []string{"", "un", "deux", "trois", "quatre", "cinq", "six", "sept", "huit", "neuf", "dix",
		"onze", "douze", "treize", "quatorze", "quinze", "seize", "dix-sept", "dix-huit", "dix-neuf"}
	for v := 1; v <= 19; v++ {
		add(fr[v], v)
	}
	for t, w := range map[int]string{2: "vingt", 3: "trente", 4: "quarante", 5: "cinquante", 6: "soixante"} {
		add(w, 10*t)
		add(w+" et un", 10*t+1)
		for u := 2; u <= 9; u++ {
			add(w+" "+fr[u], 10*t+u)
		}
	}
	add("soixante dix", 70)
	add("soixante et onze", 71)
	add("quatre vingts", 80)
	add("quatre vingt", 80)
	for v := 2; v <= 19; v++ {
		if v >= 12 {
			add("soixante "+fr[v], 60+v)
		}
		add("quatre vingt "+fr[v], 80+v)
	}
	add("quatre vingt un", 81)
	add("cent", 100)
	// Italian, German and Dutch write 21–99 as one word, spelt by compound.
	oneWord := func(low, tens []string, compound func(tens, unit string, u int) string) {
		for v := 1; v <= 19; v++ {
			add(low[v], v)
		}
		for t := 2; t <= 9; t++ {
			add(tens[t], 10*t)
			for u := 1; u <= 9; u++ {
				add(compound(tens[t], low[u], u), 10*t+u)
			}
		}
	}
	oneWord([]string{"", "uno", "due", "tre", "quattro", "cinque", "sei", "sette", "otto", "nove", "dieci",
		"undici", "dodici", "tredici", "quattordici", "quindici", "sedici", "diciassette", "diciotto", "diciannove"},
		[]string{"", "", "venti", "trenta", "quaranta", "cinquanta", "sessanta", "settanta", "ottanta", "novanta"},
		func(tens, unit string, u int) string {
			if u == 1 || u == 8 { // the tens' vowel elides: "ventuno", "trentotto"
				tens = tens[:len(tens)-1]
			}
			return tens + unit
		})
	add("cento", 100)
	oneWord([]string{"", "ein", "zwei", "drei", "vier", "fünf", "sechs", "sieben", "acht", "neun", "zehn",
		"elf", "zwölf", "dreizehn", "vierzehn", "fünfzehn", "sechzehn", "siebzehn", "achtzehn", "neunzehn"},
		[]string{"", "", "zwanzig", "dreißig", "vierzig", "fünfzig", "sechzig", "siebzig", "achtzig", "neunzig"},
		func(tens, unit string, _ int) string { return unit + "und" + tens })
	add("eins", 1)
	add("hundert", 100)
	add("einhundert", 100)
	oneWord([]string{"", "een", "twee", "drie", "vier", "vijf", "zes", "zeven", "acht", "negen", "tien",
		"elf", "twaalf", "dertien", "veertien", "vijftien", "zestien", "zeventien", "achttien", "negentien"},
		[]string{"", "", "twintig", "dertig", "veertig", "vijftig", "zestig", "zeventig", "tachtig", "negentig"},
		// "tweeëntwintig" folds to "tweeentwintig".
		func(tens, unit string, _ int) string { return unit + "en" + tens })
	add("honderd", 100)
	return m
}()

// spelledNumberWords are the words of spelledNumbers: a token flagged
// fNumberWord may start one.
var spelledNumberWords = func() map[string]bool {
	m := map[string]bool{}
	for s := range spelledNumbers {
		for _, w := range strings.Fields(s) {
			m[w] = true
		}
	}
	return m
}()

// maxSpelledWords is the most words a spelled number has
// ("quatre-vingt-dix-sept").
const maxSpelledWords = 4

// appendFoldedWords appends s folded word by word, the words joined by
// one space.
func appendFoldedWords(dst []byte, s string) []byte {
	for i, w := range strings.Fields(s) {
		if i > 0 {
			dst = append(dst, ' ')
		}
		dst = appendFolded(dst, w)
	}
	return dst
}

// readSpelledNumbers replaces each number spelled in words right before a
// percentage with one number token spanning its words, and returns the
// tokens; nums (the tokens that may start a strength) is updated to the
// new indices.
func readSpelledNumbers(toks []token, nums []int32) ([]token, []int32) {
	var key [96]byte
	for i := 0; i < len(toks); i++ {
		if toks[i].kind != tokWord || toks[i].flags&fNumberWord == 0 {
			continue
		}
		last, value := -1, 0.0
		k, words := i, 0
		buf := key[:0]
		for k < len(toks) && words < maxSpelledWords {
			t := &toks[k]
			if t.kind == tokPunct && t.word == "-" && words > 0 && k+1 < len(toks) && toks[k+1].kind == tokWord {
				k++
				continue
			}
			if t.kind != tokWord || t.flags&fNumberWord == 0 {
				break
			}
			if words > 0 {
				buf = append(buf, ' ')
			}
			buf = append(buf, t.word...)
			words++
			if v, ok := spelledNumbers[string(buf)]; ok {
				last, value = k, v
			}
			k++
		}
		if last < 0 || !spelledPercentAt(toks, last+1) {
			continue
		}
		toks[i] = token{kind: tokNum, start: toks[i].start, end: toks[last].end, num: value}
		removed := last - i
		if removed > 0 {
			toks = slices.Delete(toks, i+1, last+1)
		}
		nums = renumber(nums, i, last, removed)
	}
	return toks, nums
}

// spelledPercentAt reports a percentage at toks[k]: a sign, a percent
// word, or "per cent", "pour cent", "por ciento", "per cento".
func spelledPercentAt(toks []token, k int) bool {
	if k >= len(toks) {
		return false
	}
	t := &toks[k]
	if t.kind == tokPct || t.kind == tokWord && (t.flags&fPercent != 0 || percentAdjective(t.word)) {
		return true
	}
	return t.kind == tokWord && (t.word == "per" || t.word == "pour" || t.word == "por") && k+1 < len(toks) &&
		listed(toks, k+1, perCent)
}

// renumber keeps nums, sorted token indices, true after tokens first+1
// to last were deleted and token first became a number.
func renumber(nums []int32, first, last, removed int) []int32 {
	out := make([]int32, 0, len(nums)+1)
	added := false
	for _, n := range nums {
		switch {
		case int(n) < first:
		case int(n) <= last:
			continue // inside the spelled number (first is added below)
		default:
			n -= int32(removed)
		}
		if !added && int(n) > first {
			out = append(out, int32(first))
			added = true
		}
		out = append(out, n)
	}
	if !added {
		out = append(out, int32(first))
	}
	return out
}
