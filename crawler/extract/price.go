package extract

import (
	"math"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"
)

// currencySymbols maps currency signs to ISO 4217 (or common crypto) codes.
// Longer signs come first where one is a prefix of another ("US$" before "$").
var currencySymbols = []struct{ sign, code string }{
	{"US$", "USD"}, {"CA$", "CAD"}, {"C$", "CAD"}, {"AU$", "AUD"}, {"A$", "AUD"}, {"R$", "BRL"},
	{"€", "EUR"}, {"$", "USD"}, {"£", "GBP"}, {"¥", "JPY"}, {"￥", "JPY"}, {"元", "CNY"}, {"₽", "RUB"},
	{"₴", "UAH"}, {"₹", "INR"}, {"₺", "TRY"}, {"₩", "KRW"}, {"₿", "BTC"}, {"ɱ", "XMR"},
}

// currencyWords maps whole words (matched case-insensitively) to codes. Words
// that are also ordinary words or units ("pound", "try", "mark") are left out
// on purpose: a weight in pounds must not read as a price in sterling.
var currencyWords = map[string]string{
	"eur": "EUR", "euro": "EUR", "euros": "EUR", "usd": "USD", "dollar": "USD", "dollars": "USD",
	"gbp": "GBP", "chf": "CHF", "fr": "CHF", "sfr": "CHF", "pln": "PLN", "zl": "PLN", "zł": "PLN", "zloty": "PLN", "złoty": "PLN", "złotych": "PLN",
	"rub": "RUB", "руб": "RUB", "рублей": "RUB", "рубля": "RUB", "р": "RUB", "jpy": "JPY", "yen": "JPY",
	"cny": "CNY", "rmb": "CNY", "yuan": "CNY", "cad": "CAD", "aud": "AUD", "nzd": "NZD", "sek": "SEK",
	"nok": "NOK", "dkk": "DKK", "czk": "CZK", "kč": "CZK", "huf": "HUF", "ron": "RON", "bgn": "BGN", "uah": "UAH",
	"inr": "INR", "brl": "BRL", "mxn": "MXN", "krw": "KRW", "hkd": "HKD", "sgd": "SGD", "zar": "ZAR",
	"btc": "BTC", "xbt": "BTC", "bitcoin": "BTC", "bitcoins": "BTC", "xmr": "XMR", "monero": "XMR",
	"ltc": "LTC", "litecoin": "LTC", "eth": "ETH", "ether": "ETH", "usdt": "USDT", "usdc": "USDC",
	"zec": "ZEC", "dash": "DASH", "bch": "BCH", "doge": "DOGE",
}

// cryptoCurrency reports currencies quoted with many decimals, where
// "1.200" is one point two, not twelve hundred.
func cryptoCurrency(code string) bool {
	switch code {
	case "BTC", "XMR", "LTC", "ETH", "ZEC", "DASH", "BCH", "DOGE":
		return true
	}
	return false
}

// NormalizeCurrency turns a currency sign, word or code ("€", "euro", "usd",
// "₿") into its code, "" when s names no currency it knows. It is what an
// explicit currency selector's text goes through.
func NormalizeCurrency(s string) string {
	s = strings.TrimSpace(s)
	if s == "" {
		return ""
	}
	if code, ok := currencyWords[strings.ToLower(strings.TrimSuffix(s, "."))]; ok {
		return code
	}
	for _, t := range tokenize(s) {
		if t.currency != "" {
			return t.currency
		}
	}
	return ""
}

type priceToken struct {
	start, end int    // byte offsets in the input
	currency   string // set for a currency sign or word
	number     string // set for a number: digits and separators as written
	suffix     bool   // number directly followed by letters or '%' (a unit: "500ml", "35%")
	inWord     bool   // number directly preceded by letters ("A4", "H2O2")
}

