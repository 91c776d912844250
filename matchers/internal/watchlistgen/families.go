package main

import (
	"fmt"
	"slices"
	"strings"
)

// CWC family entries define their members by alkyl groups ("N,N-dialkyl
// (Me, Et, n-Pr or i-Pr)"), so a listing names a member, never the family.
// The tables below enumerate the members of the families that are closed
// enough and write each member the ways catalogues do: IUPAC names with and
// without locants, N,N- forms, CAS index names. Families of open reach
// (O-alkyl up to C10 with further alkyl choices) are cut to their common
// members so that no family adds more than about 400 terms.

// group is an alkyl group as names write it.
type group struct {
	key  string // Me, Et, nPr, iPr, …
	name string // "isopropyl"
	cas  string // the CAS index spelling when it differs: "1-methylethyl"
	// di are the one-word spellings of two such groups on one N
	// ("diisopropyl"); bis a bracketed one ("bis(1-methylethyl)").
	di  []string
	bis string
}

var (
	me  = group{key: "Me", name: "methyl", di: []string{"dimethyl"}}
	et  = group{key: "Et", name: "ethyl", di: []string{"diethyl"}}
	npr = group{key: "nPr", name: "propyl", di: []string{"dipropyl", "di-n-propyl"}}
	ipr = group{key: "iPr", name: "isopropyl", cas: "1-methylethyl", di: []string{"diisopropyl"}, bis: "bis(1-methylethyl)"}

	// smallAlkyls are the groups "(Me, Et, n-Pr or i-Pr)" of the Schedules.
	smallAlkyls = []group{me, et, npr, ipr}

	// oAlkyls are the common O-alkyl and O-cycloalkyl groups of up to ten
	// carbons ("O-Alkyl (<=C10, incl. cycloalkyl)").
	oAlkyls = []group{
		me, et, npr, {key: "Bu", name: "butyl"}, {key: "Pe", name: "pentyl"}, {key: "Hx", name: "hexyl"},
		{key: "Hp", name: "heptyl"}, {key: "Oc", name: "octyl"}, {key: "No", name: "nonyl"}, {key: "De", name: "decyl"},
		ipr, {key: "iBu", name: "isobutyl"}, {key: "sBu", name: "sec-butyl"}, {key: "tBu", name: "tert-butyl"},
		{key: "Pin", name: "pinacolyl"}, {key: "cPe", name: "cyclopentyl"}, {key: "cHx", name: "cyclohexyl"},
	}
	// commonOAlkyls cut the families whose members combine three alkyl
	// choices (1.A.3, 1.B.10) to the O-groups seen in practice.
	commonOAlkyls = []group{me, et, npr, ipr, {key: "Bu", name: "butyl"}, {key: "iBu", name: "isobutyl"}}
)

func (g group) casName() string {
	if g.cas != "" {
		return g.cas
	}
	return g.name
}

// amine is the N,N-dialkyl part of a member: a and b in the order names
// cite them (alphabetical), equal for a symmetric amine.
type amine struct{ a, b group }

func (n amine) key() string { return n.a.key + "," + n.b.key }

func (n amine) symmetric() bool { return n.a.key == n.b.key }

// amines lists every N,N-dialkyl pair of groups (unordered), or only the
// symmetric ones.
func amines(gs []group, symmetricOnly bool) []amine {
	var out []amine
	for i, a := range gs {
		for _, b := range gs[i:] {
			if symmetricOnly && a.key != b.key {
				continue
			}
			if b.name < a.name {
				out = append(out, amine{b, a})
			} else {
				out = append(out, amine{a, b})
			}
		}
	}
	return out
}

// plain is the dialkyl prefix written as one word: "diisopropyl",
// "ethylmethyl"; false where that word would also read as one branched
// group ("methylpropyl" is 2-methylpropyl, isobutyl, outside the family).
func (n amine) plain() (string, bool) {
	if n.symmetric() {
		return n.a.di[0], true
	}
	p := n.a.name + n.b.name
	return p, !strings.Contains(p, "methylpropyl")
}

// prefixes are the one-word dialkyl prefixes in all their spellings, used
// without brackets ("diisopropylaminoethanol"): symmetric amines only,
// since "2-ethylmethylaminoethanol" reads as a 2-substituted name.
func (n amine) prefixes() []string {
	if n.symmetric() {
		return n.a.di
	}
	return nil
}

