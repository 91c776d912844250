package matchers

import (
	"bytes"
	"slices"
	"strings"
	"unicode"
	"unicode/utf8"
)

// A listing whose goods are not the substance but about it (a sign or
// poster naming it, a book, course or exhibition on it, a job at a plant
// making it, test strips or detector tubes for it, an empty historic
// bottle) names the substance as a subject: its title says so with a word
// for those goods before the first name, or right after it ("Hydrogen
// peroxide test strips", "Sulphuric Acid Plant"). Such a listing's matches
// are dropped, except one stated over its limit: "Nitric acid 65 %, safety
// poster included" still sells the acid.

// subjectGoods are the goods, before the first name in a title, that make
// the substance their subject (not "job" or "lecture": a job lot and a
// lecture bottle sell the goods themselves, as "vacío" and "vuoto" say
// vacuum-packed; French "vide" only where it says empty, see frenchEmpty);
// subjectCompounds the same as the last part
// of a German or Dutch compound ("Sicherheitsposter", "Prüfröhrchen",
// "Waarschuwingsbord").
var (
	subjectGoods = foldedSetOf(`sign signs poster posters sticker stickers book books ebook novel course courses training seminar webinar
vorlagen plantilla plantillas sjablonen szablony шаблоны
ticket tickets voucher vouchers exhibition exhibit museum vacancy hiring strips teststrips detector detectors map painting empty
hardback hardcover paperback softcover taschenbuch broché relié rilegato brossura gebonden
vinyl vinyle vinilo vinile lp schallplatte elpee winyl пластинка plastinka plaque plaques vuota vuote vacía vacías
schild poster plakat aufkleber buch sachbuch roman kurs schulung ausstellung stellenangebot teststreifen röhrchen karte gemälde leer leere leeres gutschein
panneau affiche autocollant livre cours formation billet exposition musée emploi bandelettes détecteur carte tableau
cartel letrero pegatina libro novela curso exposición museo empleo tiras mapa cuadro entrada entradas boleto boletos
cartello cartellone cartelloni locandina targa targhetta adesivo romanzo corso biglietto mostra strisce rilevatore mappa quadro
bord bordje pictogram boek cursus tentoonstelling vacature kaart schilderij leeg lege
tabliczka naklejka książka powieść szkolenie bilet wystawa muzeum paski obraz pusta pusty puste
табличка плакат наклейка книга курс обучение билет выставка музей экскурсия вакансия полоски карта картина пустая пустой
tablichka nakleyka kniga obuchenie vystavka muzey ekskursiya vakansiya poloski kartina pustaya pustoy
labels paintings maps novels exhibitions
panneaux affiches autocollants livres étiquettes billets cartes tableaux détecteurs expositions
schilder plakate bücher gemälde etiketten kurse gutscheine
carteles letreros pegatinas libros novelas cursos etiquetas mapas cuadros tomo tomos
cartelli targhe targhette adesivi libri romanzi corsi biglietti etichette mappe quadri locandine
borden bordjes pictogrammen boeken cursussen kaarten schilderijen
tabliczki naklejki książki książek plakaty plakatów obrazy etykiety bilety
таблички плакаты плакатов наклейки книги книг картины этикетки билеты
tablichki plakata plakatov nakleyki knigi kartiny etiketki
tablica tablice shirt shirts tshirt tshirts hoodie mug mugs tasse tassen taza tazas tazza tazze mok mokken kubek koszulka футболка кружка
camiseta camisetas maglietta magliette`)
	subjectCompounds = []string{"poster", "schild", "buch", "röhrchen", "kurs", "karte", "ticket", "streifen", "fabrik", "fabriek",
		"aufkleber", "plakat", "bord", "bordje", "sticker", "schilder", "plakate", "etiketten", "borden", "bordjes", "stickers"} // Dutch compounds too ("Waarschuwingsbord", "Veiligheidsbordje")
	// subjectAfter, right after the first name, make it a modifier of
	// other goods ("Hydrogen peroxide test strips", "Sulphuric Acid Plant")
	// or the name of a place ("Salpeter Lodge").
	subjectAfter = foldedSetOf(`sign poster test strips detector sensor plant factory fabriek fabrik werk museum exhibition
teststreifen teststrips teststrookjes schnelltest
book novel roman novela romanzo powieść роман lodge hotel inn resort`)
	// subjectKinds, right after the name, may come before a word of
	// subjectAfter.
	subjectKinds = foldedSetOf(`safety warning hazard danger ghs storage door information`)
	// subjectPairs are two words, side by side in either order before
	// the name, that together name such goods though each alone may not:
	// detector tubes ("tubes réactifs", "индикаторные трубки") and a
	// safety data sheet's template ("Modello SDS"); "modèle" alone may
	// be a product's model, "tubes" alone the goods' packing.
	subjectPairs = [][2]map[string]bool{
		{foldedSetOf(`tube tubes tubo tubos tubi fiale buisjes rurki rurka трубки трубка trubki`),
			foldedSetOf(`reactif reactifs colorimetric colorimetrique colorimetriques colorimetricos colorimetrici rivelatrici detectores detectie wskaznikowe wskaźnikowe индикаторные индикаторная indikatornye`)},
		{foldedSetOf(`template templates model modele modello modelo sjabloon szablon шаблон shablon vorlage`),
			foldedSetOf(`sds msds fds sdb ficha fiche scheda karta паспорта паспорт`)},
	}
	// subjectPrefixes start German compounds naming such goods
	// ("Etikettenrolle", "Etikettendrucker").
	subjectPrefixes = [][]byte{[]byte("etiketten"), []byte("aufkleber")}
)