// tokenize splits s into currency and number tokens; everything else is
// skipped, but positions are kept so adjacency can be judged.
func tokenize(s string) []priceToken {
	var toks []priceToken
	i := 0
	prevLetters := false // the previous run was a non-currency word
	for i < len(s) {
		r, size := utf8.DecodeRuneInString(s[i:])
		if sign, code := symbolAt(s[i:]); sign != "" {
			toks = append(toks, priceToken{start: i, end: i + len(sign), currency: code})
			i += len(sign)
			prevLetters = false
			continue
		}
		switch {
		case r >= '0' && r <= '9':
			end := scanNumber(s, i)
			t := priceToken{start: i, end: end, number: s[i:end], inWord: prevLetters}
			if end < len(s) {
				nr, _ := utf8.DecodeRuneInString(s[end:])
				if nr == '%' || nr == '‰' {
					t.suffix = true
				} else if unicode.IsLetter(nr) {
					// "45EUR" is a price; "500ml" is a quantity.
					if sign, _ := symbolAt(s[end:]); sign == "" {
						if _, ok := currencyWords[strings.ToLower(wordAt(s[end:]))]; !ok {
							t.suffix = true
						}
					}
				} else if rest := strings.TrimLeftFunc(s[end:], isGroupSpace); len(rest) < len(s[end:]) {
					// "500 ml", "2 x": a unit word after a space.
					if w := wordAt(rest); quantityUnits[strings.ToLower(w)] {
						t.suffix = true
					} else if strings.HasPrefix(rest, "%") {
						t.suffix = true
					}
				}
			}
			toks = append(toks, t)
			i = end
			prevLetters = false
		case unicode.IsLetter(r):
			w := wordAt(s[i:])
			if code, ok := currencyWords[strings.ToLower(w)]; ok {
				toks = append(toks, priceToken{start: i, end: i + len(w), currency: code})
				prevLetters = false
			} else {
				prevLetters = true
			}
			i += len(w)
		default:
			prevLetters = false
			i += size
		}
	}
	return toks
}

// symbolAt returns the currency sign s starts with, if any. tokenize calls it
// only at the start of a word or at a non-letter, so "US$" cannot match
// inside "BUS$".
func symbolAt(s string) (sign, code string) {
	for _, c := range currencySymbols {
		if strings.HasPrefix(s, c.sign) {
			return c.sign, c.code
		}
	}
	return "", ""
}

// quantityUnits are words that, following a number, make it a quantity
// rather than a price ("500 ml", "2 x", "10 szt").
var quantityUnits = map[string]bool{
	"g": true, "gr": true, "gram": true, "grams": true, "gramm": true, "kg": true, "mg": true, "µg": true, "ug": true,
	"mcg": true, "ml": true, "l": true, "ltr": true, "litre": true, "liter": true, "liters": true, "litres": true,
	"cl": true, "dl": true, "oz": true, "lb": true, "lbs": true, "pcs": true, "pc": true, "pack": true, "x": true,
	"st": true, "stk": true, "szt": true, "шт": true, "г": true, "кг": true, "мг": true, "мл": true, "л": true,
	"t": true, "ton": true, "tons": true, "tonnes": true, "gal": true, "gallon": true, "gallons": true,
	"percent": true, "prozent": true, "units": true, "tabs": true, "caps": true,
}

func wordAt(s string) string {
	for i, r := range s {
		if !unicode.IsLetter(r) {
			return s[:i]
		}
	}
	return s
}

// isGroupSpace reports the spaces used as thousands separators ("1 200",
// "1 200", "1 200").
func isGroupSpace(r rune) bool {
	return r == ' ' || r == '\u00a0' || r == '\u202f' || r == '\u2009' || r == '\u2007'
}

// scanNumber returns the end of the number starting at s[i]: digits joined by
// '.', ',', apostrophes, or a space before a group of exactly three digits.
func scanNumber(s string, i int) int {
	end := i
	groupLen := 0 // digits in the current group
	for end < len(s) {
		r, size := utf8.DecodeRuneInString(s[end:])
		if r >= '0' && r <= '9' {
			end += size
			groupLen++
			continue
		}
		// A separator counts only when a digit follows it.
		next := end + size
		nr, _ := utf8.DecodeRuneInString(s[next:])
		if next >= len(s) || nr < '0' || nr > '9' {
			break
		}
		switch {
		case r == '.' || r == ',' || r == '\'' || r == '’':
		case isGroupSpace(r):
			// Only "1 200" style grouping: up to three digits before, exactly
			// three after, so "2 100" in "2 x 100" style text is rare enough.
			if groupLen > 3 || !threeDigits(s[next:]) {
				return end
			}
		default:
			return end
		}
		end = next
		groupLen = 0
	}
	return end
}