// nn is the "N,N-diisopropyl" / "N-ethyl-N-methyl" form.
func (n amine) nn() string {
	if n.symmetric() {
		return "N,N-" + n.a.di[0]
	}
	return "N-" + n.a.name + "-N-" + n.b.name
}

// amino are the substituent names "diisopropylamino", "bis(1-methylethyl)amino",
// "ethyl(methyl)amino", "N-ethyl-N-methylamino".
func (n amine) amino() []string {
	if n.symmetric() {
		var out []string
		for _, d := range n.a.di {
			out = append(out, d+"amino")
		}
		if n.a.bis != "" {
			out = append(out, n.a.bis+"amino")
		}
		return out
	}
	out := []string{n.a.name + "(" + n.b.name + ")amino"}
	if p, ok := n.plain(); ok {
		out = append(out, p+"amino")
	}
	return append(out, n.nn()+"amino")
}

// casParts are the two groups in CAS order: alphabetical by CAS spelling,
// locants ignored ("methyl" before "1-methylethyl").
func (n amine) casParts() (string, string) {
	a, b := n.a.casName(), n.b.casName()
	if termKey(strings.TrimLeft(b, "0123456789-")) < termKey(strings.TrimLeft(a, "0123456789-")) {
		a, b = b, a
	}
	return a, b
}

// casNN is the N-substituent part of a CAS index name: "N,N-bis(1-methylethyl)",
// "N-ethyl-N-methyl", "N-methyl-N-(1-methylethyl)".
func (n amine) casNN() string {
	if n.symmetric() {
		if n.a.bis != "" {
			return "N,N-" + n.a.bis
		}
		return "N,N-" + n.a.di[0]
	}
	a, b := n.casParts()
	return "N-" + paren(a) + "-N-" + paren(b)
}

// casAmino is the amino substituent of a CAS index name: "diethylamino",
// "bis(1-methylethyl)amino", "ethyl(1-methylethyl)amino", "ethylmethylamino".
func (n amine) casAmino() string {
	if n.symmetric() {
		if n.a.bis != "" {
			return n.a.bis + "amino"
		}
		return n.a.di[0] + "amino"
	}
	a, b := n.casParts()
	return paren(a) + paren(b) + "amino"
}

// paren wraps a group with a locant ("1-methylethyl") in parentheses.
func paren(s string) string {
	if strings.ContainsAny(s, "0123456789") {
		return "(" + s + ")"
	}
	return s
}

// wrap encloses a substituent for a locant: "2-(diethylamino)", "2-[bis(1-methylethyl)amino]".
func wrap(s string) string {
	if strings.Contains(s, "(") {
		return "[" + s + "]"
	}
	return "(" + s + ")"
}

// member is one compound of a family: the names it goes by, and a key for
// exemptions.
type member struct {
	key   string
	names []string
}

// familyGen enumerates a family's members. exempt holds member keys the
// Schedule excludes from the family, with the CAS numbers the reference
// note gives for them (the tests check the two agree).
type familyGen struct {
	item    string
	members func() []member
	exempt  map[string]string // member key → CAS of the exempt compound
}

