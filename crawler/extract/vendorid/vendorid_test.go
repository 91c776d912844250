package vendorid

import (
	"fmt"
	"strings"
	"testing"

	"github.com/ProtonMail/go-crypto/openpgp/packet"
)

// profileXMR is a made-up subaddress with a valid checksum.
var profileXMR = moneroTestAddress(moneroSubaddress, 0, 9)

const sessionID = "0586c3a0f1e5b2d4c6a8e0f2b4d6c8a0e2f4b6d8c0a2e4f6b8d0c2a4e6f8b0d2c4"

var profile = `Northern Parcel Co - vendor profile
Shipping: worldwide, tracked, 2-5 days, vacuum sealed. Orders before 14:00 leave the same day.
Contact us:
Telegram: @Northern_Parcel
Support channel: https://t.me/NorthernParcelSupport
Session: ` + sessionID + `
Jabber: NorthParcel@exploit.im (backup xmpp: np-orders@chat.example.org)
Wickr: northparcel_ops
E-mail: Orders [at] northern-parcel (dot) example
Payment: BTC bc1qw508d6qejxtdg4y5r3zarvary0c5xw7kv8f3t4 or 1BvBMSEYstWetqTFn5Au4m4GFg7xJaNVN2,
XMR ` + profileXMR + `
ETH 0x5aaeb6053f3e94c9b9a09f33669435e7ef1beaed
Refunds go to 3J98t1WpEZ73CNmQviecrnyiWrnqRhWNLy only.`

func TestFindProfile(t *testing.T) {
	want := []struct {
		kind       Kind
		value, raw string
	}{
		{KindTelegram, "northern_parcel", "@Northern_Parcel"},
		{KindTelegram, "northernparcelsupport", "https://t.me/NorthernParcelSupport"},
		{KindSession, sessionID, sessionID},
		{KindXMPP, "northparcel@exploit.im", "NorthParcel@exploit.im"},
		{KindXMPP, "np-orders@chat.example.org", "np-orders@chat.example.org"},
		{KindWickr, "northparcel_ops", "northparcel_ops"},
		{KindEmail, "orders@northern-parcel.example", "Orders [at] northern-parcel (dot) example"},
		{KindBTC, "bc1qw508d6qejxtdg4y5r3zarvary0c5xw7kv8f3t4", "bc1qw508d6qejxtdg4y5r3zarvary0c5xw7kv8f3t4"},
		{KindBTC, "1BvBMSEYstWetqTFn5Au4m4GFg7xJaNVN2", "1BvBMSEYstWetqTFn5Au4m4GFg7xJaNVN2"},
		{KindXMR, profileXMR, profileXMR},
		{KindETH, "0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed", "0x5aaeb6053f3e94c9b9a09f33669435e7ef1beaed"},
		{KindBTC, "3J98t1WpEZ73CNmQviecrnyiWrnqRhWNLy", "3J98t1WpEZ73CNmQviecrnyiWrnqRhWNLy"},
	}
	got := Find(profile)
	if len(got) != len(want) {
		t.Errorf("got %d identifiers, want %d:\n%s", len(got), len(want), dump(profile, got))
	}
	for i := range min(len(got), len(want)) {
		g, w := got[i], want[i]
		if g.Kind != w.kind || g.Value != w.value || profile[g.Start:g.End] != w.raw {
			t.Errorf("identifier %d: got %s %q at %q, want %s %q at %q", i, g.Kind, g.Value, profile[g.Start:g.End], w.kind, w.value, w.raw)
		}
	}
}

func dump(text string, ids []Identifier) string {
	var b strings.Builder
	for _, id := range ids {
		fmt.Fprintf(&b, "  %s %q at %d:%d %q\n", id.Kind, id.Value, id.Start, id.End, text[id.Start:id.End])
	}
	return b.String()
}

