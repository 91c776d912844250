package vendorid

import (
	"bytes"
	"crypto/dsa" //nolint:staticcheck // OpenPGP v4 keys may still be DSA
	"crypto/rsa"
	"encoding/hex"
	"io"
	"math/big"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/ProtonMail/go-crypto/openpgp"
	"github.com/ProtonMail/go-crypto/openpgp/armor"
	"github.com/ProtonMail/go-crypto/openpgp/packet"
)

// newArmoredKey generates a public key with the library and returns its
// armored export and the fingerprint the library computes for it.
func newArmoredKey(t testing.TB, cfg *packet.Config, headers map[string]string) (string, string) {
	t.Helper()
	e, err := openpgp.NewEntity("Northern Parcel Co", "vendor key", "orders@northern-parcel.example", cfg)
	if err != nil {
		t.Fatalf("NewEntity: %v", err)
	}
	var b bytes.Buffer
	w, err := armor.Encode(&b, openpgp.PublicKeyType, headers)
	if err != nil {
		t.Fatal(err)
	}
	if err := e.Serialize(w); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return b.String(), strings.ToUpper(hex.EncodeToString(e.PrimaryKey.Fingerprint))
}

func pgpIDs(ids []Identifier) []Identifier {
	var out []Identifier
	for _, id := range ids {
		if id.Kind == KindPGP {
			out = append(out, id)
		}
	}
	return out
}

func TestFindPGP(t *testing.T) {
	v4, fp4 := newArmoredKey(t, &packet.Config{Algorithm: packet.PubKeyAlgoEdDSA},
		map[string]string{"Comment": "Northern Parcel Co - verify every order", "Version": "Shop 1.0"})
	v6, fp6 := newArmoredKey(t, &packet.Config{V6Keys: true, Algorithm: packet.PubKeyAlgoEd25519}, nil)
	if len(fp4) != 40 || len(fp6) != 64 {
		t.Fatalf("fingerprint lengths %d and %d, want 40 (v4) and 64 (v6)", len(fp4), len(fp6))
	}
	collapse := func(s string) string { return strings.Join(strings.Fields(s), " ") }
	cases := map[string]struct {
		armored string
		want    string
	}{
		"v4 as exported":           {v4, fp4},
		"v6 as exported":           {v6, fp6},
		"v4 line breaks collapsed": {collapse(v4), fp4},
		"v6 line breaks collapsed": {collapse(v6), fp6},
		"v4 indented, CRLF, nbsp":  {strings.ReplaceAll(v4, "\n", "\r\n\u00a0\t  "), fp4},
		// goquery's Text() drops <br>: every line glued to the next.
		"v6 line breaks dropped": {strings.ReplaceAll(v6, "\n", ""), fp6},
	}
	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			text := "About us\nWe ship worldwide within 48 hours. Our key:\n" + c.armored + "\nAlways encrypt your address."
			ids := pgpIDs(Find(text))
			if len(ids) != 1 {
				t.Fatalf("got %d PGP identifiers %v, want 1", len(ids), ids)
			}
			id := ids[0]
			if id.Value != c.want {
				t.Errorf("fingerprint %s, want %s", id.Value, c.want)
			}
			if got := text[id.Start:id.End]; !strings.HasPrefix(got, pgpBegin) || !strings.HasSuffix(got, pgpEnd) {
				t.Errorf("span %d:%d is %q, want the whole block", id.Start, id.End, got)
			}
		})
	}

	// Broken blocks are ignored: a flipped base64 character, a truncated
	// body, a missing END line, random base64.
	body := v4[strings.Index(v4, "\n\n")+2:]
	mid := strings.Index(v4, body) + len(body)/2
	flip := byte('A')
	if v4[mid] == 'A' {
		flip = 'B'
	}
	broken := map[string]string{
		"flipped":   v4[:mid] + string(flip) + v4[mid+1:],
		"truncated": v4[:mid] + "\n" + pgpEnd,
		"no end":    strings.TrimSuffix(strings.TrimSpace(v4), pgpEnd),
		"noise":     pgpBegin + "\n\nmQINBGZmZmZmZmZmZmZmZmZmZmZmZmZmZmZmZmZmZmZmZmZmZmZmZmZmZmZmZmZm\n=abcd\n" + pgpEnd,
		"empty":     pgpBegin + pgpEnd,
	}
	for name, s := range broken {
		if ids := pgpIDs(Find("Contact: " + s + " thanks")); len(ids) != 0 {
			t.Errorf("%s: got %v from a broken block, want nothing", name, ids)
		}
	}

	// A broken block next to a good one costs only itself; text after a
	// block cut off before its END line is still read.
	for _, name := range []string{"flipped", "truncated", "no end", "noise"} {
		text := broken[name] + "\nPay to 1BvBMSEYstWetqTFn5Au4m4GFg7xJaNVN2\nNew key:\n" + v4
		ids := Find(text)
		if len(ids) != 2 || ids[0].Kind != KindBTC || ids[1].Kind != KindPGP || ids[1].Value != fp4 {
			t.Errorf("%s block, address, good block: got %v, want the address and %s", name, ids, fp4)
		} else if got := text[ids[1].Start:ids[1].End]; got != strings.TrimSpace(v4) {
			t.Errorf("%s block, address, good block: key span is %q, want the good block", name, got)
		}
	}
}

