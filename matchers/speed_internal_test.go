package matchers

import "testing"

// TestNextTriggerNonASCII: of the non-ASCII characters, only those
// readDisguised reads as a letter or a mask ("ø", "Ø", "•") start a
// disguised word; accented letters, which share their lead bytes, do not.
func TestNextTriggerNonASCII(t *testing.T) {
	for _, tc := range []struct {
		s    string
		want int
	}{
		{"Zitronensäure wasserfrei", len("Zitronensäure wasserfrei")},
		{"Ácido cítrico, acétone", len("Ácido cítrico, acétone")},
		{"ACETØNE", 4},
		{"acetøne", 4},
		{"chl•rate", 3},
		{"crème – 20 vol", len("crème – 20 vol")},
		{"é1x", 2},
	} {
		if got := nextTrigger(tc.s, 0); got != tc.want {
			t.Errorf("nextTrigger(%q) = %d, want %d", tc.s, got, tc.want)
		}
	}
}

// TestMayClip: a full stop the clipped-name rules cannot read is skipped.
func TestMayClip(t *testing.T) {
	for _, tc := range []struct {
		s    string
		i    int
		want bool
	}{
		{"1 L. Shipping", 3, false},
		{"from BE.", 7, false},
		{"99.5 %", 2, false},
		{"Nitrometh. 99 %", 9, true},
		{"Ac. sulf. 98 %", 8, true},
		{"Ác. su. 98 %", 7, true}, // the second of a run of clipped words
		{"Ác. 98 %", 3, false},    // three bytes: neither a clipped name nor a run
		{"Ácid. 98 %", 5, true},   // "Á" counts two
	} {
		if got := mayClip(tc.s, tc.i); got != tc.want {
			t.Errorf("mayClip(%q, %d) = %v, want %v", tc.s, tc.i, got, tc.want)
		}
	}
}