func threeDigits(s string) bool {
	if len(s) < 3 {
		return false
	}
	for i := range 3 {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return len(s) == 3 || s[3] < '0' || s[3] > '9'
}

// parseNumber reads a number with either decimal convention. The last of
// '.' and ',' is the decimal mark when both appear; a lone mark followed by
// exactly three digits is a thousands separator, except after a leading
// zero or in a crypto currency.
func parseNumber(num, currency string) (float64, bool) {
	var digits strings.Builder
	var marks []int // byte offsets in num of '.' and ','
	for i, r := range num {
		switch {
		case r >= '0' && r <= '9':
		case r == '.' || r == ',':
			marks = append(marks, i)
		}
	}
	decimal := -1 // offset in num of the decimal mark
	if len(marks) > 0 {
		last := marks[len(marks)-1]
		lastMark := num[last]
		mixed := false
		for _, m := range marks {
			if num[m] != lastMark {
				mixed = true
			}
		}
		switch {
		case mixed:
			decimal = last
		case len(marks) > 1:
			// "1.234.567" or "1,234,567": all thousands separators.
		default:
			after := countDigits(num[last+1:])
			intPart := countDigits(num[:last])
			leadingZero := intPart == 1 && num[0] == '0'
			grouped := strings.ContainsAny(num[:last], " '’\u00a0\u202f\u2009\u2007")
			if after != 3 || leadingZero || grouped || cryptoCurrency(currency) || intPart > 3 {
				decimal = last
			}
		}
	}
	for i, r := range num {
		switch {
		case r >= '0' && r <= '9':
			digits.WriteRune(r)
		case i == decimal:
			digits.WriteByte('.')
		}
	}
	v, err := strconv.ParseFloat(digits.String(), 64)
	if err != nil || math.IsInf(v, 0) || math.IsNaN(v) {
		return 0, false
	}
	return v, true
}

func countDigits(s string) int {
	n := 0
	for _, r := range s {
		if r >= '0' && r <= '9' {
			n++
		}
	}
	return n
}

// ParsePrice reads a price such as "€ 45,00", "$1,200.50", "1.200,50 €",
// "USD 120", "0.0021 BTC", "Price: 45 EUR" or "ab 12,90 €". The number
// written next to a currency wins over other numbers in the text (a
// quantity, a purity); without a currency, the first number that is not a
// quantity ("500ml") or a percentage is taken and currency is "". Both
// decimal conventions are understood. ok is false when s holds no price.
func ParsePrice(s string) (amount float64, currency string, ok bool) {
	s = truncate(s, maxPriceText)
	toks := tokenize(s)
	adjacent := func(a, b priceToken) bool { return gapOK(s[a.end:b.start]) }
	firstCurrency := ""
	for _, t := range toks {
		if t.currency != "" {
			firstCurrency = t.currency
			break
		}
	}
	for i, t := range toks {
		if t.number == "" || t.inWord {
			continue
		}
		cur := ""
		if i > 0 && toks[i-1].currency != "" && adjacent(toks[i-1], t) {
			cur = toks[i-1].currency
		} else if i+1 < len(toks) && toks[i+1].currency != "" && adjacent(t, toks[i+1]) && !t.suffix &&
			!(i+2 < len(toks) && toks[i+2].number != "" && toks[i+2].start == toks[i+1].end && t.end < toks[i+1].start) {
			// A symbol glued to the number after it is that number's
			// ("set of 5 €18.00"), not the spaced one's before it.
			cur = toks[i+1].currency
		}
		if cur == "" {
			continue
		}
		if v, ok := parseNumber(t.number, cur); ok {
			return v, cur, true
		}
	}
	for _, t := range toks {
		if t.number == "" || t.suffix || t.inWord {
			continue
		}
		if v, ok := parseNumber(t.number, firstCurrency); ok {
			return v, firstCurrency, true
		}
	}
	return 0, "", false
}

// gapOK reports whether the text between a number and a currency leaves
// them adjacent: nothing, spaces, or a colon ("EUR: 45").
func gapOK(gap string) bool {
	for _, r := range gap {
		if !unicode.IsSpace(r) && r != ':' && r != '\u202f' {
			return false
		}
	}
	return len(gap) <= 8
}

// fromMinorUnits turns an amount in a currency's minor units (cents) into
// one in its major units: ISO 4217 gives most currencies two decimals,
// these none and those three. A currency unknown or not read counts two.
func fromMinorUnits(amount float64, currency string) float64 {
	switch strings.ToUpper(currency) {
	case "BIF", "CLP", "DJF", "GNF", "ISK", "JPY", "KMF", "KRW", "PYG", "RWF", "UGX", "UYI", "VND", "VUV", "XAF", "XOF", "XPF":
		return amount
	case "BHD", "IQD", "JOD", "KWD", "LYD", "OMR", "TND":
		return amount / 1000
	}
	return amount / 100
}
