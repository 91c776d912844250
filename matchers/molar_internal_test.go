package matchers

import (
	"math"
	"testing"
)

func TestFormulaMass(t *testing.T) {
	for f, want := range map[string]float64{
		"H2SO4": 98.07, "HNO3": 63.01, "H2O2": 34.01, "CH3NO2": 61.04, "KClO3": 122.55,
		"NaClO4": 122.44, "NH4NO3": 80.04, "Ca(NO3)2": 164.09, "Mg": 24.305,
		"Mg(NO3)2·6H2O": 0, "Xx2": 0, "H2SO4)": 0, "(NO3": 0, "": 0, "h2so4": 0,
	} {
		if got := formulaMass(f); math.Abs(got-want) > 0.01 {
			t.Errorf("formulaMass(%q) = %.3f, want %.2f", f, got, want)
		}
	}
	for f, want := range map[string]int{"H2SO4": 2, "HNO3": 1, "H2O2": 2, "HCN": 1, "CH3NO2": 0, "KClO3": 0, "Hg": 0, "H": 0} {
		if got := acidEquivalents(f); got != want {
			t.Errorf("acidEquivalents(%q) = %d, want %d", f, got, want)
		}
	}
}
