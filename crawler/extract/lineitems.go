package extract

import (
	"strings"
	"unicode"
	"unicode/utf8"

	"golang.org/x/net/html"

	"github.com/precwatch/precwatch"
)

// maxLineItems bounds the products read from one post.
const maxLineItems = 200

// itemBullets lead a line that offers one product.
const itemBullets = "-*•–—+·►▶▸✓✔☑→>#"

// lineItems reads the product lines of post c (see Extraction.LineItems)
// as listings: each with its line as title, the line's price, the post's
// vendor and link, and the post's ID with the line's key. post comes back
// with those lines left out of its description.
func lineItems(rule *field, c *html.Node, post precwatch.Listing) (precwatch.Listing, []precwatch.Listing) {
	text := rule.allText(c, maxDescription)
	var items []precwatch.Listing
	taken := map[string]bool{}
	for line := range strings.SplitSeq(text, "\n") {
		title, ok := itemLine(line)
		if !ok || len(items) >= maxLineItems {
			continue
		}
		key := itemKey(title)
		if key == "" || taken[key] {
			continue
		}
		taken[key] = true
		it := precwatch.Listing{Title: truncate(title, maxTitle), Vendor: post.Vendor, VendorURL: post.VendorURL, URL: post.URL,
			ID: post.ID + "#" + key}
		if v, cur, ok := ParsePrice(title); ok && cur != "" {
			it.Price, it.Currency = v, cur
		}
		items = append(items, it)
	}
	if len(items) == 0 {
		return post, nil
	}
	// The post keeps the lines that offer nothing (terms, shipping).
	var rest []string
	for line := range strings.SplitSeq(post.Description, "\n") {
		if t, ok := itemLine(line); ok && taken[itemKey(t)] {
			continue
		}
		rest = append(rest, line)
	}
	post.Description = strings.TrimSpace(strings.Join(rest, "\n"))
	return post, items
}

// itemLine reports whether line offers one product, and its text without
// the bullet or item number: it is led by a bullet or a number ("1.",
// "2)"), or states a price with its currency, and holds a letter.
func itemLine(line string) (string, bool) {
	s := strings.TrimSpace(line)
	if s == "" || !strings.ContainsFunc(s, unicode.IsLetter) {
		return "", false
	}
	if r, size := utf8.DecodeRuneInString(s); strings.ContainsRune(itemBullets, r) {
		return strings.TrimSpace(s[size:]), true
	}
	if i := strings.IndexFunc(s, func(r rune) bool { return r < '0' || r > '9' }); i > 0 && i <= 3 && i+1 < len(s) && (s[i] == '.' || s[i] == ')') && s[i+1] == ' ' {
		return strings.TrimSpace(s[i+1:]), true
	}
	if _, cur, ok := ParsePrice(s); ok && cur != "" {
		return s, true
	}
	return "", false
}

// itemKey is what identifies a product line across runs: its words in
// lower case without the price, so a new price is a change of the same
// listing, not a new one.
func itemKey(title string) string {
	words := strings.Fields(strings.ToLower(title))
	keep := make([]string, 0, len(words))
	for i, w := range words {
		if priceWord(w) || amountWord(w) && (i > 0 && currencyWord(words[i-1]) || i+1 < len(words) && currencyWord(words[i+1])) {
			continue
		}
		keep = append(keep, strings.Trim(w, ",;:|/"))
	}
	key := strings.Join(keep, " ")
	return truncate(strings.TrimSpace(key), 80)
}

// priceWord is a word holding a currency symbol ("€60", "$45.00").
func priceWord(w string) bool { return strings.ContainsAny(w, "€$£¥₿₽") || currencyWord(w) }

// currencyWord is a currency code or name written as a word.
func currencyWord(w string) bool {
	return NormalizeCurrency(strings.Trim(w, ",;:.")) != "" && strings.IndexFunc(w, unicode.IsDigit) < 0
}

// amountWord is a number written as a word ("60", "1.200,50").
func amountWord(w string) bool {
	w = strings.Trim(w, ",;:")
	return w != "" && strings.IndexFunc(w, func(r rune) bool { return !unicode.IsDigit(r) && r != '.' && r != ',' }) < 0
}
