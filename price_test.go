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
