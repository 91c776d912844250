package console

import (
	"net/url"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/PuerkitoBio/goquery"

	"github.com/precwatch/precwatch"
)

// TestWatchlistSearch: the watchlist page's filter box finds substances by
// any name, synonym, abbreviation, ID or CAS number, ignoring case.
func TestWatchlistSearch(t *testing.T) {
	e := newEnv(t)
	ana := e.as(precwatch.RoleAnalyst)
	ids := func(doc *goquery.Document) []string {
		var out []string
		doc.Find("table.watchlist tbody tr td:first-child code").Each(func(_ int, s *goquery.Selection) { out = append(out, s.Text()) })
		return out
	}
	for q, want := range map[string][]string{
		"":                  {"hydrogen-peroxide", "nitromethane", "acetone"},
		"PEROX":             {"hydrogen-peroxide"},
		"wasserstoff":       {"hydrogen-peroxide"}, // a German name
		"propanone":         {"acetone"},           // a synonym
		"75-52-5":           {"nitromethane"},      // CAS
		"75525":             {"nitromethane"},      // CAS without hyphens
		"nitrometh":         {"nitromethane"},
		"e":                 {"hydrogen-peroxide", "nitromethane", "acetone"},
		"  acetone  ":       {"acetone"},
		"no such substance": nil,
	} {
		doc := ana.page(t, "/watchlist?q="+url.QueryEscape(q))
		if got := ids(doc); !slices.Equal(got, want) {
			t.Errorf("q=%q: %v, want %v", q, got, want)
		}
		if got := doc.Find("#watchlist-search input[name=q]").AttrOr("value", "?"); got != strings.TrimSpace(q) {
			t.Errorf("q=%q: the box holds %q", q, got)
		}
		switch {
		case strings.TrimSpace(q) == "":
			if doc.Find("#search-count").Length() != 0 {
				t.Errorf("no search, but a count: %q", doc.Find("#search-count").Text())
			}
		case want == nil:
			if !strings.Contains(doc.Find("#no-substance").Text(), "No substance matches") || doc.Find("table.watchlist").Length() != 0 {
				t.Errorf("q=%q: no 'no substance' message", q)
			}
		default:
			if got := doc.Find("#search-count").Text(); !strings.HasPrefix(got, strconv.Itoa(len(want))+" of 3 substances match") {
				t.Errorf("q=%q: count %q", q, got)
			}
		}
	}
}

// TestBrowserWatchlistSearch: in Chromium, typing in the filter box and
// pressing Enter narrows the table, without any script.
func TestBrowserWatchlistSearch(t *testing.T) {
	e := newEnv(t)
	b, stop := startBrowser(t, e)
	defer stop()
	b.login("ana", "/watchlist")
	b.set("#watchlist-search input[name=q]", "propanone")
	b.click("#watchlist-search button[type=submit]")
	b.waitFor(`location.search == "?q=propanone"`)
	if got := eval[[]string](b, `[...document.querySelectorAll("table.watchlist tbody tr")].map(r => r.id)`); !slices.Equal(got, []string{"substance-acetone"}) {
		t.Errorf("rows %v, want acetone only", got)
	}
	b.click("#watchlist-search a.button-link")
	b.waitFor(`location.search == "" && document.querySelectorAll("table.watchlist tbody tr").length == 3`)
}
