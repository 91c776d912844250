package vendorid

import (
	"bytes"
	"strings"
	"testing"

	"golang.org/x/crypto/sha3"
)

// Known mainnet addresses: the genesis block's coinbase, the Bitcoin wiki's
// P2PKH example, the P2SH example of BIP-13's era, and the all-zero hash160
// (leading zero bytes become leading "1"s).
var base58Valid = []string{
	"1111111111111111111114oLvT2",
	"1A1zP1eP5QGefi2DMPTfTL5SLmv7DivfNa",
	"1BvBMSEYstWetqTFn5Au4m4GFg7xJaNVN2",
	"3J98t1WpEZ73CNmQviecrnyiWrnqRhWNLy",
}

func TestBase58Address(t *testing.T) {
	for _, a := range base58Valid {
		if !base58Address(a) {
			t.Errorf("base58Address(%q) = false, want true", a)
		}
		// Every one-character substitution breaks the checksum.
		for i := 1; i < len(a); i++ {
			k := strings.IndexByte(base58Alphabet, a[i])
			bad := a[:i] + string(base58Alphabet[(k+1)%len(base58Alphabet)]) + a[i+1:]
			if base58Address(bad) {
				t.Errorf("base58Address(%q) (position %d changed) = true, want false", bad, i)
			}
		}
	}
	for _, a := range []string{
		"mipcBbFg9gMiCh81Kj8tqqdgoZub1ZJRfn", // testnet P2PKH, valid checksum
		"1A1zP1eP5QGefi2DMPTfTL5SLmv7DivfN",  // truncated
		"1A1zP1eP5QGefi2DMPTfTL5SLmv7Divf0a", // '0' is not base58
		"3J98t1WpEZ73CNmQviecrnyiWrnqRhWNLZ",
	} {
		if base58Address(a) {
			t.Errorf("base58Address(%q) = true, want false", a)
		}
	}
}

// BIP-350's test vectors (which replace BIP-173's for witness versions 1+).
func TestSegwitAddress(t *testing.T) {
	valid := []string{
		"BC1QW508D6QEJXTDG4Y5R3ZARVARY0C5XW7KV8F3T4",
		"tb1qrp33g0q5c5txsp9arysrx4k6zdkfs4nce4xj0gdcccefvpysxf3q0sl5k7",
		"bc1pw508d6qejxtdg4y5r3zarvary0c5xw7kw508d6qejxtdg4y5r3zarvary0c5xw7kt5nd6y",
		"BC1SW50QGDZ25J",
		"bc1zw508d6qejxtdg4y5r3zarvaryvaxxpcs",
		"tb1qqqqqp399et2xygdj5xreqhjjvcmzhxw4aywxecjdzew6hylgvsesrxh6hy",
		"tb1pqqqqp399et2xygdj5xreqhjjvcmzhxw4aywxecjdzew6hylgvsesf3hn0c",
		"bc1p0xlxvlhemja6c4dqv22uapctqupfhlxm9h8z3k2e72q4k9hcz7vqzk5jj0",
	}
	for _, a := range valid {
		hrp := strings.ToLower(a[:2])
		if !segwitAddress(hrp, a) {
			t.Errorf("segwitAddress(%q, %q) = false, want true", hrp, a)
		}
	}
	invalid := map[string]string{
		"tc1p0xlxvlhemja6c4dqv22uapctqupfhlxm9h8z3k2e72q4k9hcz7vq5zuyut": "invalid human-readable part",
		"bc1p0xlxvlhemja6c4dqv22uapctqupfhlxm9h8z3k2e72q4k9hcz7vqh2y7hd": "bech32 checksum for v1",
		"tb1z0xlxvlhemja6c4dqv22uapctqupfhlxm9h8z3k2e72q4k9hcz7vqglt7rf": "bech32 checksum for v2",
		"BC1S0XLXVLHEMJA6C4DQV22UAPCTQUPFHLXM9H8Z3K2E72Q4K9HCZ7VQ54WELL": "bech32 checksum for v16",
		"bc1qw508d6qejxtdg4y5r3zarvary0c5xw7kemeawh":                     "bech32m checksum for v0",
		"tb1q0xlxvlhemja6c4dqv22uapctqupfhlxm9h8z3k2e72q4k9hcz7vq24jc47": "bech32m checksum for v0",
		"bc1p38j9r5y49hruaue7wxjce0updqjuyyx0kh56v8s25huc6995vvpql3jow4": "invalid character in checksum",
		"BC130XLXVLHEMJA6C4DQV22UAPCTQUPFHLXM9H8Z3K2E72Q4K9HCZ7VQ7ZWS8R": "invalid witness version",
		"bc1pw5dgrnzv": "invalid program length (1 byte)",
		"bc1p0xlxvlhemja6c4dqv22uapctqupfhlxm9h8z3k2e72q4k9hcz7v8n0nx0muaewav253zgeav": "invalid program length (41 bytes)",
		"BC1QR508D6QEJXTDG4Y5R3ZARVARYV98GJ9P":                                         "invalid program length for v0",
		"tb1p0xlxvlhemja6c4dqv22uapctqupfhlxm9h8z3k2e72q4k9hcz7vq47Zagq":               "mixed case",
		"bc1p0xlxvlhemja6c4dqv22uapctqupfhlxm9h8z3k2e72q4k9hcz7v07qwwzcrf":             "zero padding of more than 4 bits",
		"tb1p0xlxvlhemja6c4dqv22uapctqupfhlxm9h8z3k2e72q4k9hcz7vpggkg4j":               "non-zero padding",
		"bc1gmk9yu": "empty data section",
		"bc1qw508d6qejxtdg4y5r3zarvary0c5xw7kv8f3t5":                                        "one character changed",
		"bc1qqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqq": "too long",
	}
	for a, why := range invalid {
		for _, hrp := range []string{"bc", "tb"} {
			if segwitAddress(hrp, a) {
				t.Errorf("segwitAddress(%q, %q) = true, want false (%s)", hrp, a, why)
			}
		}
	}
}

