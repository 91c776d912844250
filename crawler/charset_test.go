package crawler

import (
	"bytes"
	"strings"
	"testing"

	"github.com/PuerkitoBio/goquery"
	"golang.org/x/net/html/charset"
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
			if got := plainText(tc.body, tc.ct); got != tc.plain {
				t.Errorf("plainText = %v, want %v", got, tc.plain)
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
