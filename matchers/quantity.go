package matchers

import (
	"slices"
	"strconv"
	"strings"
	"unicode"

	"github.com/precwatch/precwatch"
)

// quantity is an amount found in a field's tokens.
type quantity struct {
	first, last int // token indexes, inclusive
	value       float64
	unit        string // as folded ("kg")
	unitText    string // as written ("KG")
	count       int    // pack multiplier, 1 when none
}

// unitDim is a unit's dimension and its factor to the base unit.
type unitDim struct {
	millilitres bool
	factor      float64 // to grams or millilitres; 0: a package, no size
}

// units converts the quantity units the tokenizer folds.
var units = map[string]unitDim{
	"g": {false, 1}, "gr": {false, 1}, "gram": {false, 1}, "grams": {false, 1}, "gramm": {false, 1},
	"gramos": {false, 1}, "grammes": {false, 1}, "gramme": {false, 1}, "grammi": {false, 1}, "gramow": {false, 1},
	"kg": {false, 1000}, "kgs": {false, 1000}, "kilo": {false, 1000}, "kilos": {false, 1000},
	"kilogram": {false, 1000}, "kilograms": {false, 1000}, "kilogramm": {false, 1000}, "kilogramme": {false, 1000},
	"kilogramos": {false, 1000}, "chilo": {false, 1000}, "chili": {false, 1000}, "кг": {false, 1000}, "kilogramow": {false, 1000},
	"mg": {false, 0.001}, "µg": {false, 1e-6}, "μg": {false, 1e-6}, "ug": {false, 1e-6}, "mcg": {false, 1e-6},
	"lb": {false, 453.59237}, "lbs": {false, 453.59237}, "pound": {false, 453.59237}, "pounds": {false, 453.59237},
	"oz": {false, 28.349523}, "t": {false, 1e6}, "ton": {false, 1e6}, "tons": {false, 1e6}, "tonne": {false, 1e6}, "tonnes": {false, 1e6},
	"ml": {true, 1}, "мл": {true, 1}, "cl": {true, 10}, "dl": {true, 100},
	"l": {true, 1000}, "lt": {true, 1000}, "ltr": {true, 1000}, "liter": {true, 1000}, "liters": {true, 1000},
	"litre": {true, 1000}, "litres": {true, 1000}, "litro": {true, 1000}, "litros": {true, 1000}, "litri": {true, 1000},
	"litr": {true, 1000}, "litry": {true, 1000}, "litrow": {true, 1000}, "л": {true, 1000}, "литр": {true, 1000},
	"литра": {true, 1000}, "литров": {true, 1000},
	"gal": {true, 3785.411784}, "gallon": {true, 3785.411784}, "gallons": {true, 3785.411784},
	"drum": {false, 0}, "drums": {false, 0}, "ibc": {false, 0},
}

// countWords mark a pack multiplier: "10 x 1 L", "4 × 250 g".
func isTimes(t token) bool {
	return t.kind == tokWord && (t.word == "x" || t.word == "х") || t.kind == tokPunct && (t.word == "×" || t.word == "*")
}

// packCount reads a word such as "x10" as a pack count.
func packCount(t *token) (int, bool) {
	if t.kind != tokWord || len(t.word) < 2 || t.word[0] != 'x' {
		return 0, false
	}
	n, err := strconv.Atoi(t.word[1:])
	if err != nil || n <= 0 || n > 100000 {
		return 0, false
	}
	return n, true
}