// EIP-55's own examples.
func TestEthAddress(t *testing.T) {
	checksummed := []string{
		"0x52908400098527886E0F7030069857D2E4169EE7",
		"0x8617E340B3D01FA5F11F306F4090FD50E238070D",
		"0xde709f2102306220921060314715629080e2fb77",
		"0x27b1fdb04752bbc536007a920d24acb045561c26",
		"0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed",
		"0xfB6916095ca1df60bB79Ce92cE3Ea74c37c5d359",
		"0xdbF03B407c01E7cD3CBea99509d93f8DDDC8C6FB",
		"0xD1220A0cf47c7B9Be7A2E6BA89F429762e7b9aDb",
	}
	for _, a := range checksummed {
		got, ok := ethAddress(a)
		if !ok {
			t.Errorf("ethAddress(%q) rejected", a)
			continue
		}
		mixed := strings.ToLower(a) != a && strings.ToUpper(a[2:]) != a[2:]
		if mixed && got != a {
			t.Errorf("ethAddress(%q) = %q, want it unchanged", a, got)
		}
		// The unchecked all-lower form normalises to the same value.
		if low, ok := ethAddress(strings.ToLower(a)); !ok || low != got {
			t.Errorf("ethAddress(lower %q) = %q, %v; want %q", a, low, ok, got)
		}
		if mixed {
			// Flipping the case of one letter breaks the checksum.
			i := strings.IndexAny(a[2:], "abcdefABCDEF") + 2
			c := a[i] ^ 0x20
			bad := a[:i] + string(c) + a[i+1:]
			if _, ok := ethAddress(bad); ok {
				t.Errorf("ethAddress(%q) accepted a broken checksum", bad)
			}
		}
	}
	if got := eip55("5aaeb6053f3e94c9b9a09f33669435e7ef1beaed"); got != "0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed" {
		t.Errorf("eip55 = %q", got)
	}
	if _, ok := ethAddress("0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAeg"); ok {
		t.Error("ethAddress accepted a non-hex digit")
	}
}

