package vendorid

import (
	"regexp"
	"sort"
	"strings"
)

// labelWindow is how far, in bytes, a label such as "Telegram:" may precede
// the handle it names.
const labelWindow = 40

var (
	// labelRE finds the words sellers put before a contact. Labels that
	// name no kind found here (signal, threema, …) still matter: they end
	// the reach of an earlier label.
	labelRE = regexp.MustCompile(`(?i)\b(telegram|tg|wickr(?:\s*me)?|session(?:\s*id)?|xmpp|jabber|jid|e-?mail|signal|threema|whatsapp|discord|matrix|element|tox|simplex|briar|pgp|btc|xmr|bitcoin|monero)\b`)
	// telegramURLRE finds t.me and telegram.me links; usernames are 5-32
	// letters, digits and underscores, starting with a letter.
	telegramURLRE = regexp.MustCompile(`(?i)\b(?:https?://)?(?:www\.)?(?:t|telegram)\.me/@?([a-z][a-z0-9_]{4,31})\b`)
	// atHandleRE finds "@name" not preceded by a character of an e-mail
	// local part or by the "/" of a t.me/@name link.
	atHandleRE = regexp.MustCompile(`(?:^|[^A-Za-z0-9._%+\-@/])@([A-Za-z][A-Za-z0-9_]{4,31})\b`)
	// wickrRE takes the name after a Wickr label and a separator.
	wickrRE = regexp.MustCompile(`(?i)\bwickr(?:\s*me)?(?:\s*id)?\s*[:=\-]\s*@?([a-z0-9][a-z0-9_.\-]{3,30}[a-z0-9])`)
	// emailRE finds e-mail addresses and JIDs, including the obfuscated
	// "name [at] host (dot) org" forms; the separators are only taken in
	// brackets, where they cannot be ordinary words.
	emailRE = regexp.MustCompile(`[A-Za-z0-9._%+\-]+` + at + label + `(?:` + dot + label + `)+`)
)

const (
	localChars = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789._%+-"
	at         = `(?:@|\s*[\[\(\{<]\s*(?i:at)\s*[\]\)\}>]\s*)`
	dot        = `(?:\.|\s*[\[\(\{<]\s*(?i:dot)\s*[\]\)\}>]\s*)`
	label      = `[A-Za-z0-9](?:[A-Za-z0-9\-]{0,61}[A-Za-z0-9])?`
)

var (
	atRE  = regexp.MustCompile(`^` + at)
	dotRE = regexp.MustCompile(dot)
)

// telegramPaths are t.me paths that are not usernames.
var telegramPaths = map[string]bool{"joinchat": true, "addstickers": true, "share": true, "proxy": true, "socks": true, "setlanguage": true, "iv": true, "contact": true}

// xmppHosts are public XMPP servers: an address at one of them is a JID even
// without an "xmpp" or "jabber" label.
var xmppHosts = map[string]bool{
	"jabber.org": true, "jabber.de": true, "jabber.ccc.de": true, "jabber.at": true, "jabber.cz": true,
	"jabber.fr": true, "jabber.ru": true, "jabber.sk": true, "jabber.calyxinstitute.org": true,
	"jabber.systemli.org": true, "jabber.hot-chilli.net": true, "jabb.im": true, "jabbim.com": true,
	"xmpp.jp": true, "xmpp.is": true, "xmpp.earth": true, "xmpp.chat": true, "exploit.im": true,
	"404.city": true, "conversations.im": true, "yax.im": true, "creep.im": true, "anonym.im": true,
	"blah.im": true, "thesecure.biz": true, "xabber.org": true, "magicbroccoli.de": true, "movim.eu": true,
}

// nonTLDs are file extensions that follow "@" in asset names (logo@2x.png).
var nonTLDs = map[string]bool{"png": true, "jpg": true, "jpeg": true, "gif": true, "webp": true, "svg": true, "css": true, "js": true}

type labelAt struct {
	end  int
	kind string
}

func findContacts(text string, skip []span) []Identifier {
	var labels []labelAt
	for _, m := range labelRE.FindAllStringSubmatchIndex(text, -1) {
		labels = append(labels, labelAt{end: m[1], kind: labelKind(text[m[2]:m[3]])})
	}
	// nearest returns the kind of the closest label ending at most
	// labelWindow bytes before pos, or "".
	nearest := func(pos int) string {
		i := sort.Search(len(labels), func(i int) bool { return labels[i].end > pos }) - 1
		if i < 0 || pos-labels[i].end > labelWindow {
			return ""
		}
		return labels[i].kind
	}

	var ids []Identifier
	add := func(k Kind, v string, start, end int) {
		if !inside(skip, start, end) {
			ids = append(ids, Identifier{Kind: k, Value: v, Start: start, End: end})
		}
	}
	for _, m := range telegramURLRE.FindAllStringSubmatchIndex(text, -1) {
		name := strings.ToLower(text[m[2]:m[3]])
		if !telegramPaths[name] {
			add(KindTelegram, name, m[0], m[1])
		}
	}
	for _, m := range atHandleRE.FindAllStringSubmatchIndex(text, -1) {
		start := m[2] - 1 // the "@"
		if nearest(start) == "telegram" {
			add(KindTelegram, strings.ToLower(text[m[2]:m[3]]), start, m[1])
		}
	}
	for _, m := range wickrRE.FindAllStringSubmatchIndex(text, -1) {
		add(KindWickr, strings.ToLower(text[m[2]:m[3]]), m[2], m[3])
	}
	for _, m := range emailRE.FindAllStringIndex(text, -1) {
		addr, ok := deobfuscate(text[m[0]:m[1]])
		if !ok {
			continue
		}
		host := addr[strings.IndexByte(addr, '@')+1:]
		if nearest(m[0]) == "xmpp" || xmppHosts[host] {
			add(KindXMPP, addr, m[0], m[1])
		} else {
			add(KindEmail, addr, m[0], m[1])
		}
	}
	return ids
}

func labelKind(word string) string {
	w := strings.ToLower(word)
	switch {
	case w == "telegram" || w == "tg":
		return "telegram"
	case w == "xmpp" || w == "jabber" || w == "jid":
		return "xmpp"
	case strings.HasPrefix(w, "wickr"):
		return "wickr"
	}
	return w
}

// deobfuscate turns a match of emailRE into a lower-case address, or
// reports that it is not one (a bad local part or top-level domain).
func deobfuscate(s string) (string, bool) {
	// The local part is the leading run of local-part characters; the "@"
	// or its bracketed spelling follows it.
	i := strings.IndexFunc(s, func(r rune) bool { return !strings.ContainsRune(localChars, r) })
	if i < 0 {
		return "", false
	}
	loc := atRE.FindStringIndex(s[i:])
	if loc == nil {
		return "", false
	}
	local, rest := s[:i], s[i+loc[1]:]
	local = strings.Trim(local, ".")
	if local == "" || strings.Contains(local, "..") {
		return "", false
	}
	host := strings.ToLower(dotRE.ReplaceAllString(rest, "."))
	tld := host[strings.LastIndexByte(host, '.')+1:]
	if len(tld) < 2 || nonTLDs[tld] || strings.Trim(tld, "abcdefghijklmnopqrstuvwxyz") != "" {
		return "", false
	}
	return strings.ToLower(local) + "@" + host, true
}
