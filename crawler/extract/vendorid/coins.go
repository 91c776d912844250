package vendorid

import (
	"strings"

	"github.com/btcsuite/btcd/btcutil/base58"
	"github.com/btcsuite/btcd/btcutil/bech32"
	"golang.org/x/crypto/sha3"
)

// findTokens checks every maximal run of ASCII letters and digits outside
// the given spans against the address formats and the Session ID format.
func findTokens(text string, skip []span) []Identifier {
	var ids []Identifier
	for i := 0; i < len(text); {
		if !isAlnum(text[i]) {
			i++
			continue
		}
		j := i + 1
		for j < len(text) && isAlnum(text[j]) {
			j++
		}
		// 14 is the shortest segwit address, 106 a Monero integrated address.
		if j-i >= 14 && j-i <= 106 && !inside(skip, i, j) {
			if kind, value, ok := classifyToken(text[i:j]); ok {
				ids = append(ids, Identifier{Kind: kind, Value: value, Start: i, End: j})
			}
		}
		i = j
	}
	return ids
}

func classifyToken(tok string) (Kind, string, bool) {
	switch {
	case len(tok) == 42 && (strings.HasPrefix(tok, "0x") || strings.HasPrefix(tok, "0X")):
		if v, ok := ethAddress(tok); ok {
			return KindETH, v, true
		}
	case len(tok) == 66 && strings.HasPrefix(tok, "05") && isHex(tok):
		return KindSession, strings.ToLower(tok), true
	case len(tok) >= 14 && len(tok) <= 90 && (strings.HasPrefix(tok, "bc1") || strings.HasPrefix(tok, "BC1")):
		if segwitAddress("bc", tok) {
			return KindBTC, strings.ToLower(tok), true
		}
	case len(tok) >= 26 && len(tok) <= 35 && (tok[0] == '1' || tok[0] == '3'):
		if base58Address(tok) {
			return KindBTC, tok, true
		}
	case (len(tok) == moneroStandardLen || len(tok) == moneroIntegratedLen) && (tok[0] == '4' || tok[0] == '8'):
		if moneroAddress(tok) {
			return KindXMR, tok, true
		}
	}
	return "", "", false
}

// base58Address reports whether s is a mainnet P2PKH (version 0, "1…") or
// P2SH (version 5, "3…") address with a valid double-SHA-256 checksum.
func base58Address(s string) bool {
	if !isBase58(s) {
		return false
	}
	payload, version, err := base58.CheckDecode(s)
	if err != nil || len(payload) != 20 {
		return false
	}
	return version == 0x00 && s[0] == '1' || version == 0x05 && s[0] == '3'
}

// segwitAddress reports whether s is a valid segwit address for hrp under
// BIP-173 and BIP-350: witness version 0 with a bech32 checksum and a 20- or
// 32-byte program, versions 1-16 with a bech32m checksum and a 2-40 byte
// program.
func segwitAddress(hrp, s string) bool {
	gotHRP, data, enc, err := bech32.DecodeGeneric(s)
	if err != nil || gotHRP != hrp || len(data) < 1 {
		return false
	}
	witver := data[0]
	if witver > 16 {
		return false
	}
	program, err := bech32.ConvertBits(data[1:], 5, 8, false)
	if err != nil || len(program) < 2 || len(program) > 40 {
		return false
	}
	if witver == 0 {
		return enc == bech32.Version0 && (len(program) == 20 || len(program) == 32)
	}
	return enc == bech32.VersionM
}

// ethAddress accepts 0x and 40 hex digits. An all-lower or all-upper address
// carries no checksum and is accepted as written; a mixed-case one must
// match its EIP-55 checksum. The value returned is the EIP-55 form, so that
// differently cased copies of one address compare equal.
func ethAddress(s string) (string, bool) {
	h := s[2:]
	if !isHex(h) {
		return "", false
	}
	sum := eip55(strings.ToLower(h))
	lower, upper := strings.ToLower(h) == h, strings.ToUpper(h) == h
	if !lower && !upper && sum != "0x"+h {
		return "", false
	}
	return sum, true
}

// eip55 returns the checksummed form of a lower-case 40-digit hex address.
func eip55(lowerHex string) string {
	k := sha3.NewLegacyKeccak256()
	k.Write([]byte(lowerHex))
	hash := k.Sum(nil)
	out := []byte("0x" + lowerHex)
	for i := 0; i < len(lowerHex); i++ {
		c := lowerHex[i]
		nibble := hash[i/2] >> 4
		if i%2 == 1 {
			nibble = hash[i/2] & 0x0f
		}
		if c >= 'a' && c <= 'f' && nibble >= 8 {
			out[2+i] = c - 'a' + 'A'
		}
	}
	return string(out)
}

func isAlnum(c byte) bool {
	return c >= '0' && c <= '9' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z'
}

func isHex(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= '0' && c <= '9' || c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F') {
			return false
		}
	}
	return s != ""
}

const base58Alphabet = "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz"

var base58Index = func() (t [256]int8) {
	for i := range t {
		t[i] = -1
	}
	for i := 0; i < len(base58Alphabet); i++ {
		t[base58Alphabet[i]] = int8(i)
	}
	return t
}()

func isBase58(s string) bool {
	for i := 0; i < len(s); i++ {
		if base58Index[s[i]] < 0 {
			return false
		}
	}
	return true
}