// subjectPair reports whether a and b, adjacent words, name subject goods
// together (subjectPairs).
func subjectPair(a, b string) bool {
	for _, p := range subjectPairs {
		if p[0][a] && p[1][b] || p[1][a] && p[0][b] {
			return true
		}
	}
	return false
}

// subjectListing reports whether title makes the listing's goods other
// than the substance (see above); first and end span the title's first
// match, or first is -1 when the title holds none.
func subjectListing(title string, first, end int) bool {
	before := title
	if first >= 0 {
		before = title[:first]
	}
	var buf, prevBuf [64]byte
	subject := false
	prev, prevF := "", []byte(nil)
	eachWord(before, func(w string) bool {
		f := appendFolded(buf[:0], w)
		if subjectGoods[string(f)] || string(f) == "vide" && frenchEmpty(before, prev) || subjectPair(string(prevF), string(f)) {
			subject = true
			return false
		}
		prev, prevF = w, append(prevBuf[:0], f...)
		for _, c := range foldedCompounds {
			if len(f) > len(c)+3 && bytes.HasSuffix(f, c) {
				subject = true
				return false
			}
		}
		for _, c := range subjectPrefixes {
			if len(f) > len(c)+3 && bytes.HasPrefix(f, c) {
				subject = true
				return false
			}
		}
		return true
	})
	if subject || first < 0 {
		return subject
	}
	rest := strings.TrimLeft(title[end:], " ")
	if rest == "" || rest[0] == ',' {
		return false
	}
	words := 0
	eachWord(rest, func(w string) bool {
		f := appendFolded(buf[:0], w)
		subject = subjectAfter[string(f)]
		words++
		// The first word, or the second after a word saying what kind
		// ("Hydrogen peroxide safety poster", "Nitric acid warning sign").
		return !subject && words == 1 && subjectKinds[string(f)]
	})
	if subject {
		return true
	}
	// Further on in the same phrase, up to subjectReach plain words
	// describing it, an unambiguous subject noun ("NITROMETHANE drag
	// racing poster"); a connector or preposition ends the phrase ("…
	// with poster", "… for the book").
	phrase := rest
	if i := strings.IndexFunc(rest, func(r rune) bool { return !unicode.IsLetter(r) && r != ' ' && r != '-' }); i >= 0 {
		phrase = rest[:i]
	}
	words = 0
	eachWord(phrase, func(w string) bool {
		f := appendFolded(buf[:0], w)
		if phraseEnders[string(f)] {
			return false
		}
		subject = subjectFar[string(f)]
		words++
		return !subject && words < subjectReach
	})
	return subject
}

// subjectReach is how many words after a name subjectFar's nouns are
// looked for.
const subjectReach = 4

