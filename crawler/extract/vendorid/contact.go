package vendorid

import (
	"regexp"
	"strings"
)

// labelWindow is how far, in bytes, a label such as "Telegram:" may precede
// the handle it names.
const labelWindow = 40

var (
	// wickrRE takes the name after a Wickr label and a separator.
	wickrRE = regexp.MustCompile(`^(?i)wickr(?:\s*me)?(?:\s*id)?\s*[:=\-]\s*@?([a-z0-9][a-z0-9_.\-]{3,30}[a-z0-9])`)
	// emailAnchoredRE reads an e-mail address or JID, including the obfuscated
	// "name [at] host (dot) org" forms; the separators are only taken in
	// brackets, where they cannot be ordinary words.
	emailAnchoredRE = regexp.MustCompile(`^[A-Za-z0-9._%+\-]+` + at + label + `(?:` + dot + label + `)+`)
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

// findContacts looks for contacts only around their triggers ("@", a
// bracketed "at", "me/", "wickr"): running the patterns over the whole text
// costs far more than the text is long.
func findContacts(text string, skip []span) []Identifier {
	var ids []Identifier
	add := func(k Kind, v string, start, end int) {
		if !inside(skip, start, end) {
			ids = append(ids, Identifier{Kind: k, Value: v, Start: start, End: end})
		}
	}
	emailEnd := 0
	for i := 0; i < len(text); i++ {
		j := strings.IndexAny(text[i:], "@[({</wW")
		if j < 0 {
			break
		}
		i += j
		switch c := text[i]; c {
		case '@':
			if name, end, ok := atHandle(text, i); ok && nearestLabel(text, i) == "telegram" {
				add(KindTelegram, name, i, end)
			}
			if i >= emailEnd {
				if start, end, addr, ok := emailAt(text, i); ok && start >= emailEnd {
					emailEnd = end
					addEmail(text, start, end, addr, add)
				}
			}
		case '[', '(', '{', '<':
			if i >= emailEnd && bracketedAt(text[i:]) {
				sep := i
				for sep > 0 && isSpace(text[sep-1]) {
					sep--
				}
				if start, end, addr, ok := emailAt(text, sep); ok && start >= emailEnd {
					emailEnd = end
					addEmail(text, start, end, addr, add)
				}
			}
		case '/':
			if start, end, name, ok := telegramURL(text, i); ok {
				add(KindTelegram, name, start, end)
			}
		case 'w', 'W':
			if len(text)-i >= 5 && strings.EqualFold(text[i:i+5], "wickr") && (i == 0 || !isWord(text[i-1])) {
				w := text[i:min(len(text), i+wickrWindow)]
				if m := wickrRE.FindStringSubmatchIndex(w); m != nil && nameEnds(text, i+m[1]) {
					add(KindWickr, strings.ToLower(w[m[2]:m[3]]), i+m[2], i+m[3])
				}
			}
		}
	}
	return ids
}

const (
	// wickrWindow bounds the text read after "wickr" for the name.
	wickrWindow = 96
	// emailWindow bounds an address with its obfuscation: a 64-byte local
	// part and a host name of up to 255 bytes, with room for " (dot) ".
	emailWindow = 512
)

// nameEnds reports whether a Wickr name matched up to text[end] really ends
// there rather than running on past what the pattern took.
func nameEnds(text string, end int) bool {
	if end == len(text) {
		return true
	}
	c := text[end]
	return !isWord(c) && c != '-' && (c != '.' || end+1 == len(text) || !isWord(text[end+1]))
}

func addEmail(text string, start, end int, addr string, add func(Kind, string, int, int)) {
	host := addr[strings.IndexByte(addr, '@')+1:]
	if nearestLabel(text, start) == "xmpp" || xmppHosts[host] {
		add(KindXMPP, addr, start, end)
	} else {
		add(KindEmail, addr, start, end)
	}
}

// emailAt reads the address whose "@" (or its spelled-out form) starts at
// sep: the local part is the run of local-part characters before it.
func emailAt(text string, sep int) (start, end int, addr string, ok bool) {
	start = sep
	for start > 0 && sep-start < 64 && strings.IndexByte(localChars, text[start-1]) >= 0 {
		start--
	}
	if start == sep || (start > 0 && strings.IndexByte(localChars, text[start-1]) >= 0) {
		return 0, 0, "", false
	}
	w := text[start:min(len(text), start+emailWindow)]
	m := emailAnchoredRE.FindStringIndex(w)
	if m == nil || (m[1] == len(w) && start+len(w) < len(text)) {
		return 0, 0, "", false
	}
	addr, ok = deobfuscate(w[:m[1]])
	return start, start + m[1], addr, ok
}

// bracketedAt reports whether s starts with "[at]", "(at)", "{at}" or
// "<at>", in any case and with spaces inside.
func bracketedAt(s string) bool {
	i := 1
	for i < len(s) && isSpace(s[i]) {
		i++
	}
	if len(s)-i < 2 || !strings.EqualFold(s[i:i+2], "at") {
		return false
	}
	i += 2
	for i < len(s) && isSpace(s[i]) {
		i++
	}
	return i < len(s) && strings.IndexByte("])}>", s[i]) >= 0
}

// atHandle reads "@name" at text[at]: a Telegram-style username not
// preceded by a character of an e-mail local part or by the "/" of a
// t.me/@name link.
func atHandle(text string, at int) (name string, end int, ok bool) {
	if at > 0 && strings.IndexByte(localChars+"@/", text[at-1]) >= 0 {
		return "", 0, false
	}
	end, ok = username(text, at+1)
	return strings.ToLower(text[at+1 : end]), end, ok
}

// username reads a Telegram username at text[i:]: 5-32 letters, digits and
// underscores, starting with a letter, ending at a word boundary.
func username(text string, i int) (end int, ok bool) {
	end = i
	for end < len(text) && isWord(text[end]) {
		end++
	}
	n := end - i
	if n < 5 || n > 32 || !isLetter(text[i]) {
		return i, false
	}
	return end, true
}

// telegramURL reads a t.me or telegram.me link whose path starts at
// text[slash], with an optional scheme and "www.".
func telegramURL(text string, slash int) (start, end int, name string, ok bool) {
	if slash < 4 || !strings.EqualFold(text[slash-3:slash], ".me") {
		return 0, 0, "", false
	}
	host := slash - 3
	switch {
	case host >= 8 && strings.EqualFold(text[host-8:host], "telegram"):
		start = host - 8
	case strings.EqualFold(text[host-1:host], "t"):
		start = host - 1
	default:
		return 0, 0, "", false
	}
	if start > 0 && isWord(text[start-1]) {
		return 0, 0, "", false
	}
	if start >= 4 && strings.EqualFold(text[start-4:start], "www.") {
		start -= 4
	}
	for _, scheme := range []string{"https://", "http://"} {
		if start >= len(scheme) && strings.EqualFold(text[start-len(scheme):start], scheme) {
			start -= len(scheme)
			break
		}
	}
	i := slash + 1
	if i < len(text) && text[i] == '@' {
		i++
	}
	end, ok = username(text, i)
	if !ok {
		return 0, 0, "", false
	}
	name = strings.ToLower(text[i:end])
	if telegramPaths[name] {
		return 0, 0, "", false
	}
	return start, end, name, true
}

// nearestLabel returns the kind of the last contact label word ending at
// most labelWindow bytes before pos, or "".
func nearestLabel(text string, pos int) string {
	for end := pos; end > 0 && pos-end <= labelWindow; {
		if !isWord(text[end-1]) {
			end--
			continue
		}
		start := end - 1
		for start > 0 && isWord(text[start-1]) {
			start--
		}
		if end-start <= 8 {
			if kind, ok := labelWords[strings.ToLower(text[start:end])]; ok {
				return kind
			}
		}
		end = start
	}
	return ""
}

func isWord(c byte) bool   { return isAlnum(c) || c == '_' }
func isLetter(c byte) bool { return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' }
func isSpace(c byte) bool {
	return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v'
}

// labelWords are the words sellers put before a contact, with the kind of
// contact each names. Words that name no kind found here (signal, threema,
// …) still matter: they end the reach of an earlier label.
var labelWords = map[string]string{
	"telegram": "telegram", "tg": "telegram",
	"xmpp": "xmpp", "jabber": "xmpp", "jid": "xmpp", "omemo": "xmpp",
	"wickr": "wickr", "session": "session", "email": "email", "mail": "email",
	"signal": "signal", "threema": "threema", "whatsapp": "whatsapp", "discord": "discord",
	"matrix": "matrix", "element": "matrix", "tox": "tox", "simplex": "simplex", "briar": "briar",
	"pgp": "pgp", "btc": "btc", "xmr": "xmr", "eth": "eth", "bitcoin": "btc", "monero": "xmr",
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
	host := strings.ToLower(rest)
	if strings.ContainsAny(host, "[({<") {
		host = dotRE.ReplaceAllString(host, ".")
	}
	tld := host[strings.LastIndexByte(host, '.')+1:]
	if len(tld) < 2 || nonTLDs[tld] || strings.Trim(tld, "abcdefghijklmnopqrstuvwxyz") != "" {
		return "", false
	}
	return strings.ToLower(local) + "@" + host, true
}
