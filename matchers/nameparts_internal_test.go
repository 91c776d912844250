package matchers

import (
	"slices"
	"testing"
)

func TestSplitName(t *testing.T) {
	for w, want := range map[string][]string{
		"triethanolamine":        {"tri", "ethanol", "amine"},
		"hexamethylenetetramine": {"hexa", "methylene", "tetramine"},
		"ethyldiethanolamine":    {"ethyl", "di", "ethanol", "amine"},
		"nitromethane":           {"nitro", "methane"},
		"acetone":                nil, // not made of parts
		"amine":                  nil, // one part
		"direct":                 nil,
	} {
		if got := splitName(w); !slices.Equal(got, want) {
			t.Errorf("splitName(%q) = %q, want %q", w, got, want)
		}
	}
}

func TestPartVariants(t *testing.T) {
	got := partVariants("n ethyldiethanolamine")
	if len(got) != 7 || !slices.Contains(got, "n ethyl di ethanol amine") || !slices.Contains(got, "n ethyldiethanol amine") || slices.Contains(got, "n ethyldiethanolamine") {
		t.Errorf("partVariants = %q", got)
	}
	if got := partVariants("acetone"); len(got) != 0 {
		t.Errorf("partVariants(acetone) = %q, want none", got)
	}
	// Two words of five parts each: 256 spellings, over the bound.
	if got := partVariants("ethyldiethanolamine methyldiethanolamine"); got != nil {
		t.Errorf("%d variants past the bound", len(got))
	}
}
