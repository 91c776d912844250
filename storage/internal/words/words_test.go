package words

import (
	"slices"
	"strings"
	"testing"
)

func TestSplit(t *testing.T) {
	for _, c := range []struct {
		in   []string
		want []string
	}{
		{[]string{"Peroxyde d'Hydrogène 30%", "HYDROGENE, livraison discrète"}, []string{"peroxyde", "d", "hydrogene", "30", "livraison", "discrete"}},
		{[]string{"Schwefelsäure ＣＡＳ 7664-93-9"}, []string{"schwefelsaure", "cas", "7664", "93", "9"}},
		{[]string{"  ;; --  "}, nil},
		{[]string{"ok " + strings.Repeat("x", MaxLen+1) + " ok"}, []string{"ok"}},
	} {
		if got := Split(c.in...); !slices.Equal(got, c.want) {
			t.Errorf("Split(%q) = %q, want %q", c.in, got, c.want)
		}
	}
}
