package matchers_test

import (
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"

	"github.com/precwatch/precwatch"
	"github.com/precwatch/precwatch/matchers"
)

var (
	cfgOnce    sync.Once
	cfgMatcher *matchers.Matcher
	cfgErr     error
)

// sharedMatcher compiles configs/watchlist.yaml once for the package.
func sharedMatcher(t testing.TB) *matchers.Matcher {
	t.Helper()
	cfgOnce.Do(func() {
		w, err := matchers.LoadWatchlist("../configs/watchlist.yaml")
		if err != nil {
			cfgErr = err
			return
		}
		cfgMatcher, cfgErr = matchers.Compile(w)
	})
	if cfgErr != nil {
		t.Fatal(cfgErr)
	}
	return cfgMatcher
}

func TestNormalize(t *testing.T) {
	tests := []struct{ in, want string }{
		{"Hydrogen  Peroxide", "hydrogen peroxide"},
		{"Peróxido de hidrógeno", "peroxido de hidrogeno"},
		{"Peroxyde d’hydrogène", "peroxyde d hydrogene"},
		{"Schwefelsäure", "schwefelsaure"},
		{"Weiß", "weiss"},
		{"ﬁne ﬂake", "fine flake"},                 // NFKC ligatures
		{"ＨＹＤＲＯＧＥＮ　ＰＥＲＯＸＩＤＥ", "hydrogen peroxide"}, // full-width letters and space
		{"H₂O₂", "h2o2"},
		{"  --eau-forte!! ", "eau forte"},
		{"7722-84-1", "7722 84 1"},
		{"Nitro\u00admethane", "nitromethane"},     // soft hyphen joins
		{"Hydro\u200bgen", "hydrogen"},             // zero-width space joins
		{"e\u0301cole", "ecole"},                   // combining accent dropped
		{"Ѕаrіn", "sarin"},                         // Cyrillic homoglyphs
		{"Hydrоgen Ηydrogen", "hydrogen hydrogen"}, // Cyrillic о, Greek Eta
		{"ᎪᏟᎬᎢՕոᎬ ՏᎪᎡᎥո", "acetone sarin"},         // Cherokee and Armenian (UTS #39 confusables)
		{"ᏢᎬᎡՕⲬᎥᎠᎬ", "peroxide"},                   // with a Coptic khi
		{"Перекиcь водорода", "перекись водорода"}, // Latin c in a Cyrillic word
		{"h y d r o g e n   p e r o x i d e", "hydrogen peroxide"},
		{"n.i.t.r.o.m.e.t.h.a.n.e 98", "nitromethane 98"},
		{"a b c", "a b c"}, // too short a run to join
		{"Amm0nium n1trate", "ammonium nitrate"},
		{"Trieth@nolamine $odium", "triethanolamine sodium"},
		{"CH3NO2 C7H13NO kno3", "ch3no2 c7h13no kno3"}, // formulas keep digits
		{"5L 500ml", "5l 500ml"},
		{"", ""},
	}
	for _, tt := range tests {
		if got := matchers.Normalize(tt.in); got != tt.want {
			t.Errorf("Normalize(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

// TestOffsets checks that Start/End/Text point into the original text,
// whatever the normalisation did to the bytes before and inside the match.
func TestOffsets(t *testing.T) {
	m := sharedMatcher(t)
	tests := []struct{ title, text string }{
		{"Très pur — Peróxido de hidrógeno 30%", "Peróxido de hidrógeno"},
		{"Straße: Schwefelsäure 96%", "Schwefelsäure"},
		{"ＨＹＤＲＯＧＥＮ　ＰＥＲＯＸＩＤＥ ３５％", "ＨＹＤＲＯＧＥＮ　ＰＥＲＯＸＩＤＥ"},
		{"ﬁne: H₂O₂ 50%", "H₂O₂"},
		{"Nitro\u00admethane 98%", "Nitro\u00admethane"},
	}
	for _, tt := range tests {
		ms := m.Match(precwatch.Listing{Title: tt.title})
		if len(ms) != 1 {
			t.Errorf("%q: %d matches, want 1: %+v", tt.title, len(ms), ms)
			continue
		}
		got := ms[0]
		if got.Text != tt.text || tt.title[got.Start:got.End] != tt.text || got.Field != "title" {
			t.Errorf("%q: match %q [%d:%d] in %s, want %q", tt.title, got.Text, got.Start, got.End, got.Field, tt.text)
		}
	}
}

func TestValidCAS(t *testing.T) {
	tests := []struct {
		in   string
		want bool
	}{
		{"7722-84-1", true},
		{"7722841", true},
		{"50782-69-9", true},
		{"2387495-99-8", true},
		{"7722-84-2", false},
		{"7722-8-41", false},
		{"772284-1", false},
		{"abc-de-f", false},
		{"", false},
	}
	for _, tt := range tests {
		if got := matchers.ValidCAS(tt.in); got != tt.want {
			t.Errorf("ValidCAS(%q) = %v, want %v", tt.in, got, tt.want)
		}
	}
}

// summary is one match as "substance kind text conc over" for table tests.
func summary(ms []precwatch.Match) string {
	var parts []string
	for _, m := range ms {
		conc, over := "-", "-"
		if m.ConcentrationPercent != nil {
			conc = fmt.Sprintf("%g", *m.ConcentrationPercent)
		}
		if m.OverLimit != nil {
			over = fmt.Sprint(*m.OverLimit)
		}
		parts = append(parts, fmt.Sprintf("%s/%s/%q/%s/%s", m.Substance, m.Kind, m.Text, conc, over))
	}
	return strings.Join(parts, " ")
}

func TestMatchTable(t *testing.T) {
	m := sharedMatcher(t)
	tests := []struct{ name, title, want string }{
		// CAS numbers
		{"cas hyphens", "CAS 7722-84-1", `hydrogen-peroxide/cas/"7722-84-1"/-/-`},
		{"cas no hyphens", "cas no. 7722841", `hydrogen-peroxide/cas/"7722841"/-/-`},
		{"cas wrong check digit", "CAS 7722-84-2", ``},
		{"cas inside part number", "part 17722-84-1", ``},
		{"cas full-width", "CAS ７７２２－８４－１", `hydrogen-peroxide/cas/"７７２２－８４－１"/-/-`},
		{"cas full-width wrong check digit", "CAS ７７２２－８４－２", ``},
		// names sharing one head noun
		{"shared head", "Trimethyl, triethyl, dimethyl and diethyl phosphite", `trimethyl-phosphite/name/"Trimethyl"/-/- triethyl-phosphite/name/"triethyl"/-/- dimethyl-phosphite/name/"dimethyl"/-/- diethyl-phosphite/name/"diethyl phosphite"/-/-`},
		{"shared head salts", "Potassium and sodium nitrate, 25 kg each", `potassium-nitrate/name/"Potassium"/-/- sodium-nitrate/name/"sodium nitrate"/-/-`},
		{"shared head first", "Nitrato di potassio e di sodio 25 kg", `potassium-nitrate/name/"Nitrato di potassio"/-/- sodium-nitrate/name/"sodio"/-/-`},
		{"shared head not a comma alone", "Calcium, ammonium nitrate 25 kg", `ammonium-nitrate/name/"ammonium nitrate"/-/-`},
		{"shared head unlisted", "Sodium and potassium chloride", ``},
		{"shared head first with amounts", "Селитра: аммиачная 50 кг, кальциевая 25 кг", `ammonium-nitrate/synonym/"Селитра: аммиачная"/-/- calcium-nitrate/synonym/"кальциевая"/-/-`},
		{"shared head first with strengths", "Kwas azotowy 65 %, siarkowy 96 %", `nitric-acid/name/"Kwas azotowy"/65/true sulphuric-acid/name/"siarkowy"/96/true`},
		{"shared head first, next item unlisted", "Saletra amonowa 50 kg, worki 25 kg", `ammonium-nitrate/synonym/"Saletra amonowa"/-/-`},
		{"shared head of a name read in another order", "perchlorat de sodium 99 %, nitrate de calcuim", `sodium-perchlorate/name/"perchlorat de sodium"/99/true`},
		// new wordings (batch 12)
		{"contain negated es", "Quitaesmalte que no contiene acetona – 200 ml", ``},
		{"contain negated fr", "Coloration végétale – ne contient pas d'eau oxygénée", ``},
		{"contain negated ru", "Краска, не содержит перекиси водорода", ``},
		{"geen", "Nagellakremover – bevat geen aceton, 150 ml", ``},
		{"contains", "Contains acetone 99%", `acetone/name/"acetone"/99/-`},
		{"umlaut spelled", "Rauchende Salpetersaeure – 1 L", `nitric-acid/name/"Salpetersaeure"/-/-`},
		{"small capitals", "ʜʏᴅʀᴏɢᴇɴ ᴘᴇʀᴏxɪᴅᴇ 50% – 25 kg", `hydrogen-peroxide/name/"ʜʏᴅʀᴏɢᴇɴ ᴘᴇʀᴏxɪᴅᴇ"/50/true`},
		{"regional indicators", "🇳 🇮 🇹 🇷 🇴 🇲 🇪 🇹 🇭 🇦 🇳 🇪 98%", `nitromethane/name/"🇳 🇮 🇹 🇷 🇴 🇲 🇪 🇹 🇭 🇦 🇳 🇪"/98/true`},
		{"flags", "Made in 🇩🇪 🇫🇷", ``},
		// a fertiliser's bare nitrogen grade after its name
		{"bare grade", "Ammonitrate 33,5 big bag 500 kg", `ammonium-nitrate/synonym/"Ammonitrate"/33.5/true`},
		{"bare grade abbreviation", "AN 34,4 en big-bag de 500 kg", `ammonium-nitrate/abbreviation/"AN"/34.4/true`},
		{"bare grade under", "Saletra amonowa 27 – worek 25 kg", `ammonium-nitrate/synonym/"Saletra amonowa"/27/true`},
		{"bare integer after abbreviation", "AN 33 big bag", ``},
		{"bare grade is a price", "AN 25,50 € per bag", ``},
		{"bare grade is an amount", "Ammonitrate 30 kg", `ammonium-nitrate/synonym/"Ammonitrate"/-/-`},
		{"bare grade out of range", "Ammonitrate 12,5 big bag", `ammonium-nitrate/synonym/"Ammonitrate"/-/-`},
		{"french year", "garantie 1 an 25,5 cm", ``},
		// ion charges inside a formula
		{"ionic formula", "NH₄⁺NO₃⁻ prills 1 t", `ammonium-nitrate/formula/"NH₄⁺NO₃"/-/-`},
		{"ions apart", "Na⁺ Cl⁻ table salt", ``},
		// batch 13's general fixes
		{"free of de", "Modellkraftstoff – frei von Nitromethan, 1 L", ``},
		{"free of list es", "Tinte – libre de amoníaco y de agua oxigenada", ``},
		{"free of elided fr", "Vernis – exempt d'acétone et de toluène", ``},
		{"free of it", "Sverniciatore – privo di acetone e diclorometano", ``},
		{"free of nl", "Ontkalker – vrij van zwavelzuur, 1 L", ``},
		{"free of charge", "Delivery free of charge, acetone 99% 5 L", `acetone/name/"acetone"/99/-`},
		{"zero percent before", "0 % acetone nail polish remover", ``},
		{"zero percent after", "Очиститель – ацетон: 0 %", ``},
		{"absent after", "Maska – peroksid vodoroda otsutstvuet", ``},
		{"contain negated ru-latn", "Zhidkost – ne soderzhit atsetona", ``},
		{"acronym defined", "Acrylonitrile (AN) monomer 99.9% – 160 kg drum", ``},
		{"acronym defined cyrillic", "ТЭА (тетраэтиламмоний хлорид) 98 % – 100 г", ``},
		{"acronym of the substance", "Ammonium nitrate (AN) 34.4% 25 kg", `ammonium-nitrate/name/"Ammonium nitrate"/34.4/true ammonium-nitrate/abbreviation/"AN"/34.4/true`},
		{"can after a volume", "RACE FUEL 99% (1 GAL CAN / 5 GAL PAIL)", ``},
		{"can by weight", "25 kg CAN 27% N", `calcium-ammonium-nitrate/abbreviation/"CAN"/-/-`},
		{"code glued to a model number", "DMP-30 epoxy accelerator – 1 kg bottle", ``},
		{"code glued to its strength", "NM-98% 1 gal", `nitromethane/abbreviation/"NM"/98/true`},
		{"rn for m", "NITRORNETHANE 99% 1 GAL", `nitromethane/name/"NITRORNETHANE"/99/true`},
		// feed attributes and mixed scripts (batch 20)
		{"attribute none de", "Pinselreiniger mild | Aceton: Nein|Inhalt: 250 ml", ``},
		{"attribute none pl", "Pasta wybielająca | Nadtlenek wodoru: brak | 75 ml", ``},
		{"attribute none en", "Acetone = none, water based", ``},
		{"attribute number", "Acetone: No. 5 drum 99 %", `acetone/name/"Acetone"/99/-`},
		{"attribute yes", "Aceton: Ja | 99 % 5 l", `acetone/name/"Aceton"/99/-`},
		{"negator in mixed scripts", "Жидкость бeз aцeтoнa, 100 мл", ``},
		// numbers spelled in words before a percentage
		{"spelled en", "Thirty-five percent hydrogen peroxide, one gallon", `hydrogen-peroxide/name/"hydrogen peroxide"/35/true`},
		{"spelled de", "Wasserstoffperoxid fünfunddreißig Prozent, 1 l", `hydrogen-peroxide/name/"Wasserstoffperoxid"/35/true`},
		{"spelled fr", "Acide nitrique quatre-vingt-dix-huit pour cent, 1 L", `nitric-acid/name/"Acide nitrique"/98/true`},
		{"spelled es", "Agua oxigenada treinta y cinco por ciento, 1 L", `hydrogen-peroxide/synonym/"Agua oxigenada"/35/true`},
		{"spelled it", "Acqua ossigenata trentacinque per cento, 1 L", `hydrogen-peroxide/synonym/"Acqua ossigenata"/35/true`},
		{"spelled ru", "Перекись водорода тридцать пять процентов, 1 л", `hydrogen-peroxide/name/"Перекись водорода"/35/true`},
		{"spelled under", "Hydrogen peroxide three percent, one liter", `hydrogen-peroxide/name/"Hydrogen peroxide"/3/false`},
		{"spelled, no percentage", "One acetone drum, 99 % pure", `acetone/name/"acetone"/99/-`},
		{"por ciento in digits", "Agua oxigenada 35 por ciento, 1 L", `hydrogen-peroxide/synonym/"Agua oxigenada"/35/true`},
		{"a code as a grade's name", "PERCHLOR 99.9% stabilised — 25 L drum | DC grade", ``},
		{"HP grade", "Argon 5.0 HP grade, 50 L cylinder", ``},
		{"O for zero in a strength", "Eau oxygénée 13O volumes — flacon 1 L", `hydrogen-peroxide/synonym/"Eau oxygénée"/39/true`},
		{"O for zero under the limit", "Eau oxygénée 1O vol. — 250 ml", `hydrogen-peroxide/synonym/"Eau oxygénée"/3/false`},
		{"O after a code", "Acetone, model A13O, 5 L", `acetone/name/"Acetone"/-/-`},
		{"entity strength", "Ácido sulfúrico 98&#37; — garrafa 25 kg", `sulphuric-acid/name/"Ácido sulfúrico"/98/true`},
		{"entity space", "Kwas azotowy 65&nbsp;% cz.d.a. 1 l", `nitric-acid/name/"Kwas azotowy"/65/true`},
		{"entity in a word", "Acet&#111;ne 99 % 5 L", `acetone/name/"Acet&#111;ne"/99/-`},
		{"euro for e", "Ac€tone puro 99,5 %, 10 L – 38 €", `acetone/name/"Ac€tone"/99.5/-`},
		{"inverted exclamation for i", "Ácido nítr¡co al 68 %", `nitric-acid/name/"Ácido nítr¡co"/68/true`},
		{"symbols alone", "Brand® Cola © 2024, 5 € each", ``},
		{"negative squared letters", "🅽🅸🆃🆁🅾🅼🅴🆃🅷🅰🅽🅴 – 5 L", `nitromethane/name/"🅽🅸🆃🆁🅾🅼🅴🆃🅷🅰🅽🅴"/-/-`},
		{"negative squared in formula", "H2🅾️2 35% food grade", `hydrogen-peroxide/formula/"H2🅾️2"/35/true`},
		{"per mille", "Hydrogen peroxide 350‰ m/m", `hydrogen-peroxide/name/"Hydrogen peroxide"/35/true`},
		{"percent adjective pl", "Nadtlenek wodoru 3-procentowy – 1 L", `hydrogen-peroxide/name/"Nadtlenek wodoru"/3/false`},
		{"percent adjective ru", "35-процентная перекись водорода", `hydrogen-peroxide/name/"перекись водорода"/35/true`},
		{"grams per litre", "Hydrogen peroxide 500 g/L in 1,000 L IBCs", `hydrogen-peroxide/name/"Hydrogen peroxide"/50/true`},
		{"density is no strength", "Acetone 5 L, density 0.79 g/ml", `acetone/name/"Acetone"/-/-`},
		{"rating is no strength", "Potassium chlorate – vendor rating 99.1% – 1 kg", `potassium-chlorate/name/"Potassium chlorate"/-/-`},
		{"genitive ru", "раствор серной кислоты 10% 1 л", `sulphuric-acid/synonym/"серной кислоты"/10/false`},
		{"accusative ru", "Продам аммиачную селитру 25 кг", `ammonium-nitrate/synonym/"аммиачную селитру"/-/-`},
		{"genitive pl", "Roztwór kwasu siarkowego 96% 1 l", `sulphuric-acid/synonym/"kwasu siarkowego"/96/true`},
		{"instrumental ru", "Торгуем азотной кислотой 65 %, канистра 5 л", `nitric-acid/synonym/"азотной кислотой"/65/true`},
		{"prepositional ru", "Скидка на нитрометане 98% от 4 л", `nitromethane/synonym/"нитрометане"/98/true`},
		{"instrumental ru latin", "Torguem azotnoy kislotoy 65 %, 5 l", `nitric-acid/synonym/"azotnoy kislotoy"/65/true`},
		{"instrumental pl", "Handel kwasem siarkowym 96% – 1 l", `sulphuric-acid/synonym/"kwasem siarkowym"/96/true`},
		{"locative pl", "Rabat w saletrze amonowej 34,4 % N – worek 25 kg", `ammonium-nitrate/synonym/"saletrze amonowej"/34.4/true`},
		{"instrumental pl masculine", "Butelka z nadtlenkiem wodoru 3% do włosów", `hydrogen-peroxide/synonym/"nadtlenkiem wodoru"/3/false`},
		{"locative pl masculine", "Pytaj o cenę przy kwasie azotowym 65 % (1 l)", `nitric-acid/synonym/"kwasie azotowym"/65/true`},
		{"translit ye", "Kaliyevaya selitra 25 kg", `potassium-nitrate/synonym/"Kaliyevaya selitra"/-/-`},
		{"hill formula", "ClKO4 99.5% – 2 kg", `potassium-perchlorate/formula/"ClKO4"/99.5/true`},
		{"kp with context", "KP 99.5% – 5 lb, 325 mesh", `potassium-perchlorate/abbreviation/"KP"/99.5/true`},
		{"kp alone", "KP ration duty roster", ``},
		{"molarity under the limit", "Nitric acid 0.1 M volumetric standard, 1 L", `nitric-acid/name/"Nitric acid"/0.63/false`},
		{"molarity glued", "Sulphuric acid 2M – 1 L", `sulphuric-acid/name/"Sulphuric acid"/19.61/true`},
		{"mol per litre", "0.1 mol/L nitric acid, certified, 1 L", `nitric-acid/name/"nitric acid"/0.63/false`},
		{"mmol per litre", "Hydrogen peroxide 500 mmol/l – 1 L", `hydrogen-peroxide/name/"Hydrogen peroxide"/1.7/false`},
		{"mol per litre with a soft sign", "Sernaya kislota 1 mol'/l, rastvor 1 l", `sulphuric-acid/synonym/"Sernaya kislota"/9.81/false`},
		{"tolerance keeps the nominal value", "Acido solforico 37 ± 1 % – tanica 5 L", `sulphuric-acid/name/"Acido solforico"/37/true`},
		{"tolerance written +/-", "Hydrogen peroxide 35 +/- 0.5 % – 10 kg", `hydrogen-peroxide/name/"Hydrogen peroxide"/35/true`},
		{"claims are no strengths", "Kaliumperchloraat 500 g. 100 % origineel, 99 % positieve beoordelingen, verzendverzekering 3 %", `potassium-perchlorate/name/"Kaliumperchloraat"/-/-`},
		{"solubility is no strength", "Nitrato amónico cristalino, 100 % soluble, saco de 25 kg", `ammonium-nitrate/synonym/"Nitrato amónico"/-/-`},
		{"moisture across a bound", "Kaliumchlorat, Gehalt: mindestens 99 % · Feuchte: max. 0,2 %", `potassium-chlorate/name/"Kaliumchlorat"/99/true`},
		{"a list past asides on another component", "Nitromethane 5 % (oil 18 %) $28 · 10 % (oil 18 %) $31 · 25 % (oil 16 %) $39", `nitromethane/name/"Nitromethane"/25/true`},
		{"an aside ends no list, another noun does", "Nitromethane 5 % (oil 18 %), castor oil 20 %", `nitromethane/name/"Nitromethane"/5/false`},
		{"Dutch of between strengths", "Zwavelzuur 10 % of 35 %, 1 L", `sulphuric-acid/name/"Zwavelzuur"/35/true`},
		{"a share of the stock", "Sulphuric acid 1 L, 31 % of the stock sold", `sulphuric-acid/name/"Sulphuric acid"/-/-`},
		// A claim heads every way of writing a percentage, not only "%".
		{"VAT in per cent words", "Hydrogen peroxide 1 L bottle, VAT: 20 per cent included", `hydrogen-peroxide/name/"Hydrogen peroxide"/-/-`},
		{"VAT as a percent adjective", "Nadtlenek wodoru 1 l, VAT: 23-procentowy", `hydrogen-peroxide/name/"Nadtlenek wodoru"/-/-`},
		{"moisture by weight across a bound", "Wasserstoffperoxid 1 L, Feuchte: max. 5 Gew.-%", `hydrogen-peroxide/name/"Wasserstoffperoxid"/-/-`},
		{"molarity cyrillic", "Азотная кислота 1 М раствор, 1 л", `nitric-acid/name/"Азотная кислота"/6.3/true`},
		{"normality", "Salpetersäure 2 N, Maßlösung – 1 l", `nitric-acid/name/"Salpetersäure"/12.6/true`},
		{"normality of a diprotic acid", "Standardised 1 N sulfuric acid volumetric solution", `sulphuric-acid/synonym/"sulfuric acid"/4.9/false`},
		{"concentrated molarity caps", "Sulphuric acid 18 M, 2.5 L", `sulphuric-acid/name/"Sulphuric acid"/100/true`},
		{"a metre is no molarity", "Nitric acid 65 % – hose 1 m", `nitric-acid/name/"Nitric acid"/65/true`},
		{"nitrogen grade is no normality", "Ammonium nitrate N 34 – 25 kg", `ammonium-nitrate/name/"Ammonium nitrate"/34/true`},
		{"normality needs an acid", "Potassium chlorate 1 N – 1 kg", `potassium-chlorate/name/"Potassium chlorate"/-/-`},
		{"a unit's denominator is no code", "Hydrogen peroxide 500 g/L 1 L", `hydrogen-peroxide/name/"Hydrogen peroxide"/50/true`},
		{"codes after a slash", "GB/GD reference standards, 1 ml ampoules", `sarin/abbreviation/"GB"/-/- soman/abbreviation/"GD"/-/-`},
		{"spec table assay", "Nitric acid | Assay (%): 65 | 1 L", `nitric-acid/name/"Nitric acid"/65/true`},
		{"spec table content", "Hydrogen peroxide, Content, %: 35, 1 L", `hydrogen-peroxide/name/"Hydrogen peroxide"/35/true`},
		{"spec table gehalt", "Wasserstoffperoxid Gehalt (%) 35 – 1 l", `hydrogen-peroxide/name/"Wasserstoffperoxid"/35/true`},
		{"GC area percent", "Nitromethane, GC area% 99.3 – 1 L", `nitromethane/name/"Nitromethane"/99.3/true`},
		{"mass fraction", "Nitromethane, mass fraction ≥ 0.98 (GC), 1 L", `nitromethane/name/"Nitromethane"/98/true`},
		{"purity at least", "Reinheit ≥ 99 Salpetersäure, 1 l", `nitric-acid/name/"Salpetersäure"/99/true`},
		{"another's content", "Hydrogen peroxide | Water content (%): 0.5 | 1 L", `hydrogen-peroxide/name/"Hydrogen peroxide"/-/-`},
		{"content without a percent sign", "Hydrogen peroxide 1 L, content: 12 x 1 L", `hydrogen-peroxide/name/"Hydrogen peroxide"/-/-`},
		{"spaced words with a short one", "N i t r a t o  d e  p o t a s i o – 1 kg", `potassium-nitrate/name/"N i t r a t o  d e  p o t a s i o"/-/-`},
		{"dotted words with a short one", "P.e.r.c.h.l.o.r.a.t.e d.e p.o.t.a.s.s.i.u.m 99%", `potassium-perchlorate/name/"P.e.r.c.h.l.o.r.a.t.e d.e p.o.t.a.s.s.i.u.m"/99/true`},
		{"dotted words with an elision", "N.i.t.r.a.t.e d'a.m.m.o.n.i.u.m 34,5 % N – sac 25 kg", `ammonium-nitrate/name/"N.i.t.r.a.t.e d'a.m.m.o.n.i.u.m"/34.5/true`},
		{"pack size after a spaced name", "n i t r o m e t h a n e 1 L", `nitromethane/name/"n i t r o m e t h a n e"/-/-`},
		{"short spaced words alone", "S i z e  S M L  c o t t o n tee", ``},
		{"nitroethane in Spanish is no misspelling", "Nitroetano 98 % – 500 ml", ``},
		{"nitroethane in German", "Nitroethan 98 %, 1 l", ``},
		{"Spanish name split at its parts", "Nitro metano 98% – 1 galón", `nitromethane/name/"Nitro metano"/98/true`},
		{"a code after a number is its unit", "Console PS5 825 GB + 2 pads", ``},
		{"a code before a model number", "Payment terminal Verifone VX 520 3G", ``},
		{"a code before an amount", "GB 1000 ml, fumigant grade", `sarin/abbreviation/"GB"/-/-`},
		{"an assay range past 100", "Sodium perchlorate, ACS, 98.0–102.0% – 500 g", `sodium-perchlorate/name/"Sodium perchlorate"/100/true`},
		{"noun first in Russian", "Селитра калиевая 5 кг", `potassium-nitrate/synonym/"Селитра калиевая"/-/-`},
		{"noun first in Russian Latin", "Selitra kalievaya, meshok 25 kg", `potassium-nitrate/synonym/"Selitra kalievaya"/-/-`},
		{"kw. for kwas", "kw. siarkowy 96% 5l", `sulphuric-acid/synonym/"kw. siarkowy"/96/true`},
		{"a battery's charge is no strength", "HP ProBook 450 G8, i5, accu 85 %", ``},
		{"a remover written apart", "Salpeter-Entferner Sprühflasche 1 L für Klinker", ``},
		{"a locant left out", "metildietanolammina, fusto 200 kg", `methyldiethanolamine/name/"metildietanolammina"/-/-`},
		{"a family member in German", "Methylphosphonsäure 98 %, 25 g", `cwc2-b4-methyl-ethyl-propyl-phosphorus/name/"Methylphosphonsäure"/98/-`},
		{"a basis of measurement names nothing", "Hydrogen peroxide 50 %, free acid (as H2SO4) 0.04 % max", `hydrogen-peroxide/name/"Hydrogen peroxide"/50/true`},
		{"payment terms are no strength", "Ammonium nitrate prilled, 1000 kg bags; T/T 30% deposit and 70% against B/L", `ammonium-nitrate/name/"Ammonium nitrate"/-/-`},
		{"a trade name in French", "Sel de Berthollet 99 % cristaux — sac 25 kg", `potassium-chlorate/synonym/"Sel de Berthollet"/99/true`},
		{"a trade name in Italian", "Olio di vetriolo 96 % — damigiana 30 kg", `sulphuric-acid/synonym/"Olio di vetriolo"/96/true`},
		{"a sign naming the substance", "Door sign 'NITRIC ACID STORE – staff only' 300×200", ``},
		{"a German poster compound", "Sicherheitsposter „Wasserstoffperoxid – GHS“ A2", ``},
		{"a Dutch sign compound", "Waarschuwingsbord 'Salpeterzuur' 20x30 cm", ``},
		// A lot of such goods is written in the plural.
		{"signs in the plural", "Lotto 7: cartelli smaltati «Acido nitrico» e «Acido solforico»", ``},
		{"a German plural compound", "Konvolut: 5 Emailschilder «Schwefelsäure»", ``},
		{"Russian posters", "Лот: плакаты «Азотная кислота», 3 шт.", ``},
		{"labels in the plural", "Lot de 6 étiquettes anciennes « Acide nitrique »", ``},
		{"a plural after the name is still for sale", "Acido nitrico 65 %, 1 L + cartelli di sicurezza", `nitric-acid/name/"Acido nitrico"/65/true`},
		{"Dutch name of Chile saltpetre", "Chilisalpeter 10 kg", `sodium-nitrate/synonym/"Chilisalpeter"/-/-`},
		{"French name of pinacolyl alcohol", "Alcool pinacolylique 98 %, 25 mL", `pinacolyl-alcohol/name/"Alcool pinacolylique"/98/-`},
		{"an Italian poster", "Cartellone didattico «Acido nitrico» anni '60", ``},
		{"two languages in one name", "Lab clearance: potassium perchlorat, sodium nitrat", `potassium-perchlorate/name/"potassium perchlorat"/-/- sodium-nitrate/name/"sodium nitrat"/-/-`},
		{"two languages across a connector", "Chlorat de soude en solution 25 % – 5 L", `sodium-chlorate/name/"Chlorat de soude"/25/false`},
		{"two languages across an elision", "Nitrat d'amonium 33,5 % N – big bag", `ammonium-nitrate/name/"Nitrat d'amonium"/33.5/true`},
		{"two languages, no entry", "ammonium perchlorat 1 kg", ``},
		{"two languages inside a longer name", "calcium ammonium nitrat 27 % N", ``},
		{"a trade name's word reversed is no pair", "Filled lead-acid battery, 12 V 74 Ah", ``},
		{"a list's items are no pair", "Perchlorat, sodium bicarbonate and citric acid", ``},
		{"a negated pair", "sans chlorat de soude", ``},
		{"a Dutch sign diminutive", "Veiligheidsbordje «Zwavelzuur — bijtend» 20 × 30 cm", ``},
		{"a Dutch table sells the acid", "Salpeterzuur 65 %, 1 L — met veiligheidsbordje", `nitric-acid/name/"Salpeterzuur"/65/true`},
		{"test strips after the name", "Hydrogen peroxide test strips 0–100 mg/l, 100 pcs", ``},
		{"a plant after the name", "Job: shift chemist – Sulphuric Acid Plant, Teesside", ``},
		{"a course in Russian", "Курс «Перевозка опасных грузов: аммиачная селитра», 16 ч", ``},
		{"tickets to a place so named", "Entradas Parque Nitrato – pase familiar", ``},
		{"a voucher", "Voucher: Acetone Bay weekend for two", ``},
		{"a safety poster after the name", "Hydrogen peroxide safety poster A2, laminated, 3 designs", ``},
		{"a hardback", "Hardback: a history of ammonium nitrate fertiliser, 2nd ed.", ``},
		{"a stock level is no strength", "Hydrogen peroxide — 1 L | Stock 96 % | 92 % recommend", `hydrogen-peroxide/name/"Hydrogen peroxide"/-/-`},
		{"a place so named", "Saltpeter Hotel – 2 nights, breakfast", ``},
		{"a food so named", "Niter kibbeh, spiced butter, 250 g", ``},
		{"the salt by its old name stays", "Niter 99 %, 1 kg bag", `potassium-nitrate/synonym/"Niter"/99/-`},
		{"goods over the limit stay", "Nitric acid 65 % 1 L — safety poster included", `nitric-acid/name/"Nitric acid"/65/true`},
		{"a poster after the goods stays", "Hydrogen peroxide 35% 5 L + free GHS poster", `hydrogen-peroxide/name/"Hydrogen peroxide"/35/true`},
		{"a lecture bottle is goods", "Phosgene in lecture bottle – 100 g", `phosgene/name/"Phosgene"/-/-`},
		// batch 20: records, enamel signs, empty bottles, salts in the genitive
		{"a record so titled", "Vinilo LP «Ácido Sulfúrico» — Los Corrosivos (1986)", ``},
		{"an enamel sign", "Plaque émaillée ancienne « ACIDE SULFURIQUE — DANGER » 40 × 20 cm", ``},
		{"an empty bottle it", "Bottiglia antica vuota «ACIDO SOLFORICO» farmacia", ``},
		{"a sign over the limit stays goods", "Acide sulfurique 96 % 1 L + plaque de danger offerte", `sulphuric-acid/name/"Acide sulfurique"/96/true`},
		{"a salt in the genitive pl", "Cytrynian magnezu w proszku, 500 g", ``},
		{"a salt in the genitive pl 2", "Węglan magnezu w proszku 250 g, kreda", ``},
		{"the metal powder pl", "Magnez w proszku 99 %, 500 g", `magnesium-powder/name/"Magnez w proszku"/99/-`},
		{"not containing", "Nail polish remover, the remover is not containing acetone, 200 ml", ``},
		{"dépourvu de", "Gel dentaire dépourvu de peroxyde d'hydrogène, 10 ml", ``},
		{"pozbawione", "Paski wybielające pozbawione nadtlenku wodoru, 14 szt.", ``},
		{"not based on", "Remover voor nagellak, niet op basis van aceton — 150 ml", ``},
		{"не входит в состав", "Жидкость для снятия лака: ацетон не входит в состав, 150 мл", ``},
		// batch 23: what the product is not, stated apart; strengths and VAT in Russian and Polish
		{"not X, set apart", "Нитроэтан ч., 99 %, флакон 500 мл. Не нитрометан, не путайте.", ``},
		{"nie X, set apart", "Trietyloamina cz.d.a. 99 %. Uwaga: trietyloamina, nie trietanoloamina.", ``},
		{"not to be confused with", "Nitroethane 99 %, 500 ml, not to be confused with nitromethane", ``},
		{"не путать с", "Сульфат аммония 25 кг — не путать с селитрой аммиачной", ``},
		{"not only X", "We sell not only acetone but other solvents, 5 L", `acetone/name/"acetone"/-/-`},
		{"не менее", "Нитрометан, не менее 98 %, 1 л", `nitromethane/name/"Нитрометан"/98/true`},
		{"проц.", "Нитрометан 98 проц., бочка 200 л", `nitromethane/name/"Нитрометан"/98/true`},
		{"proc.", "Kwas azotowy 65 proc., 1 l", `nitric-acid/name/"Kwas azotowy"/65/true`},
		{"protsentnaya", "Perekis' vodoroda 6-protsentnaya, 5 l", `hydrogen-peroxide/synonym/"Perekis' vodoroda"/6/false`},
		{"НДС is no strength", "Азотная кислота, канистры 35 кг. Цены с НДС 20 %.", `nitric-acid/name/"Азотная кислота"/-/-`},
		{"ł without its stroke", "Pyl aluminiowy ciemny, 1 kg", `aluminium-powder/synonym/"Pyl aluminiowy"/-/-`},
		{"a herd of horses", "Tabun loshadey — kartina maslom, 60×80", ``},
		{"a girl's name", "Платье для девочки «Зарина», р. 122", ``},
		{"an organic hydroperoxide", "Cumene hydroperoxide 80%, 1 kg", ``},
		{"TeX subscripts", "H_2SO_4 96% – 2,5 L", `sulphuric-acid/formula/"H_2SO_4"/96/true`},
		{"TeX subscript at the end", "NaClO_3 99 % 1 kg", `sodium-chlorate/formula/"NaClO_3"/99/true`},
		{"TeX subscript after a group", "Ca(NO_3)_2 – 25 kg", `calcium-nitrate/formula/"Ca(NO_3)_2"/-/-`},
		{"underscores in a CAS number", "Reagent CAS_7722_84_1 35%", `hydrogen-peroxide/cas/"7722_84_1"/35/true`},
		{"underscore before a long number", "Order SKU_12345 sodium nitrite 1 kg", ``},
		{"glued by tilde", "Schwefel~säure 96 % – 10 L", `sulphuric-acid/name/"Schwefel~säure"/96/true`},
		{"glued by plus", "Ni+tro+me+ta+no al 90 %", `nitromethane/name/"Ni+tro+me+ta+no"/90/true`},
		{"list by plus", "Aceton+Ethanol 5 L", `acetone/name/"Aceton"/-/-`},
		// batch 14's general fixes
		{"keycap digits", "Pool shock base CAS 7️⃣7️⃣2️⃣2️⃣-8️⃣4️⃣-1️⃣ 35 %", `hydrogen-peroxide/cas/"7️⃣7️⃣2️⃣2️⃣-8️⃣4️⃣-1"/35/true`},
		{"parenthesized letters", "⒜⒞⒠⒯⒪⒩⒠ puro – tanica 10 L", `acetone/name/"⒜⒞⒠⒯⒪⒩⒠"/-/-`},
		{"lisu capitals", "ꓠꓲꓔꓣꓲꓚ ꓮꓚꓲꓓ 68 % – 2.5 L", `nitric-acid/name/"ꓠꓲꓔꓣꓲꓚ ꓮꓚꓲꓓ"/68/true`},
		{"pre-reform spelling", "Бутыль 20 л: сѣрная кислота техническая 92 %", `sulphuric-acid/name/"сѣрная кислота"/92/true`},
		{"code across a parenthesis", "perossido di idrogeno 3 % (1 L) 2 €", `hydrogen-peroxide/name/"perossido di idrogeno"/3/false`},
		{"person", "Dr A. Soman – chemistry tutoring, 10 sessions", ``},
		{"person with given name", "Tutoring with Dr Anil Soman, 10 × 1 h", ``},
		{"without shortened", "Gel polish remover pads w/o acetone – 200 pcs", ``},
		{"does not carry es", "Quitaesmalte que no lleva acetona (250 ml)", ``},
		{"exempt it", "Solvente per unghie, esente da acetone, 125 ml", ``},
		{"etching", "Eau-forte originale de Daubigny, signée", ``},
		{"eau-forte with context", "Eau-forte 65 % 1 L", `nitric-acid/abbreviation/"Eau-forte"/65/true`},
		{"polish oxidation state", "Kwas azotowy(V) cz.d.a. 65 % w butelce litrowej", `nitric-acid/synonym/"Kwas azotowy(V"/65/true`},
		{"another oxidation state", "5 L jerrican of sodium chlorate(I), 12.5 % av. Cl", ``},
		{"another oxidation state pl", "Kwas azotowy(III) 1 l", ``},
		{"derivative genitive", "Ацетоксим (оксим ацетона), 98 %, банка 500 г", ``},
		{"soft sign apostrophe", "Dva meshka kal'tsievoy selitry po 40 kg", `calcium-nitrate/synonym/"kal'tsievoy selitry"/-/-`},
		{"pharmacopoeia latin", "Hydrogenii peroxidum 30 per centum (Ph. Eur.) – 1 L", `hydrogen-peroxide/synonym/"Hydrogenii peroxidum"/30/true`},
		{"per cento", "Acido nitrico al 65 per cento – 1 L", `nitric-acid/name/"Acido nitrico"/65/true`},
		{"ppm content", "5 L jug, H2O2 content 350,000 ppm", `hydrogen-peroxide/formula/"H2O2"/35/true`},
		{"ppm impurity", "Hydrogen peroxide, stabiliser 200 ppm, 1 L", `hydrogen-peroxide/name/"Hydrogen peroxide"/-/-`},
		{"nines", "Potassium perchlorate, 3N purity – 500 g", `potassium-perchlorate/name/"Potassium perchlorate"/99.9/true`},
		{"grams per hundred", "Peróxido de hidrógeno, 6 g/100 g", `hydrogen-peroxide/name/"Peróxido de hidrógeno"/6/false`},
		{"line-end hyphen", "Perchlo-\nrate de potassium, 1 kg", `potassium-perchlorate/name/"Perchlo-\nrate de potassium"/-/-`},
		{"per cent", "Hydrogen Peroxide 35 per cent Food Grade", `hydrogen-peroxide/name/"Hydrogen Peroxide"/35/true`},
		{"per cent off", "Nitromethane 20 per cent off", `nitromethane/name/"Nitromethane"/-/-`},
		{"gewichtsprocent", "Waterstofperoxide 5 gewichtsprocent – 1 L", `hydrogen-peroxide/name/"Waterstofperoxide"/5/false`},
		{"middle dot decimal", "Ammonium nitrate 34·5 N, 25 kg", `ammonium-nitrate/name/"Ammonium nitrate"/34.5/true`},
		{"gost name", "Калий хлорноватокислый, ч. – 500 г", `potassium-chlorate/synonym/"Калий хлорноватокислый"/-/-`},
		{"translit j", "Natrievaja selitra – 50 kg", `sodium-nitrate/synonym/"Natrievaja selitra"/-/-`},
		{"translit x", "Xlorpikrin 99% – 50 kg", `chloropicrin/synonym/"Xlorpikrin"/99/-`},
		{"anion head", "Idrossido di alluminio in polvere – 1 kg", ``},
		{"anion head elided", "Oxyde d'aluminium en poudre", ``},
		{"joined words", "#sodiumchlorate #99percent", `sodium-chlorate/name/"sodiumchlorate"/99/true`},
		// identifiers in trade and hazmat text (batch 11)
		{"un year", "Organic cotton tote — UN 2015 goals print", ``},
		{"onu year", "Affiche du Sommet ONU 2014 sur le climat – 50 × 70 cm", ``},
		{"un year labelled", "N° ONU 1942 indiqué sur la fiche de données de sécurité", `ammonium-nitrate/un/"ONU 1942"/-/-`},
		{"un year hazard class", "UN 1942, hazard class 5.1, 50 lb bag", `ammonium-nitrate/un/"UN 1942"/-/-`},
		{"un sticker folded", "Виниловая наклейка, надпись UN 1942", ``},
		{"un label compound", "Gevaarsetiket UN 1942 – rol 250 stuks", ``},
		{"un then strength", "UN 1830 – 96 %, 35 kg", `sulphuric-acid/un/"UN 1830"/96/true`},
		{"cas negated", "Acetone-free formula, no CAS 67-64-1 in the list", ``},
		{"cas label no", "Acetone, CAS No. 67-64-1", `acetone/name/"Acetone"/-/- acetone/cas/"67-64-1"/-/-`},
		{"abbreviation other cas", "DMP plasticiser 99.5 % — CAS 131-11-3", ``},
		{"abbreviation own cas", "TEA 99% — CAS 102-71-6", `triethanolamine/abbreviation/"TEA"/99/- triethanolamine/cas/"102-71-6"/99/-`},
		{"packing group", "Kalisalpeter | Klasse 5.1, VG III | 25 kg", `potassium-nitrate/synonym/"Kalisalpeter"/-/-`},
		{"folded context word", "ТЭА технический", `triethanolamine/abbreviation/"ТЭА"/-/-`},
		{"cyrillic abbreviation", "ТЭА 99 % – бочка 230 кг", `triethanolamine/abbreviation/"ТЭА"/99/-`},
		{"strength of next item by id", "UN 1485 — 25 kg | UN 1489 — 25 kg | UN 1496 sodium chlorite 80 % — 50 kg", `potassium-chlorate/un/"UN 1485"/-/- potassium-perchlorate/un/"UN 1489"/-/-`},
		{"strength of next item by name", "Aceton (UN 1090), 10 L | Nitromethaan (UN 1261), 5 L | Ethanol 96 %, 5 L", `acetone/name/"Aceton"/-/- acetone/un/"UN 1090"/-/- nitromethane/name/"Nitromethaan"/-/- nitromethane/un/"UN 1261"/-/-`},
		{"strength after qualifier", "Hydrogen Peroxide, Food Grade 35%", `hydrogen-peroxide/name/"Hydrogen Peroxide"/35/true`},
		// a pack multiplier glued to a formula
		{"formula pack", "KNO3x5kg bag, prills", `potassium-nitrate/formula/"KNO3"/-/-`},
		{"formula pack strength", "KClO4x1kg 99%", `potassium-perchlorate/formula/"KClO4"/99/true`},
		{"formula other tail", "KNO3xyz", ``},
		{"leet not pack", "n1tr0x5", ``},
		// negators glued by a hyphen, products against a substance
		{"non hyphen", "Non-acetone nail varnish remover x6", ``},
		{"anti hyphen", "Traitement anti-salpêtre 5 L", ``},
		{"przeciw", "Środek przeciw saletrze 1 l", ``},
		{"remover compound", "Salpeterentferner für Mauerwerk 5 L", ``},
		{"stain compound", "Fassadenreiniger gegen Salpeterflecken und Ausblühungen, 1 L", ``},
		{"efflorescence compound", "Middel tegen salpeteruitslag op baksteen, 1 L", ``},
		// a name of several words runs on into another word (batch 27)
		{"merch shirt", "T-shirt « H₂O₂ » molécule — coton bio", ``},
		{"merch mug", "Chemistry mug “ACETONE” 11 oz", ``},
		{"polish sign", "Tablica BHP „KWAS SIARKOWY” — PCV 30 × 20 cm", ``},
		{"test strips compound", "Wasserstoffperoxid-Teststreifen 0–100 mg/l, 100 Stk.", ``},
		{"empty bottle french", "Flacon de pharmacie ancien vide « Acide nitrique », XIXe", ``},
		{"sous vide", "Sachet sous vide acétone 5 L", `acetone/name/"acétone"/-/-`},
		{"vide-grenier", "Vide-grenier : acétone, bidon de 5 L", `acetone/name/"acétone"/-/-`},
		{"class name beside its kinds", "twee salpeters: Chilisalpeter en Kalksalpeter, 25 kg", `sodium-nitrate/synonym/"Chilisalpeter"/-/- calcium-nitrate/synonym/"Kalksalpeter"/-/-`},
		{"class name alone", "Salpeter 1 kg", `potassium-nitrate/synonym/"Salpeter"/-/-`},
		// a head first, shared with the words listed after it
		{"head first pl", "Kwas azotowy i siarkowy 1 l", `nitric-acid/name/"Kwas azotowy"/-/- sulphuric-acid/name/"siarkowy"/-/-`},
		{"head first ru", "Селитра аммиачная и кальциевая 50 кг", `ammonium-nitrate/synonym/"Селитра аммиачная"/-/- calcium-nitrate/synonym/"кальциевая"/-/-`},
		{"head first molecular", "Hydrogen peroxide and cyanide test kit", `hydrogen-peroxide/name/"Hydrogen peroxide"/-/-`},
		{"acid adjective", "Schwefelsaure Tonerde 17 % Al2O3, Sack 25 kg", ``},
		{"acid noun", "Schwefelsaure 96 %, 1 L", `sulphuric-acid/name/"Schwefelsaure"/96/true`},
		{"portuguese without", "Gel dentífrico sem nitrato de potássio, 75 ml", ``},
		{"multiword runs on", "Chlorek cyjanurylu 99 %, 500 g", ``},
		{"multiword inflected", "Chlorek cyjanu 99 %", `cyanogen-chloride/synonym/"Chlorek cyjanu"/99/-`},
		{"hyphen not negator", "Acetone, non-toxic 5 L", `acetone/name/"Acetone"/-/-`},
		{"plus separates", "Wasserstoffperoxid 30 % 1 L + 3 % Apothekenflasche", `hydrogen-peroxide/name/"Wasserstoffperoxid"/30/true`},
		{"slang solvent", "Rozpuszczalnik nitro 5 l", ``},
		// trade names with potasse, soude, chaux
		{"nitrate de chaux", "Nitrate de chaux 25 kg", `calcium-nitrate/synonym/"Nitrate de chaux"/-/-`},
		{"nitrato de cal", "Nitrato de cal 25 kg", `calcium-nitrate/synonym/"Nitrato de cal"/-/-`},
		{"nitrate de potasse", "nitrate de potasse 2 sacs", `potassium-nitrate/synonym/"nitrate de potasse"/-/-`},
		// EC and UN numbers
		{"ec", "EC 231-765-0, 35 %, 1 L", `hydrogen-peroxide/ec/"231-765-0"/35/true`},
		{"ec einecs", "EINECS: 231-818-8 — 25 kg", `potassium-nitrate/ec/"231-818-8"/-/-`},
		{"ec in a longer number", "Part 231-765-01", ``},
		{"ec digits only", "Item 2317650", ``},
		{"un", "UN 2014, 35 %, 5 L", `hydrogen-peroxide/un/"UN 2014"/35/true`},
		{"un glued", "UN2015 oxidizer 50%", `hydrogen-peroxide/un/"UN2015"/50/true`},
		{"un nr", "UN-Nr. 1261, 1 L", `nitromethane/un/"UN-Nr. 1261"/-/-`},
		{"un no", "UN No. 1489, 1 kg", `potassium-perchlorate/un/"UN No. 1489"/-/-`},
		{"onu", "N° ONU 1090, bidon 5 L", `acetone/un/"ONU 1090"/-/-`},
		{"oon", "ООН 2031, 1 л", `nitric-acid/un/"ООН 2031"/-/-`},
		{"un lower case", "un 2014 modèle", ``},
		{"un five digits", "UN 20145", ``},
		{"un shared", "UN 1828, 1 L", ``},
		{"un labels", "Dangerous-goods labels UN 1942 / class 5.1, roll of 500", ``},
		{"un placard", "Warntafel UN 1090, Aluminium", ``},
		// concentration forms
		{"pct", "Hydrogen peroxide 35%", `hydrogen-peroxide/name/"Hydrogen peroxide"/35/true`},
		{"pct space", "Hydrogen peroxide 35 %", `hydrogen-peroxide/name/"Hydrogen peroxide"/35/true`},
		{"pct ww", "Hydrogen peroxide 35 % w/w", `hydrogen-peroxide/name/"Hydrogen peroxide"/35/true`},
		{"wt pct", "Hydrogen peroxide 50 wt% – 30 kg drum", `hydrogen-peroxide/name/"Hydrogen peroxide"/50/true`},
		{"wt dot pct", "Hydrogen peroxide 8 wt.% 1 L", `hydrogen-peroxide/name/"Hydrogen peroxide"/8/false`},
		{"Gew.-%", "Salpetersäure 65 Gew.-%, 1 L", `nitric-acid/name/"Salpetersäure"/65/true`},
		{"at", "Nitric acid @ 98%", `nitric-acid/name/"Nitric acid"/98/true`},
		{"slang supplement", "Nitro-Tech whey 100% — 2.27kg", ``},
		{"slang pre-workout", "Nitro pre-workout 100%, 300 g", ``},
		{"slang fuel", "Nitro 98% 1 gal", `nitromethane/abbreviation/"Nitro"/98/true`},
		{"plus pct", "Potassium chlorate, ACS reagent, 99+%", `potassium-chlorate/name/"Potassium chlorate"/99/true`},
		{"plus slang", "KClO3 99+ 1kg", `potassium-chlorate/formula/"KClO3"/99/true`},
		{"plus slang pure", "Nitromethane 99+ pure", `nitromethane/name/"Nitromethane"/99/true`},
		{"plus age", "Nitromethane 18+ only", `nitromethane/name/"Nitromethane"/-/-`},
		{"plus record", "Nitromethane 1 L, 99+ sales", `nitromethane/name/"Nitromethane"/-/-`},
		{"plus hundred", "Nitromethane 100+ sold", `nitromethane/name/"Nitromethane"/-/-`},
		{"plus amount", "Hydrogen peroxide 95+ L", `hydrogen-peroxide/name/"Hydrogen peroxide"/-/-`},
		{"all list", "KClO3 / KClO4 / NaClO3 — 1kg each, all 99%", `potassium-chlorate/formula/"KClO3"/99/true potassium-perchlorate/formula/"KClO4"/99/true sodium-chlorate/formula/"NaClO3"/99/true`},
		{"each list", "KClO4 and NaClO3, two jars, 99% each", `potassium-perchlorate/formula/"KClO4"/99/true sodium-chlorate/formula/"NaClO3"/99/true`},
		{"jeweils", "Wasserstoffperoxid und Salpetersäure, jeweils 60 %", `hydrogen-peroxide/name/"Wasserstoffperoxid"/60/true nitric-acid/name/"Salpetersäure"/60/true`},
		{"own strength stays", "Hydrogen peroxide 6% and nitromethane, both 98%", `hydrogen-peroxide/name/"Hydrogen peroxide"/6/false nitromethane/name/"nitromethane"/98/true`},
		{"purity after", "Nitromethane 98% purity", `nitromethane/name/"Nitromethane"/98/true`},
		{"purity before", "Nitromethane, purity 98%", `nitromethane/name/"Nitromethane"/98/true`},
		{"purity no sign", "Nitromethane, purity: 99, 1 L", `nitromethane/name/"Nitromethane"/99/true`},
		{"technical grade", "Sulphuric acid technical grade 68%", `sulphuric-acid/name/"Sulphuric acid"/68/true`},
		{"before", "35% hydrogen peroxide", `hydrogen-peroxide/name/"hydrogen peroxide"/35/true`},
		{"decimal comma", "Salpetersäure 2,5 %", `nitric-acid/name/"Salpetersäure"/2.5/false`},
		{"range", "Peroxyde d'hydrogène 30-35 %", `hydrogen-peroxide/name/"Peroxyde d'hydrogène"/35/true`},
		{"vol", "Hydrogen peroxide 50 vol", `hydrogen-peroxide/name/"Hydrogen peroxide"/15/true`},
		{"volumes", "Hydrogen peroxide 130 volumes", `hydrogen-peroxide/name/"Hydrogen peroxide"/39/true`},
		{"vol under", "Hydrogen peroxide 20 vol", `hydrogen-peroxide/name/"Hydrogen peroxide"/6/false`},
		{"AN N", "Ammonium nitrate 34.5% N", `ammonium-nitrate/name/"Ammonium nitrate"/34.5/true`},
		{"AN nitrogen", "Ammonium nitrate 33.5 % nitrogen", `ammonium-nitrate/name/"Ammonium nitrate"/33.5/true`},
		{"AN purity", "Ammonium nitrate 99%", `ammonium-nitrate/name/"Ammonium nitrate"/34.65/true`},
		{"AN npk", "Ammonium nitrate 34-0-0", `ammonium-nitrate/name/"Ammonium nitrate"/34/true`},
		{"list max", "Hydrogen peroxide 3%, 12% and 35%", `hydrogen-peroxide/name/"Hydrogen peroxide"/35/true`},
		{"variant forms", "Chlorate de sodium — Forme : solution 25 % | cristaux 99 %", `sodium-chlorate/name/"Chlorate de sodium"/99/true`},
		{"variant forms after", "Sodium chlorate 25 % solution / 99 % crystals", `sodium-chlorate/name/"Sodium chlorate"/99/true`},
		{"another item's share", "Nitromethane 10 % solution, 90 % methanol", `nitromethane/name/"Nitromethane"/10/false`},
		{"discount", "10% off Hydrogen peroxide", `hydrogen-peroxide/name/"Hydrogen peroxide"/-/-`},
		{"discount after", "Hydrogen peroxide 20% off", `hydrogen-peroxide/name/"Hydrogen peroxide"/-/-`},
		{"no strength", "Potassium chlorate 1 kg", `potassium-chlorate/name/"Potassium chlorate"/-/-`},
		// another compound named around the term
		{"organic group", "tert-Butyl hydroperoxide 70%", ``},
		// CAS index names of an acid's salts and esters
		{"index name of a salt", "Sulfuric acid, diammonium salt – 25 kg", ``},
		{"index name of an ester salt", "Sulfuric acid, monododecyl ester, sodium salt 1 kg", ``},
		{"charged cation", "Nitric acid, copper(2+) salt (2:1) 500 g", ``},
		{"a list, not an index name", "Nitric acid, rock salt, borax", `nitric-acid/name/"Nitric acid"/-/-`},
		// a shop's policy naming what it does not sell
		{"never ship list", "Shipping: we never ship acetone, H2O2 or any acids.", ``},
		{"do not sell list", "We do not sell KNO3, chlorates or nitromethane, don't ask", ``},
		{"don't ship such as", "we don't ship hazardous goods such as acetone", ``},
		{"not the verb's object", "We don't ship on Sundays, acetone 99% 5 L", `acetone/name/"acetone"/99/-`},
		{"next sentence", "Never ship without tracking. Acetone 99% 5 L", `acetone/name/"Acetone"/99/-`},
		// a formula in lower case keeps its digits
		{"lower-case formula", "nh4no3 prills 25kg", `ammonium-nitrate/formula/"nh4no3"/-/-`},
		// a powder coating is paint
		{"powder-coated", "Aluminium powder-coated bike frame 54cm", ``},
		{"coated grade after a comma", "Aluminium powder, coated grade 1 kg", `aluminium-powder/synonym/"Aluminium powder"/-/-`},
		// a name is never read across a list's separators
		{"nutrients listed", "Potassium, nitrate, phosphate fertiliser 10 kg", ``},
		{"alternatives", "Kalium / Nitrat Dünger", ``},
		{"shorter term inside a list item", "Calcium, ammonium nitrate 25 kg", `ammonium-nitrate/name/"ammonium nitrate"/-/-`},
		// German and Dutch salt names with the cation apart, or cut into syllables
		{"cation apart", "Kalium Nitrat 1 kg", `potassium-nitrate/name/"Kalium Nitrat"/-/-`},
		{"cation apart nl", "Waterstof peroxide 35 %, 5 L", `hydrogen-peroxide/name/"Waterstof peroxide"/35/true`},
		{"compound apart before its class word", "Salpeter säure 53% 1 Liter", `nitric-acid/name/"Salpeter säure"/53/true`},
		{"compound apart nl", "Zwavel zuur 96 % – 5 L", `sulphuric-acid/name/"Zwavel zuur"/96/true`},
		{"compound apart before a multiplying prefix", "Phosphor trichlorid 99 %, 1 l", `phosphorus-trichloride/name/"Phosphor trichlorid"/99/-`},
		{"the first part alone", "Salpeter, 1 kg Sack", `potassium-nitrate/synonym/"Salpeter"/-/-`},
		{"syllables then a long piece", "Am-mo-nium-nitraat 34,5 % N – zak 25 kg", `ammonium-nitrate/name/"Am-mo-nium-nitraat"/34.5/true`},
		{"no organic group", "Hydroperoxide 35%, 1 L", `hydrogen-peroxide/synonym/"Hydroperoxide"/35/true`},
		{"family member", "N,N-Diisopropylaminoethanol 98%, 250 mL", `cwc2-b11-aminoethane-2-ols/synonym/"N,N-Diisopropylaminoethanol"/98/-`},
		{"AN fittings", "-6 AN fittings kit, 10 pcs", ``},
		{"other sentence", "Nitric acid. Delivery 99% on time", `nitric-acid/name/"Nitric acid"/-/-`},
		{"two substances", "Sulfuric acid 98%, nitric acid 2%", `sulphuric-acid/synonym/"Sulfuric acid"/98/true nitric-acid/name/"nitric acid"/2/false`},
		{"nearest owner", "Acetone 99.5% 5L, potassium chlorate 1 kg", `acetone/name/"Acetone"/99.5/- potassium-chlorate/name/"potassium chlorate"/-/-`},
		// formulas
		{"formula", "h2o2 35%", `hydrogen-peroxide/formula/"h2o2"/35/true`},
		{"formula subscript", "H₂O₂ 35%", `hydrogen-peroxide/formula/"H₂O₂"/35/true`},
		{"formula kclo3", "KClO3 99%", `potassium-chlorate/formula/"KClO3"/99/true`},
		// word boundaries and compounds
		{"banana", "banana AN bread", ``},
		{"sarinade", "sarinade recipe", ``},
		{"german compound", "Ammoniumnitratdünger 27%", `ammonium-nitrate/name/"Ammoniumnitrat"/27/true`},
		{"short prefix no compound", "Sarinfoo", ``},
		{"acid compound is not the salt", "Salpetersyre 65%", ``},
		{"suffix makes another compound", "Thiodiglycolic acid 98%", ``},
		{"acid adjective names a salt", "schwefelsaures Ammoniak 21 % N", ``},
		{"acid adjective, masculine", "Salpetersaurer Kalk, 25 kg", ``},
		{"acid plural is the acid", "Salpetersäuren 65 %", `nitric-acid/name/"Salpetersäure"/65/true`},
		{"acid with its own compound", "Schwefelsäurelösung 96 %", `sulphuric-acid/name/"Schwefelsäure"/96/true`},
		{"longest wins", "white fuming nitric acid 98%", `nitric-acid/synonym/"white fuming nitric acid"/98/true`},
		// A "% N" is no strength for a substance measured by weight.
		{"longest wins across substances", "Calcium ammonium nitrate 27% N", `calcium-ammonium-nitrate/name/"Calcium ammonium nitrate"/-/-`},
		// multilingual
		{"de", "Wasserstoffperoxid 12 %", `hydrogen-peroxide/name/"Wasserstoffperoxid"/12/false`},
		{"fr", "Chlorate de sodium 99%", `sodium-chlorate/name/"Chlorate de sodium"/99/true`},
		{"es", "Ácido sulfúrico 98%", `sulphuric-acid/name/"Ácido sulfúrico"/98/true`},
		{"es unaccented", "acido nitrico 65%", `nitric-acid/name/"acido nitrico"/65/true`},
		// abbreviations
		{"abbr with strength", "AN 34.5% N", `ammonium-nitrate/abbreviation/"AN"/34.5/true`},
		{"abbr with quantity", "TEA 25 kg drum", `triethanolamine/abbreviation/"TEA"/-/-`},
		{"abbr before", "25kg CAN", `calcium-ammonium-nitrate/abbreviation/"CAN"/-/-`},
		{"abbr lower case", "an 34.5% N", ``},
		{"abbr no context", "GB sale today", ``},
		{"abbr with count only", "16 GB RAM", ``},
		{"abbr hyphen", "HN-3 100 µg/mL", `hn3/abbreviation/"HN-3"/-/-`},
		{"state in an address", "Green chile, 25 lb sack – Hatch, NM", ``},
		{"state before a zip code", "Pickup only, NM 87501, 25 lb sacks", ``},
		{"code with a strength after a comma", "Racing fuel, NM 98%, 1 gal", `nitromethane/abbreviation/"NM"/98/true`},
		{"drink", "KAS Limón, 24 x 330 ml", ``},
		// obfuscation
		{"homoglyphs", "Hydrоgen pеroxide 35%", `hydrogen-peroxide/name/"Hydrоgen pеroxide"/35/true`},
		{"uts39 homoglyphs", "ՏᎪᎡᎥո, 10 ml", `sarin/name/"ՏᎪᎡᎥո"/-/-`},
		{"uts39 in a phrase", "ᎻᎩᎠᎡՕᏀᎬո ᏢᎬᎡՕⲬᎥᎠᎬ 35%", `hydrogen-peroxide/name/"ᎻᎩᎠᎡՕᏀᎬո ᏢᎬᎡՕⲬᎥᎠᎬ"/35/true`},
		{"spaced", "K a l i u m c h l o r a t 99 %", `potassium-chlorate/name/"K a l i u m c h l o r a t"/99/true`},
		{"leet", "P0tassium chl0rate 99%", `potassium-chlorate/name/"P0tassium chl0rate"/99/true`},
		{"zero width", "Hydro\u200bgen per\u200boxide 35%", `hydrogen-peroxide/name/"Hydro\u200bgen per\u200boxide"/35/true`},
		{"greek capitals", "ΝΙΤRΟΜΕΤΗΑΝΕ 98%", `nitromethane/name/"ΝΙΤRΟΜΕΤΗΑΝΕ"/98/true`},
		{"latin in cyrillic", "Aммиaчнaя ceлитpa 34 % N", `ammonium-nitrate/synonym/"Aммиaчнaя ceлитpa"/34/true`},
		{"cyrillic in latin look-alikes", "HuTpoMeTaH 95 % — 5 l", `nitromethane/name/"HuTpoMeTaH"/95/true`},
		{"cursive latin in cyrillic", "Ceлuтpa аммuачная 34 %", `ammonium-nitrate/synonym/"Ceлuтpa аммuачная"/34/true`},
		{"cursive latin at a cyrillic word's edge", "А м м и а ч н а я  с е л и т р а N 34,4 %", `ammonium-nitrate/synonym/"А м м и а ч н а я  с е л и т р а"/34.4/true`},
		{"latin words of look-alikes", "Export copper cutter 35 %, 5 kg", ``},
		{"1 for и in a Cyrillic word", "Амм1ачная с3литра 34,4 % N", `ammonium-nitrate/synonym/"Амм1ачная с3литра"/34.4/true`},
		{"chat translit 4 for ch", "Ammia4naya selitra 34,5 % — 40 kg", `ammonium-nitrate/synonym/"Ammia4naya selitra"/34.5/true`},
		{"4 at a word's start is no ch", "4lorat kaliya 99 %", ``},
		{"greek in cyrillic", "αммиачная селитρа 34,4 %", `ammonium-nitrate/synonym/"αммиачная селитρа"/34.4/true`},
		{"greek in latin", "Ηydrogen ρeroxide 35 %", `hydrogen-peroxide/name/"Ηydrogen ρeroxide"/35/true`},
		{"at-sign first", "@cetone 99%, 5 L", `acetone/name/"@cetone"/99/-`},
		{"at-sign handle", "contact @vendor for acetone", `acetone/name/"acetone"/-/-`},
		{"name apart at its parts", "Tri ethanol amine 99%, 200 kg drum", `triethanolamine/name/"Tri ethanol amine"/99/-`},
		{"name hyphenated at its parts", "Hexa-methylene-tetramine, 25 kg", `hexamine/synonym/"Hexa-methylene-tetramine"/-/-`},
		{"a formula's symbols spaced out after a price", "wicks x100 £6, K-N-O-3 2 kg £11", `potassium-nitrate/formula/"K-N-O-3"/-/-`},
		{"chunked", "pot.ass.ium chl.or.ate 98%", `potassium-chlorate/name/"pot.ass.ium chl.or.ate"/98/true`},
		{"chunked hyphens", "ni-tro-meth-ane 98%", `nitromethane/name/"ni-tro-meth-ane"/98/true`},
		{"two chunks are no word", "acetone-free e.g. pure", ``},
		// percent notations from a sweep
		{"german volume percent", "Nitromethan 25 Vol.-% – 1 L", `nitromethane/name/"Nitromethan"/25/true`},
		{"peroxide volumes with a dot", "Wasserstoffperoxid 30 vol. – 1 L", `hydrogen-peroxide/name/"Wasserstoffperoxid"/9/false`},
		{"weight percent abbreviated", "Hydrogen peroxide 35 wt. % – 1 L", `hydrogen-peroxide/name/"Hydrogen peroxide"/35/true`},
		{"russian mass percent", "Перекись водорода 35 масс. % – 1 л", `hydrogen-peroxide/name/"Перекись водорода"/35/true`},
		{"transliterated percent abbreviated", "Perekis' vodoroda 35 prots., 1 l", `hydrogen-peroxide/synonym/"Perekis' vodoroda"/35/true`},
		// batch 30's chatter
		{"spaced name ending in n", "n i t r o m e t a n 98% – kanistry 4 l", `nitromethane/name/"n i t r o m e t a n"/98/true`},
		{"nitrogen grade after a word", "Saletra amonowa N 34 – worek 25 kg", `ammonium-nitrate/synonym/"Saletra amonowa"/34/true`},
		{"bare purity range", "sulfuric acid 98-99 restock, 25L cans", `sulphuric-acid/synonym/"sulfuric acid"/99/true`},
		{"bare range is a price", "Acetone € 95-98 each", `acetone/name/"Acetone"/-/-`},
		{"bare range is an amount", "Nitromethane 90-95 kg", `nitromethane/name/"Nitromethane"/-/-`},
		{"bare range is a date", "Nitric acid 12-13 May", `nitric-acid/name/"Nitric acid"/-/-`},
		// batch 29's boilerplate
		{"mass fraction after its noun", "Acide nitrique fraction massique 0,52 – bidon 25 kg", `nitric-acid/name/"Acide nitrique"/52/true`},
		{"mass fraction symbol", "Salpetersäure w = 0,52, 25 kg", `nitric-acid/name/"Salpetersäure"/52/true`},
		{"polish w is no fraction", "Kwas azotowy w 0,5 l butelce", `nitric-acid/name/"Kwas azotowy"/-/-`},
		{"quoted on a label roll", "Etikettenrolle „Wasserstoffperoxid 35 %“ GHS03/GHS05, 500 Stück", ``},
		{"quoted in an SDS template", "Modello SDS «Perossido di idrogeno 35 %» – file Word 16 sezioni", ``},
		{"quoted goods", "«Acide nitrique 65 %» 1 L", `nitric-acid/name/"Acide nitrique"/65/true`},
		{"a model is no template", "Modèle : Acide nitrique 65 %, 1 L", `nitric-acid/name/"Acide nitrique"/65/true`},
		{"detector tubes", "Tubes réactifs acide nitrique 1-15 ppm – boîte de 10", ``},
		{"tubes as packing", "Acide nitrique 65 %, tubes de 10 ml", `nitric-acid/name/"Acide nitrique"/65/true`},
		{"grade named after the word", "TDG qualité technique à 99 %, fûts de 220 kg", `thiodiglycol/abbreviation/"TDG"/99/-`},
		{"a code as a grade's name", "DC grade 5 kg", ``},
		{"subject noun further on", "NITROMETHANE drag racing poster — A2 matte", ``},
		{"goods further on", "Nitromethane drag racing fuel 5 L", `nitromethane/name/"Nitromethane"/-/-`},
		{"a poster with the goods", "Acetone 5 L with poster", `acetone/name/"Acetone"/-/-`},
		// batch 28's styled letters
		{"cherokee capital L look-alike", "ᏦᎪᏞIUᎷᏟᎻᏞOᏒᎪᎢ 99 %", `potassium-chlorate/name/"ᏦᎪᏞIUᎷᏟᎻᏞOᏒᎪᎢ"/99/true`},
		{"small capitals with ogonek q", "ᴀᴄɪᴅᴇ ꜱᴜʟꜰᴜʀɪǫᴜᴇ 98 %", `sulphuric-acid/name/"ᴀᴄɪᴅᴇ ꜱᴜʟꜰᴜʀɪǫᴜᴇ"/98/true`},
		{"emoji between letters", "K🔥h🔥l🔥o🔥r🔥a🔥t kaliya 99 %", `potassium-chlorate/synonym/"K🔥h🔥l🔥o🔥r🔥a🔥t kaliya"/99/true`},
		{"bullet syllables", "Per•clo•ra•to de po•ta•sio 99 %", `potassium-perchlorate/name/"Per•clo•ra•to de po•ta•sio"/99/true`},
		{"cyrillic syllables", "Амм-иач-ная сел-итр-а 34,4 %", `ammonium-nitrate/synonym/"Амм-иач-ная сел-итр-а"/34.4/true`},
		{"cyrillic bullet syllables", "Амм•иач•ная сел•итр•а 34,4 %", `ammonium-nitrate/synonym/"Амм•иач•ная сел•итр•а"/34.4/true`},
		{"bullets spaced are a list", "Cl • O • K • NaCl • KCl", ``},
		{"invisible marks keep the strength", "N\u200fi\u200ft\u200fr\u200fo\u200fm\u200fe\u200ft\u200fa\u200fn 98 %", `nitromethane/name/"N\u200fi\u200ft\u200fr\u200fo\u200fm\u200fe\u200ft\u200fa\u200fn"/98/true`},
		// negation and other compounds
		{"free", "Acetone-free nail polish remover", ``},
		{"sans", "Dissolvant sans acétone", ``},
		{"ohne", "Gel ohne Wasserstoffperoxid", ``},
		{"sin ... ni", "Tinte sin amoníaco ni agua oxigenada", ``},
		{"senza ... né", "Tinta senza ammoniaca né perossido di idrogeno", ``},
		{"ni is no negation of what comes before", "Agua oxigenada 30 %, ni más ni menos", `hydrogen-peroxide/synonym/"Agua oxigenada"/30/true`},
		{"cation", "Ceric ammonium nitrate 98%", ``},
		{"excluded phrase", "Baume à l'huile de ricin, 50 ml", ``},
		{"term outside the excluded phrase", "Ricine 1 mg, huile de ricin en plus", `ricin/name/"Ricine"/-/-`},
		// decoys
		{"nitro cold brew", "Nitro cold brew coffee 12 cans", ``},
		{"tea cake", "Pu-erh TEA cake 357 g", ``},
		{"russian cwc name", "Пятихлористый фосфор, 1 кг", `phosphorus-pentachloride/synonym/"Пятихлористый фосфор"/-/-`},
		{"hair developer", "Hair developer 6% 20 vol cream", ``},
		{"banana", "banana", ``},
		// A flattened table's cells: the strength in the name's row.
		{"table row", "Name | Conc. | Size\nHydrogen peroxide | 6 % | 1 L\nIsopropyl alcohol | 70 % | 1 L", `hydrogen-peroxide/name/"Hydrogen peroxide"/6/false`},
		// An empty strength cell: the row states none, the row above does.
		{"empty cell", "Producto | Riqueza | Envase — Clorito de sodio | 80 % | 1 kg — Clorato de sodio | — | 1 kg", `sodium-chlorate/name/"Clorato de sodio"/-/-`},
		// A code is never written across a list's comma: "1 L, 3" is no L-3.
		{"code across a comma", "Acide nitrique 68 %, flacon verre 1 L, 3 pièces", `nitric-acid/name/"Acide nitrique"/68/true`},
		{"code as written", "L-3, 1 mg ampoule, analytical standard", `lewisite-3/abbreviation/"L-3"/-/-`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := summary(m.Match(precwatch.Listing{Title: tt.title})); got != tt.want {
				t.Errorf("Match(%q)\n got %s\nwant %s", tt.title, got, tt.want)
			}
		})
	}
}

func TestSeverity(t *testing.T) {
	m := sharedMatcher(t)
	tests := []struct {
		title  string
		sev    precwatch.Severity
		regime precwatch.Regime
	}{
		{"Sarin", precwatch.SeverityCritical, precwatch.RegimeCWC1},
		{"Thionyl chloride 99%", precwatch.SeverityCritical, precwatch.RegimeCWC3},
		{"Hydrogen peroxide 35%", precwatch.SeverityHigh, precwatch.RegimeEUAnnexI},
		{"Hydrogen peroxide 6%", precwatch.SeverityMedium, precwatch.RegimeEUAnnexI},
		{"Hydrogen peroxide", precwatch.SeverityMedium, precwatch.RegimeEUAnnexI},
		{"Acetone 99%", precwatch.SeverityLow, precwatch.RegimeEUAnnexII},
	}
	for _, tt := range tests {
		ms := m.Match(precwatch.Listing{Title: tt.title})
		if len(ms) != 1 {
			t.Fatalf("%q: %d matches", tt.title, len(ms))
		}
		if got := ms[0]; got.Severity != tt.sev || got.Regime != tt.regime {
			t.Errorf("%q: severity %s regime %s, want %s %s", tt.title, got.Severity, got.Regime, tt.sev, tt.regime)
		}
	}

	// A substance in several regimes reports the most severe one.
	limit := 10.0
	w := &precwatch.Watchlist{Version: "t", Substances: []precwatch.Substance{{
		ID: "x", Names: map[string]string{"en": "Examplium chloride"},
		Regimes: []precwatch.RegimeEntry{
			{Regime: precwatch.RegimeEUAnnexI, LimitPercent: &limit},
			{Regime: precwatch.RegimeCWC3},
		},
	}}}
	mx, err := matchers.Compile(w)
	if err != nil {
		t.Fatal(err)
	}
	ms := mx.Match(precwatch.Listing{Title: "Examplium chloride 5%"})
	if len(ms) != 1 || ms[0].Severity != precwatch.SeverityCritical || ms[0].Regime != precwatch.RegimeCWC3 {
		t.Fatalf("multi-regime: %+v", ms)
	}
	if ms[0].OverLimit == nil || *ms[0].OverLimit || ms[0].LimitPercent == nil || *ms[0].LimitPercent != 10 {
		t.Errorf("multi-regime limit: over %v limit %v", ms[0].OverLimit, ms[0].LimitPercent)
	}
}

func TestMatchOrderAndFields(t *testing.T) {
	m := sharedMatcher(t)
	ms := m.Match(precwatch.Listing{
		Title:       "Acetone and nitric acid",
		Description: "Nitric acid 65%. Also acetone.",
	})
	var got []string
	for _, x := range ms {
		got = append(got, fmt.Sprintf("%s:%d:%s", x.Field, x.Start, x.Substance))
	}
	want := "title:0:acetone title:12:nitric-acid description:0:nitric-acid description:22:acetone"
	if strings.Join(got, " ") != want {
		t.Errorf("order = %s, want %s", strings.Join(got, " "), want)
	}
	// Deterministic: the same listing gives the same matches.
	again := m.Match(precwatch.Listing{Title: "Acetone and nitric acid", Description: "Nitric acid 65%. Also acetone."})
	if summary(again) != summary(ms) {
		t.Error("Match is not deterministic")
	}
}

func TestMatchConcurrent(t *testing.T) {
	m := sharedMatcher(t)
	var wg sync.WaitGroup
	for i := range 8 {
		wg.Go(func() {
			for j := range 50 {
				// From 1 %: "Hydrogen peroxide 0%" says the product holds none.
				ms := m.Match(precwatch.Listing{Title: fmt.Sprintf("Hydrogen peroxide %d%%", i+j+1)})
				if len(ms) != 1 {
					t.Errorf("got %d matches", len(ms))
					return
				}
			}
		})
	}
	wg.Wait()
}

func TestValidEC(t *testing.T) {
	for in, want := range map[string]bool{
		"231-765-0": true, "231-714-2": true, "231-818-8": true,
		"231-765-1": false, "2317650": false, "231-76-50": false, "23a-765-0": false, "": false,
	} {
		if got := matchers.ValidEC(in); got != want {
			t.Errorf("ValidEC(%q) = %v, want %v", in, got, want)
		}
	}
}

func TestParseWatchlistErrors(t *testing.T) {
	base := `version: "1"
substances:
  - id: hp
    entry_type: compound
    names:
      en: Hydrogen peroxide
    cas: 7722-84-1
    regimes:
      - regime: eu-2019-1148-annex-i
        limit_percent_w_w: 12
`
	tests := []struct {
		name, yaml, want string
	}{
		{"unknown field", strings.Replace(base, "    cas:", "    colour: blue\n    cas:", 1), `w.yaml:7:5: substances[0].colour: unknown field "colour"`},
		{"bad cas", strings.Replace(base, "7722-84-1", "7722-84-2", 1), `w.yaml:7:5: substances[0].cas: check digit wrong in "7722-84-2"`},
		{"bad ec", strings.Replace(base, "    cas:", "    ec: 231-765-1\n    cas:", 1), `w.yaml:7:5: substances[0].ec: not an EC number (NNN-NNN-R, check digit right): "231-765-1"`},
		{"bad un", strings.Replace(base, "    cas:", "    un: [\"2014\", \"20145\"]\n    cas:", 1), `w.yaml:7:18: substances[0].un[1]: not a UN number (four digits): "20145"`},
		{"unknown regime", strings.Replace(base, "eu-2019-1148-annex-i", "eu-annex-iii", 1), `w.yaml:9:9: substances[0].regimes[0].regime: unknown regime "eu-annex-iii"`},
		{"limit range", strings.Replace(base, "limit_percent_w_w: 12", "limit_percent_w_w: 120", 1), `w.yaml:10:9: substances[0].regimes[0].limit_percent_w_w: limit 120 outside (0,100]`},
		{"zero limit", strings.Replace(base, "limit_percent_w_w: 12", "limit_percent_w_w: 0", 1), `w.yaml:10:9: substances[0].regimes[0].limit_percent_w_w: limit 0 outside (0,100]`},
		{"no name", strings.Replace(base, "      en: Hydrogen peroxide\n", "      en: \"\"\n", 1), `w.yaml:5:5: substances[0].names: at least one name is required`},
		{"duplicate id", base + strings.TrimPrefix(base, "version: \"1\"\nsubstances:\n"), `w.yaml:11:5: substances[1].id: duplicate id "hp"`},
		{"wrong type", strings.Replace(base, "limit_percent_w_w: 12", "limit_percent_w_w: twelve", 1), `w.yaml:10:28: substances[0].regimes[0].limit_percent_w_w: want a number, got "twelve"`},
		{"empty exclude", strings.Replace(base, "    cas:", "    excludes: [\"peroxide-based\", \" \"]\n    cas:", 1), `substances[0].excludes[1]: empty phrase`},
		// Names and terms too short to stand alone, at their line.
		{"one-letter name", strings.Replace(base, "      en: Hydrogen peroxide\n", "      en: Hydrogen peroxide\n      de: P\n", 1), `w.yaml:7:7: substances[0].names.de: name "P": shorter than 2 letters or digits`},
		{"one-letter synonym", strings.Replace(base, "    cas:", "    synonyms:\n      - peroxide of hydrogen\n      - \"H-\"\n    cas:", 1), `w.yaml:9:9: substances[0].synonyms[1]: synonym "H-": shorter than 2 letters or digits`},
		{"two-letter synonym", strings.Replace(base, "    cas:", "    synonyms: [HP]\n    cas:", 1), `w.yaml:7:16: substances[0].synonyms[0]: synonym "HP": 2 letters or digits; list it under abbreviations too`},
		{"two-letter name", strings.Replace(base, "      en: Hydrogen peroxide\n", "      en: Hydrogen peroxide\n      fr: HP\n", 1), `substances[0].names.fr: name "HP": 2 letters or digits`},
		{"two-letter synonym, another abbreviation", strings.Replace(base, "    cas:", "    synonyms: [HP]\n    abbreviations: [HTP]\n    cas:", 1), `substances[0].synonyms[0]: synonym "HP"`},
		{"one-letter abbreviation", strings.Replace(base, "    cas:", "    abbreviations: [HTP, \"H\"]\n    cas:", 1), `w.yaml:7:26: substances[0].abbreviations[1]: abbreviation "H": shorter than 2 letters or digits`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := matchers.ParseWatchlist("w.yaml", []byte(tt.yaml))
			if err == nil {
				t.Fatalf("no error, want %s", tt.want)
			}
			if !strings.Contains(err.Error(), tt.want) {
				t.Errorf("error %q\nwant it to contain %q", err, tt.want)
			}
			if !errors.Is(err, precwatch.ErrInvalid) {
				t.Errorf("error %v does not wrap ErrInvalid", err)
			}
		})
	}
	if _, err := matchers.ParseWatchlist("w.yaml", []byte(base)); err != nil {
		t.Errorf("valid watchlist: %v", err)
	}
	// A two-letter name or synonym marked as an abbreviation (any case),
	// and a two-letter abbreviation, are accepted; so is a short term
	// longer with its digits.
	for _, ok := range []string{
		strings.Replace(base, "    cas:", "    synonyms: [HP, H2O2]\n    abbreviations: [hp]\n    cas:", 1),
		strings.Replace(base, "      en: Hydrogen peroxide\n", "      en: Hydrogen peroxide\n      fr: HP\n", 1) + "    abbreviations: [HP]\n",
	} {
		if _, err := matchers.ParseWatchlist("w.yaml", []byte(ok)); err != nil {
			t.Errorf("valid watchlist: %v\n%s", err, ok)
		}
	}
}

func TestConfigWatchlist(t *testing.T) {
	w, err := matchers.LoadWatchlist("../configs/watchlist.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if got, want := len(w.Substances), 92; got != want {
		t.Errorf("substances = %d, want %d", got, want)
	}
	byID := map[string]precwatch.Substance{}
	for _, s := range w.Substances {
		byID[s.ID] = s
	}
	if got := byID["sarin"].Names["en"]; got != "Sarin" {
		t.Errorf("sarin en name = %q, want the common name split from the systematic one", got)
	}
	if syn := byID["sarin"].Synonyms; !contains(syn, "O-Isopropyl methylphosphonofluoridate") {
		t.Errorf("sarin synonyms %v lack the systematic name", syn)
	}
	if ab := byID["nitric-acid"].Abbreviations; !contains(ab, "WFNA") || !contains(byID["nitric-acid"].Synonyms, "white fuming nitric acid") {
		t.Errorf("nitric acid: WFNA not split: %v %v", ab, byID["nitric-acid"].Synonyms)
	}
	if r := byID["ammonium-nitrate"].Regimes[0]; r.LimitPercent == nil || *r.LimitPercent != 16 || !strings.Contains(r.LimitBasis, "nitrogen") {
		t.Errorf("ammonium nitrate regime = %+v", r)
	}
}

func contains(xs []string, s string) bool {
	for _, x := range xs {
		if x == s {
			return true
		}
	}
	return false
}
