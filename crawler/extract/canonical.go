package extract

import (
	"net"
	"net/url"
	"path"
	"slices"
	"strings"
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
