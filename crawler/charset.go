package crawler

import (
	"bytes"
	"fmt"
	"io"
	"strings"
	"unicode/utf8"

	"github.com/PuerkitoBio/goquery"
	"github.com/precwatch/precwatch/crawler/extract"
	"github.com/saintfish/chardet"
	"golang.org/x/net/html"
	"golang.org/x/net/html/charset"
	"golang.org/x/text/encoding"
	"golang.org/x/text/encoding/charmap"
	"golang.org/x/text/encoding/htmlindex"
	"golang.org/x/text/transform"
)

// prescanBytes is how much of a page charset.DetermineEncoding reads for a
// <meta> declaration: the HTML standard's prescan.
const prescanBytes = 1024

// parse builds a document from body, decoding it as pageEncoding says;
// invalid bytes become U+FFFD. It is read as a browser without JavaScript
// (Tor Browser at its Safest level) shows it: a <noscript> block's
// contents are elements, so rules read the listings a shop puts there for
// such visitors; and a <template>'s contents, which no browser renders or
// selects (a script's clones of cards, drafts), are left out.
func parse(body []byte, contentType string) (*goquery.Document, error) {
	return parseFallback(body, contentType, nil)
}

// parseFallback is parse with the site's charset for pages that declare
// none and are not UTF-8 (nil: sniffed, else windows-1252).
func parseFallback(body []byte, contentType string, fallback encoding.Encoding) (*goquery.Document, error) {
	doc, _, err := parseDeclared(body, contentType, fallback)
	return doc, err
}

// parseDeclared is parseFallback, also returning the legacy encoding the
// page declared, if it declared one other than UTF-8.
func parseDeclared(body []byte, contentType string, fallback encoding.Encoding) (*goquery.Document, encoding.Encoding, error) {
	e, name, declared := pageEncodingDeclared(body, contentType, fallback)
	var decl encoding.Encoding
	if declared && name != "utf-8" && e != encoding.Nop {
		decl = e
	}
	var r io.Reader = bytes.NewReader(body)
	if !asIs(e, name, body) {
		r = transform.NewReader(r, e.NewDecoder())
	}
	root, err := html.ParseWithOptions(r, html.ParseOptionEnableScripting(false))
	if err != nil {
		return nil, nil, err
	}
	extract.DropTemplates(root) // declarative shadow roots are kept
	extract.ApplyStyles(root)   // classes the page hides, text its style sheet writes (::before, ::after)
	return goquery.NewDocumentFromNode(root), decl, nil
}

// asIs reports whether decoding body from e changes nothing: no decoding,
// UTF-8 that is valid, or ASCII read as windows-1252. parse then reads it
// without a copy through the decoder.
func asIs(e encoding.Encoding, name string, body []byte) bool {
	switch {
	case e == encoding.Nop:
		return true
	case name == "utf-8":
		return utf8.Valid(body)
	case name == "windows-1252": // ASCII is itself in windows-1252
		return ascii(body)
	}
	return false
}

func ascii(b []byte) bool {
	for _, c := range b {
		if c >= utf8.RuneSelf {
			return false
		}
	}
	return true
}

// pageEncoding is the encoding a browser reads body in: the one a byte
// order mark or the Content-Type's charset names; else the page's own
// <meta charset> or http-equiv Content-Type declaration in its first 1024
// bytes or anywhere in its head; else UTF-8 when the whole body is valid
// UTF-8; else a Chinese, Japanese or Korean multi-byte encoding when the
// bytes are plainly in one (see sniffCJK); else windows-1252.
func pageEncoding(body []byte, contentType string) (encoding.Encoding, string) {
	e, name, _ := pageEncodingDeclared(body, contentType, nil)
	return e, name
}