// findQuantities finds every amount in toks: "25 kg", "2,5 Liter",
// "10 x 1 L", "1 L x 10", "x10".
func findQuantities(toks []token, nums []int32, out []quantity) []quantity {
	unitAt := func(i int) bool { return has(toks, i, fUnit) }
	num := func(i int) bool { return i >= 0 && i < len(toks) && toks[i].kind == tokNum && toks[i].num >= 0 }
	next := 0 // the first token not yet part of an amount
	for _, ni := range nums {
		i := int(ni)
		if i < next {
			continue
		}
		if n, ok := packCount(&toks[i]); ok {
			// "x10" alone, or before an amount: "x10 500 ml" is read
			// by the amount.
			if num(i+1) && unitAt(i+2) {
				q := quantity{first: i, last: i + 2, value: toks[i+1].num, unit: toks[i+2].word, count: n}
				out = append(out, q)
				next = i + 3
				continue
			}
			out = append(out, quantity{first: i, last: i, count: n})
			continue
		}
		if !num(i) {
			continue
		}
		q := quantity{first: i, count: 1}
		j := i
		// "10 x 1 L": a count, a times sign, an amount.
		if j+3 < len(toks) && isTimes(toks[j+1]) && num(j+2) && unitAt(j+3) && toks[j].num == float64(int(toks[j].num)) && toks[j].num > 0 {
			q.count = int(toks[j].num)
			j += 2
		}
		if f, _ := perVolumeAt(toks, j+1); !unitAt(j+1) || f > 0 {
			continue // no unit, or a concentration ("500 g/L")
		}
		q.value, q.unit, q.last = toks[j].num, toks[j+1].word, j+1
		// "1 L x 10", "500 ml x10".
		if n, ok := packCountAt(toks, j+2); ok && q.count == 1 {
			q.count, q.last = n, j+2
		} else if q.count == 1 && j+3 < len(toks) && isTimes(toks[j+2]) && num(j+3) && toks[j+3].num == float64(int(toks[j+3].num)) && toks[j+3].num > 0 {
			q.count, q.last = int(toks[j+3].num), j+3
		}
		out = append(out, q)
		next = q.last + 1
	}
	return out
}

// perVolumeAt returns the factor that makes a mass per volume starting
// at token j ("g/L", "mg/ml", "g/100 g") a percentage by weight in
// volume, and its last token; factor 0 when there is none. Such a number
// is a concentration, not an amount.
func perVolumeAt(toks []token, j int) (factor float64, last int) {
	if j+2 >= len(toks) || toks[j].kind != tokWord || toks[j+1].kind != tokPunct || toks[j+1].word != "/" ||
		toks[j+1].start != toks[j].end || toks[j+2].start != toks[j+1].end {
		return 0, 0
	}
	// "g/100 g", "g/100 ml": a percentage as written.
	if toks[j].word == "g" && toks[j+2].kind == tokNum && toks[j+2].num == 100 && j+3 < len(toks) && toks[j+3].kind == tokWord &&
		(toks[j+3].word == "g" || toks[j+3].word == "ml") {
		return 1, j + 3
	}
	if toks[j+2].kind != tokWord {
		return 0, 0
	}
	grams, ml := massGrams[toks[j].word], volumeML[toks[j+2].word]
	// Grams per millilitre is a density ("0.79 g/ml"), not a content.
	if grams == 0 || ml == 0 || grams/ml > 0.001 {
		return 0, 0
	}
	return grams / ml * 100, j + 2
}

var (
	massGrams = map[string]float64{"g": 1, "mg": 0.001, "г": 1, "мг": 0.001}
	volumeML  = map[string]float64{"l": 1000, "litre": 1000, "liter": 1000, "litro": 1000, "ml": 1, "л": 1000, "мл": 1}
)

// packCountAt is packCount of token i, false when there is none.
func packCountAt(toks []token, i int) (int, bool) {
	if i < 0 || i >= len(toks) {
		return 0, false
	}
	return packCount(&toks[i])
}

