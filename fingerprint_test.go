package precwatch

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"strings"
	"testing"
)

// TestFingerprintFormat: Fingerprint hashes "<len>:<field>;" for each
// field, the format every stored fingerprint was made with; a change
// would make every stored listing look changed.
func TestFingerprintFormat(t *testing.T) {
	ls := []Listing{
		{},
		{Site: "silkvault", ID: "A1", URL: "http://x.onion/a1", Title: "Hydrogen peroxide 30%", Description: "Discreet shipping", Price: 12.5, Currency: "EUR", Vendor: "v1"},
		{Site: "shop", URL: "http://shop.test/item/7", Title: "Peroxyde d'hydrogène ; 5:L", Price: 1e9, Vendor: "ünïcødé"},
	}
	// Long fields, around the sizes Fingerprint hashes them in.
	for _, n := range []int{251, 252, 253, 256, 508, 509, 5000} {
		ls = append(ls, Listing{Site: "shop", ID: "L", Title: strings.Repeat("t", n), Description: strings.Repeat("d", n)})
	}
	for _, l := range ls {
		h := sha256.New()
		for _, f := range []string{l.Site, l.Identity(), l.URL, l.Title, l.Description, formatNumber(l.Price), l.Currency, l.Vendor} {
			fmt.Fprintf(h, "%d:%s;", len(f), f)
		}
		if got, want := Fingerprint(l), hex.EncodeToString(h.Sum(nil)); got != want {
			t.Errorf("Fingerprint(%+v) = %s, want %s", l, got, want)
		}
	}
}
