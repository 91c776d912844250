package matchers

import (
	"slices"
	"strings"
	"unicode"
	"unicode/utf8"
)

// vocab is every word of every watchlist term (normalised), and the words
// the rules read (negators, strength units), indexed three ways for the
// repair pass (repair.go): a set, a trie (a word with masked or
// substituted letters is resolved by walking it, never by comparing it
// with every word) and, for long words, a deletion index (a word with one
// letter dropped looks its own form up).
type vocab struct {
	words map[string]bool
	// trie of words by rune; node 0 is the root.
	nodes []trieNode
	// fuzzyTri holds the first three bytes of every long word as it may
	// be written with one letter dropped, doubled or swapped.
	fuzzyTri triSet
	// maxLen is the longest word in bytes: longer text words are skipped.
	maxLen int
}

type trieNode struct {
	kids []trieEdge // sorted by rune
	word string     // the word ending here, if any
}

type trieEdge struct {
	r    rune
	node int32
}

// fuzzyMinLetters is the shortest word (in letters) edited by one dropped,
// doubled or swapped letter: shorter words are too close to others.
const fuzzyMinLetters = 8

// vocabMinLen is the shortest word (in runes) the repair pass resolves a
// text word to: short words ("di", "de", "of") fit too many disguises.
const vocabMinLen = 3

// ruleWords are words the rules read on the text, resolved like terms so
// that a disguised negator ("s1n", "z0nder") or unit ("v0l") still counts.
func ruleWords() []string {
	var ws []string
	for _, m := range []map[string]bool{negators, volumeWords, percentWords} {
		for w := range m {
			ws = append(ws, w)
		}
	}
	return append(ws, "free", "frei", "libre")
}

func newVocab(patterns []string) *vocab {
	v := &vocab{words: map[string]bool{}, nodes: []trieNode{{}}}
	add := func(w string) {
		if utf8.RuneCountInString(w) < vocabMinLen || v.words[w] || strings.Trim(w, "0123456789") == "" {
			return
		}
		v.words[w] = true
		v.maxLen = max(v.maxLen, len(w))
		n := 0
		for _, r := range w {
			kids := v.nodes[n].kids
			i, ok := slices.BinarySearchFunc(kids, r, func(e trieEdge, r rune) int { return int(e.r - r) })
			if !ok {
				v.nodes = append(v.nodes, trieNode{})
				kids = slices.Insert(kids, i, trieEdge{r, int32(len(v.nodes) - 1)})
				v.nodes[n].kids = kids
			}
			n = int(kids[i].node)
		}
		v.nodes[n].word = w
	}
	for _, p := range patterns {
		for _, w := range strings.Fields(p) {
			add(w)
		}
	}
	for _, w := range ruleWords() {
		add(w)
	}
	for w := range v.words {
		if utf8.RuneCountInString(w) >= fuzzyMinLetters && allLetters([]rune(w)) {
			v.fuzzyTri.addFuzzy(w)
		}
	}
	return v
}

func allLetters(rs []rune) bool {
	for _, r := range rs {
		if !unicode.IsLetter(r) {
			return false
		}
	}
	return true
}

// slot is one character of a text word as the repair pass reads it: the
// runes it may stand for, or any one letter (a mask).
type slot struct {
	alts  [4]rune // alternatives; 0 ends the list
	lit   []rune  // a letter's fold as written (may be several runes: "ß")
	mask  bool    // "*", "#", "_", "?", "•": any one letter
	subst bool    // a digit or symbol read as a letter
	own   rune    // the character as written, lower case
	off   int32   // offset of the character in the original text
}

// resolve walks the trie with slots and returns the one word they fit,
// with the number of slots read as a substituted letter; ok is false when
// none or several fit. budget bounds the walk.
func (v *vocab) resolve(slots []slot) (string, bool) {
	found := ""
	n := 0
	budget := 4096
	var walk func(node, i int) bool // false: stop (ambiguous or out of budget)
	walk = func(node, i int) bool {
		budget--
		if budget < 0 {
			return false
		}
		if i == len(slots) {
			if w := v.nodes[node].word; w != "" && w != found {
				n++
				found = w
				return n < 2
			}
			return true
		}
		s := &slots[i]
		kids := v.nodes[node].kids
		child := func(r rune) int {
			j, ok := slices.BinarySearchFunc(kids, r, func(e trieEdge, r rune) int { return int(e.r - r) })
			if !ok {
				return -1
			}
			return int(kids[j].node)
		}
		switch {
		case s.lit != nil:
			for _, r := range s.lit {
				j, ok := slices.BinarySearchFunc(v.nodes[node].kids, r, func(e trieEdge, r rune) int { return int(e.r - r) })
				if !ok {
					return true
				}
				node = int(v.nodes[node].kids[j].node)
			}
			return walk(node, i+1)
		case s.mask:
			for _, e := range kids {
				if unicode.IsLetter(e.r) && !walk(int(e.node), i+1) {
					return false
				}
			}
		default:
			for _, r := range s.alts {
				if r == 0 {
					break
				}
				if c := child(r); c >= 0 && !walk(c, i+1) {
					return false
				}
			}
		}
		return true
	}
	if !walk(0, 0) || n != 1 {
		return "", false
	}
	return found, true
}
