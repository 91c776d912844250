package matchers

// automaton is an Aho-Corasick automaton compiled to a dense DFA over byte
// classes: one table lookup per text byte, no allocation while scanning.
//
// Round one used github.com/petar-dambovaliev/aho-corasick, whose
// overlapping iterator spends more per byte (a generic state interface, a
// match struct per hit) than the whole matcher may spend at the 100 MB/s
// target; this loop is a few instructions per byte. Patterns are the
// normalised watchlist terms (a few thousand), so the table stays small:
// states × classes × 4 bytes, classes being the distinct bytes of the
// patterns plus one for every other byte.
type automaton struct {
	class  [256]uint8
	nclass uint32
	// trans holds, for state s (premultiplied: s × nclass) and class c,
	// the next state premultiplied, with outFlag set when that state ends
	// a pattern (itself or through its dictionary suffix link).
	trans []uint32
	// own is the pattern ending exactly at a state (-1 if none); dict is
	// the nearest proper suffix state that ends a pattern (-1 if none).
	// Both are indexed by state number (premultiplied / nclass).
	own  []int32
	dict []int32
	lens []int32 // pattern lengths in bytes
	// spaceLed: every pattern starts with a space, so the root state
	// leaves itself on a space only (scanSpaced relies on it).
	spaceLed bool
	// starts has bit (c1·nclass + c2)·nclass + c3 set when the classes
	// c1 c2 c3 may follow a pattern's leading space: the first three
	// bytes of a pattern after it, or any bytes after a shorter one. Most
	// words of a listing start no pattern, and this test, a few
	// independent loads, lets scanSpaced skip them instead of walking
	// the table's dependent loads until the word falls back to the root.
	// Nil when the patterns do not all start with a space or there are
	// too many classes for a small bitset.
	starts []uint64
}

// maxStartsBits bounds the starts bitset (256 KB), so that it stays in a
// core's cache; more classes than fit just go without the filter.
const maxStartsBits = 1 << 21

const outFlag = 1 << 31

// hit is a pattern occurrence: hay[end-len(pattern):end].
type hit struct {
	pat, end int32
}

// newAutomaton compiles patterns (non-empty, distinct) into a DFA.
func newAutomaton(patterns []string) *automaton {
	a := &automaton{spaceLed: true}
	var used [256]bool
	total := 1
	for _, p := range patterns {
		for i := 0; i < len(p); i++ {
			used[p[i]] = true
		}
		if p[0] != ' ' {
			a.spaceLed = false
		}
		total += len(p)
	}
	n := uint32(1) // class 0: bytes no pattern holds
	for b := range 256 {
		if used[b] {
			a.class[b] = uint8(n)
			n++
		}
	}
	if n > 256 {
		// Every byte value is used: 256 classes do not fit in a uint8,
		// so fall back to identity classes (class 0 then is byte 0).
		for b := range 256 {
			a.class[b] = uint8(b)
		}
		n = 256
	}
	a.nclass = n
	// Trie, built straight into the table; 0 means "no child" during
	// construction (the root is never a child).
	trans := make([]uint32, total*int(n))
	own := make([]int32, 1, total)
	own[0] = -1
	states := uint32(1)
	a.lens = make([]int32, len(patterns))
	for pi, p := range patterns {
		s := uint32(0)
		for i := 0; i < len(p); i++ {
			c := uint32(a.class[p[i]])
			next := trans[s*n+c]
			if next == 0 {
				next = states
				states++
				own = append(own, -1)
				trans[s*n+c] = next
			}
			s = next
		}
		own[s] = int32(pi)
		a.lens[pi] = int32(len(p))
	}
	trans = trans[:int(states)*int(n)]
	// Breadth-first: fail links, dictionary links, and the missing
	// transitions filled from the fail state's (already complete) row.
	fail := make([]uint32, states)
	dict := make([]int32, states)
	dict[0] = -1
	queue := make([]uint32, 0, states)
	for c := range n {
		if t := trans[c]; t != 0 {
			fail[t] = 0
			dict[t] = -1
			queue = append(queue, t)
		}
	}
	for len(queue) > 0 {
		s := queue[0]
		queue = queue[1:]
		for c := range n {
			t := trans[s*n+c]
			f := trans[fail[s]*n+c]
			if t == 0 {
				trans[s*n+c] = f
				continue
			}
			fail[t] = f
			if own[f] >= 0 {
				dict[t] = int32(f)
			} else {
				dict[t] = dict[f]
			}
			queue = append(queue, t)
		}
	}
	trans, own, dict = renumberBFS(trans, own, dict, n)
	if a.spaceLed && n*n*n <= maxStartsBits {
		a.starts = make([]uint64, (n*n*n+63)/64)
		for _, p := range patterns {
			a.markStarts(p[1:], 0, 0)
		}
	}
	// Premultiply and flag states that end a pattern.
	for i, t := range trans {
		v := t * n
		if own[t] >= 0 || dict[t] >= 0 {
			v |= outFlag
		}
		trans[i] = v
	}
	a.trans, a.own, a.dict = trans, own, dict
	return a
}