// quantityFor finds the amount stated for candidate c: the nearest within
// strengthReach words in the same sentence, with no other substance
// between, and not nearer to another substance.
func quantityFor(toks []token, quants []quantity, accepted []candidate, c candidate) (quantity, bool) {
	quants = nearQuantities(toks, quants, c.start, c.end)
	if len(quants) == 0 {
		return quantity{}, false
	}
	accepted = nearCands(accepted, c.start, c.end)
	dist := func(o candidate, q quantity) int { return wordsBetween(toks, o, q.first, q.last) }
	best, bestD := -1, strengthReach+1
	for i, q := range quants {
		d := dist(c, q)
		if d < 0 || d > bestD || d == bestD && toks[q.first].start < c.start {
			continue
		}
		qs, qe := toks[q.first].start, toks[q.last].end
		owned := true
		for _, o := range accepted {
			if o.ref.sub == c.ref.sub {
				continue
			}
			between := qs >= c.end && o.start >= c.end && o.end <= qs || qe <= c.start && o.start >= qe && o.end <= c.start
			if between {
				owned = false
				break
			}
			do := dist(o, q)
			if do < 0 {
				continue
			}
			// A list of items, each substance with its own amount: in
			// "peroxide 30% 2 L, nitric acid 65% 1 L" the 2 L before the
			// comma ends the peroxide's item, though it is nearer to the
			// acid by words; the item a quantity shares with a substance
			// decides before the words do.
			sepC, sepO := listSepAround(toks, c, q), listSepAround(toks, o, q)
			if sepC != sepO {
				if sepC {
					owned = false
					break
				}
				continue
			}
			if do < d {
				owned = false
				break
			}
		}
		if owned {
			best, bestD = i, d
		}
	}
	if best < 0 {
		return quantity{}, false
	}
	return quants[best], true
}

// listSepAround reports whether a list separator (a comma or semicolon)
// stands between candidate o and quantity q.
func listSepAround(toks []token, o candidate, q quantity) bool {
	from, to := o.tokAfter, q.first
	if q.last < o.tokFirst {
		from, to = q.last+1, o.tokFirst
	}
	for i := max(from, 0); i < min(to, len(toks)); i++ {
		if toks[i].kind == tokPunct && (toks[i].word == "," || toks[i].word == ";") {
			return true
		}
	}
	return false
}

// quantityOf converts q to the public form, in text's terms.
func quantityOf(text string, toks []token, q quantity) precwatch.Quantity {
	out := precwatch.Quantity{
		Value: q.value,
		Count: q.count,
		Text:  text[toks[q.first].start:toks[q.last].end],
	}
	if q.unit != "" {
		// The unit as written, from its token.
		for i := q.first; i <= q.last; i++ {
			if toks[i].kind == tokWord && toks[i].word == q.unit {
				out.Unit = text[toks[i].start:toks[i].end]
				break
			}
		}
	}
	if d, ok := units[q.unit]; ok && d.factor > 0 {
		total := q.value * d.factor * float64(max(q.count, 1))
		if d.millilitres {
			out.Millilitres = total
		} else {
			out.Grams = total
		}
	}
	return out
}

// contextReach is how many words around an abbreviation are searched for
// a supporting chemical or shop word.
const contextReach = 4

// contextWords support an abbreviation or slang term: chemical-trade
// words, packaging and grades, in the languages of the watchlist.
var contextWords = foldedSetOf(`grade purity pure purum technical tech reagent reagents lab laboratory analytical analysis
standard standards cas acs usp bp ph eur chemical chemicals chem industrial anhydrous crystals crystal crystalline
granules granular prills prilled pellets flakes powder solution acid amine ester fumigant fertiliser fertilizer tanker
fertilizers fertilisers bulk drum drums ibc tote cylinder cylinders ampoule ampoules lecture bottle kg fuel
wholesale supplier assay stabilised stabilized aqueous conc concentrated concentrate
engrais reactif reactifs technique laboratoire chimique pur pure purete acide
dunger duenger reagenz reinheit rein technisch chemikalie saure labor
fertilizante reactivo tecnico pureza quimico acido laboratorio
concime reagente tecnico purezza chimico acido
kunstmest reagens technisch zuiver chemisch zuur
nawoz reagent techniczny czysty chemiczny kwas
удобрение реактив технический чистый химический кислота чда хч осч
adr imdg iata dgd hazmat gefahrgut oxidizer oxidiser oxidizing oxidising comburant corrosive msds sds coa einecs
fut futs fass fasser fusto fusti vat vaten beczka beczki beczkach бочка бочки бочках бочке бочкой еврокуб еврокубы еврокубах
марки сорт bochka bochki bochkakh evrokub`)

