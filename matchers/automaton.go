package matchers

// automaton is an Aho-Corasick automaton compiled to a DFA over byte
// classes: one table lookup per text byte (two at most, see below), no
// allocation while scanning.
//
// Round one used github.com/petar-dambovaliev/aho-corasick, whose
// overlapping iterator spends more per byte (a generic state interface, a
// match struct per hit) than the whole matcher may spend at the 100 MB/s
// target; this loop is a few instructions per byte. Classes are the
// distinct bytes of the patterns plus one for every other byte.
//
// Layout: the full matcher scans between normalising, tokenising and rule
// code, which evict a large table from the caches between listings, so the
// table is kept small: about 0.35 MB for the watchlist rather than 2.6 MB
// as one row per state. A state is either dense, a row of next states,
// one per class, or a chain state: past the first few bytes of a pattern
// nearly every state differs from the row of the first dense state on its
// fail path in one class only (its trie child), so it stores that one
// (class, next) pair and the row to fall back to, eight bytes instead of a
// row. A state's value, what the table holds, is its row's offset for a
// dense state (no multiply per byte) and len(dense) + i for chain state
// i. uint16 values with the state number multiplied out per byte, and
// chain states right from the root, made the scan 15–30% slower per byte
// for little further gain.
type automaton struct {
	class  [256]uint8
	nclass uint32
	// dense holds the rows of the dense states, nclass next states each:
	// the value for state v and class c is at v + c, v being a state's
	// value, its row's offset, and the next state's value, with outFlag
	// set when that state ends a pattern (itself or through its
	// dictionary suffix link).
	dense []uint32
	// chain holds the chain states; chain state i has the value
	// len(dense) + i, so v < len(dense) tells the two kinds apart.
	chain []acLink
	// ndense is the number of dense states: state number of chain state
	// i is ndense + i, own and dict being indexed by state number.
	ndense uint32
	// own is the pattern ending exactly at a state (-1 if none); dict is
	// the nearest proper suffix state that ends a pattern (-1 if none).
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
	// raw is the class of every original byte for plainNoHit (plain.go):
	// of its fold for ASCII letters and digits, of the space for
	// separators.
	raw [256]uint8
}

// acLink is a chain state: its class (the low byte of fbcls) goes to
// next, every other class c to dense[fbcls>>8 + c], fbcls>>8 being the
// value of a dense state whose row equals the chain state's but for that
// class. Eight bytes, so a pattern's chain of states shares cache lines.
type acLink struct {
	next  uint32
	fbcls uint32
}

const outFlag = 1 << 31

// denseDepth: states this close to the root stay dense even when one class
// would do. The starts filter admits a word on the three bytes after its
// space, so every admitted word walks them; as chain states they cost a
// mispredicted branch per word going in and out of the chain path.
const denseDepth = 4

// maxStartsBits bounds the starts bitset (256 KB), so that it stays in a
// core's cache; more classes than fit just go without the filter.
const maxStartsBits = 1 << 21

// hit is a pattern occurrence: hay[end-len(pattern):end].
type hit struct {
	pat, end int32
}

// layout chooses the table representation; tests force the ones the
// watchlist does not use.
type layout struct {
	noChain    bool   // every state dense
	denseDepth uint32 // states this shallow stay dense
}

// newAutomaton compiles patterns (non-empty, distinct) into a DFA.
func newAutomaton(patterns []string) *automaton {
	return newAutomatonLayout(patterns, layout{denseDepth: denseDepth})
}

func newAutomatonLayout(patterns []string, lay layout) *automaton {
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
	if a.spaceLed && n*n*n <= maxStartsBits {
		a.starts = make([]uint64, (n*n*n+63)/64)
		for _, p := range patterns {
			a.markStarts(p[1:], 0, 0)
		}
	}
	order, ndense, fb, cls := planStates(trans, fail, n, lay)
	if uint64(ndense)*uint64(n) >= 1<<24 {
		// Too many rows for acLink.fbcls (never so for a watchlist).
		order, ndense, fb, cls = planStates(trans, fail, n, layout{noChain: true})
	}
	if uint64(ndense)*uint64(n)+uint64(states-ndense) >= outFlag {
		panic("automaton: too many states")
	}
	newID := make([]uint32, states)
	for ns, old := range order {
		newID[old] = uint32(ns)
	}
	a.own = make([]int32, states)
	a.dict = make([]int32, states)
	for ns, old := range order {
		a.own[ns] = own[old]
		a.dict[ns] = -1
		if d := dict[old]; d >= 0 {
			a.dict[ns] = int32(newID[d])
		}
	}
	a.buildTable(trans, order, newID, ndense, fb, cls)
	a.raw = rawClasses(a)
	return a
}

