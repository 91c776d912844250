package crawler

import (
	"bytes"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/PuerkitoBio/goquery"
	"golang.org/x/net/html/charset"
	"golang.org/x/text/encoding"
	"golang.org/x/text/encoding/charmap"

	"github.com/precwatch/precwatch/crawler/extract"
	"golang.org/x/text/encoding/japanese"
	"golang.org/x/text/encoding/korean"
	"golang.org/x/text/encoding/simplifiedchinese"
	"golang.org/x/text/encoding/traditionalchinese"

	"github.com/precwatch/precwatch"
	"github.com/precwatch/precwatch/internal/socksproxy"
)

// TestParseCharsets: parse reads every page as charset.NewReader decodes
// it, whether or not it skips the decoder (plainText): declared, sniffed
// and defaulted charsets, invalid UTF-8 made U+FFFD.
func TestParseCharsets(t *testing.T) {
	page := func(head, body string) []byte {
		return []byte("<html><head>" + head + "</head><body><p>" + body + "</p></body></html>")
	}
	tests := map[string]struct {
		body  []byte
		ct    string
		want  string // the paragraph's text
		plain bool   // parsed without the decoder
	}{
		"utf-8 declared":          {page("", "Aceton\u00e9 \u2013 1 L"), "text/html; charset=utf-8", "Aceton\u00e9 \u2013 1 L", true},
		"utf-8 invalid":           {page("", "Acet\xffone \xe2\x82"), "text/html; charset=utf-8", "Acet\ufffdone \ufffd", false},
		"utf-8 sniffed":           {page("", "Aceton\u00e9"), "text/html", "Aceton\u00e9", true},
		"ascii, no charset":       {page("", "Acetone 1 L"), "", "Acetone 1 L", true},
		"latin-1 bytes defaulted": {page("", "Aceton\xe9"), "text/html", "Aceton\u00e9", false},
		"meta iso-8859-1":         {page(`<meta charset="iso-8859-1">`, "Aceton\xe9"), "text/html", "Aceton\u00e9", false},
		"meta overridden":         {page(`<meta charset="iso-8859-1">`, "Aceton\u00e9"), "text/html; charset=utf-8", "Aceton\u00e9", true},
		"windows-1252 declared":   {page("", "\x93Acetone\x94"), "text/html; charset=windows-1252", "\u201cAcetone\u201d", false},
		"utf-8 bom":               {append([]byte("\xef\xbb\xbf"), page("", "Aceton\u00e9")...), "text/html; charset=iso-8859-1", "Aceton\u00e9", true},
		"utf-16le bom":            {utf16le("\ufeff" + string(page("", "Acetone"))), "text/html", "Acetone", false},
		"empty":                   {nil, "text/html; charset=utf-8", "", true},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			if e, name := pageEncoding(tc.body, tc.ct); asIs(e, name, tc.body) != tc.plain {
				t.Errorf("asIs = %v, want %v", !tc.plain, tc.plain)
			}
			doc, err := parse(tc.body, tc.ct)
			if err != nil {
				t.Fatal(err)
			}
			if got := doc.Find("p").Text(); got != tc.want {
				t.Errorf("text = %q, want %q", got, tc.want)
			}
			ref, err := parseDecoded(tc.body, tc.ct)
			if err != nil {
				t.Fatal(err)
			}
			got, err := goquery.OuterHtml(doc.Selection)
			if err != nil {
				t.Fatal(err)
			}
			want, err := goquery.OuterHtml(ref.Selection)
			if err != nil {
				t.Fatal(err)
			}
			if got != want {
				t.Errorf("document %q, through the decoder %q", got, want)
			}
		})
	}
}

// parseDecoded parses body always through charset.NewReader.
func parseDecoded(body []byte, contentType string) (*goquery.Document, error) {
	rd, err := charset.NewReader(bytes.NewReader(body), contentType)
	if err != nil {
		return goquery.NewDocumentFromReader(bytes.NewReader(body))
	}
	return goquery.NewDocumentFromReader(rd)
}