// competingWords give a short code an everyday sense when written next to
// it ("TEA tree oil", "HP laptop", "CAN bus", "16 GB RAM", "nitro cold
// brew"): the code is then no abbreviation of a substance.
var competingWords = foldedSetOf(`tree oil cup cups pot leaf leaves green black grey gray earl herbal chai iced
oolong sencha puerh erh darjeeling assam ceylon rooibos jasmine teabags brewed
time party room set ceremony latte matcha
laptop laptops printer printers ink toner cartridge cartridges notebook pavilion envy elitebook probook zbook chromebook omen spectre monitor pc
bus opener openers courier express tracking
fitting fittings hose hoses
ram ssd hdd memory storage drive usb card
example examples instance
cold brew coffee beer stout circus rc buggy car cars band album boost boosted gaming acer
one perfume cologne eau toilette
liquid eliquid vape vaping nicotine shortfill
verdunnung thinner thinners lacquer lack lacke paint paints
vernice vernici peinture peintures pintura pinturas verf farba краска
diluant diluente diluyente verdunner rozcienczalnik разбавитель растворитель
solvent solvents solvant solvants solvente disolvente losungsmittel oplosmiddel rozpuszczalnik
price
drink drinks beverage beverages refresco refrescos limon naranja lemonade limonade juice
summit summits goals sdg sdgs conference sommet cumbre vertice gipfel szczyt саммит конференция climate climat klima clima
whey protein proteine proteina proteins creatine casein isolate bcaa preworkout workout supplement supplements`)

// usStateCodes are US state and territory postal codes. A code on the
// watchlist that is also one ("NM", "GA", "DC") names a place when written
// as an address.
var usStateCodes = foldedSetOf(`al ak az ar ca co ct de dc fl ga hi id il in ia ks ky la me md ma mi mn ms mo mt
ne nv nh nj nm ny nc nd oh ok or pa ri sc sd tn tx ut vt va wa wv wi wy pr gu vi as mp`)

// inAddress reports whether the code at c is a state in an address:
// after a capitalised place name and a comma ("Hatch, NM"), or before a
// ZIP code ("NM 88001").
func inAddress(text string, toks []token, c candidate) bool {
	if !usStateCodes[strings.ToLower(c.ref.term)] {
		return false
	}
	before, after := c.tokFirst-1, c.tokAfter
	if before >= 1 && toks[before].kind == tokPunct && toks[before].word == "," &&
		toks[before-1].kind == tokWord && isUpperASCII(text[toks[before-1].start]) {
		return true
	}
	if after < len(toks) && toks[after].kind == tokNum {
		zip := text[toks[after].start:toks[after].end]
		return len(zip) == 5 && strings.Trim(zip, "0123456789") == ""
	}
	return false
}

func isUpperASCII(c byte) bool { return 'A' <= c && c <= 'Z' }

// volumeUnits are the units liquids are sold by, after which "can" is a
// container.
var volumeUnits = foldedSetOf(`gal gallon gallons l liter litre liters litres ml oz qt quart quarts pint pints`)