// families maps the reference ids of the enumerable CWC families to their
// generators.
var families = map[string]familyGen{
	"cwc2-b10-aminoethyl-2-chlorides": {item: "2.B.10", members: func() []member {
		var out []member
		for _, n := range amines(smallAlkyls, false) {
			var names []string
			for _, a := range n.amino() {
				names = append(names, "2-"+wrap(a)+"ethyl chloride")
			}
			for _, p := range n.prefixes() {
				names = append(names, p+"aminoethyl chloride", "2-"+p+"aminoethyl chloride", "(2-chloroethyl)"+p+"amine")
			}
			names = append(names,
				n.nn()+"aminoethyl chloride",
				"2-chloro-"+n.nn()+"ethylamine",
				"2-chloro-"+n.nn()+"ethanamine",
				"Ethanamine, 2-chloro-"+n.casNN()+"-")
			names = append(names, foreign(n, aminoethylChloride)...)
			out = append(out, member{n.key(), names})
		}
		return out
	}},
	"cwc2-b11-aminoethane-2-ols": {item: "2.B.11",
		// "Exemptions: N,N-Dimethylaminoethanol (108-01-0) and
		// N,N-Diethylaminoethanol (100-37-8) and their protonated salts."
		exempt: map[string]string{"Me,Me": "108-01-0", "Et,Et": "100-37-8"},
		members: func() []member {
			var out []member
			for _, n := range amines(smallAlkyls, false) {
				var names []string
				for _, a := range n.amino() {
					names = append(names, "2-"+wrap(a)+"ethanol")
				}
				names = append(names, "2-"+wrap(n.amino()[0])+"ethan-1-ol")
				for _, p := range n.prefixes() {
					names = append(names, p+"aminoethanol", "2-"+p+"aminoethanol", p+"ethanolamine")
				}
				names = append(names,
					n.nn()+"aminoethanol",
					n.nn()+"ethanolamine",
					"Ethanol, 2-"+wrap(n.casAmino())+"-")
				names = append(names, foreign(n, aminoethanol)...)
				out = append(out, member{n.key(), names})
			}
			return out
		}},
	"cwc2-b12-aminoethane-2-thiols": {item: "2.B.12", members: func() []member {
		var out []member
		for _, n := range amines(smallAlkyls, false) {
			var names []string
			for _, a := range n.amino() {
				names = append(names, "2-"+wrap(a)+"ethanethiol")
			}
			names = append(names, "2-"+wrap(n.amino()[0])+"ethane-1-thiol")
			for _, p := range n.prefixes() {
				names = append(names, p+"aminoethanethiol", "2-"+p+"aminoethanethiol")
			}
			names = append(names,
				n.nn()+"aminoethanethiol",
				n.nn()+"cysteamine",
				"Ethanethiol, 2-"+wrap(n.casAmino())+"-")
			names = append(names, foreign(n, aminoethanethiol)...)
			out = append(out, member{n.key(), names})
		}
		return out
	}},
	"cwc2-b5-phosphoramidic-dihalides": {item: "2.B.5", members: func() []member {
		var out []member
		for _, n := range amines(smallAlkyls, false) {
			for _, h := range []string{"chloride", "fluoride", "bromide"} {
				names := []string{n.nn() + "phosphoramidic di" + h}
				if p, ok := n.plain(); ok {
					names = append(names, p+"phosphoramidic di"+h, p+"amidophosphoryl di"+h, p+"aminophosphoryl di"+h)
				}
				names = append(names, "Phosphoramidic di"+h+", "+n.casNN()+"-")
				out = append(out, member{n.key() + "," + h, names})
			}
		}
		return out
	}},
	"cwc2-b6-dialkyl-phosphoramidates": {item: "2.B.6", members: func() []member {
		// The O,O-dialkyl esters are cut to the symmetric ones (mixed
		// esters would double the family past 400 terms).
		var out []member
		for _, o := range smallAlkyls {
			oCAS := o.di[0]
			if o.bis != "" {
				oCAS = o.bis
			}
			for _, n := range amines(smallAlkyls, false) {
				names := []string{
					o.di[0] + " " + n.nn() + "phosphoramidate",
					"O,O-" + o.di[0] + " " + n.nn() + "phosphoramidate",
				}
				if p, ok := n.plain(); ok {
					names = append(names, o.di[0]+" "+p+"phosphoramidate", o.di[0]+" "+p+"amidophosphate")
				}
				names = append(names, "Phosphoramidic acid, "+n.casNN()+"-, "+oCAS+" ester")
				out = append(out, member{o.key + "," + n.key(), names})
			}
		}
		return out
	}},
	"cwc1-b9-phosphonyldifluorides": {item: "1.B.9", members: func() []member {
		var out []member
		for _, r := range smallAlkyls {
			names := []string{
				r.name + "phosphonyl difluoride",
				r.name + "phosphonyldifluoride",
				r.name + "phosphonic difluoride",
				"Phosphonic difluoride, P-" + paren(r.casName()) + "-",
			}
			if r.cas != "" {
				names = append(names, paren(r.cas)+"phosphonic difluoride")
			}
			out = append(out, member{r.key, names})
		}
		return out
	}},
	"cwc1-a1-phosphonofluoridates": {item: "1.A.1", members: func() []member {
		var out []member
		for _, o := range oAlkyls {
			for _, r := range smallAlkyls {
				names := []string{
					o.name + " " + r.name + "phosphonofluoridate",
					"O-" + o.name + " " + r.name + "phosphonofluoridate",
					o.name + " " + r.name + "fluorophosphonate",
				}
				out = append(out, member{o.key + "," + r.key, names})
			}
		}
		return out
	}},
	"cwc1-a2-phosphoramidocyanidates": {item: "1.A.2", members: func() []member {
		// Symmetric N,N-dialkyls only: all ten pairs would pass 400 terms.
		var out []member
		for _, o := range oAlkyls {
			for _, n := range amines(smallAlkyls, true) {
				names := []string{
					"O-" + o.name + " " + n.nn() + " phosphoramidocyanidate",
					o.name + " " + n.nn() + "phosphoramidocyanidate",
					o.name + " " + n.a.di[0] + "phosphoramidocyanidate",
				}
				out = append(out, member{o.key + "," + n.key(), names})
			}
		}
		return out
	}},
	"cwc1-a3-phosphonothiolates": {item: "1.A.3", members: func() []member {
		var out []member
		for _, o := range commonOAlkyls {
			for _, n := range amines(smallAlkyls, true) {
				for _, r := range []group{me, et} {
					sub := "S-[2-" + wrap(n.amino()[0]) + "ethyl] " + r.name
					names := []string{
						"O-" + o.name + " S-2-" + n.a.di[0] + "aminoethyl " + r.name + "phosphonothiolate",
						"O-" + o.name + " " + sub + "phosphonothiolate",
						"O-" + o.name + " " + sub + "phosphonothioate",
					}
					out = append(out, member{o.key + "," + n.key() + "," + r.key, names})
				}
			}
		}
		return out
	}},
	"cwc1-b10-phosphonites": {item: "1.B.10", members: func() []member {
		var out []member
		for _, o := range smallAlkyls {
			for _, n := range amines(smallAlkyls, true) {
				for _, r := range []group{me, et} {
					amino := "2-" + wrap(n.amino()[0]) + "ethyl"
					names := []string{
						"O-" + o.name + " O-2-" + n.a.di[0] + "aminoethyl " + r.name + "phosphonite",
						"O-" + o.name + " O-[" + amino + "] " + r.name + "phosphonite",
						o.name + " " + amino + " " + r.name + "phosphonite",
					}
					out = append(out, member{o.key + "," + n.key() + "," + r.key, names})
				}
			}
		}
		return out
	}},
}

