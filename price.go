package precwatch

import (
	"math"
	"strconv"
	"strings"
)

// cryptoCurrencies are the currency codes priced in units worth far more
// than a cent, whose amounts need their satoshi-scale decimals.
var cryptoCurrencies = map[string]bool{
	"BTC": true, "XMR": true, "ETH": true, "LTC": true, "BCH": true, "ZEC": true,
	"DASH": true, "DOGE": true, "USDT": true, "USDC": true, "SOL": true, "TRX": true,
}

// FormatPrice shows an amount with the precision its currency needs: a
// cryptocurrency to 8 decimals with trailing zeros trimmed (0.0019 BTC, not
// 0.00 BTC), other currencies to 2 decimals. No price is "".
func FormatPrice(amount float64, currency string) string {
	if amount == 0 || math.IsNaN(amount) || math.IsInf(amount, 0) {
		return ""
	}
	var s string
	if cryptoCurrencies[strings.ToUpper(currency)] {
		s = strconv.FormatFloat(amount, 'f', 8, 64)
		s = strings.TrimRight(strings.TrimRight(s, "0"), ".")
	} else {
		s = strconv.FormatFloat(amount, 'f', 2, 64)
	}
	return strings.TrimSpace(s + " " + currency)
}