// pageEncodingDeclared is pageEncoding with the site's charset
// (Site.Charset, or the one its pages last declared) taking the place of
// the sniffing and windows-1252; it also says whether the page declared
// its encoding (a byte order mark, the Content-Type's charset or a <meta>
// declaration).
//
// charset.DetermineEncoding reads only the first 1024 bytes, for the
// declaration and for UTF-8 alike. A legacy page that declares its charset
// after a long comment or style block (a windows-1251 board sent as plain
// text/html) was read as windows-1252, every Cyrillic word of it garbled,
// where a browser meets the declaration while parsing the head and reads
// the page again in it; and an undeclared UTF-8 page whose first 1024
// bytes are ASCII was read as windows-1252 too.
func pageEncodingDeclared(body []byte, contentType string, fallback encoding.Encoding) (encoding.Encoding, string, bool) {
	if e, name, certain := charset.DetermineEncoding(body, contentType); certain {
		return e, name, true
	}
	if e, name := metaCharset(body); e != nil {
		return e, name, true
	}
	if utf8.Valid(body) {
		return encoding.Nop, "utf-8", false
	}
	if fallback != nil {
		name, _ := htmlindex.Name(fallback)
		return fallback, name, false
	}
	if e, name := sniffCJK(body); e != nil {
		return e, name, false
	}
	if e, name := sniffCyrillic(body); e != nil {
		return e, name, false
	}
	return charmap.Windows1252, "windows-1252", false
}

// sniffCyrillic takes an undeclared page that is not UTF-8 for Russian in
// windows-1251 or KOI8-R when its bytes plainly are: words of three or
// more bytes over 0x7F hold most of them, where Latin-script text in
// windows-1252 or ISO-8859-2 has an accented letter here and there inside
// ASCII words. Russian is mostly lower case, which windows-1251 puts at
// 0xE0-0xFF and KOI8-R at 0xC0-0xDF. A shop whose catalogue pages declare
// windows-1251 and whose product pages do not was read half garbled
// ("Àçîòíàÿ êèñëîòà") unless its site named the charset; browsers
// (chardetng, CED) read such pages as Cyrillic.
func sniffCyrillic(body []byte) (encoding.Encoding, string) {
	if len(body) > sniffBytes {
		body = body[:sniffBytes]
	}
	// e0, c0: bytes 0xE0-0xFF and 0xC0-0xDF, the lower case of
	// windows-1251 and of KOI8-R.
	high, inWords, run, e0, c0 := 0, 0, 0, 0, 0
	end := func() {
		if run >= 3 {
			inWords += run
		}
		run = 0
	}
	for _, b := range body {
		if b < 0x80 {
			end()
			continue
		}
		high++
		switch {
		case b >= 0xE0:
			e0++
		case b >= 0xC0:
			c0++
		case b == 0xA8 || b == 0xB8 || b == 0xA3 || b == 0xB3: // Ё, ё in windows-1251 and KOI8-R
		default: // punctuation and symbols
			end()
			continue
		}
		run++
	}
	end()
	if inWords < 16 || inWords*10 < high*6 {
		return nil, ""
	}
	if e0 >= c0 {
		return charmap.Windows1251, "windows-1251"
	}
	return charmap.KOI8R, "koi8-r"
}

// SiteCharset is the encoding a site's charset label names (Site.Charset),
// as browsers read labels.
func SiteCharset(label string) (encoding.Encoding, error) {
	e, name := charset.Lookup(label)
	if e == nil || name == "replacement" {
		return nil, fmt.Errorf("charset %q: not a charset label (koi8-r, windows-1251, iso-8859-2, gbk, shift_jis, ...)", label)
	}
	return e, nil
}

// sniffBytes bounds the part of an undeclared page the detector reads.
const sniffBytes = 64 << 10

// minCJKConfidence is the detector's confidence (0-100) a multi-byte guess
// needs.
const minCJKConfidence = 50

// sniffCJK guesses the encoding of an undeclared page that is not UTF-8,
// as browsers do (Firefox's chardetng, Chrome's CED): an exporter's GBK
// catalogue sent with no charset anywhere was read as windows-1252, its
// Chinese turned to "±ûÍª". Only the multi-byte East Asian encodings are
// taken: their byte sequences are strict enough for a confident guess,
// where the detector's guesses among single-byte encodings (a Polish
// ISO-8859-2 page taken for ISO-8859-1) are not.
func sniffCJK(body []byte) (encoding.Encoding, string) {
	if len(body) > sniffBytes {
		body = body[:sniffBytes]
	}
	r, err := chardet.NewHtmlDetector().DetectBest(body)
	if err != nil || r.Confidence < minCJKConfidence {
		return nil, ""
	}
	var label string
	switch r.Charset {
	case "GB-18030":
		label = "gb18030"
	case "Big5", "Shift_JIS", "EUC-JP", "EUC-KR":
		label = r.Charset
	default:
		return nil, ""
	}
	e, name := charset.Lookup(label)
	return e, name
}