func TestFindPGPLimits(t *testing.T) {
	v4, _ := newArmoredKey(t, &packet.Config{Algorithm: packet.PubKeyAlgoEdDSA}, nil)
	text := strings.Repeat(v4+"\n", MaxPGPBlocks+3)
	if got := len(pgpIDs(Find(text))); got != MaxPGPBlocks {
		t.Errorf("%d blocks gave %d fingerprints, want the cap %d", MaxPGPBlocks+3, got, MaxPGPBlocks)
	}
	huge := pgpBegin + "\n\n" + strings.Repeat("QUFB", MaxPGPBlock/4) + "\n" + pgpEnd
	if got := pgpIDs(Find(huge + "\n" + v4)); len(got) != 1 || got[0].Start == 0 {
		t.Errorf("oversized block then a good one: got %v, want only the good one", got)
	}
}

// TestPGPFingerprintMatchesGnuPG checks the fingerprint against an
// independent implementation: GnuPG reading the same block.
func TestPGPFingerprintMatchesGnuPG(t *testing.T) {
	gpg, err := exec.LookPath("gpg")
	if err != nil {
		t.Fatal("gpg not found: install it (apt-get install gnupg)")
	}
	v4, _ := newArmoredKey(t, &packet.Config{Algorithm: packet.PubKeyAlgoEdDSA}, nil)
	rsa, _ := newArmoredKey(t, &packet.Config{Algorithm: packet.PubKeyAlgoRSA, RSABits: 2048}, nil)
	for name, armored := range map[string]string{"eddsa": v4, "rsa": rsa} {
		ids := pgpIDs(Find(strings.Join(strings.Fields(armored), " ")))
		if len(ids) != 1 {
			t.Fatalf("%s: got %v, want one fingerprint", name, ids)
		}
		cmd := exec.Command(gpg, "--batch", "--with-colons", "--import-options", "show-only", "--import")
		cmd.Env = append(os.Environ(), "GNUPGHOME="+t.TempDir())
		cmd.Stdin = strings.NewReader(armored)
		out, err := cmd.Output()
		if err != nil {
			t.Fatalf("%s: gpg: %v", name, err)
		}
		var primary string
		lines := strings.Split(string(out), "\n")
		for i, l := range lines {
			if strings.HasPrefix(l, "pub:") && i+1 < len(lines) && strings.HasPrefix(lines[i+1], "fpr:") {
				primary = strings.Split(lines[i+1], ":")[9]
				break
			}
		}
		if primary == "" {
			t.Fatalf("%s: no primary fingerprint in gpg output:\n%s", name, out)
		}
		if ids[0].Value != primary {
			t.Errorf("%s: fingerprint %s, gpg says %s", name, ids[0].Value, primary)
		}
	}
}

// TestBoundedKeys checks the size gate that runs before signatures are
// verified, with key packets built by hand (their sizes are all it reads).
func TestBoundedKeys(t *testing.T) {
	bits := func(n int) *big.Int { return new(big.Int).SetBit(big.NewInt(1), n-1, 1) }
	now := time.Unix(1700000000, 0)
	cases := map[string]struct {
		pk   *packet.PublicKey
		want bool
	}{
		"dsa 3072/256":  {packet.NewDSAPublicKey(now, &dsa.PublicKey{Parameters: dsa.Parameters{P: bits(3072), Q: bits(256), G: big.NewInt(2)}, Y: big.NewInt(3)}), true},
		"dsa 4096/256":  {packet.NewDSAPublicKey(now, &dsa.PublicKey{Parameters: dsa.Parameters{P: bits(4096), Q: bits(256), G: big.NewInt(2)}, Y: big.NewInt(3)}), false},
		"dsa 3072/3000": {packet.NewDSAPublicKey(now, &dsa.PublicKey{Parameters: dsa.Parameters{P: bits(3072), Q: bits(3000), G: big.NewInt(2)}, Y: big.NewInt(3)}), false},
		"rsa 8192":      {packet.NewRSAPublicKey(now, &rsa.PublicKey{N: bits(8192), E: 65537}), true},
		"rsa 16384":     {packet.NewRSAPublicKey(now, &rsa.PublicKey{N: bits(16384), E: 65537}), false},
	}
	for name, c := range cases {
		var b bytes.Buffer
		if err := c.pk.Serialize(&b); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if got := boundedKeys(b.Bytes()); got != c.want {
			t.Errorf("%s: boundedKeys = %v, want %v", name, got, c.want)
		}
		// As a subkey after a good primary key, the gate still applies.
		v4, _ := newArmoredKey(t, &packet.Config{Algorithm: packet.PubKeyAlgoEdDSA}, nil)
		blk, err := armor.Decode(strings.NewReader(v4))
		if err != nil {
			t.Fatal(err)
		}
		raw, _ := io.ReadAll(blk.Body)
		sub := *c.pk
		sub.IsSubkey = true
		var sb bytes.Buffer
		if err := sub.Serialize(&sb); err != nil {
			t.Fatal(err)
		}
		if got := boundedKeys(append(raw, sb.Bytes()...)); got != c.want {
			t.Errorf("%s as a subkey: boundedKeys = %v, want %v", name, got, c.want)
		}
	}
}