func utf16le(s string) []byte {
	var b strings.Builder
	for _, r := range s {
		b.WriteByte(byte(r))
		b.WriteByte(byte(r >> 8))
	}
	return []byte(b.String())
}

// legacyHead is the head of an old board: a comment and a style block
// long enough to push its charset declaration past the first 1024 bytes,
// where charset.DetermineEncoding's prescan stops.
func legacyHead(decl string) string {
	return "<!--\n" + strings.Repeat("  template classic-blue, licence notice kept\n", 12) + "-->\n<style>\n" +
		strings.Repeat("td.row1 { background:#EFEFEF; font-size:11px }\n", 16) + "</style>\n" + decl + "<title>board</title>"
}

// TestParseLateDeclarations: a page with no charset in its Content-Type is
// read as a browser reads it: in the charset its head declares, however
// far into the head the declaration comes; in UTF-8 when undeclared and
// valid UTF-8 throughout; else windows-1252.
func TestParseLateDeclarations(t *testing.T) {
	cp1251 := func(s string) string {
		b, err := charmap.Windows1251.NewEncoder().String(s)
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	koi8 := func(s string) string {
		b, err := charmap.KOI8R.NewEncoder().String(s)
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	page := func(head, body string) []byte {
		return []byte("<html><head>" + head + "</head><body><p>" + body + "</p></body></html>")
	}
	const ru = "Азотная кислота 65%, 1 234,50 ₽"
	tests := map[string]struct {
		body []byte
		ct   string
		want string
	}{
		"windows-1251 http-equiv after 1 KB": {page(legacyHead(`<meta http-equiv="Content-Type" content="text/html; charset=windows-1251">`), cp1251("Азотная кислота 65%, 1 234,50 ")+"&#8381;"), "text/html", ru},
		"quoted charset in content":          {page(legacyHead(`<META HTTP-EQUIV=content-type CONTENT="text/html; charset='windows-1251'">`), cp1251("Азотная кислота")), "", "Азотная кислота"},
		"meta charset after 1 KB":            {page(legacyHead(`<meta charset="koi8-r">`), koi8("Азотная кислота")), "text/html", "Азотная кислота"},
		"after a long script":                {page("<script>var x = '"+strings.Repeat("<meta charset=iso-8859-2>", 60)+"';</script><meta charset=koi8-r>", koi8("Ацетон")), "text/html", "Ацетон"},
		"utf-16 declared is utf-8":           {page(legacyHead(`<meta charset="utf-16le">`), "Aceton\u00e9"), "text/html", "Aceton\u00e9"},
		"header wins":                        {page(legacyHead(`<meta charset="windows-1251">`), "Aceton\u00e9"), "text/html; charset=utf-8", "Aceton\u00e9"},
		"undeclared utf-8 after 1 KB":        {page(legacyHead(""), "Азотная кислота"), "text/html", "Азотная кислота"},
		"undeclared latin-1 after 1 KB":      {page(legacyHead(""), "Aceton\xe9"), "text/html", "Aceton\u00e9"},
		"a meta in the body past 1 KB":       {page(legacyHead(""), `<meta charset="koi8-r">Aceton`+"\xe9"), "text/html", "Aceton\u00e9"},
		"a meta in the body within 1 KB":     {[]byte(`<html><body><meta charset="koi8-r"><p>` + koi8("Ацетон") + `</p></body></html>`), "", "Ацетон"},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			doc, err := parse(tc.body, tc.ct)
			if err != nil {
				t.Fatal(err)
			}
			if got := doc.Find("p").Text(); got != tc.want {
				t.Errorf("text = %q, want %q", got, tc.want)
			}
		})
	}
}