func TestFindContacts(t *testing.T) {
	cases := map[string]struct {
		text string
		want []string // "kind value"
	}{
		"telegram.me link":       {"DM me: telegram.me/@Parcel_Desk", []string{"telegram parcel_desk"}},
		"tg label":               {"TG - @parcel_desk, replies within a day", []string{"telegram parcel_desk"}},
		"handle without context": {"Follow @parcel_desk for restock news", nil},
		"label too far":          {"Telegram is where we post news. Shipping is tracked and insured. Ask @parcel_desk", nil},
		"nearest label wins":     {"Wickr: @alpha_ops, Telegram: @beta_ops", []string{"wickr alpha_ops", "telegram beta_ops"}},
		"invite links":           {"join t.me/joinchat/AbCdEf and t.me/+AbCdEfGh", nil},
		"email plain":            {"write to Shop.Orders+eu@Mail.Example.com today", []string{"email shop.orders+eu@mail.example.com"}},
		"email brackets":         {"orders(at)parcel-desk[dot]net", []string{"email orders@parcel-desk.net"}},
		"email braces":           {"orders {at} parcel {dot} co {dot} uk", []string{"email orders@parcel.co.uk"}},
		"at as a word":           {"we ship at night, pay at checkout.", nil},
		"asset name":             {`<img src="logo@2x.png">`, nil},
		"jid by host":            {"reach us: parcel@jabber.ccc.de", []string{"xmpp parcel@jabber.ccc.de"}},
		"jid by label":           {"XMPP/OMEMO: desk [at] chat.example.org", []string{"xmpp desk@chat.example.org"}},
		"wickr needs separator":  {"Wickr is down today, sorry", nil},
		"wickr me":               {"wickr me: Parcel.Desk", []string{"wickr parcel.desk"}},
		"wickr name too long":    {"Wickr: " + strings.Repeat("parcel", 7) + " thanks", nil},
		"wickr name, full stop":  {"Wickr: parcel.desk. Replies daily.", []string{"wickr parcel.desk"}},
		"local part too long":    {"mail " + strings.Repeat("a", 70) + "@parcel.example", nil},
		"handle, no label":       {"Shipping: 2-5 days, contact @parcel_desk", nil},
		"url inside a word":      {"see abt.me/parcel_desk", nil},
		"two @ in a row":         {"a@b.com@c.org", []string{"email a@b.com"}},
		"session wrong prefix":   {"06" + sessionID[2:], nil},
		"session too long":       {sessionID + "a", nil},
	}
	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			var got []string
			for _, id := range Find(c.text) {
				got = append(got, string(id.Kind)+" "+id.Value)
			}
			if strings.Join(got, "|") != strings.Join(c.want, "|") {
				t.Errorf("Find(%q) = %q, want %q", c.text, got, c.want)
			}
		})
	}
}

// Decoys look like identifiers but are not: none may be reported.
func TestFindDecoys(t *testing.T) {
	decoys := []string{
		"Tracking 0x" + strings.Repeat("ab12", 16) + " (transaction hash, 64 hex)",
		"Order ref 5aaeb6053f3e94c9b9a09f33669435e7ef1beaed (40 hex, no 0x)",
		"ETH 0x5AAeb6053F3E94C9b9A09f33669435E7Ef1BeAed (mixed case, bad checksum)",
		"BTC 1BvBMSEYstWetqTFn5Au4m4GFg7xJaNVN3 (34 characters, bad checksum)",
		"BTC bc1qw508d6qejxtdg4y5r3zarvary0c5xw7kv8f3t5",
		"BTC bc1p0xlxvlhemja6c4dqv22uapctqupfhlxm9h8z3k2e72q4k9hcz7vqh2y7hd (v1 with a bech32 checksum)",
		"XMR 4" + strings.Repeat("A", 94),
		"XMR " + moneroGeneralFund[:50] + "B" + moneroGeneralFund[51:],
		"Contact @parcel_desk anytime",
		"Coupon 1111111111111111111114oLvT3 and SKU 3333333333333333333333333333",
		pgpBegin + "\nmQENBFakeFakeFake\n=AAAA\n" + pgpEnd,
		"Price 0.0019 BTC, ships at 14:00",
	}
	for _, d := range decoys {
		if ids := Find(d); len(ids) != 0 {
			t.Errorf("Find(%q) = %v, want nothing", d, ids)
		}
	}
}