// The N,N-dialkylaminoethyl families in further languages, for the
// symmetric amines (the forms shops write; mixed ones are rare). Each
// pattern takes the language's dialkyl prefix ("диизопропил").
const (
	aminoethylChloride = iota
	aminoethanol
	aminoethanethiol
)

var foreignLangs = []struct {
	di       map[string]string // group key → dialkyl prefix
	patterns [3][]string       // by family, with %s for the prefix
}{
	{ // Russian
		di: map[string]string{"Me": "диметил", "Et": "диэтил", "nPr": "дипропил", "iPr": "диизопропил"},
		patterns: [3][]string{
			{"2-(%sамино)этилхлорид", "%sаминоэтилхлорид", "2-хлор-N,N-%sэтиламин"},
			{"2-(%sамино)этанол", "%sаминоэтанол", "N,N-%sэтаноламин", "N,N-%sаминоэтанол"},
			{"2-(%sамино)этантиол", "%sаминоэтантиол"},
		},
	},
	{ // Russian in Latin letters
		di: map[string]string{"Me": "dimetil", "Et": "dietil", "nPr": "dipropil", "iPr": "diizopropil"},
		patterns: [3][]string{
			{"%saminoetilkhlorid"},
			{"%saminoetanol", "%setanolamin"},
			{"%saminoetantiol"},
		},
	},
	{ // Spanish and Portuguese
		di: map[string]string{"Me": "dimetil", "Et": "dietil", "nPr": "dipropil", "iPr": "diisopropil"},
		patterns: [3][]string{
			{"cloruro de 2-(%samino)etilo", "cloruro de 2-%saminoetilo", "cloreto de 2-(%samino)etila", "2-cloro-N,N-%setilamina"},
			{"2-(%samino)etanol", "%saminoetanol", "N,N-%setanolamina"},
			{"2-(%samino)etanotiol", "%saminoetanotiol"},
		},
	},
	{ // Italian
		di: map[string]string{"Me": "dimetil", "Et": "dietil", "nPr": "dipropil", "iPr": "diisopropil"},
		patterns: [3][]string{
			{"cloruro di 2-(%sammino)etile", "cloruro di 2-%samminoetile", "2-cloro-N,N-%setilammina"},
			{"2-(%sammino)etanolo", "%samminoetanolo", "N,N-%setanolammina"},
			{"2-(%sammino)etantiolo"},
		},
	},
	{ // German, Dutch and French: the stems are the English ones
		di: map[string]string{"Me": "dimethyl", "Et": "diethyl", "nPr": "dipropyl", "iPr": "diisopropyl"},
		patterns: [3][]string{
			{"2-(%samino)ethylchlorid", "%saminoethylchlorid", "2-(%samino)ethylchloride", "%saminoethylchloride", "chlorure de 2-(%samino)éthyle", "chlorure de 2-%saminoéthyle"},
			{"N,N-%sethanolamin"},
			{"2-(%samino)ethanthiol", "%saminoethanthiol"},
		},
	},
	{ // Polish
		di: map[string]string{"Me": "dimetylo", "Et": "dietylo", "nPr": "dipropylo", "iPr": "diizopropylo"},
		patterns: [3][]string{
			{"chlorek 2-(%samino)etylu", "chlorek 2-%saminoetylu"},
			{"2-(%samino)etanol"},
			nil,
		},
	},
}