// headElements are the elements a page's head holds: the scan for a
// charset declaration ends at the first other element (or <body>) past the
// first 1024 bytes.
var headElements = map[string]bool{
	"html": true, "head": true, "meta": true, "title": true, "link": true, "style": true,
	"script": true, "noscript": true, "base": true, "template": true,
}

// metaCharset is the encoding named by the first <meta> charset
// declaration of body's head, read as the HTML standard's prescan reads
// one (charset="...", or http-equiv="Content-Type" with a charset in its
// content; UTF-16 read as UTF-8), nil when there is none. Within the
// first 1024 bytes every <meta> counts, as in the prescan; beyond them
// only those still in the head.
func metaCharset(body []byte) (encoding.Encoding, string) {
	z := html.NewTokenizer(bytes.NewReader(body))
	pos := 0
	for {
		tt := z.Next()
		inPrescan := pos < prescanBytes
		pos += len(z.Raw())
		switch tt {
		case html.ErrorToken:
			return nil, ""
		case html.EndTagToken:
			if name, _ := z.TagName(); !inPrescan && string(name) == "head" {
				return nil, ""
			}
		case html.StartTagToken, html.SelfClosingTagToken:
			name, hasAttr := z.TagName()
			if string(name) != "meta" {
				if !inPrescan && (!headElements[string(name)]) {
					return nil, ""
				}
				continue
			}
			if e, label := metaDeclaration(z, hasAttr); e != nil {
				return e, label
			}
		}
	}
}

// metaDeclaration reads the charset a <meta> tag's attributes declare.
func metaDeclaration(z *html.Tokenizer, hasAttr bool) (encoding.Encoding, string) {
	var declared, fromContent string
	pragma := false
	seen := map[string]bool{}
	for hasAttr {
		var k, v []byte
		k, v, hasAttr = z.TagAttr()
		key, val := string(k), strings.ToLower(string(v))
		if seen[key] {
			continue // the first of a repeated attribute counts
		}
		seen[key] = true
		switch key {
		case "charset":
			declared = val
		case "http-equiv":
			pragma = strings.TrimSpace(val) == "content-type"
		case "content":
			fromContent = charsetOfContent(val)
		}
	}
	label := declared
	if label == "" && pragma {
		label = fromContent
	}
	if label == "" {
		return nil, ""
	}
	e, name := charset.Lookup(label)
	if e == nil {
		return nil, ""
	}
	if strings.HasPrefix(name, "utf-16") {
		// A page read as bytes cannot be UTF-16 by its own <meta>.
		return encoding.Nop, "utf-8"
	}
	return e, name
}

// charsetOfContent is the charset a <meta> content attribute names
// ("text/html; charset=windows-1251"), as the HTML standard extracts it;
// s is lower case.
func charsetOfContent(s string) string {
	for {
		i := strings.Index(s, "charset")
		if i < 0 {
			return ""
		}
		s = strings.TrimLeft(s[i+len("charset"):], " \t\n\f\r")
		if !strings.HasPrefix(s, "=") {
			continue
		}
		s = strings.TrimLeft(s[1:], " \t\n\f\r")
		if s == "" {
			return ""
		}
		if q := s[0]; q == '"' || q == '\'' {
			end := strings.IndexByte(s[1:], q)
			if end < 0 {
				return ""
			}
			return s[1 : 1+end]
		}
		if end := strings.IndexAny(s, "; \t\n\f\r"); end >= 0 {
			return s[:end]
		}
		return s
	}
}

// learnedCharset holds the encoding a site's pages declared.
type learnedCharset struct{ e encoding.Encoding }

// fallbackCharset is the encoding of the site's pages that declare none
// and are not UTF-8: the site's charset, else the one its pages last
// declared (a shop's "load more" fragments and product pages often
// declare nothing where its catalogue declares ISO-8859-2), else nil for
// sniffing.
func (c *Crawler) fallbackCharset() encoding.Encoding {
	if c.charset != nil {
		return c.charset
	}
	if l := c.learned.Load(); l != nil {
		return l.e
	}
	return nil
}

// noteCharset remembers the legacy encoding (parseDeclared's, never
// UTF-8) a page of the site declared, for fallbackCharset.
func (c *Crawler) noteCharset(declared encoding.Encoding) {
	if declared == nil || c.charset != nil {
		return
	}
	if l := c.learned.Load(); l == nil || l.e != declared {
		c.learned.Store(&learnedCharset{declared})
	}
}
