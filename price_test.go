package precwatch

import "testing"

func TestFormatPrice(t *testing.T) {
	tests := []struct {
		amount   float64
		currency string
		want     string
	}{
		{0.0019, "BTC", "0.0019 BTC"},
		{0.00000001, "BTC", "0.00000001 BTC"},
		{1.5, "xmr", "1.5 xmr"},
		{2, "ETH", "2 ETH"},
		{0.123456789, "BTC", "0.12345679 BTC"},
		{35, "EUR", "35.00 EUR"},
		{19.999, "USD", "20.00 USD"},
		{12.5, "", "12.50"},
		{0, "BTC", ""},
	}
	for _, tt := range tests {
		if got := FormatPrice(tt.amount, tt.currency); got != tt.want {
			t.Errorf("FormatPrice(%v, %q) = %q, want %q", tt.amount, tt.currency, got, tt.want)
		}
	}
}

// TestMaterialRateDrift: a cryptocurrency amount that moved under 10 % is
// the exchange rate, no change of the listing; a larger move, a fiat
// price, a stablecoin or a change of currency is one.
func TestMaterialRateDrift(t *testing.T) {
	for _, tc := range []struct {
		old, next Material
		changed   bool
	}{
		{Material{Price: "0.3807", Currency: "XMR"}, Material{Price: "0.3921", Currency: "XMR"}, false}, // +3 %
		{Material{Price: "0.001560", Currency: "BTC"}, Material{Price: "0.00148", Currency: "BTC"}, false},
		{Material{Price: "0.3807", Currency: "XMR"}, Material{Price: "0.4759", Currency: "XMR"}, true}, // +25 %
		{Material{Price: "0.3807", Currency: "XMR"}, Material{Price: "0.34", Currency: "XMR"}, true},   // -10.7 %
		{Material{Price: "45", Currency: "EUR"}, Material{Price: "46", Currency: "EUR"}, true},
		{Material{Price: "100", Currency: "USDT"}, Material{Price: "97", Currency: "USDT"}, true},
		{Material{Price: "0.3807", Currency: "XMR"}, Material{Price: "0.3807", Currency: "BTC"}, true},
		{Material{Price: "", Currency: "XMR"}, Material{Price: "0.3807", Currency: "XMR"}, true},
	} {
		got := tc.old.Diff(tc.next)
		if (len(got) > 0) != tc.changed {
			t.Errorf("%+v → %+v: changes %+v, want changed=%v", tc.old, tc.next, got, tc.changed)
		}
	}
}
