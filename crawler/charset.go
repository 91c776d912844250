package crawler

import (
	"bytes"
	"strings"
	"unicode/utf8"

	"github.com/PuerkitoBio/goquery"
	"golang.org/x/net/html"
	"golang.org/x/net/html/charset"
	"golang.org/x/text/encoding"
	"golang.org/x/text/encoding/charmap"
	"golang.org/x/text/transform"
)

// prescanBytes is how much of a page charset.DetermineEncoding reads for a
// <meta> declaration: the HTML standard's prescan.
const prescanBytes = 1024

// parse builds a document from body, decoding it as pageEncoding says;
// invalid bytes become U+FFFD.
func parse(body []byte, contentType string) (*goquery.Document, error) {
	e, name := pageEncoding(body, contentType)
	if asIs(e, name, body) {
		return goquery.NewDocumentFromReader(bytes.NewReader(body))
	}
	return goquery.NewDocumentFromReader(transform.NewReader(bytes.NewReader(body), e.NewDecoder()))
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
// UTF-8; else windows-1252.
//
// charset.DetermineEncoding reads only the first 1024 bytes, for the
// declaration and for UTF-8 alike. A legacy page that declares its charset
// after a long comment or style block (a windows-1251 board sent as plain
// text/html) was read as windows-1252, every Cyrillic word of it garbled,
// where a browser meets the declaration while parsing the head and reads
// the page again in it; and an undeclared UTF-8 page whose first 1024
// bytes are ASCII was read as windows-1252 too.
func pageEncoding(body []byte, contentType string) (encoding.Encoding, string) {
	if e, name, certain := charset.DetermineEncoding(body, contentType); certain {
		return e, name
	}
	if e, name := metaCharset(body); e != nil {
		return e, name
	}
	if utf8.Valid(body) {
		return encoding.Nop, "utf-8"
	}
	return charmap.Windows1252, "windows-1252"
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
