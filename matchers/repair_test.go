package matchers_test

import (
	"slices"
	"strings"
	"testing"

	"github.com/precwatch/precwatch"
)

// TestRepairRules checks each rule of the repair pass (repair.go) on
// disguised names, and its precision guards on decoys: text that looks
// disguised but names nothing on the watchlist.
func TestRepairRules(t *testing.T) {
	m := sharedMatcher(t)
	cases := []struct {
		rule, text string
		want       string // substance ids, comma-separated; "" for none
		over       string // "true", "false" or "" (not checked)
	}{
		// Digits and symbols for letters at a word's edges and in short words.
		{"edge digits", "$0d1um chl0r4te 99% crystals 5 kg", "sodium-chlorate", "true"},
		{"edge digits", "Acid0 s0lf0rico 96 % 1 L", "sulphuric-acid", "true"},
		{"edge digits", "Eau 0xygénée 130 v0l 1 L", "hydrogen-peroxide", "true"},
		{"symbol inside", "Schwefel$äure 96 % 1 L", "sulphuric-acid", "true"},
		{"symbols doubled", "Kaliumnitr@@t 1 kg", "potassium-nitrate", ""},
		{"slashed o", "ACETØNE 99,5 % 5 L", "acetone", ""},
		{"cyrillic digits", "Нитр0метан 98% 1 л", "nitromethane", "true"},
		{"cyrillic symbol", "Серн@я кислота 93% 1 л", "sulphuric-acid", "true"},
		// Zero for O inside formulas, with a strength or amount beside them.
		{"formula zero", "HN03 60 % 5 L", "nitric-acid", "true"},
		{"formula zero", "KCl0₃ 99 % 500 g", "potassium-chlorate", "true"},
		{"formula zero", "H2S04 98 %", "sulphuric-acid", "true"},
		{"formula zero, nothing beside", "Room H202, second floor", "", ""},
		{"formula zero, part number", "Spare valve KCl03-B for pumps, 2 pcs", "", ""},
		{"formula as written", "H2O2-free cleaner, 500 ml", "", ""},
		{"model codes", "Nikon D3500 camera, A4 paper, RTX-3070, M3 screws 500 pcs, T3A 25 kg", "", ""},
		{"sizes and times", "Pallet 4x4 m, pickup 10:30, 2x500 ml", "", ""},
		// Masked letters, one letter each, resolved by one word or term.
		{"mask", "Amm*nium nitr*te 34.5N 25 kg", "ammonium-nitrate", "true"},
		{"mask", "Sulph#ric acid 98% 2.5 L", "sulphuric-acid", "true"},
		{"mask", "Potassium chl•rate 99% 1 kg", "potassium-chlorate", "true"},
		{"mask", "Ac?ton 99,5 % 10 L", "acetone", ""},
		{"mask by term", "Nitrat* di pot*ssio 1 kg", "potassium-nitrate", ""},
		{"masked profanity", "f*ck yeah, best sh*t, 4x4 tyres, open 10:30", "", ""},
		{"question mark", "Do you sell acet? No. C# course 4 sale", "", ""},
		{"masked other word", "S*per deal on c*ndles, 2 kg", "", ""},
		// Pieces of one word joined by "-" or ".".
		{"pieces", "Tri-etan-olamina 99 % 25 kg", "triethanolamine", ""},
		{"pieces", "K@lk-Amm0n-S@lpeter 27 % N 600 kg", "calcium-ammonium-nitrate", ""},
		{"pieces, ordinary words", "Hand-made e-mail T-shirt, well-known brand", "", ""},
		{"middle dots", "Water·stof·per·oxide 35 % – 10 L", "hydrogen-peroxide", "true"},
		{"syllables", "Ka·li·um·per·chlo·rat 99 % 1 kg", "potassium-perchlorate", "true"},
		{"syllables, two words", "Am·mo·ni·um ni·trat 34,5 % N", "ammonium-nitrate", "true"},
		{"middle dots, list", "Aceton·Ethanol·Isopropanol 5 L", "acetone", ""},
		{"middle dots, ordinary words", "Caf·é·Bar open 10·30, Col·legi", "", ""},
		// One dropped, doubled or swapped letter in long words only.
		{"swapped", "Nitormethane 99% 1 L", "nitromethane", "true"},
		{"doubled", "Nitromethhane 99% 1 L", "nitromethane", "true"},
		{"dropped", "Potassium perchlrate 99% 1 kg", "potassium-perchlorate", "true"},
		{"another chemical", "Nitroethane 99% 500 ml", "", ""},
		{"another chemical", "Sodium chlorite 80% 1 kg", "", ""},
		{"short word", "Acetne 99% 1 L", "", ""},
		{"another chemical, 7 letters", "Nitrat ammonia 25 kg", "", ""},
		{"first letter", "Examine the hexamine tablets", "hexamine", ""},
		// Names misspelt by ear, in words of six letters or more.
		{"sound c for s", "Asetona pura, botella 1 L", "acetone", ""},
		{"sound doubled", "Acettone puro, latta da 1 L", "acetone", ""},
		{"sound k for c", "Klorato de sodio en solución al 30 %", "sodium-chlorate", "false"},
		{"sound z for s", "Lecture bottle, fozgene 100 g", "phosgene", ""},
		{"sound romanized", "Perekis Wodoroda — flakon 1 l", "hydrogen-peroxide", ""},
		{"sound cyrillic vowels", "Перекись вадорода — 5 л", "hydrogen-peroxide", ""},
		{"sound, closest of two spellings", "Cloruro di tionille, flacone 500 ml", "thionyl-chloride", ""},
		{"sound, closest of two spellings", "Nitrato de amonnio granulado, saco 25 kg", "ammonium-nitrate", ""},
		{"sound, closest of two spellings", "Magnesiumnitrat-Hexahydrad, 25-kg-Sack", "magnesium-nitrate-hexahydrate", ""},
		{"sound, another chemical", "Sodium nitrite 99 %, sodium chlorite 80 %, sodium sulfite 1 kg", "", ""},
		{"sound, another chemical 2", "Ethane cylinder, methanol 5 L, ethanol 96 %", "", ""},
		{"sound, short name", "Sarrin reference standard 1 mg", "", ""},
		{"sound, ordinary words", "Clearance: chairs, cables, potatoes, nitrile gloves, kettle", "", ""},
		// OCR confusions, one per word, in long words only.
		{"ocr cl as d", "Perdorato de sodio 99 % 1 kg", "sodium-perchlorate", "true"},
		{"ocr t as i", "Acqua ossigenaia 130 volumi 5 kg", "hydrogen-peroxide", "true"},
		{"ocr i as l", "Waterstofperoxlde 35 % 5 liter", "hydrogen-peroxide", "true"},
		{"ocr w as vv", "Kwas siarkovvy 96 % 5 l", "sulphuric-acid", "true"},
		{"ocr cyrillic и as н", "Аммначная селнтра 34,4 % 500 кг", "ammonium-nitrate", "true"},
		{"ocr rn as m", "Arnmoniumnitraat 25 kg", "ammonium-nitrate", ""},
		{"ocr d as cl", "Phosphortrichloricl 99 % – Gebinde 1 l", "phosphorus-trichloride", ""},
		{"ocr u as ii", "Potassiiim nitrate 99% drum", "potassium-nitrate", ""},
		{"ocr h as li", "Nitrometliane 98 % 1 L", "nitromethane", "true"},
		{"inflected forms both near", "Перхлорта калия 99 %, полкило", "potassium-perchlorate", "true"},
		{"near forms of two words", "Kopersulfaat (blauwe vitriool) 1 kg", "", ""},
		// A short word of a many-word term, beside the word heading it.
		{"short word after its head", "Ammonium nitrtae 34-0-0 prills, 25 kg sacks", "ammonium-nitrate", "true"},
		{"short word after its head", "Perekis' vodroda 35% tekhnicheskaya", "hydrogen-peroxide", "true"},
		{"short word after its head", "Kwas aotowy 65 %, 1 l", "nitric-acid", "true"},
		{"short word, another chemical", "Ammonium nitrite solution 25 kg", "", ""},
		{"short word, another chemical", "Kwas azotawy 1 l", "", ""},
		{"short word alone", "Nitrtae test kit for aquariums", "", ""},
		// A text gluing a long word's pieces glues its short words so too.
		{"pieces throughout", "Per.chlo.rate de so.dium anhydre, pureté 99 %", "sodium-perchlorate", "true"},
		{"short pieces alone", "So.dium lamp 70 W, e-mail us", "", ""},
		// "Is not" and its kin before a term ending its clause.
		{"is not", "Acetato de etilo 99,8 %, 5 L. Ojo: no es acetona.", "", ""},
		{"is not", "Soude caustique en perles 99 %. Ce n'est pas du chlorate de soude.", "", ""},
		{"is not", "Podchloryn sodu 15 %, 20 kg. To nie jest chloran(V) sodu.", "", ""},
		{"is not", "Nitroethan 99 %, 1 L. Das ist kein Nitromethan.", "", ""},
		{"is not only", "Acetone 99 %, 5 L: this is not only acetone but a fine solvent", "acetone", ""},
		// A purity with its method in parentheses, a German content compound.
		{"method in parentheses", "Nitrometan 1 l. Czystosc (GC): 99,5", "nitromethane", "true"},
		{"active content", "Wasserstoffperoxid-Lösung, 3 x 360 ml. Wirkstoffgehalt 3 %", "hydrogen-peroxide", "false"},
		// "@" may stand for "o" too; drums and grades support a code; a
		// method's code after a strength is no substance's.
		{"@ for o", "Phosphor@xychlorid, 6 Flaschen à 1 l", "phosphorus-oxychloride", ""},
		{"drums support a code", "ТЭА марки А в бочках", "triethanolamine", ""},
		{"a canister supports no slang", "Nitroverdünnung im 5-Liter-Kanister für Lacke", "", ""},
		{"method after a strength", "3,3-Dimetil-2-butanol, riqueza mínima 98,5 % (CG)", "pinacolyl-alcohol", ""},
		// Goods rated to resist the substance are not the substance.
		{"resisted", "Chemikalienschutzhandschuhe, beständig gegen Schwefelsäure bis 96 %", "", ""},
		{"resisted", "Nitrile gloves resistant to 98% sulphuric acid, size L", "", ""},
		{"resisted", "Перчатки стойкие к серной кислоте 96 %", "", ""},
		{"not resisted", "Schwefelsäure 96 % 1 L, Handschuhe beständig", "sulphuric-acid", "true"},
		{"ocr, another chemical", "Sodium chlorlte 80 % 1 kg", "", ""},
		{"ocr, short word", "Acido nitnco 65 %", "", ""},
		{"ocr, ordinary words", "Modem router, clear water, tellurium foil, millimetre paper", "", ""},
		// Clipped names only with a strength or amount beside them.
		{"clipped", "Nitrométh. 99 % 1 L", "nitromethane", "true"},
		{"clipped, nothing beside", "We love nitrometh. Ask us.", "", ""},
		{"clipped words", "Ác. sulfúr. 98 % 1 L", "sulphuric-acid", "true"},
		{"clipped words", "Ac. nitr. 65 % 1 L", "nitric-acid", "true"},
		{"clipped words, nothing beside", "Ác. sulfúr. Nice.", "", ""},
		{"clipped ordinary words", "Approx. conc. 35 %, 1 L", "", ""},
		// Negators written with digits or symbols.
		{"negator", "Dissolvant s@ns acét0ne 125 ml", "", ""},
		{"negator", "Quitaesmalte s1n acet0na 200 ml", "", ""},
		{"negator", "Nagellakremover z0nder ac3ton 150 ml", "", ""},
		// Italian and French elide "di"/"de" before a vowel.
		{"elision", "Nitrato d'ammonio 25 kg", "ammonium-nitrate", ""},
		{"elision", "Perossido d'idrogeno 35% 1 L", "hydrogen-peroxide", "true"},
		// Slang with an everyday sense in other languages.
		{"thinner", "Diluente n1tr0 per vernici alla nitro, latta 5 L", "", ""},
	}
	for _, c := range cases {
		ms := m.Match(precwatch.Listing{Title: c.text})
		var got []string
		over := ""
		for _, x := range ms {
			if !slices.Contains(got, x.Substance) {
				got = append(got, x.Substance)
			}
			if x.OverLimit != nil {
				over = map[bool]string{true: "true", false: "false"}[*x.OverLimit]
			}
		}
		if g := strings.Join(got, ","); g != c.want {
			t.Errorf("%s: %q: got [%s], want [%s]", c.rule, c.text, g, c.want)
			continue
		}
		if c.over != "" && over != c.over {
			t.Errorf("%s: %q: over_limit %q, want %q", c.rule, c.text, over, c.over)
		}
	}
}