// markStarts sets the starts bits of every class triple that p (a pattern
// without its leading space) may begin with; depth classes are fixed in
// idx already. Past the end of a short pattern any class may follow.
func (a *automaton) markStarts(p string, depth int, idx uint32) {
	n := a.nclass
	if depth == 3 {
		a.starts[idx/64] |= 1 << (idx % 64)
		return
	}
	if len(p) > depth {
		a.markStarts(p, depth+1, idx*n+uint32(a.class[p[depth]]))
		return
	}
	for c := range n {
		a.markStarts(p, depth+1, idx*n+c)
	}
}

// renumberBFS renumbers the states breadth-first from the root, so that
// the shallow states, where a scan spends nearly all its time, have their
// rows side by side in the table rather than spread across it.
func renumberBFS(trans []uint32, own, dict []int32, n uint32) ([]uint32, []int32, []int32) {
	states := uint32(len(own))
	newID := make([]uint32, states)
	seen := make([]bool, states)
	order := make([]uint32, 1, states)
	seen[0] = true
	for k := 0; k < len(order); k++ {
		s := order[k]
		newID[s] = uint32(k)
		for c := range n {
			if t := trans[s*n+c]; !seen[t] {
				seen[t] = true
				order = append(order, t)
			}
		}
	}
	if uint32(len(order)) != states {
		return trans, own, dict // unreachable states: keep the numbering
	}
	nt := make([]uint32, len(trans))
	no := make([]int32, states)
	nd := make([]int32, states)
	for ns, old := range order {
		for c := range n {
			nt[uint32(ns)*n+c] = newID[trans[old*n+c]]
		}
		no[ns] = own[old]
		nd[ns] = -1
		if d := dict[old]; d >= 0 {
			nd[ns] = int32(newID[d])
		}
	}
	return nt, no, nd
}

// scanSpaced appends every pattern occurrence (overlapping ones included)
// in " " + text + " ", in order of end position, without building that
// string; ends are positions in it.
func (a *automaton) scanSpaced(text []byte, hits []hit) []hit {
	trans, class := a.trans, &a.class
	sp := uint32(class[' '])
	step := func(s uint32, c uint32, end int32) uint32 {
		t := trans[s+c]
		if t&outFlag != 0 {
			hits = a.outputs((t&^outFlag)/a.nclass, end, hits)
		}
		return t &^ outFlag
	}
	n := a.nclass
	// The text's virtual leading space: skip the first word at once when
	// it starts no pattern.
	s := uint32(0)
	i := 0
	if a.starts != nil && len(text) >= 3 && !a.mayStart(text[0:3]) {
		i = skipWord(text, 0)
	} else {
		s = step(0, sp, 1)
	}
	for ; i < len(text); i++ {
		if s == 0 && a.spaceLed {
			// Every pattern starts with a space, so only a space leaves
			// the root: skip the rest of a word that matched nothing in
			// a cheap loop instead of the table's dependent loads.
			i = skipWord(text, i)
			if i == len(text) {
				break
			}
			// text[i] is a space read from the root: if the next word
			// starts no pattern, go straight on to the space after it.
			for a.starts != nil && i+4 <= len(text) {
				c1, c2, c3 := uint32(class[text[i+1]]), uint32(class[text[i+2]]), uint32(class[text[i+3]])
				if x := (c1*n+c2)*n + c3; a.starts[x/64]&(1<<(x%64)) != 0 {
					break
				}
				i = skipWord(text, i+1)
			}
			if i == len(text) {
				break
			}
		}
		t := trans[s+uint32(class[text[i]])]
		s = t &^ outFlag
		if t&outFlag != 0 {
			hits = a.outputs(s/a.nclass, int32(i+2), hits)
		}
	}
	step(s, sp, int32(len(text)+2))
	return hits
}

// mayStart reports whether a pattern may start with the three bytes b
// after its leading space.
func (a *automaton) mayStart(b []byte) bool {
	n := a.nclass
	x := (uint32(a.class[b[0]])*n+uint32(a.class[b[1]]))*n + uint32(a.class[b[2]])
	return a.starts[x/64]&(1<<(x%64)) != 0
}

// skipWord returns the index of the first space at or after i, or
// len(text).
func skipWord(text []byte, i int) int {
	for i < len(text) && text[i] != ' ' {
		i++
	}
	return i
}

// outputs appends the patterns that end at state st.
func (a *automaton) outputs(st uint32, end int32, hits []hit) []hit {
	x := int32(st)
	if a.own[x] < 0 {
		x = a.dict[x]
	}
	for x >= 0 {
		hits = append(hits, hit{pat: a.own[x], end: end})
		x = a.dict[x]
	}
	return hits
}

// sizeBytes is the memory the automaton's tables take.
func (a *automaton) sizeBytes() int {
	return 4*len(a.trans) + 4*len(a.own) + 4*len(a.dict) + 4*len(a.lens)
}