// planStates orders the states for the table: the dense ones first,
// breadth-first from the root, so that the shallow states, where a scan
// spends nearly all its time, have their rows side by side; the chain ones
// after. A state deeper than lay.denseDepth is a chain state when its row
// differs in at most one class, cls[s], from that of fb[s], the first
// dense state on its fail path. States, fb and cls are in trans's
// numbering.
func planStates(trans, fail []uint32, n uint32, lay layout) (order []uint32, ndense uint32, fb []uint32, cls []uint8) {
	states := uint32(len(fail))
	seen := make([]bool, states)
	// depth is the trie depth: a transition to a state one deeper is a
	// trie edge, every other leads to a suffix, no deeper.
	depth := make([]uint32, states)
	bfs := make([]uint32, 1, states)
	seen[0] = true
	for k := 0; k < len(bfs); k++ {
		s := bfs[k]
		for c := range n {
			if t := trans[s*n+c]; !seen[t] {
				seen[t] = true
				depth[t] = depth[s] + 1
				bfs = append(bfs, t)
			}
		}
	}
	if uint32(len(bfs)) != states {
		// Every trie state is reachable from the root by its pattern
		// prefix.
		panic("automaton: unreachable state")
	}
	// Breadth-first order visits a state's fail state (shallower) first.
	dense := make([]bool, states)
	fb = make([]uint32, states)
	cls = make([]uint8, states)
	dense[0] = true
	for _, s := range bfs[1:] {
		f := fail[s]
		if !dense[f] {
			f = fb[f]
		}
		fb[s] = f
		diff := 0
		if lay.noChain || depth[s] <= lay.denseDepth {
			diff = 2
		}
		for c := uint32(0); c < n && diff < 2; c++ {
			if trans[s*n+c] != trans[f*n+c] {
				cls[s] = uint8(c)
				diff++
			}
		}
		dense[s] = diff > 1
	}
	order = make([]uint32, 0, states)
	for _, s := range bfs {
		if dense[s] {
			order = append(order, s)
		}
	}
	ndense = uint32(len(order))
	// Chain states in trie preorder: a pattern's chain lies in one run
	// of the table, a few cache lines, rather than one line per byte.
	stack := []uint32{0}
	for len(stack) > 0 {
		s := stack[len(stack)-1]
		stack = stack[:len(stack)-1]
		if !dense[s] {
			order = append(order, s)
		}
		for c := n; c > 0; c-- {
			if t := trans[s*n+c-1]; depth[t] == depth[s]+1 {
				stack = append(stack, t)
			}
		}
	}
	if uint32(len(order)) != states {
		panic("automaton: state missing from the layout")
	}
	return order, ndense, fb, cls
}

// buildTable lays out the transitions as planned: trans, fb and cls in the
// construction's state numbers, order and newID mapping them to the
// table's.
func (a *automaton) buildTable(trans, order, newID []uint32, ndense uint32, fb []uint32, cls []uint8) {
	n := a.nclass
	dlen := ndense * n
	// value is the table's value for a state (a construction number).
	value := func(old uint32) uint32 {
		ns := newID[old]
		v := ns * n
		if ns >= ndense {
			v = dlen + ns - ndense
		}
		if a.own[ns] >= 0 || a.dict[ns] >= 0 {
			v |= outFlag
		}
		return v
	}
	a.ndense = ndense
	a.dense = make([]uint32, dlen)
	a.chain = make([]acLink, len(order)-int(ndense))
	for ns, old := range order {
		if uint32(ns) < ndense {
			for c := range n {
				a.dense[uint32(ns)*n+c] = value(trans[old*n+c])
			}
			continue
		}
		c := uint32(cls[old])
		a.chain[uint32(ns)-ndense] = acLink{
			next:  value(trans[old*n+c]),
			fbcls: newID[fb[old]]*n<<8 | c,
		}
	}
}

// stateOf is the state number of value v (flag cleared).
func (a *automaton) stateOf(v uint32) uint32 {
	if d := uint32(len(a.dense)); v >= d {
		return a.ndense + v - d
	}
	return v / a.nclass
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

// step is the value after state value v on class c, flag included: one
// load in a dense row, or the chain's own class, or one load in its
// fallback's row; never a walk along fail links. The scans pass the
// tables as locals, which keeps them in registers.
func step(dense []uint32, chain []acLink, dlen, v, c uint32) uint32 {
	if v < dlen {
		return dense[v+c]
	}
	l := chain[v-dlen]
	if uint8(l.fbcls) == uint8(c) {
		return l.next
	}
	return dense[l.fbcls>>8+c]
}

// scanSpaced appends every pattern occurrence (overlapping ones included)
// in " " + text + " ", in order of end position, without building that
// string; ends are positions in it.
func (a *automaton) scanSpaced(text []byte, hits []hit) []hit {
	class := &a.class
	n := a.nclass
	dense, chain := a.dense, a.chain
	dlen := uint32(len(dense))
	next := func(v, c uint32) uint32 { return step(dense, chain, dlen, v, c) }
	sp := uint32(class[' '])
	step := func(s uint32, c uint32, end int32) uint32 {
		t := next(s, c)
		if t&outFlag != 0 {
			hits = a.outputs(a.stateOf(t&^outFlag), end, hits)
		}
		return t &^ outFlag
	}
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
		t := next(s, uint32(class[text[i]]))
		s = t &^ outFlag
		if t&outFlag != 0 {
			hits = a.outputs(a.stateOf(s), int32(i+2), hits)
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