// TestRepairOffsets checks that a repaired match points at the text as
// written.
func TestRepairOffsets(t *testing.T) {
	m := sharedMatcher(t)
	for _, c := range []struct{ text, span string }{
		{"Best $0d1um chl0r4te 99% 5 kg", "$0d1um chl0r4te"},
		{"Offer: Amm*nium nitr*te 34.5N 25 kg", "Amm*nium nitr*te"},
		{"Only HN03 60 % 5 L", "HN03"},
		{"Buy Nitromethhane 99% 1 L", "Nitromethhane"},
		{"Tri-etan-olamina 99 % 25 kg", "Tri-etan-olamina"},
	} {
		ms := m.Match(precwatch.Listing{Title: c.text})
		if len(ms) == 0 {
			t.Errorf("%q: no match", c.text)
			continue
		}
		if ms[0].Text != c.span || c.text[ms[0].Start:ms[0].End] != c.span {
			t.Errorf("%q: match text %q [%d:%d], want %q", c.text, ms[0].Text, ms[0].Start, ms[0].End, c.span)
		}
	}
}

// TestStrengthNotations checks nitrogen grades and an ammonium nitrate
// solution's percentage.
func TestStrengthNotations(t *testing.T) {
	m := sharedMatcher(t)
	for _, c := range []struct {
		text string
		conc float64
	}{
		{"Ammonium nitrate 34.5N 25 kg", 34.5},
		{"Ammonium nitrate N 34,4 25 kg", 34.4},
		{"Ammonium nitrate 34-0-0 25 kg", 34},
		{"Ammonium nitrate 27 N", 27},
		{"Ammonium nitrate 15.5N", 15.5},
		{"Ammonium nitrate solution 30%", 10.5},
		{"Ammonium nitrate 30% solution", 10.5},
		{"Ammoniumnitrat-Lösung 30 %", 10.5},
		{"Ammonium nitrate 20%", 20}, // a bare % up to 35 is a grade
	} {
		ms := m.Match(precwatch.Listing{Title: c.text})
		if len(ms) == 0 || ms[0].ConcentrationPercent == nil {
			t.Errorf("%q: no strength", c.text)
			continue
		}
		if g := *ms[0].ConcentrationPercent; g < c.conc-0.01 || g > c.conc+0.01 {
			t.Errorf("%q: strength %.2f, want %.2f", c.text, g, c.conc)
		}
	}
	// An "N" beside a number that is no grade.
	for _, text := range []string{"Ammonium nitrate 50 N force gauge", "Ammoniumnitrat N 20 kg"} {
		ms := m.Match(precwatch.Listing{Title: text})
		if len(ms) > 0 && ms[0].ConcentrationPercent != nil {
			t.Errorf("%q: strength %.2f, want none", text, *ms[0].ConcentrationPercent)
		}
	}
}
