package main

import (
	"slices"
	"strings"
	"unicode/utf8"
)

// Russian and Polish decline nouns and adjectives, and listings use the
// oblique cases as often as the nominative the names are written in:
// "раствор серной кислоты", "куплю аммиачную селитру", "worek saletry
// amonowej", "roztwór kwasu siarkowego", "торгуем азотной кислотой", "w
// kwasie siarkowym". The matcher reads whole words, so the watchlist
// carries the genitive, accusative, instrumental and prepositional
// (Polish: locative) singular of each Russian and Polish name, made by the
// regular endings below; the dative, whose forms listings hardly use and
// which in the feminine equals the prepositional, is left out. A chemical
// name is a head noun with agreeing adjectives and complements already in
// the genitive ("нитрат аммония", "azotan potasu"); only the head and its
// adjectives change. Names the rules cannot read (a form they do not know)
// are left as they are: a missed form costs recall on that form only, a
// wrong one would only be a term no listing holds.

// givenNames are oblique forms that are also common given names, far
// more often written than the form: "Зарина" (a girl's name) is also the
// genitive of "зарин".
var givenNames = map[string]bool{"зарина": true}

// ruNounsIy are Russian nouns in -ий (elements), not adjectives.
var ruNounsIy = map[string]bool{
	"калий": true, "натрий": true, "магний": true, "аммоний": true, "алюминий": true, "кальций": true,
	"литий": true, "барий": true, "стронций": true,
}

// ruForms returns the genitive, accusative, instrumental and
// prepositional singular of a Russian name.
func ruForms(name string) []string {
	words := strings.Fields(strings.ToLower(name))
	if len(words) == 0 || len(words) > 4 {
		return nil
	}
	forms := [4][]string{}
	for c := range forms {
		forms[c] = slices.Clone(words)
	}
	head := -1
	for i, w := range words {
		switch {
		case ruAdjective(w, i+1 < len(words)):
			// An adjective in the nominative agrees with the head, also
			// after a complement, as catalogues write them ("нитрат
			// магния шестиводный", "магний азотнокислый 6-водный"): a
			// complement's own adjectives are in the genitive with it,
			// which ruAdjective does not read as a nominative.
			forms[0][i], forms[1][i], forms[2][i], forms[3][i] = ruAdjGen(w), ruAdjAcc(w), ruAdjIns(w), ruAdjPrep(w)
		case head < 0:
			// A head in -а or -я before another noun is itself a
			// genitive ("фосфора хлорокись"): left alone.
			if i+1 < len(words) && hasAnySuffix(w, "а", "я") && !ruAdjective(words[i+1], false) {
				return nil
			}
			head = i
			forms[0][i], forms[1][i], forms[2][i], forms[3][i] = ruNounGen(w), ruNounAcc(w), ruNounIns(w), ruNounPrep(w)
		}
	}
	if head < 0 {
		return nil
	}
	var out []string
	for _, f := range forms {
		if form := strings.Join(f, " "); !givenNames[form] {
			out = append(out, form)
		}
	}
	return out
}

// ruAdjective reports whether w is an adjective in the nominative;
// beforeNoun says another word follows (a possessive in -ова/-ева:
// "бертолетова соль").
func ruAdjective(w string, beforeNoun bool) bool {
	switch {
	case ruNounsIy[w]:
		return false
	case hasAnySuffix(w, "ая", "яя", "ый", "ий", "ое", "ее"):
		return true
	case beforeNoun && hasAnySuffix(w, "ова", "ева"):
		return true
	}
	return false
}

func ruAdjGen(w string) string {
	return ruAdjOblique(w, "ого", "его", func(stem string) bool {
		return hasAnySuffix(stem, "г", "к", "х", "ж", "ш", "ч", "щ")
	})
}

func ruAdjAcc(w string) string {
	switch {
	case hasAnySuffix(w, "ова", "ева"):
		return trimRunes(w, 1) + "у"
	case strings.HasSuffix(w, "ая"):
		return trimRunes(w, 2) + "ую"
	case strings.HasSuffix(w, "яя"):
		return trimRunes(w, 2) + "юю"
	}
	return w // masculine and neuter inanimate: as the nominative
}

// ruSibilantStem reports whether w without its last n runes ends in a
// sibilant or ц, after which an unstressed о is written е ("-ей", "-ем").
func ruSibilantStem(w string, n int) bool {
	return hasAnySuffix(trimRunes(w, n), "ж", "ш", "ч", "щ", "ц")
}

func ruAdjIns(w string) string {
	return ruAdjOblique(w, "ым", "им", func(string) bool { return false })
}

