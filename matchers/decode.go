package matchers

import (
	"bytes"
	"html"
	"strings"
	"unicode"
	"unicode/utf8"

	"golang.org/x/text/encoding/charmap"
)

// Text escaped twice or decoded in the wrong charset reaches a listing
// more often than a seller writes it on purpose: a shop that escapes its
// HTML twice ("Acet&#111;ne"), a title taken from a URL
// ("hydrogen%20peroxide"), a page in UTF-8 read as Windows-1252
// ("nitromÃ©thane", "saletrÄ™") or one in Windows-1251 read as
// Windows-1252 ("Ïåðåêèñü"), forum markup left in a word
// ("oxy[b]gé[/b]née"). decodeArtifacts undoes them, and matchField reads
// the decoded text when the field as written names nothing.

// span32 is the range of the original text one decoded byte came from.
type span32 struct{ a, b int32 }

// decoded is text with, for each of its bytes, the original range it came
// from.
type decoded struct {
	text  []byte
	spans []span32
}

func (d *decoded) add(s string, from span32) {
	d.text = append(d.text, s...)
	for range len(s) {
		d.spans = append(d.spans, from)
	}
}

// hasCharRef reports an HTML character reference in s that decodes to
// something else ("&#37;", "&amp;", "&eacute;").
func hasCharRef(s string) bool {
	for i := strings.IndexByte(s, '&'); i >= 0; {
		end := min(len(s), i+12)
		if j := strings.IndexByte(s[i+1:end], ';'); j > 0 {
			if ref := s[i : i+j+2]; html.UnescapeString(ref) != ref {
				return true
			}
		}
		k := strings.IndexByte(s[i+1:], '&')
		if k < 0 {
			return false
		}
		i += 1 + k
	}
	return false
}

// mayBeEncoded is the cheap test before decodeArtifacts: a character
// reference, two percent escapes, a tag, a letter UTF-8 mojibake
// begins with (Ã Â Ä Å Ð Ñ), or four Latin-1 letters in a row.
func mayBeEncoded(s string) bool {
	if i := strings.IndexByte(s, '&'); i >= 0 && strings.IndexByte(s[i:min(len(s), i+12)], ';') > 0 {
		return true
	}
	for i := strings.IndexByte(s, '['); i >= 0 && i+1 < len(s); {
		if c := s[i+1]; c == '/' || 'a' <= c && c <= 'z' {
			return true // perhaps a tag: stripTags decides
		}
		j := strings.IndexByte(s[i+1:], '[')
		if j < 0 {
			break
		}
		i += 1 + j
	}
	escapes := 0
	for i := strings.IndexByte(s, '%'); i >= 0 && i+2 < len(s); {
		if isHex(s[i+1]) && isHex(s[i+2]) {
			if escapes++; escapes == 2 {
				return true
			}
		}
		j := strings.IndexByte(s[i+1:], '%')
		if j < 0 {
			break
		}
		i += 1 + j
	}
	run := 0
	for i := strings.IndexByte(s, 0xc3); i >= 0 && i+1 < len(s); i++ {
		switch c := s[i+1]; {
		case s[i] != 0xc3 || c < 0x80 || c > 0xbf:
			run = 0
			j := strings.IndexByte(s[i+1:], 0xc3)
			if j < 0 {
				return false
			}
			i += j
			continue
		case c == 0x83 || c == 0x82 || c == 0x84 || c == 0x85 || c == 0x90 || c == 0x91:
			return true
		}
		if run++; run == 4 {
			return true
		}
		i++
	}
	return false
}

// decodeArtifacts returns s with the artifacts above undone and the
// original range of each byte; ok is false when nothing changed.
func decodeArtifacts(s string) (string, []span32, bool) {
	d := decoded{spans: make([]span32, 0, len(s))}
	for i := range len(s) {
		d.spans = append(d.spans, span32{int32(i), int32(i + 1)})
	}
	d.text = []byte(s)
	changed := false
	for _, step := range []func(decoded) (decoded, bool){stripTags, unescapeEntities, unescapePercents, undoMojibake, undoCyrillicMojibake} {
		if next, ok := step(d); ok {
			d, changed = next, true
		}
	}
	if !changed || !utf8.Valid(d.text) {
		return "", nil, false
	}
	return string(d.text), d.spans, true
}