var (
	// subjectFar are subject nouns unambiguous enough to be found a few
	// words after the name, where "plant" or "sensor" could be another
	// word's ("… stump remover plant safe").
	subjectFar = foldedSetOf(`poster posters sign signs sticker stickers decal decals book novel exhibition museum mug shirt tshirt`)
	// phraseEnders end the phrase a name heads.
	phraseEnders = foldedSetOf(`and or with for plus incl including included und oder mit fur für inkl et ou avec pour y o con para e per en met voor i lub z dla и или с для`)
)

// frenchEmpty reports whether "vide" in s, after the word prev, says
// empty: not "sous vide" (vacuum-packed), and s is no "vide-grenier",
// "vide-grange" or any other "vide-" sale of the goods themselves.
func frenchEmpty(s, prev string) bool {
	if strings.EqualFold(prev, "sous") {
		return false
	}
	l := strings.ToLower(s)
	for _, sale := range []string{"vide-", "vide grenier", "vide maison", "vide dressing", "vide grange"} {
		if strings.Contains(l, sale) {
			return false
		}
	}
	return true
}

// foldedCompounds are subjectCompounds folded, as words are compared.
var foldedCompounds = func() (out [][]byte) {
	for _, c := range subjectCompounds {
		out = append(out, appendFolded(nil, c))
	}
	return out
}()

// eachWord calls f with each run of letters and digits of s until f
// returns false.
func eachWord(s string, f func(w string) bool) {
	start := -1
	for i, r := range s {
		if notWordRune(r) {
			if start >= 0 && !f(s[start:i]) {
				return
			}
			start = -1
		} else if start < 0 {
			start = i
		}
	}
	if start >= 0 {
		f(s[start:])
	}
}

func notWordRune(r rune) bool { return !unicode.IsLetter(r) && !unicode.IsDigit(r) }

// dropSubjects removes the staged matches of a listing whose title makes
// the substance a subject (subjectListing), but those the title itself
// states over their limit: a strength read elsewhere (a poster's text, a
// lone figure, a specification) is the subject's, not goods on sale, and
// so is one quoted with its name (a label roll „Wasserstoffperoxid 35 %“,
// an SDS template «Perossido di idrogeno 35 %»).
func (m *Matcher) dropSubjects(sc *scratch, title string) {
	sold := func(st staged) bool { return soldOverLimit(st) && !quotedIn(title, st.start, st.end) }
	if !slices.ContainsFunc(sc.staged, func(st staged) bool { return !sold(st) }) {
		return // every match is over its limit: none would be dropped
	}
	first, end := -1, 0
	for _, st := range sc.staged {
		if st.field == "title" && (first < 0 || st.start < first) {
			first, end = st.start, st.end
		}
	}
	if !subjectListing(title, first, end) {
		return
	}
	kept := sc.staged[:0]
	for _, st := range sc.staged {
		if sold(st) {
			kept = append(kept, st)
		}
	}
	clear(sc.staged[len(kept):])
	sc.staged = kept
}

// quotedIn reports whether title[start:end] stands inside quotation
// marks: an opening mark before it with no mark between, and a closing
// one after it.
func quotedIn(title string, start, end int) bool {
	if start < 0 || end > len(title) || start > end {
		return false
	}
	i := strings.LastIndexAny(title[:start], "\"„“”«»")
	if i < 0 {
		return false
	}
	open, _ := utf8.DecodeRuneInString(title[i:])
	var closers string
	switch open {
	case '"':
		closers = "\""
	case '„':
		closers = "“”"
	case '“':
		closers = "”“"
	case '«':
		closers = "»"
	case '»':
		closers = "«" // Danish and German style: »name«
	default:
		return false
	}
	return strings.ContainsAny(title[end:], closers) && strings.Count(title[:i], "\"")%2 == 0
}

// soldOverLimit reports whether the title states st's own strength, over
// its limit, beside its name: goods on sale whatever else the title names
// ("Nitric acid 65 % 1 L — safety poster included").
func soldOverLimit(st staged) bool {
	return st.over && st.field == "title" && !st.shared && !st.lone && !st.spec
}
