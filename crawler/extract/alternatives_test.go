package extract

import (
	"slices"
	"strings"
	"testing"

	"github.com/precwatch/precwatch"
)

// TestFieldAlternatives: a rule of alternatives each with its attribute is
// split at its top-level commas only; a CSS selector list with one
// attribute for all stays one rule; alternatives in a rule that selects
// elements rather than values (next_page) are refused at New, naming it.
func TestFieldAlternatives(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want []string
	}{
		{"a.tile-link @aria-label, img @alt", []string{"a.tile-link @aria-label", "img @alt"}},
		{`a[title="x, y"] @title, h3:contains("a, b"), @data-name`, []string{`a[title="x, y"] @title`, `h3:contains("a, b")`, "@data-name"}},
		{"h2, h3", nil},
		{"img, a @title", nil},
		{"a:is(.x, .y) @href", nil},
	} {
		if got := alternatives(tc.in); !slices.Equal(got, tc.want) {
			t.Errorf("alternatives(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
	if _, err := New(precwatch.Extraction{Listing: "li", Title: "a", NextPage: "a.next @href, link[rel=next] @href"}); err == nil || !strings.Contains(err.Error(), `"next_page"`) {
		t.Errorf("next_page alternatives: err %v, want a refusal naming next_page", err)
	}
	if _, err := New(precwatch.Extraction{Listing: "li", Title: "a @aria-label, img @alt", Detail: &precwatch.Extraction{Vendor: "span.seller, a.shop @title"}}); err != nil {
		t.Errorf("detail alternatives: %v", err)
	}
}
