// Package vendorid finds strong seller identifiers in listing and vendor-page
// text: OpenPGP public keys (by primary-key fingerprint), cryptocurrency
// addresses whose checksums verify (Bitcoin base58check and bech32/bech32m,
// Monero, Ethereum) and contact handles (Telegram, Session, XMPP, Wickr,
// e-mail). Linking sellers across markets relies on these values only: a
// vendor's display name is never an identifier.
//
// Find is pure and safe on hostile input: it never panics, and its work is
// bounded by the limits below.
package vendorid

import (
	"cmp"
	"slices"
	"sort"
)

// Kind names the type of an identifier; the values are stable and may be
// stored.
type Kind string

// The identifier kinds Find reports.
const (
	KindPGP      Kind = "pgp-fingerprint"
	KindBTC      Kind = "btc"
	KindXMR      Kind = "xmr"
	KindETH      Kind = "eth"
	KindTelegram Kind = "telegram"
	KindSession  Kind = "session"
	KindXMPP     Kind = "xmpp"
	KindWickr    Kind = "wickr"
	KindEmail    Kind = "email"
)

// Identifier is one identifier found in a text.
type Identifier struct {
	Kind Kind `json:"kind"`
	// Value is normalised so that equal identifiers compare equal: an
	// upper-case hex fingerprint, a bech32 address in lower case, an
	// Ethereum address in its EIP-55 checksummed form, a Monero or base58
	// Bitcoin address as written, a lower-case handle, JID or e-mail.
	Value string `json:"value"`
	// Start and End are the byte offsets of the identifier in the text
	// (for a PGP key, of its whole armored block).
	Start int `json:"start"`
	End   int `json:"end"`
}

// Bounds on the work Find does for one text.
const (
	// MaxText is how much of a text is scanned; the rest is ignored.
	MaxText = 4 << 20
	// MaxPGPBlocks is how many armored key blocks are parsed per text.
	MaxPGPBlocks = 8
	// MaxPGPBlock is the largest armored block parsed, in bytes.
	MaxPGPBlock = 64 << 10
	// MaxIdentifiers caps the identifiers returned for one text.
	MaxIdentifiers = 512
)

// Find returns the identifiers in text, ordered by position. An identifier
// that occurs several times is reported at each place it occurs.
func Find(text string) []Identifier {
	if len(text) > MaxText {
		text = text[:MaxText]
	}
	var ids []Identifier
	pgp, blocks := findPGP(text)
	ids = append(ids, pgp...)
	// Armored base64 could contain runs that look like addresses, so the
	// other scanners skip every key block, parsed or not.
	ids = append(ids, findTokens(text, blocks)...)
	ids = append(ids, findContacts(text, blocks)...)
	slices.SortFunc(ids, func(a, b Identifier) int {
		return cmp.Or(cmp.Compare(a.Start, b.Start), cmp.Compare(a.End, b.End),
			cmp.Compare(a.Kind, b.Kind), cmp.Compare(a.Value, b.Value))
	})
	ids = slices.Compact(ids)
	if len(ids) > MaxIdentifiers {
		ids = ids[:MaxIdentifiers]
	}
	return ids
}

type span struct{ start, end int }

// inside reports whether [start, end) overlaps one of spans, which are
// sorted and disjoint (key blocks, in text order).
func inside(spans []span, start, end int) bool {
	i := sort.Search(len(spans), func(i int) bool { return spans[i].end > start })
	return i < len(spans) && spans[i].start < end
}
