package extract

import (
	"net"
	"net/url"
	"path"
	"slices"
	"strings"

	"github.com/precwatch/precwatch"
)

// trackingParams are query keys (compared lower-case) that name a visit, a
// session or a campaign rather than the resource; utm_* is handled apart.
var trackingParams = map[string]bool{
	"ref": true, "ref_src": true, "referrer": true, "referer": true, "sid": true, "sessionid": true,
	"session_id": true, "phpsessid": true, "jsessionid": true, "aspsessionid": true, "s_id": true,
	"fbclid": true, "gclid": true, "gclsrc": true, "dclid": true, "gbraid": true, "wbraid": true,
	"msclkid": true, "yclid": true, "mc_cid": true, "mc_eid": true, "_ga": true, "_gl": true,
	"igshid": true, "twclid": true, "ttclid": true, "_hsenc": true, "_hsmi": true, "mkt_tok": true,
	// Shop systems' session ids, new on each visit (osCommerce, Zen Cart,
	// xt:Commerce, ColdFusion).
	"oscsid": true, "zenid": true, "xtcsid": true, "cfid": true, "cftoken": true,
}

func isTracking(key string) bool {
	k := strings.ToLower(key)
	return trackingParams[k] || strings.HasPrefix(k, "utm_")
}

// isSessionHash reports whether a query parameter is vBulletin's session
// hash, "s" with 32 hex digits, new on each visit; "s" is too common a key
// (a search) to drop whatever its value.
func isSessionHash(key, rawValue string) bool {
	if key != "s" || len(rawValue) != 32 {
		return false
	}
	for _, c := range []byte(rawValue) {
		if !('0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F') {
			return false
		}
	}
	return true
}

// Canonical returns the form of u used as a listing's URL and to tell pages
// apart: scheme and host lower-cased, default port, user info and fragment
// dropped, an empty path made "/", dot segments and ";jsessionid=" or ";PHPSESSID=" path
// parameters removed, tracking parameters (utm_*, ref, sid, fbclid, ...)
// and vBulletin's session hash (s=<32 hex digits>) dropped and the remaining query parameters sorted by key (keeping their
// original encoding and, for equal keys, their order). It returns "" for nil.
func Canonical(u *url.URL) string {
	if u == nil {
		return ""
	}
	c := *u
	c.Scheme = strings.ToLower(c.Scheme)
	c.User = nil
	c.Fragment, c.RawFragment = "", ""
	c.Host = canonicalHost(c.Scheme, c.Host)
	if c.Opaque == "" {
		p := c.EscapedPath()
		// A session id as a path parameter (Java's ";jsessionid=", SMF's
		// ";PHPSESSID=") ends the path.
		for _, param := range []string{";jsessionid=", ";phpsessid="} {
			if i := strings.Index(strings.ToLower(p), param); i >= 0 {
				p = p[:i]
			}
		}
		if p == "" && c.Host != "" {
			p = "/"
		}
		if strings.Contains(p, "/.") {
			trailing := strings.HasSuffix(p, "/") || strings.HasSuffix(p, "/.") || strings.HasSuffix(p, "/..")
			p = path.Clean(p)
			if trailing && p != "/" {
				p += "/"
			}
		}
		if dp, err := url.PathUnescape(p); err == nil {
			c.Path, c.RawPath = dp, p
			if c.EscapedPath() != p {
				// The raw form was not a valid encoding of the path; keep it.
				c.RawPath = ""
			}
		}
	}
	c.RawQuery = canonicalQuery(c.RawQuery)
	c.ForceQuery = false
	return c.String()
}

func canonicalHost(scheme, host string) string {
	host = strings.ToLower(host)
	h, port, err := net.SplitHostPort(host)
	if err != nil {
		return strings.TrimSuffix(host, ".")
	}
	h = strings.TrimSuffix(h, ".")
	if (scheme == "http" && port == "80") || (scheme == "https" && port == "443") || port == "" {
		if strings.Contains(h, ":") {
			return "[" + h + "]"
		}
		return h
	}
	return net.JoinHostPort(h, port)
}

func canonicalQuery(raw string) string {
	if raw == "" {
		return ""
	}
	type pair struct{ key, raw string }
	var pairs []pair
	for part := range strings.SplitSeq(raw, "&") {
		if part == "" {
			continue
		}
		k, v, _ := strings.Cut(part, "=")
		if dk, err := url.QueryUnescape(k); err == nil {
			k = dk
		}
		if isTracking(k) || isSessionHash(k, v) {
			continue
		}
		pairs = append(pairs, pair{k, part})
	}
	slices.SortStableFunc(pairs, func(a, b pair) int { return strings.Compare(a.key, b.key) })
	parts := make([]string, len(pairs))
	for i, p := range pairs {
		parts[i] = p.raw
	}
	return strings.Join(parts, "&")
}

// minPageRows is the fewest rows of a page dropSharedSessionParams judges:
// on fewer, a value every row shares says nothing.
const minPageRows = 3

// dropSharedSessionParams drops from the rows' URLs a query parameter that
// every row of one page carries with one token-like value (see
// tokenLike): a session id under a name trackingParams does not know
// (?sk=9f3a…, new on every visit), which would make a listing identified
// by its URL (showthread.php?t=9&sk=…) new on every run. The rows of one
// page all shared it, so dropping it cannot merge two of them.
func dropSharedSessionParams(ls []precwatch.Listing) {
	if len(ls) < minPageRows {
		return
	}
	var shared map[string]string
	for i, l := range ls {
		u, err := url.Parse(l.URL)
		if err != nil || u.RawQuery == "" {
			return
		}
		q := u.Query()
		if i == 0 {
			shared = make(map[string]string)
			for k, vs := range q {
				if len(vs) == 1 && tokenLike(vs[0]) {
					shared[k] = vs[0]
				}
			}
		} else {
			for k, v := range shared {
				if vs := q[k]; len(vs) != 1 || vs[0] != v {
					delete(shared, k)
				}
			}
		}
		if len(shared) == 0 {
			return
		}
	}
	for i := range ls {
		u, err := url.Parse(ls[i].URL)
		if err != nil {
			continue
		}
		var kept []string
		for part := range strings.SplitSeq(u.RawQuery, "&") {
			k, _, _ := strings.Cut(part, "=")
			if dk, err := url.QueryUnescape(k); err == nil {
				k = dk
			}
			if _, drop := shared[k]; !drop && part != "" {
				kept = append(kept, part)
			}
		}
		u.RawQuery = strings.Join(kept, "&")
		ls[i].URL = Canonical(u)
	}
}

// tokenLike reports whether a query value looks generated, as a session
// id is: 16 characters or more of letters, digits and "-_.~", letters and
// digits mixed through it (a change between the two at least every 8
// characters, 3 at least), as in a hex, base-32 or base-64 session id or a
// UUID, not a slug ("lab-supplies-2024", "nitric-acid-65pct") or a number.
func tokenLike(v string) bool {
	if len(v) < 16 {
		return false
	}
	const (
		other = iota
		digit
		letter
	)
	changes, prev := 0, other
	for _, c := range []byte(v) {
		cur := other
		switch {
		case '0' <= c && c <= '9':
			cur = digit
		case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z':
			cur = letter
		case c == '-' || c == '_' || c == '.' || c == '~':
		default:
			return false
		}
		if cur != other && prev != other && cur != prev {
			changes++
		}
		prev = cur
	}
	return changes >= 3 && changes*8 >= len(v)
}
