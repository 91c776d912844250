package main

import (
	"cmp"
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"text/tabwriter"
	"time"

	"github.com/precwatch/precwatch"
)

// listingRow is one line of `precwatch listings`, and its JSON form.
type listingRow struct {
	Site     string `json:"site"`
	Identity string `json:"identity"`
	Key      string `json:"key"`
	Title    string `json:"title"`
	// Description is the text matched beside the title: in --json only,
	// so that a site's description rule can be checked.
	Description string    `json:"description,omitempty"`
	Price       float64   `json:"price,omitempty"`
	Currency    string    `json:"currency,omitempty"`
	Vendor      string    `json:"vendor,omitempty"`
	URL         string    `json:"url"`
	FirstSeen   time.Time `json:"first_seen"`
	LastSeen    time.Time `json:"last_seen"`
	Gone        bool      `json:"gone"`
	Alerts      int       `json:"alerts"`
}

// runListings is `precwatch listings`: what the crawls extracted, so that a
// new site's selectors can be checked without opening the store.
func (m *Main) runListings(ctx context.Context, args []string) error {
	fs := m.flags("listings")
	site := fs.String("site", "", "only the listings of this site")
	asJSON := fs.Bool("json", false, "print JSON (one array) instead of a table")
	limit := fs.Int("limit", 100, "at most this many listings, most recently seen first (0: all)")
	if err := m.parse(fs, args); err != nil {
		return err
	}
	if *limit < 0 {
		return &exitError{code: 2, err: fmt.Errorf("listings: --limit must be >= 0, got %d", *limit)}
	}
	store, err := m.openStoreOnly(ctx, true)
	if err != nil {
		return err
	}
	var rows []listingRow
	err = store.Listings(ctx, *site, func(ls precwatch.ListingState) error {
		l := ls.Listing
		rows = append(rows, listingRow{Site: l.Site, Identity: l.Identity(), Key: ls.Key, Title: l.Title, Description: l.Description,
			Price: l.Price, Currency: l.Currency, Vendor: l.Vendor, URL: l.URL,
			FirstSeen: ls.FirstSeen, LastSeen: ls.LastSeen, Gone: ls.Gone, Alerts: len(ls.AlertKeys)})
		return nil
	})
	if err != nil {
		return fmt.Errorf("listings: %w", err)
	}
	slices.SortFunc(rows, func(a, b listingRow) int {
		return cmp.Or(b.LastSeen.Compare(a.LastSeen), cmp.Compare(a.Site, b.Site), cmp.Compare(a.Identity, b.Identity))
	})
	total := len(rows)
	if *limit > 0 && total > *limit {
		rows = rows[:*limit]
	}
	if *asJSON {
		if rows == nil {
			rows = []listingRow{}
		}
		enc := json.NewEncoder(m.Stdout)
		enc.SetIndent("", "  ")
		if err := enc.Encode(rows); err != nil {
			return err
		}
		m.moreNotice(true, len(rows), total, "listings")
		return nil
	}
	tw := tabwriter.NewWriter(m.Stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "SITE\tIDENTITY\tTITLE\tPRICE\tVENDOR\tFIRST SEEN\tLAST SEEN\tGONE\tALERTS")
	for _, r := range rows {
		gone := "-"
		if r.Gone {
			gone = "gone"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%d\n",
			printable(r.Site, 20), printable(r.Identity, 40), printable(r.Title, 48),
			price(precwatch.Listing{Price: r.Price, Currency: r.Currency}), printable(r.Vendor, 20),
			r.FirstSeen.Local().Format("2006-01-02 15:04"), r.LastSeen.Local().Format("2006-01-02 15:04"), gone, r.Alerts)
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	fmt.Fprintf(m.Stdout, "%d listing(s)\n", len(rows))
	m.moreNotice(false, len(rows), total, "listings")
	return nil
}

// moreNotice says that only shown of total items were printed: on stdout
// after a table, on stderr after JSON, whose shape stays a plain array.
func (m *Main) moreNotice(asJSON bool, shown, total int, what string) {
	if total <= shown {
		return
	}
	w := m.Stdout
	if asJSON {
		w = m.Stderr
	}
	fmt.Fprintf(w, "showing %d of %d %s; use --limit 0 for all\n", shown, total, what)
}

// alertTotal counts the alerts f selects, Limit and Offset aside: through
// the console store's count when the store has one, else by listing them.
func alertTotal(ctx context.Context, store precwatch.Store, f precwatch.AlertFilter) (int, error) {
	if cs, ok := store.(precwatch.ConsoleStore); ok {
		page, err := cs.QueryAlerts(ctx, precwatch.AlertQuery{Status: f.Status, MinSeverity: f.MinSeverity,
			Site: f.Site, Substance: f.Substance, Limit: 1})
		if err != nil {
			return 0, fmt.Errorf("count alerts: %w", err)
		}
		return page.Total, nil
	}
	f.Limit, f.Offset = 0, 0
	all, err := store.Alerts(ctx, f)
	if err != nil {
		return 0, fmt.Errorf("count alerts: %w", err)
	}
	return len(all), nil
}