// TestCrawlLateCharsetDeclaration: a windows-1251 board, sent as plain
// text/html with its declaration after a long style block, is crawled
// through the proxy into listings whose Cyrillic titles, descriptions and
// rouble prices read as written.
func TestCrawlLateCharsetDeclaration(t *testing.T) {
	row := func(id, title, desc, price string) string {
		return `<TR><TD class=row1><SPAN class=num>` + id + `</SPAN></TD><TD class=row1><A class=topictitle href="view.php?id=` + id + `"><B>` +
			title + `</B></A><BR><SPAN class=gensmall>` + desc + `</SPAN></TD><TD class=row1><SPAN class=price>` + price + `</SPAN></TD></TR>`
	}
	body := "<HTML><HEAD>" + legacyHead(`<META http-equiv="Content-Type" content="text/html; charset=windows-1251">`) + "</HEAD><BODY><TABLE class=forumline>" +
		row("101", "Перекись водорода 37%, 10 кг", "Пероксид водорода марки А, канистра 10 кг.", "2&nbsp;450,00&nbsp;&#8381;") +
		row("102", "Ацетон технический, 10 л", "Ацетон, канистра 10 л.", "1 100,00 руб.") + "</TABLE></BODY></HTML>"
	enc, err := charmap.Windows1251.NewEncoder().String(body)
	if err != nil {
		t.Fatal(err)
	}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /board/list.php", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html")
		io.WriteString(w, enc)
	})
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	p, err := socksproxy.Start(t.Context(), "127.0.0.1:0", map[string]string{shop: srv.Listener.Addr().String()}, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { p.Close() })
	e := &env{store: openStore(t), proxy: p}
	site := precwatch.Site{
		Name: "board", StartURLs: []string{"http://" + shop + "/board/list.php?cat=0"}, Proxy: p.URL(),
		Limits: precwatch.Limits{RequestTimeout: 3 * time.Second, RunTimeout: 20 * time.Second},
		Extract: precwatch.Extraction{Listing: "table.forumline tr", ID: "span.num", Title: "a.topictitle",
			Description: "span.gensmall", Price: "span.price", URL: "a.topictitle @href"},
	}
	run, err := e.run(t, site)
	if err != nil || run.Status != precwatch.RunOK || run.Listings != 2 {
		t.Fatalf("run: %v %q %q, %d listings; want ok, 2", err, run.Status, run.Errors, run.Listings)
	}
	ls := e.listings(t)
	for id, want := range map[string]precwatch.Listing{
		"101": {Title: "Перекись водорода 37%, 10 кг", Description: "Пероксид водорода марки А, канистра 10 кг.", Price: 2450, Currency: "RUB"},
		"102": {Title: "Ацетон технический, 10 л", Description: "Ацетон, канистра 10 л.", Price: 1100, Currency: "RUB"},
	} {
		got := ls[id].Listing
		if got.Title != want.Title || got.Description != want.Description || got.Price != want.Price || got.Currency != want.Currency {
			t.Errorf("listing %s = %q %q %v %q; want %q %q %v %q", id, got.Title, got.Description, got.Price, got.Currency,
				want.Title, want.Description, want.Price, want.Currency)
		}
	}
	if e.directs.Load() != 0 {
		t.Errorf("direct dials = %d", e.directs.Load())
	}
}