func ruAdjPrep(w string) string {
	return ruAdjOblique(w, "ом", "ем", func(stem string) bool { return hasAnySuffix(stem, "г", "к", "х") })
}

// ruAdjOblique returns the adjective w in an oblique case whose feminine
// ends in -ой/-ей (genitive, instrumental, prepositional): the masculine
// and neuter take hard after -ый/-ое and after -ий/-ее when hardStem says
// the stem keeps hard endings, else soft.
func ruAdjOblique(w, hard, soft string, hardStem func(stem string) bool) string {
	switch {
	case hasAnySuffix(w, "ова", "ева"):
		return trimRunes(w, 1) + "ой"
	case strings.HasSuffix(w, "ая"):
		return trimRunes(w, 2) + "ой"
	case strings.HasSuffix(w, "яя"):
		return trimRunes(w, 2) + "ей"
	case hasAnySuffix(w, "ый", "ое"):
		return trimRunes(w, 2) + hard
	case hasAnySuffix(w, "ий", "ее"):
		if hardStem(trimRunes(w, 2)) {
			return trimRunes(w, 2) + hard
		}
		return trimRunes(w, 2) + soft
	}
	return w
}

func ruNounIns(w string) string {
	last, _ := utf8.DecodeLastRuneInString(w)
	switch {
	case strings.HasSuffix(w, "ий"):
		return trimRunes(w, 1) + "ем"
	case strings.HasSuffix(w, "ок"):
		return trimRunes(w, 2) + "ком"
	case last == 'а':
		if ruSibilantStem(w, 1) {
			return trimRunes(w, 1) + "ей"
		}
		return trimRunes(w, 1) + "ой"
	case last == 'я':
		return trimRunes(w, 1) + "ей"
	case strings.HasSuffix(w, "ль") && w != "соль":
		return trimRunes(w, 1) + "ем"
	case last == 'ь':
		return w + "ю" // feminine: "перекисью", "солью"
	case strings.ContainsRune("жшчщц", last):
		return w + "ем"
	case strings.ContainsRune("бвгдзклмнпрстфх", last):
		return w + "ом"
	}
	return w
}

func ruNounPrep(w string) string {
	last, _ := utf8.DecodeLastRuneInString(w)
	switch {
	case hasAnySuffix(w, "ий", "ия"):
		return trimRunes(w, 1) + "и"
	case strings.HasSuffix(w, "ок"):
		return trimRunes(w, 2) + "ке"
	case last == 'а' || last == 'я':
		return trimRunes(w, 1) + "е"
	case strings.HasSuffix(w, "ль") && w != "соль":
		return trimRunes(w, 1) + "е"
	case last == 'ь':
		return trimRunes(w, 1) + "и"
	case strings.ContainsRune("бвгджзклмнпрстфхцчшщ", last):
		return w + "е"
	}
	return w
}

func ruNounGen(w string) string {
	last, _ := utf8.DecodeLastRuneInString(w)
	switch {
	case strings.HasSuffix(w, "ий"):
		return trimRunes(w, 1) + "я"
	case strings.HasSuffix(w, "ок"):
		return trimRunes(w, 2) + "ка"
	case last == 'а':
		if hasAnySuffix(trimRunes(w, 1), "г", "к", "х", "ж", "ш", "ч", "щ") {
			return trimRunes(w, 1) + "и"
		}
		return trimRunes(w, 1) + "ы"
	case strings.HasSuffix(w, "ль") && w != "соль":
		return trimRunes(w, 1) + "я" // masculine -оль ("тиодигликоль")
	case last == 'я' || last == 'ь':
		return trimRunes(w, 1) + "и"
	case strings.ContainsRune("бвгджзклмнпрстфхцчшщ", last):
		return w + "а"
	}
	return w
}

func ruNounAcc(w string) string {
	switch last, _ := utf8.DecodeLastRuneInString(w); last {
	case 'а':
		return trimRunes(w, 1) + "у"
	case 'я':
		return trimRunes(w, 1) + "ю"
	}
	return w
}

