package matchers_test

import (
	"reflect"
	"testing"

	"github.com/precwatch/precwatch"
	"github.com/precwatch/precwatch/fixtures"
)

// FuzzMatch checks, for any title and description (valid UTF-8 or not),
// that Match does not panic, that every span lies inside its field with
// Text == field[Start:End], and that the same input gives the same matches.
func FuzzMatch(f *testing.F) {
	for _, l := range fixtures.Listings() {
		f.Add(l.Title, l.Description)
	}
	f.Add("h.y.d.r.o.g.e.n p.e.r.o.x.i.d.e 35%", "4c3t0n3 perchIorate 10 x 1 L")
	f.Add("\xff\xfeNitro\xc3", "AN \u200b34.5% N\xe2\x82")
	f.Add("Ѕаrіn", "1,000,000,000,000,000,000,000,000 kg 9999999999999999999999%")
	// A fold holding a space ("½" → "1 2") in a run of single characters.
	f.Add("1 x 2 ½ kg", "a b c ½ d")
	f.Add("pot.ass.ium chl.or.ate -a-b-c. x.y.z.w", "@mm0n1um @ @a Aммиaчнaя ceлитpa huile de ricin, Hatch, NM 87501")
	// A symbol that folds to a letter ("Ⓩ" → "Z") once looped for ever.
	f.Add("Ⓩ", "aluminium powder, 1 kg Ⓩ")
	// The repair pass: masks, edge digits, formulas, pieces, clipped names.
	f.Add("Amm*nium nitr*te 34.5N • $0d1um chl0r4te", "HN03 60 % Nitrométh. 99 % Tri-etan-olamina s1n acet0na ?*#_ 0.")
	f.Add("KCl0₃-B Nitrat* di pot*ssio Nitromethhane", "Пер0кись Серн@я ACETØNE ***** @@@@ $$$ 1a2b3c4d5e6f")
	// A clipped name in a two-byte script (once a panic: the repaired
	// word's offsets were counted in runes, its text in bytes).
	f.Add("НИТРО. 98 %", "ДИМЕТИЛМЕТ. 98 %, Тиодиг. 1 kg")
	m := sharedMatcher(f)
	f.Fuzz(func(t *testing.T, title, desc string) {
		l := precwatch.Listing{Title: title, Description: desc, Site: "s", URL: "u"}
		ms := m.Match(l)
		for _, x := range ms {
			field := title
			if x.Field == "description" {
				field = desc
			} else if x.Field != "title" {
				t.Fatalf("field %q", x.Field)
			}
			if x.Start < 0 || x.End > len(field) || x.Start >= x.End {
				t.Fatalf("span [%d:%d] outside %s of %d bytes", x.Start, x.End, x.Field, len(field))
			}
			if x.Text != field[x.Start:x.End] {
				t.Fatalf("Text %q != field[%d:%d] %q", x.Text, x.Start, x.End, field[x.Start:x.End])
			}
			if x.Score < 0 || x.Score > 100 {
				t.Fatalf("score %v outside [0,100]", x.Score)
			}
		}
		if again := m.Match(l); !reflect.DeepEqual(again, ms) {
			t.Fatalf("not deterministic:\n%+v\n%+v", ms, again)
		}
	})
}