// TestCrawlUndeclaredCyrillic: a windows-1251 shop whose catalogue
// declares its charset and whose product pages do not, every link with a
// session id new on each answer, is read as written with no charset
// configured, each page once: the product pages' Cyrillic was garbled.
func TestCrawlUndeclaredCyrillic(t *testing.T) {
	cp1251 := func(s string) string {
		b, err := charmap.Windows1251.NewEncoder().String(s)
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	var mu sync.Mutex
	hits := map[string]int{}
	sid := 0
	mux := http.NewServeMux()
	mux.HandleFunc("GET /catalog", func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		hits["/catalog"]++
		sid++
		n := sid
		mu.Unlock()
		w.Header().Set("Content-Type", "text/html")
		io.WriteString(w, cp1251(fmt.Sprintf(`<html><head><meta http-equiv="Content-Type" content="text/html; charset=windows-1251"></head><body>`+
			`<div class="tovar"><a class="name" href="/item?id=1&sid=%[1]d">Азотная кислота 65%%, 1 л</a> <span class="cena">450 руб.</span></div>`+
			`<div class="tovar"><a class="name" href="/item?id=2&sid=%[1]d">Мёд гречишный, 1 кг</a> <span class="cena">600 руб.</span></div>`+
			`<a href="/catalog?sid=%[1]d">Каталог</a></body></html>`, n)))
	})
	mux.HandleFunc("GET /item", func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		hits["/item?id="+r.FormValue("id")]++
		mu.Unlock()
		w.Header().Set("Content-Type", "text/html")
		io.WriteString(w, cp1251(`<html><head><title>Товар</title></head><body><div class="opisanie">Чистота указана в названии. Доставка Почтой России 3-5 дней.</div></body></html>`))
	})
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	p, err := socksproxy.Start(t.Context(), "127.0.0.1:0", map[string]string{shop: srv.Listener.Addr().String()}, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { p.Close() })
	e := &env{store: openStore(t), proxy: p}
	site := precwatch.Site{
		Name: "rushop", StartURLs: []string{"http://" + shop + "/catalog"}, Proxy: p.URL(),
		Limits: precwatch.Limits{RequestTimeout: 3 * time.Second, RunTimeout: 20 * time.Second},
		Extract: precwatch.Extraction{Listing: "div.tovar", Title: "a.name", URL: "a.name @href", Price: "span.cena",
			Links: []string{"a[href^='/catalog']"}, Detail: &precwatch.Extraction{Description: "div.opisanie"}},
	}
	run, err := e.run(t, site)
	if err != nil || run.Status != precwatch.RunOK || run.Listings != 2 {
		t.Fatalf("run: %v %q %q, %d listings; want ok, 2", err, run.Status, run.Errors, run.Listings)
	}
	const desc = "Чистота указана в названии. Доставка Почтой России 3-5 дней."
	for id, title := range map[string]string{"1": "Азотная кислота 65%, 1 л", "2": "Мёд гречишный, 1 кг"} {
		if got := e.listings(t)[id].Listing; got.Title != title || got.Description != desc || got.Currency != "RUB" {
			t.Errorf("listing %s = %q %q %q, want %q %q RUB", id, got.Title, got.Description, got.Currency, title, desc)
		}
	}
	mu.Lock()
	defer mu.Unlock()
	if hits["/catalog"] != 1 || hits["/item?id=1"] != 1 || hits["/item?id=2"] != 1 {
		t.Errorf("requests %v, want each page once", hits)
	}
}

// TestParseSniffsCJK: an undeclared page that is not UTF-8 is read in the
// East Asian multi-byte encoding its bytes are plainly in, as browsers
// sniff it, or in windows-1251 or KOI8-R when they plainly are Russian
// words; other undeclared bytes stay windows-1252, as before.
func TestParseSniffsCJK(t *testing.T) {
	enc := func(e interface {
		NewEncoder() *encoding.Encoder
	}, s string) string {
		b, err := e.NewEncoder().String(s)
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	page := func(body string) []byte {
		return []byte("<html><head><title>Products</title></head><body><p>" + body + "</p></body></html>")
	}
	const zh = "Acetone 99.5% 丙酮 CAS 67-64-1，硝酸钾 农业级，聚合氯化铝 水处理剂，三聚磷酸钠 工业级"
	const tw = "硝酸鉀 農業級 25 公斤，檸檬酸 食品級，聚合氯化鋁 水處理劑，三聚磷酸鈉 工業級"
	const ja = "硝酸カリウム 試薬特級 500g、クエン酸 食品添加物、塩化カルシウム 融雪剤 25kg 袋入り"
	const ko = "질산칼륨 시약급 500g, 구연산 식품첨가물, 염화칼슘 제설제 25kg 포대 판매합니다"
	const ru = "Азотная кислота 65%, 1 л - доставка Почтой России, 3-5 дней. Цена 1 200 руб."
	tests := map[string]struct {
		body []byte
		want string
	}{
		"gbk":                  {page(enc(simplifiedchinese.GBK, zh)), zh},
		"big5":                 {page(enc(traditionalchinese.Big5, tw)), tw},
		"shift_jis":            {page(enc(japanese.ShiftJIS, ja)), ja},
		"euc-kr":               {page(enc(korean.EUCKR, ko)), ko},
		"latin-1 stays 1252":   {page("Salpeters\xe4ure 65 % f\xfcr 12,50 \x80, Gr\xfc\xdfe aus M\xfcnchen"), "Salpetersäure 65 % für 12,50 €, Grüße aus München"},
		"windows-1251":         {page(enc(charmap.Windows1251, ru)), ru},
		"koi8-r":               {page(enc(charmap.KOI8R, ru)), ru},
		"windows-1251 short":   {page(enc(charmap.Windows1251, "Перекись водорода 6%, 1 л")), "Перекись водорода 6%, 1 л"},
		"french stays 1252":    {page("Acide nitrique 65 % \xe0 12,50 \x80, d\xe9j\xe0 exp\xe9di\xe9, qualit\xe9 sup\xe9rieure, tr\xe8s pure"), "Acide nitrique 65 % à 12,50 €, déjà expédié, qualité supérieure, très pure"},
		"iso-8859-2 not taken": {page(enc(charmap.ISO8859_2, "Kwas azotowy 65%, wysyłka kurierem, Łódź")), "Kwas azotowy 65%, wysy\u00b3ka kurierem, \u00a3ód\u00bc"},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			doc, err := parse(tc.body, "text/html")
			if err != nil {
				t.Fatal(err)
			}
			if got := doc.Find("p").Text(); got != tc.want {
				t.Errorf("text = %q, want %q", got, tc.want)
			}
		})
	}
}

