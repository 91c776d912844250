package crawler

import (
	"errors"
	"net/url"
	"strings"

	"github.com/PuerkitoBio/goquery"

	"github.com/precwatch/precwatch"
	"github.com/precwatch/precwatch/crawler/extract"
)

// Listing identity from the detail page. An index row names its listing
// by the URL it links to, which may not be the listing's own: a hop
// (/go/8812, out.php?t=55) that redirects, by HTTP or a meta refresh, to
// the ad; the same ad under two category paths or with a tracking
// parameter the crawler does not know. The detail page tells: it is read
// at its final URL, and it may declare <link rel="canonical">. The
// listing's own URL is the canonical one when the page declares one on the
// site's hosts that is no index page of the run, else the URL the page was
// read at; the listing takes it as its URL and, when its ID came from its
// row's URL (no id rule) or it had none, the ID that URL gives.
//
// Stored identities stay as they are: when that makes a listing another
// than its row's, the row's is kept if the store holds it and the new one
// is not there (a store crawled before keeps its listings and their
// alerts; a listing identified by its URL then also keeps that URL). A
// listing re-keyed this way is looked up by its row on the next run, not
// found there, and its detail page is read again each run: the cost of
// reading two rows of one ad as one.

// noteIndex remembers an index page of the run (as asked for and as read)
// so that a canonical link or a redirect to it is not taken for a
// listing's own URL (a removed ad sent to its category).
func (r *run) noteIndex(urls ...string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.indexPages == nil {
		r.indexPages = make(map[string]bool)
	}
	for _, raw := range urls {
		if key, err := canonical(raw); err == nil {
			r.indexPages[key] = true
		}
	}
}

// ownURL judges key, a canonical URL a detail page gave for its listing:
// it is the listing's own when it is on the site's hosts (a mirror's
// mapped to the primary), has a path, and is neither a start URL nor an
// index page of the run. It returns the URL on the primary host.
func (r *run) ownURL(key string) (string, bool) {
	u, err := url.Parse(key)
	if err != nil || !r.c.hosts[strings.ToLower(u.Hostname())] || u.Path == "" || u.Path == "/" {
		return "", false
	}
	key = r.mirrors.toPrimary(key)
	for _, s := range r.c.site.StartURLs {
		if k, err := canonical(s); err == nil && r.mirrors.toPrimary(k) == key {
			return "", false
		}
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.indexPages[key] {
		return "", false
	}
	return key, true
}

// reidentify gives l, read from its detail page doc at pageURL (where the
// page was read, after redirects), its own URL and the identity that
// goes with it (see above). read is what the detail rules read there: a
// url rule decides the URL itself.
func (r *run) reidentify(l, read precwatch.Listing, pageURL *url.URL, doc *goquery.Document) precwatch.Listing {
	if read.URL != "" || l.URL == "" {
		return l
	}
	own, ok := "", false
	if link := extract.CanonicalLink(doc, pageURL); link != "" {
		own, ok = r.ownURL(link)
	}
	if !ok {
		own, ok = r.ownURL(extract.Canonical(pageURL))
	}
	if !ok || own == l.URL {
		return l
	}
	c := l
	c.URL = own
	if l.ID == "" || r.urlID(l.URL) == l.ID {
		c.ID = r.urlID(own)
	}
	if c.Identity() == l.Identity() {
		return c
	}
	if r.stored(c) {
		return c // the listing the store knows under its own URL
	}
	if r.stored(l) {
		// Crawled under its row's identity before: kept, with its own URL
		// where that is not its identity.
		if l.ID != "" {
			l.URL = own
		}
		return l
	}
	return c
}

// urlID is the ID an index row is given from url u, as the site's rules
// compare IDs.
func (r *run) urlID(u string) string {
	id := extract.IDFromURL(u)
	if r.c.site.Extract.IDIgnoreCase {
		id = strings.ToLower(id)
	}
	return id
}

// stored reports whether the store holds l's identity; a store error
// counts as held, so that an identity is never changed on a guess.
func (r *run) stored(l precwatch.Listing) bool {
	_, err := r.c.store.Listing(r.ctx, precwatch.ListingKey(r.c.site.Name, l.Identity()))
	return !errors.Is(err, precwatch.ErrNotFound)
}
