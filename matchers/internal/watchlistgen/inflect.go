package main

import (
	"strings"
	"unicode/utf8"
)

// Russian and Polish decline nouns and adjectives, and listings use the
// oblique cases as often as the nominative the names are written in:
// "раствор серной кислоты", "куплю аммиачную селитру", "worek saletry
// amonowej", "roztwór kwasu siarkowego". The matcher reads whole words, so
// the watchlist carries the genitive and accusative singular of each
// Russian and Polish name, made by the regular endings below. A chemical
// name is a head noun with agreeing adjectives and complements already in
// the genitive ("нитрат аммония", "azotan potasu"); only the head and its
// adjectives change. Names the rules cannot read (a form they do not know)
// are left as they are: a missed form costs recall on that form only, a
// wrong one would only be a term no listing holds.

// ruNounsIy are Russian nouns in -ий (elements), not adjectives.
var ruNounsIy = map[string]bool{
	"калий": true, "натрий": true, "магний": true, "аммоний": true, "алюминий": true, "кальций": true,
	"литий": true, "барий": true, "стронций": true,
}

// ruForms returns the genitive and accusative singular of a Russian name.
func ruForms(name string) []string {
	words := strings.Fields(strings.ToLower(name))
	if len(words) == 0 || len(words) > 4 {
		return nil
	}
	gen := make([]string, len(words))
	acc := make([]string, len(words))
	head := -1
	for i, w := range words {
		gen[i], acc[i] = w, w
		switch {
		case ruAdjective(w, i+1 < len(words)):
			if head >= 0 && i > head+1 {
				continue // agrees with a complement: already oblique
			}
			gen[i], acc[i] = ruAdjGen(w), ruAdjAcc(w)
		case head < 0:
			// A head in -а or -я before another noun is itself a
			// genitive ("фосфора хлорокись"): left alone.
			if i+1 < len(words) && hasAnySuffix(w, "а", "я") && !ruAdjective(words[i+1], false) {
				return nil
			}
			head = i
			gen[i], acc[i] = ruNounGen(w), ruNounAcc(w)
		}
	}
	if head < 0 {
		return nil
	}
	return []string{strings.Join(gen, " "), strings.Join(acc, " ")}
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
	switch {
	case hasAnySuffix(w, "ова", "ева"):
		return trimRunes(w, 1) + "ой"
	case strings.HasSuffix(w, "ая"):
		return trimRunes(w, 2) + "ой"
	case strings.HasSuffix(w, "яя"):
		return trimRunes(w, 2) + "ей"
	case strings.HasSuffix(w, "ый"), strings.HasSuffix(w, "ое"):
		return trimRunes(w, 2) + "ого"
	case strings.HasSuffix(w, "ий"), strings.HasSuffix(w, "ее"):
		if hasAnySuffix(trimRunes(w, 2), "г", "к", "х", "ж", "ш", "ч", "щ") {
			return trimRunes(w, 2) + "ого"
		}
		return trimRunes(w, 2) + "его"
	}
	return w
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

// plForms returns the genitive and accusative singular of a Polish name:
// the head noun first, adjectives after it ("kwas siarkowy", "saletra
// amonowa"), complements already in the genitive ("azotan potasu").
func plForms(name string) []string {
	words := strings.Fields(strings.ToLower(name))
	if len(words) == 0 || len(words) > 4 || strings.ContainsAny(name, "()0123456789") {
		return nil
	}
	gen := make([]string, len(words))
	acc := make([]string, len(words))
	copy(gen, words)
	copy(acc, words)
	gen[0], acc[0] = plNounGen(words[0]), plNounAcc(words[0])
	if gen[0] == words[0] {
		return nil
	}
	for i := 1; i < len(words); i++ {
		w := words[i]
		switch {
		case hasAnySuffix(w, "owy", "ny", "ony", "ski", "cki", "wy"):
			gen[i] = trimRunes(w, 1) + "ego"
			if strings.HasSuffix(w, "i") {
				gen[i] = w + "ego"
			}
		case hasAnySuffix(w, "ska", "cka"):
			gen[i], acc[i] = trimRunes(w, 1)+"iej", trimRunes(w, 1)+"ą"
		case hasAnySuffix(w, "owa", "ona", "na"):
			gen[i], acc[i] = trimRunes(w, 1)+"ej", trimRunes(w, 1)+"ą"
		default:
			// A complement or a preposition ("magnez w proszku"): the
			// words after it are not the head's.
			i = len(words)
		}
	}
	return []string{strings.Join(gen, " "), strings.Join(acc, " ")}
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
