package matchers_test

import (
	"slices"
	"testing"

	"github.com/precwatch/precwatch"
)

// TestOneStrengthPerListing checks that a strength stated once applies to
// the substance's other mentions, that a mention's own strength wins, and
// that every match states the alerting rule as its last reason.
func TestOneStrengthPerListing(t *testing.T) {
	m := sharedMatcher(t)
	type want struct {
		conc      float64 // -1: none
		alertable bool
		rule      string
	}
	for _, c := range []struct {
		name string
		l    precwatch.Listing
		want []want
	}{
		{"under in the title, named again", precwatch.Listing{Title: "Hydrogen peroxide 3% 1 L", Description: "Our hydrogen peroxide is food grade, ships fast."},
			[]want{{3, false, "no alert: at or under the limit (reported only)"}, {3, false, "no alert: at or under the limit, as stated elsewhere in the listing (reported only)"}}},
		{"over in the description", precwatch.Listing{Title: "Hydrogen peroxide, 5 L can", Description: "Hydrogen peroxide 35% w/w."},
			[]want{{35, true, "alerts: over the limit (strength stated elsewhere in the listing)"}, {35, true, "alerts: over the limit"}}},
		{"own strength wins", precwatch.Listing{Title: "Hydrogen peroxide 3%", Description: "Also hydrogen peroxide 35% in 5 L."},
			[]want{{3, false, "no alert: at or under the limit (reported only)"}, {35, true, "alerts: over the limit"}}},
		{"no strength", precwatch.Listing{Title: "Hydrogen peroxide, 5 L can"},
			[]want{{-1, true, "alerts: no strength stated"}}},
		{"no limit", precwatch.Listing{Title: "Thiodiglycol 99%, 1 L"},
			[]want{{99, true, "alerts: the regime sets no limit"}}},
		{"strength next to a CAS number alone", precwatch.Listing{Title: "CAS No. 7722-84-1 - 35 % - 10 L"},
			[]want{{35, true, "alerts: over the limit"}}},
		// The listing's only strength, stated apart from the name, counts
		// when it is over the limit, never to silence an alert.
		{"lone strength over the limit", precwatch.Listing{Title: "Kaliumperchlorat – 1 kg Dose", Description: "K-perc, 99.2% assay, -325 mesh. Versand in 2 Tagen."},
			[]want{{99.2, true, "alerts: over the limit (the listing's only strength, stated apart from the name)"}}},
		{"a nitrogen grade stated apart is the specification's", precwatch.Listing{Title: "Ammonium nitrate prills – 50 lb sack", Description: "Prilled, 34-0-0, i.e. 34% N. Farm pickup only."},
			[]want{{34, true, "alerts: over the limit (as the listing's specification states)"}}},
		{"lone strength under the limit is not taken", precwatch.Listing{Title: "Hydrogen peroxide – 5 L can", Description: "Diluted for you.\nAs sold: 3 %. Pickup only."},
			[]want{{-1, true, "alerts: no strength stated"}}},
		// A formulation's one strength is its active ingredient's, under
		// the limit too; one strength written two ways is one.
		{"a developer's strength, its ingredients naming the peroxide", precwatch.Listing{Title: "Developer cream 30 volume, 1 L", Description: "Creamy developer, 30 volume (9 %). Ingredients: Aqua, Hydrogen Peroxide, Cetearyl Alcohol. 1 L £6.95."},
			[]want{{9, false, "no alert: at or under the limit, the strength of the product whose ingredients name it (reported only)"}}},
		{"Russian ingredient list", precwatch.Listing{Title: "Оксид-крем 6 % — флакон 1000 мл", Description: "Окислительная эмульсия 6 % (20 vol). Состав: aqua, перекись водорода, цетеариловый спирт."},
			[]want{{6, false, "no alert: at or under the limit, the strength of the product whose ingredients name it (reported only)"}}},
		{"a bundle's contents are no ingredients", precwatch.Listing{Title: "Pond care bundle", Description: "Bundle contents: net, sponges and a 5 L can of hydrogen peroxide. We beat any price by 5%."},
			[]want{{-1, true, "alerts: no strength stated"}}},
		{"two strengths, neither taken", precwatch.Listing{Title: "Nitromethane – 1 gal", Description: "Two blends.\nOne at 20 %, one at 98 %."},
			[]want{{-1, true, "alerts: no strength stated"}}},
		// A product page's specification states the strength apart from
		// the name, among figures that are not strengths; under the limit
		// it silences the alert, as a stated strength does.
		{"specification under the limit", precwatch.Listing{Title: "Hydrogen Peroxide pond grade — 1 L | 5 L",
			Description: "Pond care | Concentration: 3 % / 6 % / 9 % (select) | Rated 4.8/5 · 92 % recommend | Customers also bought: Potassium permanganate 99 % 100 g | Stock level: 31 % left"},
			[]want{{9, false, "no alert: at or under the limit, as the listing's specification states (reported only)"}}},
		{"specification over the limit, a list with words between", precwatch.Listing{Title: "Acide sulfurique batterie ou technique — bidon 1 L",
			Description: "Concentration : 37 % (batterie) · 96 % (technique) | Note 4,4 (96) | −30 % sur le 2e article"},
			[]want{{96, true, "alerts: over the limit (as the listing's specification states)"}}},
		{"specification in Russian", precwatch.Listing{Title: "Серная кислота техническая — канистра 10 л",
			Description: "Массовая доля: 92,5 % · 94 % (выбрать) | НДС 20 % | Рейтинг 4,4"},
			[]want{{94, true, "alerts: over the limit (as the listing's specification states)"}}},
		{"a nitrogen content heads a fertiliser's strength", precwatch.Listing{Title: "Ammonium nitrate, granulated — 500 kg bags",
			Description: "Lot 0912: only 16 % of the lot left | Analysis: Total nitrogen 33.5 % N · Granule 2–5 mm | prices ex VAT 21 %"},
			[]want{{33.5, true, "alerts: over the limit (as the listing's specification states)"}}},
		{"a content word before a pack is no specification", precwatch.Listing{Title: "Hydrogen peroxide – 12 x 1 L",
			Description: "Content: 12 x 1 L bottles | 4.5 ★ · 96 % recommend"},
			[]want{{-1, true, "alerts: no strength stated"}}},
		// A subject's strength read anywhere but beside its name in the
		// title is the subject's (a poster's text, a stray figure).
		{"a poster's text states the strength", precwatch.Listing{Title: "Hydrogen peroxide safety poster A2 — laminated",
			Description: "Poster text: 'HYDROGEN PEROXIDE 35 % — OXIDISER — CORROSIVE' | Bulk −15 % on 10+"}, []want{}},
		{"a course with a stray figure", precwatch.Listing{Title: "Curso online «Transporte ADR de ácido nítrico» — 12 h",
			Description: "Plazas: 25 % ocupadas | Certificado incluido"}, []want{}},
		{"another chemical's strength is not the lone one", precwatch.Listing{Title: "Battery acid — 4 x 25 L carboys",
			Description: "Density 1.28 g/cm³ | Customers also bought: Deionised water 25 L, Hydrochloric acid 33 % 25 L"},
			[]want{{-1, true, "alerts: no strength stated"}}},
		{"two substances, no lone strength", precwatch.Listing{Title: "Acetone and hydrogen peroxide, 5 L each", Description: "Clearance.\nBatch tested: 99 %."},
			[]want{{-1, true, "alerts: the regime sets no limit"}, {-1, true, "alerts: no strength stated"}}},
	} {
		ms := m.Match(c.l)
		if len(ms) != len(c.want) {
			t.Errorf("%s: %d matches, want %d: %+v", c.name, len(ms), len(c.want), ms)
			continue
		}
		for i, w := range c.want {
			x := ms[i]
			conc := -1.0
			if x.ConcentrationPercent != nil {
				conc = *x.ConcentrationPercent
			}
			if conc != w.conc || x.Alertable() != w.alertable || len(x.Reasons) == 0 || x.Reasons[len(x.Reasons)-1] != w.rule {
				t.Errorf("%s: match %d %q: strength %v, alertable %v, reasons %q; want %v, %v, last reason %q",
					c.name, i, x.Text, conc, x.Alertable(), x.Reasons, w.conc, w.alertable, w.rule)
			}
			if !slices.Contains(x.Reasons, w.rule) {
				t.Errorf("%s: reasons %q lack %q", c.name, x.Reasons, w.rule)
			}
		}
	}
}