// TestParseAsBrowserWithoutScripts: a page reads as Tor Browser at its
// Safest level shows it: a <noscript> block's contents are elements the
// rules select; a <template>'s contents and comments are nothing, but for
// a declarative shadow root's.
func TestParseAsBrowserWithoutScripts(t *testing.T) {
	body := []byte(`<html><head><noscript><style>.js{display:none}</style></noscript></head><body>
<template id="qv"><div class="card"><h3 class="ttl">Draft: potassium chlorate 1 kg</h3></div></template>
<!-- <div class="card"><h3 class="ttl">Removed: nitromethane 20 L</h3></div> -->
<div class="card"><div class="js"></div><noscript><h3 class="ttl">Acetone 99%, 5 L</h3>
<!-- <h3 class="ttl">Old: thionyl chloride</h3> --><span class="px">$ 25.00</span></noscript></div>
<template><template><div class="card"><h3 class="ttl">nested</h3></div></template></template>
<product-card data-sku="S1"><template shadowrootmode="open"><div class="card"><h3 class="ttl">Nitromethane 99%, 1 L</h3><span class="px">€ 42</span><slot></slot></div></template><i>light</i></product-card>
<product-card><template shadowrootmode="closed"><div class="card"><h3 class="ttl">Glass funnel</h3><template><div class="card"><h3 class="ttl">inner draft</h3></div></template></div></template></product-card>
</body></html>`)
	doc, err := parse(body, "text/html; charset=utf-8")
	if err != nil {
		t.Fatal(err)
	}
	var titles []string
	doc.Find("div.card h3.ttl").Each(func(_ int, s *goquery.Selection) { titles = append(titles, s.Text()) })
	// A declarative shadow root shows in place, as a browser shows it
	// without scripts; a template inside it is still nothing.
	if want := []string{"Acetone 99%, 5 L", "Nitromethane 99%, 1 L", "Glass funnel"}; !slices.Equal(titles, want) {
		t.Errorf("titles = %q, want %q", titles, want)
	}
	if got := doc.Find("div.card span.px").First().Text(); got != "$ 25.00" {
		t.Errorf("price = %q", got)
	}
	if n := doc.Find("template *").Length(); n != 0 {
		t.Errorf("%d elements left inside templates", n)
	}
}

