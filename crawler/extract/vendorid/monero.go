package vendorid

import (
	"bytes"
	"math/bits"

	"golang.org/x/crypto/sha3"
)

// Monero mainnet address network bytes and lengths: a one-byte varint
// prefix, the public spend and view keys (32 bytes each), an 8-byte payment
// ID for integrated addresses, and a 4-byte Keccak-256 checksum.
const (
	moneroStandard      = 18 // "4…"
	moneroIntegrated    = 19 // "4…", with a payment ID
	moneroSubaddress    = 42 // "8…"
	moneroStandardLen   = 95
	moneroIntegratedLen = 106
)

// moneroBlockChars is the encoded length of a block of n bytes (n = 0..8)
// in Monero's base58, which encodes 8-byte blocks separately.
var moneroBlockChars = [9]int{0, 2, 3, 5, 6, 7, 9, 10, 11}

// moneroAddress reports whether s decodes to a mainnet standard, integrated
// or subaddress whose checksum verifies.
func moneroAddress(s string) bool {
	raw, ok := moneroDecode(s)
	if !ok || len(raw) < 5 {
		return false
	}
	body, sum := raw[:len(raw)-4], raw[len(raw)-4:]
	switch {
	case body[0] == moneroStandard && len(raw) == 69,
		body[0] == moneroSubaddress && len(raw) == 69,
		body[0] == moneroIntegrated && len(raw) == 77:
	default:
		return false
	}
	k := sha3.NewLegacyKeccak256()
	k.Write(body)
	return bytes.Equal(k.Sum(nil)[:4], sum)
}

// moneroDecode decodes Monero's base58: full 11-character blocks of 8 bytes
// and a shorter last block, each a big-endian number.
func moneroDecode(s string) ([]byte, bool) {
	full, rest := len(s)/11, len(s)%11
	lastBytes := -1
	for n, c := range moneroBlockChars {
		if c == rest {
			lastBytes = n
		}
	}
	if lastBytes < 0 {
		return nil, false
	}
	out := make([]byte, 0, full*8+lastBytes)
	for b := 0; b <= full; b++ {
		chunk, size := s[b*11:min(len(s), b*11+11)], 8
		if b == full {
			size = lastBytes
		}
		if size == 0 {
			continue
		}
		var v uint64
		for i := 0; i < len(chunk); i++ {
			d := base58Index[chunk[i]]
			if d < 0 {
				return nil, false
			}
			hi, lo := bits.Mul64(v, 58)
			if hi != 0 {
				return nil, false
			}
			v = lo + uint64(d)
			if v < lo {
				return nil, false
			}
		}
		if size < 8 && v>>(8*size) != 0 {
			return nil, false
		}
		for i := size - 1; i >= 0; i-- {
			out = append(out, byte(v>>(8*i)))
		}
	}
	return out, true
}