// abbrevSupported reports whether an abbreviation or slang term at
// c has supporting context: a strength or quantity next to it,
// or a chemical or shop word within contextReach words in its sentence;
// and no word next to it that gives it an everyday sense.
func abbrevSupported(text string, toks []token, strengths []strength, quants []quantity, c candidate) bool {
	start, end := c.start, c.end
	// A code is written as one ("L-3", "L3", "L 3", "L.3"): a span across
	// a comma, semicolon, colon or bar joins two items of a list ("1 L,
	// 3 pieces").
	if strings.ContainsAny(text[start:end], ",;:|()[]") {
		return false
	}
	// A code before I, II or III is a dangerous-goods packing group
	// ("VG III", Verpackungsgruppe; "PG II").
	if a := c.tokAfter; a < len(toks) && toks[a].kind == tokWord && (toks[a].word == "i" || toks[a].word == "ii" || toks[a].word == "iii") {
		return false
	}
	// A code glued to a number is a product's model ("DMP-30 epoxy
	// accelerator", "TEA-2000"), unless the number is its strength
	// ("NM-98%").
	if modelNumber(text, end) {
		return false
	}
	// A code right after a bare number is its unit ("PS5 825 GB",
	// "150 PS"), and one before a number of three or more digits that
	// nothing measures is a model ("Verifone VX 520", "GB 2000").
	if f := c.tokFirst; f >= 1 && toks[f-1].kind == tokNum && start-toks[f-1].end <= 1 {
		return false
	}
	if a := c.tokAfter; a < len(toks) && toks[a].kind == tokNum && toks[a].start-end <= 1 && toks[a].end-toks[a].start >= 3 &&
		strings.Trim(text[toks[a].start:toks[a].end], "0123456789") == "" &&
		(a+1 >= len(toks) || toks[a+1].kind != tokPct && !has(toks, a+1, fUnit|fPercent|fNitrogen)) {
		return false
	}
	// A letter after a unit and a slash is the unit's denominator: "500
	// g/L 1 L" holds no L-1 ("GB/GD" still names two codes).
	if f := c.tokFirst; f >= 2 && toks[f-1].kind == tokPunct && toks[f-1].word == "/" && toks[f-1].end == start &&
		toks[f-2].kind == tokWord && toks[f-2].flags&fUnit != 0 && toks[f-2].end == toks[f-1].start {
		return false
	}
	// "1 GAL CAN", "5 L can": after a volume, "can" is the container.
	if c.tokFirst > 0 && volumeUnits[toks[c.tokFirst-1].word] && toks[c.tokFirst-1].kind == tokWord && strings.EqualFold(text[start:end], "can") {
		return false
	}
	strengths = nearStrengths(toks, strengths, start, end)
	quants = nearQuantities(toks, quants, start, end)
	first, after := c.tokFirst, c.tokAfter
	before := first - 1
	// A hyphen or slash does not separate a competing word ("TEA-tree").
	skip := func(i, step int) int {
		if i >= 0 && i < len(toks) && toks[i].kind == tokPunct && strings.ContainsAny(toks[i].word, "-/") {
			return i + step
		}
		return i
	}
	if has(toks, skip(before, -1), fCompeting) || has(toks, skip(after, 1), fCompeting) {
		return false
	}
	if nextToStrengthOrQuantity(toks, strengths, first, after) {
		return true
	}
	if inAddress(text, toks, c) {
		return false
	}
	// A competing sense anywhere within reach in the sentence wins over context further away
	// ("VG 70/30 e-liquid").
	for step, i := range []int{before, after} {
		dir := 1 - 2*boolInt(step == 0)
		for words := 0; i >= 0 && i < len(toks) && words < contextReach; i += dir {
			if toks[i].kind == tokBreak {
				break
			}
			if toks[i].kind == tokWord {
				if toks[i].flags&fCompeting != 0 {
					return false
				}
				words++
			}
		}
	}
	strengthAt := func(i int) bool {
		for _, s := range strengths {
			if s.first <= i && i <= s.last {
				return true
			}
		}
		for _, q := range quants {
			if q.first <= i && i <= q.last {
				return true
			}
		}
		return false
	}
	// A chemical word, a strength or an amount within reach in the same
	// sentence ("MDEA and TEA, 99% each").
	for step, i := range []int{before, after} {
		dir := -1
		if step == 1 {
			dir = 1
		}
		for words := 0; i >= 0 && i < len(toks) && words < contextReach; i += dir {
			t := toks[i]
			if t.kind == tokBreak {
				break
			}
			if t.kind == tokWord && t.flags&fContext != 0 || (t.kind == tokNum || t.kind == tokPct) && strengthAt(i) {
				return true
			}
			if t.kind == tokWord {
				words++
			}
		}
	}
	return false
}