// TestParseSiteCharset: a site's charset is the fallback of pages that
// declare none and are not UTF-8, before the sniffing; a declaration or
// valid UTF-8 still wins.
func TestParseSiteCharset(t *testing.T) {
	koi8, _ := charmap.KOI8R.NewEncoder().String("Кислота азотная 57%, 12 500 руб./т")
	latin2, _ := charmap.ISO8859_2.NewEncoder().String("Kwas azotowy 65%, wysyłka kurierem, Łódź")
	page := func(head, body string) []byte {
		return []byte("<html><head>" + head + "</head><body><p>" + body + "</p></body></html>")
	}
	tests := map[string]struct {
		body           []byte
		ct, site, want string
	}{
		"koi8-r undeclared":     {page("", koi8), "text/html", "koi8-r", "Кислота азотная 57%, 12 500 руб./т"},
		"iso-8859-2 undeclared": {page("", latin2), "text/html", "iso-8859-2", "Kwas azotowy 65%, wysyłka kurierem, Łódź"},
		"header wins":           {page("", latin2), "text/html; charset=iso-8859-2", "koi8-r", "Kwas azotowy 65%, wysyłka kurierem, Łódź"},
		"meta wins":             {page(`<meta charset="koi8-r">`, koi8), "text/html", "windows-1251", "Кислота азотная 57%, 12 500 руб./т"},
		"valid utf-8 wins":      {page("", "Łódź"), "text/html", "koi8-r", "Łódź"},
		"no site charset: 1252": {page("", latin2), "text/html", "", "Kwas azotowy 65%, wysy\u00b3ka kurierem, \u00a3ód\u00bc"},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			var fb encoding.Encoding
			if tc.site != "" {
				var err error
				if fb, err = SiteCharset(tc.site); err != nil {
					t.Fatal(err)
				}
			}
			doc, err := parseFallback(tc.body, tc.ct, fb)
			if err != nil {
				t.Fatal(err)
			}
			if got := doc.Find("p").Text(); got != tc.want {
				t.Errorf("text = %q, want %q", got, tc.want)
			}
		})
	}
	for _, bad := range []string{"koi-8", "", "replacement", "utf-7"} {
		if _, err := SiteCharset(bad); err == nil {
			t.Errorf("SiteCharset(%q) accepted", bad)
		}
	}
	if _, err := New(precwatch.Site{Name: "s", StartURLs: []string{"http://a.example/"}, Charset: "koi-8"}, openStore(t), keywordMatcher{}, nil); err == nil || !strings.Contains(err.Error(), `charset "koi-8"`) {
		t.Errorf("New with a bad charset: %v", err)
	}
}

// TestLearnedCharset: a site's pages that declare no charset and are not
// UTF-8 (a shop's "load more" fragments) are read in the legacy charset
// its other pages declared; a site charset set in the config wins, and a
// declared UTF-8 teaches nothing.
func TestLearnedCharset(t *testing.T) {
	latin2, _ := charmap.ISO8859_2.NewEncoder().String("Kwas azotowy 65%, wysyłka kurierem, Łódź")
	declared := []byte(`<html><head><meta charset="iso-8859-2"></head><body><p>` + latin2 + `</p></body></html>`)
	fragment := []byte(`<li><p>` + latin2 + `</p></li>`)
	ext, err := extract.New(rules)
	if err != nil {
		t.Fatal(err)
	}
	read := func(c *Crawler, body []byte) string {
		doc, err := c.document(body, "text/html")
		if err != nil {
			t.Fatal(err)
		}
		return doc.Find("p").Text()
	}
	const want = "Kwas azotowy 65%, wysyłka kurierem, Łódź"
	c := &Crawler{ext: ext}
	if got := read(c, fragment); got == want {
		t.Fatalf("fragment read as iso-8859-2 before any page declared it")
	}
	read(c, []byte(`<html><head><meta charset="utf-8"></head><body><p>x</p></body></html>`))
	if got := read(c, fragment); got == want {
		t.Errorf("a declared UTF-8 page taught the fragment's charset")
	}
	if got := read(c, declared); got != want {
		t.Fatalf("declared page: %q", got)
	}
	if got := read(c, fragment); got != want {
		t.Errorf("fragment after a declared iso-8859-2 page: %q, want %q", got, want)
	}
	koi, _ := SiteCharset("koi8-r")
	c = &Crawler{ext: ext, charset: koi}
	read(c, declared)
	if got := read(c, fragment); got == want {
		t.Errorf("the site's charset did not win over a learned one")
	}
}
