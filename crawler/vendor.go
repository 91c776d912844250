package crawler

// Vendor profiles (issue 11): the identifiers in each listing's text are
// stored with it, and a listing's vendor page (the site's vendor_url rule)
// is fetched once per run and its identifiers recorded for the vendor.

import (
	"fmt"
	"time"

	"github.com/PuerkitoBio/goquery"
	"github.com/gocolly/colly/v2"

	"github.com/precwatch/precwatch"
	"github.com/precwatch/precwatch/crawler/extract/vendorid"
)

// kindVendor is a vendor profile page; its task's listing carries the
// vendor (Site, Vendor) whose page it is.
const kindVendor taskKind = 100

// identifiers are the distinct strong identifiers in text, at most
// precwatch.MaxVendorIDs of them, in order of first appearance.
func identifiers(text string) []precwatch.VendorID {
	var out []precwatch.VendorID
	seen := map[precwatch.VendorID]bool{}
	for _, id := range vendorid.Find(text) {
		v := precwatch.VendorID{Kind: string(id.Kind), Value: id.Value}
		if seen[v] {
			continue
		}
		if len(out) == precwatch.MaxVendorIDs {
			break
		}
		seen[v] = true
		out = append(out, v)
	}
	return out
}

// identify sets l's identifiers from its title and description.
func identify(l precwatch.Listing) precwatch.Listing {
	l.Identifiers = identifiers(l.Title + "\n" + l.Description)
	return l
}

// followVendor schedules l's vendor page, once per run, when the site's
// rules name one and the store keeps vendor pages.
func (r *run) followVendor(l precwatch.Listing) {
	if r.c.vendors == nil || l.VendorURL == "" {
		return
	}
	r.enqueue(task{url: r.mirrors.toPrimary(l.VendorURL), kind: kindVendor, fresh: true,
		listing: precwatch.Listing{Site: l.Site, Vendor: l.Vendor, URL: l.VendorURL}})
}

// vendorFailed logs a vendor page that could not be had. It is not a run
// error: no listing depends on it, so the run stays complete (and may mark
// listings gone); the vendor keeps what earlier fetches of its page showed.
func (r *run) vendorFailed(t task, err error) {
	r.c.logger.Warn("vendor page not fetched", "url", t.url, "vendor", precwatch.VendorOf(t.listing).String(), "error", err)
}

// vendorPage records the identifiers of vendor page t, with the page as
// evidence (b's, written again by flush as a no-op).
func (r *run) vendorPage(b *pageBatch, t task, resp *colly.Response, doc *goquery.Document, fetchedAt time.Time) {
	s := precwatch.VendorPageSighting{
		Vendor:      precwatch.VendorOf(t.listing),
		URL:         r.mirrors.toPrimary(resp.Request.URL.String()),
		PageSHA256:  b.digest,
		At:          fetchedAt,
		Identifiers: identifiers(r.c.ext.VendorText(doc)),
	}
	if _, err := r.c.vendors.RecordVendorPage(r.ctx, b.page, s); err != nil {
		r.addErr(r.storeFailed(fmt.Errorf("crawler: record vendor page %s: %w", resp.Request.URL.Redacted(), err)))
		return
	}
	r.c.logger.Debug("vendor page", "vendor", s.Vendor.String(), "identifiers", len(s.Identifiers))
}