// plForms returns the genitive, accusative, instrumental and locative
// singular of a Polish name: the head noun first, adjectives after it
// ("kwas siarkowy", "saletra amonowa"), complements already in the
// genitive ("azotan potasu"). A head whose locative the rules do not know
// gets the other forms only.
func plForms(name string) []string {
	words := strings.Fields(strings.ToLower(name))
	if len(words) == 0 || len(words) > 4 || strings.ContainsAny(name, "()0123456789") {
		return nil
	}
	forms := [4][]string{}
	for c := range forms {
		forms[c] = slices.Clone(words)
	}
	h := words[0]
	forms[0][0], forms[1][0], forms[2][0], forms[3][0] = plNounGen(h), plNounAcc(h), plNounIns(h), plNounLoc(h)
	if forms[0][0] == h {
		return nil
	}
	for i := 1; i < len(words); i++ {
		w := words[i]
		switch {
		case hasAnySuffix(w, "ski", "cki"):
			forms[0][i], forms[2][i], forms[3][i] = w+"ego", w+"m", w+"m"
		case hasAnySuffix(w, "owy", "ny", "ony", "wy"):
			forms[0][i], forms[2][i], forms[3][i] = trimRunes(w, 1)+"ego", w+"m", w+"m"
		case hasAnySuffix(w, "ska", "cka"):
			stem := trimRunes(w, 1)
			forms[0][i], forms[1][i], forms[2][i], forms[3][i] = stem+"iej", stem+"ą", stem+"ą", stem+"iej"
		case hasAnySuffix(w, "owa", "ona", "na"):
			stem := trimRunes(w, 1)
			forms[0][i], forms[1][i], forms[2][i], forms[3][i] = stem+"ej", stem+"ą", stem+"ą", stem+"ej"
		default:
			// A complement or a preposition ("magnez w proszku"): the
			// words after it are not the head's.
			i = len(words)
		}
	}
	var out []string
	for _, f := range forms {
		if f[0] == "" {
			continue
		}
		out = append(out, strings.Join(f, " "))
	}
	return out
}

func plNounGen(w string) string {
	last, _ := utf8.DecodeLastRuneInString(w)
	switch {
	case strings.HasSuffix(w, "ek"):
		return trimRunes(w, 2) + "ku"
	case strings.HasSuffix(w, "um"):
		return w
	case last == 'a':
		if hasAnySuffix(trimRunes(w, 1), "k", "g") {
			return trimRunes(w, 1) + "i"
		}
		return trimRunes(w, 1) + "y"
	case strings.ContainsRune("bcdfghjklłmnprstwzż", last) && !strings.ContainsRune(w, 'ó'):
		return w + "u"
	}
	return w
}

func plNounAcc(w string) string {
	if strings.HasSuffix(w, "a") {
		return trimRunes(w, 1) + "ę"
	}
	return w
}

func plNounIns(w string) string {
	last, _ := utf8.DecodeLastRuneInString(w)
	switch {
	case strings.HasSuffix(w, "ek"):
		return trimRunes(w, 2) + "kiem"
	case strings.HasSuffix(w, "um"):
		return w
	case last == 'a':
		return trimRunes(w, 1) + "ą"
	case strings.ContainsRune(w, 'ó'):
		return "" // a stem that alternates ("nawóz", "nawozem")
	case last == 'k' || last == 'g':
		return w + "iem"
	case strings.ContainsRune("bcdfhjlłmnprstwzż", last):
		return w + "em"
	}
	return ""
}

// plLocSoft is the locative ending that replaces a stem's last consonant
// (or a feminine's last consonant and "a"): Polish softens it before -e.
var plLocSoft = []struct{ stem, loc string }{
	{"st", "ście"}, {"t", "cie"}, {"d", "dzie"}, {"r", "rze"}, {"ł", "le"},
	{"n", "nie"}, {"s", "sie"}, {"z", "zie"}, {"m", "mie"}, {"w", "wie"},
	{"p", "pie"}, {"b", "bie"}, {"f", "fie"}, {"k", "ce"}, {"g", "dze"},
}

func plNounLoc(w string) string {
	switch {
	case strings.HasSuffix(w, "ek"):
		return trimRunes(w, 2) + "ku"
	case strings.HasSuffix(w, "um") || strings.ContainsRune(w, 'ó'):
		return ""
	case strings.HasSuffix(w, "a"):
		stem := trimRunes(w, 1)
		for _, s := range plLocSoft {
			if strings.HasSuffix(stem, s.stem) {
				return strings.TrimSuffix(stem, s.stem) + s.loc
			}
		}
		return "" // a soft stem ("-ia", "-ca"): left to the other forms
	case hasAnySuffix(w, "k", "g", "ch", "l", "j", "c", "cz", "sz", "rz", "ż"):
		return w + "u"
	}
	for _, s := range plLocSoft {
		if strings.HasSuffix(w, s.stem) {
			return strings.TrimSuffix(w, s.stem) + s.loc
		}
	}
	return ""
}

func hasAnySuffix(w string, sufs ...string) bool {
	for _, s := range sufs {
		if strings.HasSuffix(w, s) {
			return true
		}
	}
	return false
}

// trimRunes drops the last n runes of w.
func trimRunes(w string, n int) string {
	for ; n > 0 && w != ""; n-- {
		_, size := utf8.DecodeLastRuneInString(w)
		w = w[:len(w)-size]
	}
	return w
}
