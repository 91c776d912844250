package matchers

import (
	"testing"
	"unicode/utf8"
)

func TestDecodeArtifacts(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"Acet&#111;ne, 20 L drum", "Acetone, 20 L drum"},
		{"Eau oxyg&eacute;n&eacute;e 30 %", "Eau oxygénée 30 %"},
		{"hydrogen%20peroxide%2035%25%20food%20grade%20%E2%80%93%201%20gal", "hydrogen peroxide 35% food grade – 1 gal"},
		{"Bidon de nitromÃ©thane Ã\u00a0 98 %", "Bidon de nitrométhane à 98 %"},
		{"sprzedam saletrÄ™ amonowÄ… 34 % N", "sprzedam saletrę amonową 34 % N"},
		{"Ïåðåêèñü âîäîðîäà 37 % – êàíèñòðà 10 ë", "Перекись водорода 37 % – канистра 10 ë"},
		{"d'eau oxy[b]gé[/b]née à 30 %", "d'eau oxygénée à 30 %"},
		{"Acetone &amp; IPA [b]sale[/b]", "Acetone & IPA sale"},
	} {
		got, spans, ok := decodeArtifacts(tc.in)
		if !ok || got != tc.want {
			t.Errorf("decodeArtifacts(%q) = %q, %v; want %q", tc.in, got, ok, tc.want)
			continue
		}
		checkSpans(t, tc.in, got, spans)
	}
	// Text as people write it is left alone: accents, prices, discounts,
	// a lone entity-like string, a bracket note.
	for _, in := range []string{
		"Élève à l'école, crème brûlée, Straße, año, façade",
		"Acetone 99 % – 20 % off, 5 % VAT",
		"Salt & pepper; 2 kg [approx]",
		"Ação, coração, àéè",
	} {
		if got, _, ok := decodeArtifacts(in); ok {
			t.Errorf("decodeArtifacts(%q) = %q, want no change", in, got)
		}
	}
}

// checkSpans holds decoded text to its spans: one per byte, in order,
// inside the original.
func checkSpans(t *testing.T, in, got string, spans []span32) {
	t.Helper()
	if len(spans) != len(got) {
		t.Fatalf("%q: %d spans for %d bytes", in, len(spans), len(got))
	}
	for i, s := range spans {
		if s.a < 0 || s.b > int32(len(in)) || s.a >= s.b || i > 0 && s.a < spans[i-1].a {
			t.Fatalf("%q: span %d = %v out of order or range", in, i, s)
		}
	}
}

func FuzzDecodeArtifacts(f *testing.F) {
	for _, s := range []string{"Acet&#111;ne", "a%20b%20c", "nitromÃ©thane", "Ïåðåêèñü", "oxy[b]g[/b]", "&;%%[]\xc3\xc2"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, in string) {
		got, spans, ok := decodeArtifacts(in)
		if !ok {
			return
		}
		if !mayBeEncoded(in) && got != in {
			t.Fatalf("mayBeEncoded(%q) = false, but it decodes to %q", in, got)
		}
		if !utf8.ValidString(got) {
			t.Fatalf("decodeArtifacts(%q) = %q, not UTF-8", in, got)
		}
		checkSpans(t, in, got, spans)
	})
}

// TestMayBeEncoded: the cheap test passes every text decodeArtifacts
// changes.
func TestMayBeEncoded(t *testing.T) {
	for _, in := range []string{"Acet&#111;ne", "a%20b%20c", "nitromÃ©thane", "saletrÄ™", "Ïåðåêèñü", "oxy[b]g[/b]née", "êàíèñòðà"} {
		if !mayBeEncoded(in) {
			t.Errorf("mayBeEncoded(%q) = false", in)
		}
	}
	for _, in := range []string{"Élève à l'école, crème brûlée", "20 % off, 5 % VAT", "Salt & pepper"} {
		if mayBeEncoded(in) {
			t.Errorf("mayBeEncoded(%q) = true", in)
		}
	}
}