// foreign names a symmetric amine's member of one of the aminoethyl
// families in the further languages.
func foreign(n amine, family int) []string {
	if !n.symmetric() {
		return nil
	}
	var out []string
	for _, l := range foreignLangs {
		for _, p := range l.patterns[family] {
			out = append(out, fmt.Sprintf(p, l.di[n.a.key]))
		}
	}
	return out
}

// termKey compares terms the way no spelling variant escapes: lower case,
// letters and digits only.
func termKey(s string) string {
	var b strings.Builder
	for _, r := range strings.ToLower(s) {
		if 'a' <= r && r <= 'z' || '0' <= r && r <= '9' || r > 127 {
			b.WriteRune(r)
		}
	}
	return b.String()
}

// addFamilyMembers adds the generated member names of each enumerable family
// as synonyms. A member that has an entry of its own (one of its names is a
// term of another entry: sarin, tabun, VX, DF, QL) stays out of the family,
// since the most specific entry wins; its generated spellings go to that
// entry instead.
func addFamilyMembers(subs []outSubstance) error {
	byID := map[string]int{}
	owner := map[string]int{} // term key → entry
	for i, s := range subs {
		byID[s.ID] = i
		for _, t := range terms(s) {
			owner[termKey(t)] = i
		}
	}
	ids := make([]string, 0, len(families))
	for id := range families {
		ids = append(ids, id)
	}
	slices.Sort(ids)
	for _, id := range ids {
		fi, ok := byID[id]
		if !ok {
			return fmt.Errorf("watchlistgen: family generator for unknown substance %q", id)
		}
		gen := families[id]
		var syns []string
		for _, m := range gen.members() {
			if _, ok := gen.exempt[m.key]; ok {
				continue
			}
			dest := fi
			for _, n := range m.names {
				if o, ok := owner[termKey(n)]; ok && o != fi {
					dest = o
					break
				}
			}
			if dest != fi {
				subs[dest].Synonyms = dedupe(append(subs[dest].Synonyms, m.names...), subs[dest].Names)
				continue
			}
			syns = append(syns, m.names...)
		}
		subs[fi].Synonyms = dedupe(append(subs[fi].Synonyms, syns...), subs[fi].Names)
	}
	return nil
}

// terms are all the words a substance is matched by.
func terms(s outSubstance) []string {
	var out []string
	for _, n := range s.Names {
		out = append(out, n)
	}
	out = append(out, s.Synonyms...)
	return append(out, s.Abbreviations...)
}