func TestFindRepeatsAndBlocks(t *testing.T) {
	a := "1BvBMSEYstWetqTFn5Au4m4GFg7xJaNVN2"
	ids := Find("pay " + a + "\nagain: " + a)
	if len(ids) != 2 || ids[0].Value != a || ids[1].Value != a || ids[0].Start == ids[1].Start {
		t.Errorf("two occurrences: got %v, want both", ids)
	}
	// Text inside an armored block is never read as an address, even
	// when the block does not parse.
	ids = Find(pgpBegin + "\n\n" + a + "\n" + pgpEnd)
	if len(ids) != 0 {
		t.Errorf("address inside a key block: got %v, want nothing", ids)
	}
}

func TestFindCaps(t *testing.T) {
	a := "1BvBMSEYstWetqTFn5Au4m4GFg7xJaNVN2 "
	if got := len(Find(strings.Repeat(a, MaxIdentifiers+10))); got != MaxIdentifiers {
		t.Errorf("got %d identifiers, want the cap %d", got, MaxIdentifiers)
	}
	long := strings.Repeat(" ", MaxText-10) + a
	if got := Find(long); len(got) != 0 {
		t.Errorf("address past MaxText: got %v, want nothing", got)
	}
}

func FuzzFind(f *testing.F) {
	v4, _ := newArmoredKey(f, &packet.Config{Algorithm: packet.PubKeyAlgoEdDSA}, nil)
	for _, s := range []string{profile, v4, strings.Join(strings.Fields(v4), " "), "a [at] b (dot) cc", "tg @abcde", "0x" + strings.Repeat("F", 40), "4" + strings.Repeat("z", 105)} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, text string) {
		ids := Find(text)
		if len(ids) > MaxIdentifiers {
			t.Fatalf("%d identifiers", len(ids))
		}
		for i, id := range ids {
			if id.Start < 0 || id.End > len(text) || id.Start >= id.End || id.Value == "" {
				t.Fatalf("bad identifier %+v for a text of %d bytes", id, len(text))
			}
			if i > 0 && ids[i-1].Start > id.Start {
				t.Fatalf("identifiers out of order: %+v before %+v", ids[i-1], id)
			}
			switch id.Kind {
			case KindBTC, KindXMR, KindETH, KindSession:
				// A checked address stands on its own: its span alone
				// yields the same value.
				again := Find(text[id.Start:id.End])
				if len(again) != 1 || again[0].Kind != id.Kind || again[0].Value != id.Value {
					t.Fatalf("span %q of %+v alone gives %v", text[id.Start:id.End], id, again)
				}
			}
		}
	})
}

// BenchmarkFind scans a 100 KB vendor page: shop text with one armored
// key, a contact-and-payment block every few kilobytes, and decoys (an
// unlabelled "@" handle, a transaction hash).
func BenchmarkFind(b *testing.B) {
	v4, _ := newArmoredKey(b, &packet.Config{Algorithm: packet.PubKeyAlgoEdDSA}, nil)
	filler := "Every parcel ships in plain packaging with tracking. Reship once if lost, refunds within 7 days. " +
		"Questions about your order? Message us with the order number, never in public threads. Prices in USD, paid in BTC or XMR.\n"
	var page strings.Builder
	page.WriteString(v4)
	for i := 0; page.Len() < 100<<10; i++ {
		page.WriteString(filler)
		switch i % 24 {
		case 7:
			page.WriteString("Follow @parcel_desk for restocks. Last payout 0x" + strings.Repeat("ab", 32) + "\n")
		case 15:
			page.WriteString(profile + "\n")
		}
	}
	text := page.String()
	b.SetBytes(int64(len(text)))
	b.ReportAllocs()
	var n int
	for b.Loop() {
		n = len(Find(text))
	}
	b.ReportMetric(float64(n), "ids/op")
}

// BenchmarkFindHostile scans text built to defeat the scanners: thousands
// of empty key blocks between address-length tokens and e-mail fragments.
func BenchmarkFindHostile(b *testing.B) {
	unit := pgpBegin + pgpEnd + " 1BvBMSEYstWetqTFn5Au4m4GFg7xJaNVN3 a.a.a.a@ [at] (dot) @tg_handle tg "
	text := strings.Repeat(unit, (1<<20)/len(unit))
	b.SetBytes(int64(len(text)))
	for b.Loop() {
		Find(text)
	}
}
