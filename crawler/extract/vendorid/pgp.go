package vendorid

import (
	"bytes"
	"crypto/dsa" //nolint:staticcheck // OpenPGP v4 keys may still be DSA
	"crypto/rsa"
	"encoding/hex"
	"errors"
	"io"
	"strings"

	"github.com/ProtonMail/go-crypto/openpgp"
	"github.com/ProtonMail/go-crypto/openpgp/armor"
	"github.com/ProtonMail/go-crypto/openpgp/elgamal"
	pgperrors "github.com/ProtonMail/go-crypto/openpgp/errors"
	"github.com/ProtonMail/go-crypto/openpgp/packet"
)

const (
	pgpBegin = "-----BEGIN PGP PUBLIC KEY BLOCK-----"
	pgpEnd   = "-----END PGP PUBLIC KEY BLOCK-----"
	// maxPGPEntities bounds the keys taken from one block (a keyring export).
	maxPGPEntities = 4
)

// findPGP parses the armored public key blocks in text and returns the
// fingerprint of each key's primary key, plus the spans of all blocks seen.
// A block that does not parse is skipped.
func findPGP(text string) ([]Identifier, []span) {
	var ids []Identifier
	var spans []span
	parsed := 0
	for off := 0; ; {
		i := strings.Index(text[off:], pgpBegin)
		if i < 0 {
			break
		}
		start := off + i
		bodyStart := start + len(pgpBegin)
		j := strings.Index(text[bodyStart:], pgpEnd)
		if j < 0 {
			break
		}
		// A block cut off before its END line is dropped, not merged
		// with the next one.
		if k := strings.LastIndex(text[bodyStart:bodyStart+j], pgpBegin); k >= 0 {
			start = bodyStart + k
			bodyStart = start + len(pgpBegin)
			j -= k + len(pgpBegin)
		}
		end := bodyStart + j + len(pgpEnd)
		spans = append(spans, span{start, end})
		off = end
		if end-start > MaxPGPBlock || parsed >= MaxPGPBlocks {
			continue
		}
		parsed++
		for _, fp := range fingerprints(text[bodyStart : bodyStart+j]) {
			ids = append(ids, Identifier{Kind: KindPGP, Value: fp, Start: start, End: end})
		}
	}
	return ids, spans
}

// fingerprints rebuilds a clean armor from the body of a block and returns
// the primary-key fingerprints of the keys in it. Text taken from HTML often
// has its line breaks collapsed or indented, so the body is read as
// whitespace-separated tokens: optional "Key: value" headers, the base64
// lines, and the "=XXXX" CRC-24 line. Where the headers end is guessed, so
// a few plausible starts of the base64 data are tried.
func fingerprints(body string) []string {
	tokens := strings.Fields(body)
	end := len(tokens)
	crc := ""
	if end > 0 {
		// With the line breaks dropped altogether (<br> removed), the
		// checksum is glued to the last data line: "...AB===Zk9x".
		if last := tokens[end-1]; len(last) > 5 && last[len(last)-5] == '=' && isBase64(last) {
			tokens = append(tokens[:end-1:end-1], last[:len(last)-5], last[len(last)-5:])
			end++
		}
	}
	if end > 0 && len(tokens[end-1]) == 5 && tokens[end-1][0] == '=' && isBase64(tokens[end-1][1:]) {
		crc = tokens[end-1]
		end--
	}
	tried := 0
	for i := 0; i < end && tried < 4; i++ {
		if !isBase64(tokens[i]) || (i > 0 && len(tokens[i]) < 16) {
			continue
		}
		tried++
		if fps := parseArmor(tokens[i:end], crc); fps != nil {
			return fps
		}
	}
	return nil
}

func parseArmor(data []string, crc string) (fps []string) {
	defer func() {
		// The parser is third-party code facing hostile input: a panic in
		// it costs this block, not the crawl.
		if recover() != nil {
			fps = nil
		}
	}()
	var b bytes.Buffer
	b.WriteString(pgpBegin + "\n\n")
	// Re-wrapped at 64 columns: the armor reader refuses lines over 96
	// bytes, and glued lines can be any length.
	joined := strings.Join(data, "")
	for len(joined) > 64 {
		b.WriteString(joined[:64])
		b.WriteByte('\n')
		joined = joined[64:]
	}
	b.WriteString(joined + "\n")
	if crc != "" {
		b.WriteString(crc + "\n")
	}
	b.WriteString(pgpEnd + "\n")
	block, err := armor.Decode(&b)
	if err != nil {
		return nil
	}
	raw, err := io.ReadAll(io.LimitReader(block.Body, MaxPGPBlock))
	if err != nil || !boundedKeys(raw) {
		return nil
	}
	keys, err := openpgp.ReadKeyRing(bytes.NewReader(raw))
	if err != nil {
		return nil
	}
	for i, e := range keys {
		if i == maxPGPEntities {
			break
		}
		if e.PrimaryKey == nil {
			continue
		}
		fps = append(fps, strings.ToUpper(hex.EncodeToString(e.PrimaryKey.Fingerprint)))
	}
	return fps
}

// Key sizes past which verifying a key's self-signatures costs too much:
// a hostile page could otherwise make each signature check take seconds
// (DSA's cost grows with its subgroup size, which the key chooses).
const (
	maxRSABits   = 8192
	maxDSABits   = 3072
	maxDSAQBits  = 256 // the largest subgroup FIPS 186 defines
	maxElGamBits = 8192
)

// boundedKeys reports whether every public key and subkey in the packets
// has a size whose signatures are cheap to verify.
func boundedKeys(raw []byte) bool {
	r := bytes.NewReader(raw)
	for {
		p, err := packet.Read(r)
		if err == io.EOF {
			return true
		}
		if err != nil {
			// Read consumes a packet it cannot parse; the key parser
			// skips it too.
			var unsupported pgperrors.UnsupportedError
			var unknown pgperrors.UnknownPacketTypeError
			if errors.As(err, &unsupported) || errors.As(err, &unknown) {
				continue
			}
			return false
		}
		pk, ok := p.(*packet.PublicKey)
		if !ok {
			continue
		}
		switch k := pk.PublicKey.(type) {
		case *rsa.PublicKey:
			if k.N.BitLen() > maxRSABits {
				return false
			}
		case *dsa.PublicKey:
			if k.P.BitLen() > maxDSABits || k.Q.BitLen() > maxDSAQBits {
				return false
			}
		case *elgamal.PublicKey:
			if k.P.BitLen() > maxElGamBits {
				return false
			}
		}
	}
}

func isBase64(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '+' || c == '/' || c == '=') {
			return false
		}
	}
	return true
}