// moneroTestEncode is Monero's base58 encoder, written here from the format
// description to build test addresses.
func moneroTestEncode(raw []byte) string {
	var b strings.Builder
	for i := 0; i < len(raw); i += 8 {
		block := raw[i:min(len(raw), i+8)]
		var v uint64
		for _, c := range block {
			v = v<<8 | uint64(c)
		}
		out := make([]byte, moneroBlockChars[len(block)])
		for j := len(out) - 1; j >= 0; j-- {
			out[j] = base58Alphabet[v%58]
			v /= 58
		}
		b.Write(out)
	}
	return b.String()
}

func moneroTestAddress(prefix byte, extra int, seed byte) string {
	body := []byte{prefix}
	for i := 0; i < 64+extra; i++ {
		body = append(body, seed+byte(i*7))
	}
	k := sha3.NewLegacyKeccak256()
	k.Write(body)
	return moneroTestEncode(append(body, k.Sum(nil)[:4]...))
}

// The Monero General Fund's donation address, published on getmonero.org.
const moneroGeneralFund = "44AFFq5kSiGBoZ4NMDwYtN18obc8AemS33DBLWs3H7otXft3XjrpDtQGv7SqSsaBYBb98uNbr2VBBEt7f2wfn3RVGQBEP3A"

func TestMoneroAddress(t *testing.T) {
	valid := map[string]string{
		"general fund":  moneroGeneralFund,
		"standard":      moneroTestAddress(moneroStandard, 0, 1),
		"subaddress":    moneroTestAddress(moneroSubaddress, 0, 2),
		"integrated":    moneroTestAddress(moneroIntegrated, 8, 3),
		"standard (ff)": moneroTestAddress(moneroStandard, 0, 0xff),
	}
	for name, a := range valid {
		if !moneroAddress(a) {
			t.Errorf("%s: moneroAddress(%q) = false, want true", name, a)
		}
		if name == "general fund" {
			continue
		}
		if raw, ok := moneroDecode(a); !ok || moneroTestEncode(raw) != a {
			t.Errorf("%s: decode/encode round trip of %q failed", name, a)
		}
	}
	if a := valid["standard"]; a[0] != '4' || len(a) != moneroStandardLen {
		t.Errorf("standard address %q: want 95 characters starting with 4", a)
	}
	if a := valid["subaddress"]; a[0] != '8' {
		t.Errorf("subaddress %q: want it to start with 8", a)
	}
	if a := valid["integrated"]; a[0] != '4' || len(a) != moneroIntegratedLen {
		t.Errorf("integrated address %q: want 106 characters starting with 4", a)
	}
	a := moneroGeneralFund
	for i := 1; i < len(a); i++ {
		k := strings.IndexByte(base58Alphabet, a[i])
		bad := a[:i] + string(base58Alphabet[(k+1)%len(base58Alphabet)]) + a[i+1:]
		if moneroAddress(bad) {
			t.Errorf("moneroAddress accepted %q (position %d changed)", bad, i)
		}
	}
	// A valid checksum over a testnet prefix (53) is not a mainnet address.
	if moneroAddress(moneroTestAddress(53, 0, 4)) {
		t.Error("moneroAddress accepted a testnet address")
	}
	// "zzzzzzzzzzz" overflows 64 bits; a 7-character last block holding
	// more than 5 bytes is invalid.
	if _, ok := moneroDecode(strings.Repeat("z", 11)); ok {
		t.Error("moneroDecode accepted an overflowing block")
	}
	if _, ok := moneroDecode("zzzzzzz"); ok {
		t.Error("moneroDecode accepted an overlong last block")
	}
	raw, ok := moneroDecode(moneroGeneralFund)
	if !ok || !bytes.Equal(raw[:1], []byte{moneroStandard}) {
		t.Errorf("general fund address decodes to prefix %v, want 18", raw[:1])
	}
}
