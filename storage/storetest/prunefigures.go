package storetest

// What retention saves (README "Retention"): a market of 24 index pages
// crawled daily for PruneDays days, then pruned, with the store's size
// measured before and after by the backend's own means.

import (
	"context"
	"fmt"
	"math/rand/v2"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/precwatch/precwatch"
)

// Usage is what a backend measures of its store: keys (Redis) or rows of
// the pruned tables (embedded), and bytes (Redis's used memory, or the
// database's pages in use).
type Usage struct {
	Keys  int64
	Bytes int64
}

// The market PruneFigures crawls.
const (
	PrunePages   = 24  // index pages, each about 40 KB
	PrunePerPage = 20  // listings per page
	PruneDays    = 120 // daily crawls
	PruneKeep    = 30  // days kept
)

// PruneFigures crawls one market daily for PruneDays days (one listing in
// 20 alerting; day 0: every page fetched whole; then each day 23 pages
// answer 304 and one changed, a listing's price up, which is a changed
// event when that listing alerts), measures, prunes what is
// older than PruneKeep days (fetches and runs), measures again, logs the
// figures and checks that the evidence of every alert is there.
func PruneFigures(t *testing.T, s precwatch.Store, measure func(t *testing.T) Usage) {
	ctx := context.Background()
	now := time.Now().UTC().Truncate(time.Second)
	days := PruneDays
	if raceEnabled {
		// The race detector makes each day's writes ten times slower; 60
		// days still leave 30 to prune, superseded bodies among them, and
		// the figures come from runs without it.
		days = 60
	}
	start := now.Add(-time.Duration(days) * day)
	obs := Synthetic(PrunePages*PrunePerPage, start)
	// Each listing's card: markup and about 2 KB of shop text drawn from a
	// vocabulary, so that a page compresses about as HTML does (S2 on
	// Redis), not as a repeated string would.
	words := strings.Fields(`shipping worldwide escrow accepted discreet packaging tracked delivery bulk discount
		pure grade sealed bottle stock reship refund vendor feedback rating stealth express days europe
		quality tested batch certificate fast reliable original label volume price offer contact message
		order minimum available weight liter kilo gram sample package secure payment wallet crypto`)
	rng := rand.New(rand.NewPCG(1, 2))
	cards := make([]string, len(obs))
	for i := range cards {
		var b strings.Builder
		for b.Len() < 1900 {
			b.WriteString(words[rng.IntN(len(words))])
			b.WriteByte(' ')
		}
		cards[i] = b.String()
	}
	prices := make([]float64, len(obs))
	for i := range obs {
		obs[i].Listing.Site = "silkvault"
		prices[i] = obs[i].Listing.Price
		if i%20 != 0 { // a market's mix: one listing in 20 alerts
			obs[i].Matches = nil
		}
	}
	states := make([]string, PrunePages) // each page's current body
	body := func(page int) []byte {
		var b strings.Builder
		fmt.Fprintf(&b, "<html><body><h1>page %d</h1>", page)
		for i := page * PrunePerPage; i < (page+1)*PrunePerPage; i++ {
			fmt.Fprintf(&b, `<div class="card"><a class="title" data-id="%s">%s</a><span class="price">%v EUR</span><p class="desc">%s</p></div>`,
				obs[i].Listing.ID, obs[i].Listing.Title, prices[i], cards[i])
		}
		b.WriteString("</body></html>")
		return []byte(b.String())
	}
	var first Usage
	for d := range days {
		run := fmt.Sprintf("silkvault-day%03d", d)
		at := start.Add(time.Duration(d) * day)
		if err := s.SaveRun(ctx, precwatch.Run{ID: run, Site: "silkvault", Start: at, End: at.Add(time.Hour), Status: precwatch.RunOK,
			Pages: PrunePages, Requests: PrunePages}); err != nil {
			t.Fatal(err)
		}
		changed := -1
		if d > 0 { // one listing a day changes its price, mostly one that does not alert
			changed = d % PrunePages
			prices[changed*PrunePerPage+d%PrunePerPage]++
		}
		for pg := range PrunePages {
			url := fmt.Sprintf("http://silkvault.test/c/%d", pg)
			fetchedAt := at.Add(time.Duration(pg) * time.Second)
			var p *precwatch.Page
			if d == 0 || pg == changed {
				p = fetched("silkvault", run, url, fetchedAt, body(pg))
				states[pg] = p.SHA256
			} else {
				p = replayed("silkvault", run, url, fetchedAt, states[pg])
				// Headers as a crawler sends and a market answers them.
				p.Fetch.RequestHeaders = http.Header{
					"User-Agent":        {"Mozilla/5.0 (Windows NT 10.0; rv:128.0) Gecko/20100101 Firefox/128.0"},
					"Accept":            {"text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"},
					"Accept-Language":   {"en-US,en;q=0.5"},
					"Accept-Encoding":   {"gzip"},
					"If-None-Match":     {`"` + states[pg][:8] + `"`},
					"If-Modified-Since": {start.Format(http.TimeFormat)},
				}
				p.Fetch.ResponseHeaders = http.Header{
					"Date": {fetchedAt.Format(http.TimeFormat)}, "Server": {"nginx"}, "Etag": {`"` + states[pg][:8] + `"`},
					"Last-Modified": {start.Format(http.TimeFormat)}, "Cache-Control": {"private, max-age=0"},
				}
			}
			os := make([]precwatch.Observation, 0, PrunePerPage)
			for i := pg * PrunePerPage; i < (pg+1)*PrunePerPage; i++ {
				o := obs[i]
				o.Listing.Price, o.RunID, o.At = prices[i], run, fetchedAt
				o.Listing.PageSHA256, o.Listing.FetchedAt = p.SHA256, fetchedAt
				o.Listing.Sources = precwatch.IndexSources(o.Listing, p.Fetch.ID)
				os = append(os, o)
			}
			if _, err := s.RecordPage(ctx, p, os); err != nil {
				t.Fatalf("day %d page %d: %v", d, pg, err)
			}
			if p.Body != nil {
				if err := s.SaveFetchState(ctx, precwatch.FetchState{Site: "silkvault", URL: url, ETag: states[pg][:8], SHA256: p.SHA256, FetchedAt: fetchedAt}); err != nil {
					t.Fatal(err)
				}
			}
		}
		if d == 0 {
			first = measure(t)
		}
	}
	before := measure(t)
	alerts := EvidenceIntact(t, s)
	cut := now.Add(-PruneKeep * day)
	rep, err := s.Prune(ctx, precwatch.PrunePolicy{FetchesBefore: cut, RunsBefore: cut})
	if err != nil {
		t.Fatal(err)
	}
	after := measure(t)
	recrawls := int64(days - 1)
	t.Logf("%d pages of %d listings (%d alerts), crawled daily for %d days: 1 crawl %d keys/rows, %.1f MB; each re-crawl (23 of 24 pages 304, 1 changed) +%d keys/rows, +%.1f KB",
		PrunePages, PrunePerPage, alerts, days, first.Keys, float64(first.Bytes)/1e6,
		(before.Keys-first.Keys)/recrawls, float64(before.Bytes-first.Bytes)/float64(recrawls)/1e3)
	t.Logf("before prune: %d keys/rows, %.1f MB; pruned at %d days: %d fetch records (%.1f MB), %d bodies (%.1f MB as stored), %d runs; kept %d older fetch records and %d bodies evidence names",
		before.Keys, float64(before.Bytes)/1e6, PruneKeep, rep.Fetches, float64(rep.FetchBytes)/1e6, rep.Pages, float64(rep.PageBytes)/1e6, rep.Runs, rep.FetchesKept, rep.PagesKept)
	t.Logf("after prune: %d keys/rows, %.1f MB (%.0f%% of before)", after.Keys, float64(after.Bytes)/1e6, 100*float64(after.Bytes)/float64(before.Bytes))
	if rep.Fetches == 0 || rep.Pages == 0 || after.Keys >= before.Keys {
		t.Errorf("prune deleted %d fetch records and %d bodies, keys %d → %d: want fewer", rep.Fetches, rep.Pages, before.Keys, after.Keys)
	}
	if n := EvidenceIntact(t, s); n != alerts {
		t.Errorf("%d alerts after prune, %d before", n, alerts)
	}
}