// stripTags drops forum markup tags of a few letters ("[b]", "[/i]",
// "[color=red]") written inside a word.
func stripTags(in decoded) (decoded, bool) {
	t := in.text
	var out decoded
	changed := false
	for i := 0; i < len(t); i++ {
		if t[i] == '[' {
			j := i + 1
			if j < len(t) && t[j] == '/' {
				j++
			}
			k := j
			for k < len(t) && k-j <= 6 && t[k] >= 'a' && t[k] <= 'z' {
				k++
			}
			if k > j && k < len(t) && t[k] == '=' {
				for k < len(t) && k-j <= 24 && t[k] != ']' {
					k++
				}
			}
			if k > j && k < len(t) && t[k] == ']' && (i > 0 && isLetterByte(t[i-1]) || k+1 < len(t) && isLetterByte(t[k+1])) {
				i, changed = k, true
				continue
			}
		}
		out.text = append(out.text, t[i])
		out.spans = append(out.spans, in.spans[i])
	}
	return out, changed
}

// unescapeEntities decodes HTML character references ("&#111;", "&eacute;").
func unescapeEntities(in decoded) (decoded, bool) {
	t := in.text
	var out decoded
	changed := false
	for i := 0; i < len(t); i++ {
		if t[i] == '&' {
			if j := bytes.IndexByte(t[i:min(len(t), i+12)], ';'); j > 1 {
				ref := string(t[i : i+j+1])
				if u := html.UnescapeString(ref); u != ref {
					out.add(u, span32{in.spans[i].a, in.spans[i+j].b})
					i, changed = i+j, true
					continue
				}
			}
		}
		out.text = append(out.text, t[i])
		out.spans = append(out.spans, in.spans[i])
	}
	return out, changed
}

// unescapePercents decodes percent-encoding ("%20", "%E2%80%93") when two
// or more escapes stand in the text and the result is UTF-8.
func unescapePercents(in decoded) (decoded, bool) {
	t := in.text
	var out decoded
	n := 0
	for i := 0; i < len(t); i++ {
		if t[i] == '%' && i+2 < len(t) && isHex(t[i+1]) && isHex(t[i+2]) {
			out.text = append(out.text, unhex(t[i+1])<<4|unhex(t[i+2]))
			out.spans = append(out.spans, span32{in.spans[i].a, in.spans[i+2].b})
			i += 2
			n++
			continue
		}
		out.text = append(out.text, t[i])
		out.spans = append(out.spans, in.spans[i])
	}
	if n < 2 || !utf8.Valid(out.text) {
		return in, false
	}
	return out, true
}

func isHex(c byte) bool { return '0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F' }

func unhex(c byte) byte {
	switch {
	case c <= '9':
		return c - '0'
	case c >= 'a':
		return c - 'a' + 10
	}
	return c - 'A' + 10
}

// undoMojibake reads text that is UTF-8 decoded as Windows-1252 back as
// UTF-8: every character must have a Windows-1252 byte, and the bytes must
// be valid UTF-8 holding some character of two bytes or more.
func undoMojibake(in decoded) (decoded, bool) {
	var raw []byte
	var spans []span32
	wide := false
	t := in.text
	for i := 0; i < len(t); {
		r, size := utf8.DecodeRune(t[i:])
		b, ok := charmap.Windows1252.EncodeRune(r)
		if !ok {
			return in, false
		}
		wide = wide || b >= 0x80
		raw = append(raw, b)
		spans = append(spans, span32{in.spans[i].a, in.spans[i+size-1].b})
		i += size
	}
	if !wide || !utf8.Valid(raw) {
		return in, false
	}
	var out decoded
	for i := 0; i < len(raw); {
		_, size := utf8.DecodeRune(raw[i:])
		from := span32{spans[i].a, spans[i+size-1].b}
		out.add(string(raw[i:i+size]), from)
		i += size
	}
	return out, true
}

// undoCyrillicMojibake reads each word of four or more Latin-1 letters
// and nothing else ("Ïåðåêèñü"), which no Western language writes, as
// the Windows-1251 bytes it was decoded from.
func undoCyrillicMojibake(in decoded) (decoded, bool) {
	t := in.text
	var out decoded
	changed := false
	for i := 0; i < len(t); {
		j, letters := i, 0
		for j < len(t) {
			r, size := utf8.DecodeRune(t[j:])
			if r < 0xc0 || r > 0xff || r == 0xd7 || r == 0xf7 {
				break
			}
			j += size
			letters++
		}
		if letters >= 4 && (j == len(t) || !unicode.IsLetter(rune(t[j]))) && (i == 0 || !isLetterByte(t[i-1])) {
			for k := i; k < j; {
				r, size := utf8.DecodeRune(t[k:])
				b, _ := charmap.Windows1252.EncodeRune(r)
				out.add(string(charmap.Windows1251.DecodeByte(b)), span32{in.spans[k].a, in.spans[k+size-1].b})
				k += size
			}
			i, changed = j, true
			continue
		}
		if j == i {
			j = i + 1
		}
		for k := i; k < j; k++ {
			out.text = append(out.text, t[k])
			out.spans = append(out.spans, in.spans[k])
		}
		i = j
	}
	return out, changed
}