// modelNumber reports a code ending at end glued to a number by a hyphen
// or slash that is no strength: "DMP-30", "TEA-2000", not "NM-98%".
func modelNumber(text string, end int) bool {
	if end+1 < len(text) && (text[end] == '-' || text[end] == '/') && text[end+1] >= '0' && text[end+1] <= '9' {
		j := end + 1
		for j < len(text) && (text[j] >= '0' && text[j] <= '9' || text[j] == '.' || text[j] == ',') {
			j++
		}
		if rest := strings.TrimLeft(text[j:], " "); !strings.HasPrefix(rest, "%") {
			return true
		}
	}
	return false
}

// expandedElsewhere reports whether the words written next to an
// abbreviation spell it out as something else: "DMP dimethyl phthalate",
// "Ceric ammonium nitrate (CAN)", "TEA (triethylamine)". The abbreviation's
// letters must run, in order, through one to four neighbouring words,
// starting with the first word's initial and using the last word's
// initial; the expansion stands for the listed substance only when a match
// of it (same) covers those words.
func expandedElsewhere(toks []token, abbr string, start, end int, same func(a, b int) bool) bool {
	var letters []rune
	for _, r := range strings.ToLower(abbr) {
		if unicode.IsLetter(r) {
			letters = append(letters, r)
		}
	}
	if len(letters) < 2 {
		return false
	}
	// "Acrylonitrile (AN)": a code in parentheses right after a word is
	// that word's definition, so a single word may spell two letters.
	first, last := tokenAt(toks, start), tokenAt(toks, end)
	defined := first >= 2 && toks[first-1].kind == tokPunct && toks[first-1].word == "(" && toks[first-2].kind == tokWord &&
		last < len(toks) && toks[last].kind == tokPunct && toks[last].word == ")"
	words := func(from, dir int) []int {
		var idx []int
		for i := from; i >= 0 && i < len(toks) && len(idx) < 4; i += dir {
			switch t := toks[i]; t.kind {
			case tokWord:
				idx = append(idx, i)
			case tokPunct:
				if !strings.ContainsAny(t.word, "()-,") {
					return idx
				}
			default:
				return idx
			}
		}
		return idx
	}
	check := func(ws []int) bool {
		for k := 1; k <= len(ws); k++ {
			seq := ws[:k]
			if toks[seq[0]].start > toks[seq[len(seq)-1]].start {
				seq = append([]int(nil), seq...)
				slices.Reverse(seq)
			}
			if spells(toks, seq, letters, defined && len(seq) == 1 && seq[0] == first-2) {
				a, b := toks[seq[0]].start, toks[seq[len(seq)-1]].end
				return !same(a, b)
			}
		}
		return false
	}
	return check(words(tokenAt(toks, end), 1)) || check(words(tokenAt(toks, start)-1, -1))
}

// spells reports whether letters run in order through the words of seq,
// using every word's initial ("dimethyl phthalate" spells "dmp",
// "ceric ammonium nitrate" spells "can"). A single word must be long
// enough to be a name rather than a short word ("and" does not spell "an"),
// and spell three letters or more unless defined (the code in parentheses
// right after it).
func spells(toks []token, seq []int, letters []rune, defined bool) bool {
	words := make([][]rune, len(seq))
	for i, ti := range seq {
		words[i] = []rune(toks[ti].word)
		if len(words[i]) == 0 {
			return false
		}
	}
	if len(words) > len(letters) || words[0][0] != letters[0] {
		return false
	}
	if len(words) == 1 && (len(letters) < 3 && !defined || len(words[0]) < 2*len(letters) || len(words[0]) < 6 && defined) {
		return false
	}
	var rec func(wi, x, j int) bool
	rec = func(wi, x, j int) bool {
		if j == len(letters) {
			return wi == len(words)-1
		}
		if wi+1 < len(words) && words[wi+1][0] == letters[j] && rec(wi+1, 1, j+1) {
			return true
		}
		for y := x; y < len(words[wi]); y++ {
			if words[wi][y] == letters[j] {
				return rec(wi, y+1, j+1)
			}
		}
		return false
	}
	return rec(0, 1, 1)
}
