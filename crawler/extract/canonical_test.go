package extract

import (
	"slices"
	"testing"

	"github.com/precwatch/precwatch"
)

// TestTokenLike: generated values (hex, PHP's base-32, base-64 and UUID
// session ids) are token-like; slugs, words, numbers and short values
// are not.
func TestTokenLike(t *testing.T) {
	for v, want := range map[string]bool{
		"873920f91044d5d10eb41f089bdb86cb":     true,
		"k3v9q2m1u8t7o6r5p4n0s2l1h7g6f5e4":     true, // PHP session.sid_bits_per_character=5
		"Zx8kP2mQ9vL4tR7wB1nC5hJ3":             true,
		"550e8400-e29b-41d4-a716-446655440000": true,
		"lab-supplies-2024":                    false,
		"hydrogen-peroxide-35pct-1l":           false,
		"12345678901234567890":                 false,
		"abcdefghijklmnopqrst":                 false,
		"9f3a8b7c":                             false, // too short to tell
		"a1b2c3d4e5f6a7b8=":                    false, // not a bare token character
	} {
		if got := tokenLike(v); got != want {
			t.Errorf("tokenLike(%q) = %v, want %v", v, got, want)
		}
	}
}

// TestDropSharedSessionParams: a token-like parameter every row of a page
// shares is dropped from the rows' URLs; one that differs between rows, a
// shared slug, or a page of fewer than 3 rows keeps them.
func TestDropSharedSessionParams(t *testing.T) {
	rows := func(urls ...string) []precwatch.Listing {
		var ls []precwatch.Listing
		for _, u := range urls {
			ls = append(ls, precwatch.Listing{URL: u})
		}
		return ls
	}
	urls := func(ls []precwatch.Listing) []string {
		var out []string
		for _, l := range ls {
			out = append(out, l.URL)
		}
		return out
	}
	const tok = "873920f91044d5d10eb41f089bdb86cb"
	for _, c := range []struct {
		name string
		in   []precwatch.Listing
		want []string
	}{
		{"shared token dropped, slug kept", rows("http://m.onion/t.php?t=1&sk="+tok+"&cat=lab-2024", "http://m.onion/t.php?t=2&sk="+tok+"&cat=lab-2024", "http://m.onion/t.php?sk="+tok+"&t=3&cat=lab-2024"),
			[]string{"http://m.onion/t.php?cat=lab-2024&t=1", "http://m.onion/t.php?cat=lab-2024&t=2", "http://m.onion/t.php?cat=lab-2024&t=3"}},
		{"tokens that differ are the rows' own", rows("http://m.onion/t.php?k="+tok, "http://m.onion/t.php?k=a"+tok[1:], "http://m.onion/t.php?k=b"+tok[1:]),
			[]string{"http://m.onion/t.php?k=" + tok, "http://m.onion/t.php?k=a" + tok[1:], "http://m.onion/t.php?k=b" + tok[1:]}},
		{"two rows", rows("http://m.onion/t.php?t=1&sk="+tok, "http://m.onion/t.php?t=2&sk="+tok),
			[]string{"http://m.onion/t.php?t=1&sk=" + tok, "http://m.onion/t.php?t=2&sk=" + tok}},
		{"a row without it", rows("http://m.onion/t.php?t=1&sk="+tok, "http://m.onion/t.php?t=2&sk="+tok, "http://m.onion/t.php?t=3"),
			[]string{"http://m.onion/t.php?t=1&sk=" + tok, "http://m.onion/t.php?t=2&sk=" + tok, "http://m.onion/t.php?t=3"}},
	} {
		dropSharedSessionParams(c.in)
		if got := urls(c.in); !slices.Equal(got, c.want) {
			t.Errorf("%s: %q, want %q", c.name, got, c.want)
		}
	}
}
